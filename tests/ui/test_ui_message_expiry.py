"""Status-line command results expire: a true statement about the pool is true only for a while."""

from __future__ import annotations

import time

from poolmon.app.app import MESSAGE_TTL_S, PoolmonApp
from poolmon.testing.clock import ManualClock
from poolmon.testing.streams import FeedSource


def test_a_message_expires_after_its_time() -> None:
    app = PoolmonApp(FeedSource(ManualClock()), refresh_hz=0)
    assert app.message_ttl_s == MESSAGE_TTL_S
    app.message_ttl_s = 0.2
    app.message = "resize to 4: pool reports size 4"
    assert app.message == "resize to 4: pool reports size 4"
    time.sleep(0.3)
    assert app.message == ""

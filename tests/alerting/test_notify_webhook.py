"""The notifier against real HTTP servers on loopback: delivery, 429 Retry-After, a hanging
receiver, a dead port and a rate limit, none of which may hold up another channel or update()."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from notify_helpers import free_port, http_sink, make_alert, parse_text, view, wait_for

from poolmon.core.alerts.notify_config import NotifyConfigError
from poolmon.runtime.alerting.notifier import Notifier

FAST = '[notify]\ngroup_wait = 0\ngroup_interval = "1s"\nrepeat_interval = "1h"\n'


def hook(name: str, url: str, extra: str = "") -> str:
    return f'\n[[channels]]\nname = "{name}"\nkind = "webhook"\nurl = "{url}"\n{extra}\n'


class Errors:
    def __init__(self) -> None:
        self.seen: list[tuple[str, BaseException | None]] = []
        self.lock = threading.Lock()

    def __call__(self, message: str, exc: BaseException | None) -> None:
        with self.lock:
            self.seen.append((message, exc))

    def messages(self) -> list[str]:
        with self.lock:
            return [m for m, _ in self.seen]


def test_a_firing_alert_is_posted_with_the_generic_body_and_the_bearer_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOOK_TOKEN", "tok-123-secret")
    with http_sink() as sink:
        config = parse_text(FAST + hook("ops", sink.url, 'token_env = "HOOK_TOKEN"'))
        notifier = Notifier(config, "etl")
        notifier.start()
        try:
            notifier.update(view(make_alert(id="a1", labels={"op": "resize"})))
            wait_for(lambda: sink.received, what="the POST")
            notifier.update(view(make_alert(id="a1", labels={"op": "resize"}, state="resolved")))
            wait_for(lambda: len(sink.received) == 2, what="the resolved POST")
        finally:
            assert notifier.stop(5)
    first, second = sink.received
    assert first.path == "/hook"
    assert first.headers["Authorization"] == "Bearer tok-123-secret"
    assert first.headers["Content-Type"] == "application/json"
    assert first.body["status"] == "firing"
    assert first.body["title"] == "[FIRING:1] HighErrorRate pool=etl"
    assert [a["id"] for a in first.body["alerts"]] == ["a1"]
    assert first.body["alerts"][0]["labels"]["op"] == "resize"
    assert second.body["status"] == "resolved"
    stats = notifier.stats()["ops"]
    assert (stats.sent, stats.failed, stats.dropped, stats.rate_limited) == (2, 0, 0, 0)
    assert notifier.dropped == 0


def test_a_token_from_a_file_in_its_own_header(tmp_path: Path) -> None:
    (tmp_path / "hook.token").write_text("file-token-456\n")
    with http_sink() as sink:
        extra = 'token_file = "hook.token"\ntoken_header = "X-Api-Key"'
        config = parse_text(FAST + hook("ops", sink.url, extra), str(tmp_path / "alerts.toml"))
        notifier = Notifier(config, "etl")
        notifier.start()
        try:
            notifier.update(view(make_alert()))
            wait_for(lambda: sink.received, what="the POST")
        finally:
            notifier.stop(5)
    assert sink.received[0].headers["X-Api-Key"] == "file-token-456"
    assert "Authorization" not in sink.received[0].headers


def test_a_missing_token_variable_is_a_clear_error_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("NOPE_TOKEN", raising=False)
    config = parse_text(FAST + hook("ops", "http://127.0.0.1:9/x", 'token_env = "NOPE_TOKEN"'))
    with pytest.raises(
        NotifyConfigError, match="channel 'ops': token: environment variable NOPE_TOKEN is not set"
    ):
        Notifier(config, "etl")


def test_429_is_retried_after_the_receivers_retry_after() -> None:
    with http_sink([(429, {"Retry-After": "1"})]) as sink:
        config = parse_text(FAST + hook("ops", sink.url, 'backoff_base = "50ms"'))
        notifier = Notifier(config, "etl")
        notifier.start()
        try:
            notifier.update(view(make_alert()))
            wait_for(lambda: len(sink.received) == 2, what="the retry")
            wait_for(lambda: notifier.stats()["ops"].sent == 1, what="the success count")
        finally:
            notifier.stop(5)
    gap = sink.received[1].at - sink.received[0].at
    assert gap >= 0.9, f"retried {gap:.3f}s after a 429 asking for 1s"  # not the 50ms backoff
    stats = notifier.stats()["ops"]
    assert (stats.sent, stats.retries, stats.failed) == (1, 1, 0)


def test_a_retry_after_longer_than_backoff_cap_fails_at_once_with_the_reason() -> None:
    errors = Errors()
    with http_sink([(429, {"Retry-After": "3600"})]) as sink:
        config = parse_text(FAST + hook("ops", sink.url, 'backoff_cap = "5s"'))
        notifier = Notifier(config, "etl", on_error=errors)
        notifier.start()
        try:
            notifier.update(view(make_alert()))
            wait_for(lambda: errors.messages(), what="the failure report")
        finally:
            notifier.stop(5)
    (message,) = errors.messages()
    assert "HTTP 429" in message
    assert "asked to wait 3600s" in message
    assert len(sink.received) == 1


def test_a_notification_that_failed_every_attempt_is_sent_again_at_the_next_tick() -> None:
    errors = Errors()
    with http_sink([(500, {}), (500, {})]) as sink:
        extra = 'max_attempts = 2\nbackoff_base = "50ms"'
        notifier = Notifier(parse_text(FAST + hook("ops", sink.url, extra)), "etl", on_error=errors)
        notifier.start()
        try:
            notifier.update(view(make_alert(id="a1")))
            wait_for(lambda: notifier.stats()["ops"].sent == 1, what="the delivery after the tick")
        finally:
            notifier.stop(5)
    assert len(sink.received) == 3  # two failed attempts, then the next tick's notification
    assert [a["id"] for a in sink.received[2].body["alerts"]] == ["a1"]
    assert notifier.stats()["ops"].failed == 1
    assert "HTTP 500" in errors.messages()[0]


def test_a_4xx_answer_is_not_retried() -> None:
    errors = Errors()
    with http_sink([(400, {})]) as sink:
        notifier = Notifier(parse_text(FAST + hook("ops", sink.url)), "etl", on_error=errors)
        notifier.start()
        try:
            notifier.update(view(make_alert()))
            wait_for(lambda: notifier.stats()["ops"].failed == 1, what="the failure")
        finally:
            notifier.stop(5)
    assert len(sink.received) == 1
    assert "after 1 attempt: POST http://127.0.0.1" in errors.messages()[0]
    assert "HTTP 400" in errors.messages()[0]


def test_a_receiver_that_never_answers_times_out_and_is_retried() -> None:
    errors = Errors()
    with http_sink(hang=True) as stuck:
        extra = 'timeout = "300ms"\nmax_attempts = 2\nbackoff_base = "50ms"'
        notifier = Notifier(
            parse_text(FAST + hook("ops", stuck.url, extra)), "etl", on_error=errors
        )
        notifier.start()
        try:
            notifier.update(view(make_alert()))
            wait_for(lambda: errors.messages(), what="the failure report")
        finally:
            notifier.stop(5)
    (message,) = errors.messages()
    assert "after 2 attempts" in message
    assert "no answer within 0.3s" in message
    assert len(stuck.received) == 2
    assert (notifier.stats()["ops"].retries, notifier.stats()["ops"].failed) == (1, 1)


def test_hanging_and_dead_receivers_never_hold_up_a_healthy_one_or_update() -> None:
    errors = Errors()
    dead = f"http://127.0.0.1:{free_port()}/hook"
    with http_sink(hang=True) as stuck, http_sink() as good:
        text = (
            FAST
            + hook("stuck", stuck.url, 'timeout = "30s"\nqueue_size = 1\nmax_attempts = 1')
            + hook("dead", dead, 'max_attempts = 3\nbackoff_base = "50ms"')
            + hook("good", good.url)
        )
        notifier = Notifier(parse_text(text), "etl", on_error=errors)
        notifier.start()
        try:
            notifier.update(view(make_alert(id="a1", labels={"op": "resize"})))
            wait_for(lambda: good.received, what="the healthy channel's POST")
            wait_for(lambda: stuck.received, what="the hanging channel's request")
            wait_for(lambda: notifier.stats()["dead"].failed == 1, what="the dead port's failure")
            # Each new alert is news for every channel; the stuck one's queue (1) overflows.
            alerts = [make_alert(id="a1", labels={"op": "resize"})]
            for i in range(2, 8):
                alerts.append(make_alert(id=f"a{i}", labels={"op": f"op{i}"}))
                notifier.update(view(*alerts))
                wait_for(lambda i=i: len(good.received) == i, what=f"POST {i} to the healthy one")
            wait_for(lambda: notifier.stats()["stuck"].dropped >= 1, what="a counted drop")
            stuck_now = notifier.stats()["stuck"]
        finally:
            stopped = notifier.stop(0.5)
    # The healthy channel got all seven while the stuck one was still inside its first send.
    assert (stuck_now.sent, stuck_now.failed) == (0, 0)
    assert not stopped  # the hung send outlives stop(); its thread is a daemon
    dead_stats = notifier.stats()["dead"]
    assert dead_stats.failed >= 1
    assert dead_stats.retries == 2 * dead_stats.failed
    assert any(
        "'dead'" in m and "after 3 attempts" in m and "connection refused" in m
        for m in errors.messages()
    )
    assert any("'stuck'" in m and "dropped" in m for m in errors.messages())
    assert notifier.stats()["good"].failed == 0
    assert notifier.dropped >= 2


def test_the_rate_limit_drops_and_counts() -> None:
    errors = Errors()
    with http_sink() as sink:
        limited = 'rate_per_minute = 1\nburst = 2\ngroup_by = ["..."]'
        notifier = Notifier(
            parse_text(FAST + hook("ops", sink.url, limited)), "etl", on_error=errors
        )
        notifier.start()
        try:
            notifier.update(
                view(*(make_alert(id=f"a{i}", labels={"op": str(i)}) for i in range(5)))
            )
            wait_for(lambda: notifier.stats()["ops"].rate_limited == 3, what="3 limited sends")
            wait_for(lambda: notifier.stats()["ops"].sent == 2, what="2 sends")
        finally:
            notifier.stop(5)
    assert len(sink.received) == 2
    assert notifier.dropped == 3
    assert errors.messages() == [
        "channel 'ops' over its rate limit: 1 notification(s) dropped",
        "channel 'ops' over its rate limit: 2 notification(s) dropped",  # the rest, at stop
    ]

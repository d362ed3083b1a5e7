"""Fixtures for the alert engine tests; the helpers live in alert_engine_helpers.py.

Test modules import helpers from that uniquely named module, never from `conftest`: several
test folders have a conftest, and `from conftest import` picks whichever was imported last.
"""

from alert_engine_helpers import healthy_knobs

__all__ = ["healthy_knobs"]

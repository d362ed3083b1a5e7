"""Fixtures for the alert service tests; the helpers live in alert_runtime_helpers.py.

Test modules import helpers from that uniquely named module, never from `conftest`: several
test folders have a conftest, and `from conftest import` picks whichever was imported last.
"""

from alert_runtime_helpers import make_pool, rules_file, short_dir

__all__ = ["make_pool", "rules_file", "short_dir"]

"""The optimization advisor: findings with evidence and one action each, and auto-tuning logic.

See docs/ADVISOR.md.

Pure engine: reads `PoolSnapshot`s (and an aggregator, through `inputs.gather`), no IO, no
threads, no time module; the app, `poolmon advise` and the pool's auto-tuner all run it.
"""

from poolmon.core.advisor.engine import RULES, advise
from poolmon.core.advisor.inputs import DEFAULT_THRESHOLDS, AdvisorInput, Thresholds, gather
from poolmon.core.advisor.model import Action, Evidence, Finding

__all__ = [
    "DEFAULT_THRESHOLDS",
    "RULES",
    "Action",
    "AdvisorInput",
    "Evidence",
    "Finding",
    "Thresholds",
    "advise",
    "gather",
]

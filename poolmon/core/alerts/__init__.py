"""Alerting engines: rules, their evaluation and the alert lifecycle, silences and acknowledgments.

Pure code (no IO, no threads, clock injected). The pool process runs it once a second over its
insight aggregator (`poolmon.runtime.insight`), a headless watcher can run it over its own; the
terminal app only ever sees the result, an `AlertsView` (`poolmon.core.alerts.model`).

Where things are (docs/ALERTS.md describes them for users):

* `engine` - `AlertEngine`: evaluate, view, ack, silences, history, dump/restore;
* `lifecycle` - one instance's pending/firing/resolved steps; `marks` - silences, inhibition;
* `metrics` - the metric vocabulary read from an `Aggregator`; `memory` - what the engine
  samples itself between ticks;
* `rules` - `Rule`, `RuleSet`, `InhibitRule` and their checks; `kinds` - how each kind
  evaluates; `groups` - threshold rules compared many at a time; `samples` - rate/anomaly
  sample history;
* `rulefile`, `schema`, `tomllines` - TOML rule files with line-numbered problems;
* `defaults` - the built-in pack; `render`, `units` - labels, ids, text, durations;
* `persist` - the state file's content; `model` - the shared data types.
"""

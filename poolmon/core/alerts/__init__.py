"""Alerting engines: rules, their evaluation and the alert lifecycle, silences and acknowledgments.

Pure code (no IO, no threads, clock injected). The pool process runs it once a second over its
insight aggregator (`poolmon.runtime.insight`), a headless watcher can run it over its own; the
terminal app only ever sees the result, an `AlertsView` (`poolmon.core.alerts.model`).
"""

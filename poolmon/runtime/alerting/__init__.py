"""Alerting in a running pool: rule files from disk, the alert service, notification channels.

The engine itself is pure (`poolmon.core.alerts`); this package holds what touches the world:
reading rule files, running the engine once a second in the pool, persisting its state and
sending notifications.
"""

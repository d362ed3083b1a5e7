"""Alerting at run time: the pool's alert service and the notifier with its channels.

The decisions (rules, lifecycle, grouping and timers) are pure engines in poolmon.core.alerts;
this package owns what needs threads, sockets, files and the environment.
"""

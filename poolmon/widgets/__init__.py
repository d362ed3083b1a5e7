"""The terminal app's widgets: one public widget per module, named after its class.

Widgets read `poolmon.core.snapshot` types only; they never touch a socket or the pool.
"""

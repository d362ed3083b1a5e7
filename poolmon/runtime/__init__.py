"""The runtime layer: worker processes, sockets, threads, psutil, notification channels.

It may import `poolmon.core`, never the UI (`poolmon.app`, `screens`, `widgets`).
"""

"""Seeded, generated telemetry streams and `FeedSource`, a snapshot source without a socket.

Snapshot tests, pilot tests and the app benchmark need a pool that behaves like the demo (fast
and slow operations, latency spikes, failing tasks of a few error types, a leaking worker, a
crash and its replacement) but is byte-for-byte reproducible: `StreamGenerator` produces the
events and task batches of each second from a seed and the stream's own start time, and
`FeedSource` ingests them into the real aggregator under a `ManualClock`, implementing the same
`SnapshotSource` interface as the live `poolmon.runtime.monitor.Monitor`.

The two live in `stream_generator` and `feed_source`; this module gathers them so tests and the
app benchmark import the whole kit from one place.
"""

from __future__ import annotations

from poolmon.testing.feed_source import Engine, FeedSource, Responder
from poolmon.testing.stream_generator import (
    DEMO_OPERATIONS,
    NS,
    Operation,
    StreamGenerator,
    StreamSpec,
)

__all__ = [
    "DEMO_OPERATIONS",
    "NS",
    "Engine",
    "FeedSource",
    "Operation",
    "Responder",
    "StreamGenerator",
    "StreamSpec",
]

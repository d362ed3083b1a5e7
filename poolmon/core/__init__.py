"""Pure engines: the protocol codec, the event model, the aggregator and its snapshots.

Nothing in this package does IO, starts threads, touches asyncio, sockets, processes or a UI
library, or reads a clock it was not handed. That is what lets the terminal app, a headless
watcher, the benchmarks and the tests share exactly the same code. `tests/test_layers.py`
enforces it.
"""

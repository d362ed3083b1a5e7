"""Session affinity: work tagged with a session id goes to the worker bound to that session.

Why: callers keep per-session state warm in a worker (a loaded model, a cache, a connection).
A binding lives while its worker lives and has been used within `ttl_s`; hits (sent to the
bound worker) and misses (no binding, or sent elsewhere in `hint` mode) are counted, and the
counts since the last report feed the periodic `poolmon.session.affinity` event.

Session ids are user data (one per request, in some programs), so the table is bounded:
at most `max_bindings` (`MAX_SESSIONS` by default) live bindings. A new session arriving
while the table is full is not bound: its task is routed like any other and counted as
`unbound` in the event, so an operator sees the cap at work instead of a growing pool.
"""

from __future__ import annotations

MAX_SESSIONS = 65_536
"""Live session bindings a pool keeps by default (about 10 MiB at most)."""


class SessionTable:
    """session id -> (worker id, last use); only the pool's IO lock holder touches it."""

    def __init__(self, ttl_s: float, max_bindings: int = MAX_SESSIONS) -> None:
        self.ttl_ns = int(ttl_s * 1e9)
        self.max_bindings = max_bindings
        self._bound: dict[str, list[int]] = {}
        self.hits = 0
        self.misses = 0
        self.expired = 0
        self.unbound = 0
        """Tasks of a new session left unbound because the table was full."""
        self._reported = (0, 0, 0, 0)

    def __len__(self) -> int:
        return len(self._bound)

    def lookup(self, session: str) -> int | None:
        """The worker bound to `session`, or None."""
        entry = self._bound.get(session)
        return None if entry is None else entry[0]

    def use(self, session: str, wid: int, now_ns: int, hit: bool) -> None:
        """Record that a task of `session` went to `wid`; binds it there if unbound."""
        if hit:
            self.hits += 1
        else:
            self.misses += 1
        entry = self._bound.get(session)
        if entry is not None:
            entry[1] = now_ns
        elif len(self._bound) < self.max_bindings:
            self._bound[session] = [wid, now_ns]
        else:
            self.unbound += 1

    def rebind(self, session: str, wid: int, now_ns: int) -> None:
        """Bind (or move) `session` to `wid`: its worker is gone or no longer takes work."""
        entry = self._bound.get(session)
        if entry is not None:
            entry[0], entry[1] = wid, now_ns
        elif len(self._bound) < self.max_bindings:
            self._bound[session] = [wid, now_ns]
        else:
            self.unbound += 1

    def drop_worker(self, wid: int) -> int:
        """Forget every binding to a worker that is gone; returns how many."""
        gone = [s for s, (w, _) in self._bound.items() if w == wid]
        for s in gone:
            del self._bound[s]
        return len(gone)

    def expire(self, now_ns: int) -> int:
        """Drop bindings idle longer than the TTL; returns how many."""
        limit = now_ns - self.ttl_ns
        gone = [s for s, (_, used) in self._bound.items() if used < limit]
        for s in gone:
            del self._bound[s]
        self.expired += len(gone)
        return len(gone)

    def since_last_report(self) -> tuple[int, int, int, int]:
        """(hits, misses, expired, unbound) since the previous call."""
        now = (self.hits, self.misses, self.expired, self.unbound)
        last = self._reported
        self._reported = now
        return now[0] - last[0], now[1] - last[1], now[2] - last[2], now[3] - last[3]

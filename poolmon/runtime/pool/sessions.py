"""Session affinity: work tagged with a session id goes to the worker bound to that session.

Why: callers keep per-session state warm in a worker (a loaded model, a cache, a connection).
A binding lives while its worker lives and has been used within `ttl_s`; hits (sent to the
bound worker) and misses (no binding, or sent elsewhere in `hint` mode) are counted, and the
counts since the last report feed the periodic `poolmon.session.affinity` event.
"""

from __future__ import annotations


class SessionTable:
    """session id -> (worker id, last use); only the pool's IO lock holder touches it."""

    def __init__(self, ttl_s: float) -> None:
        self.ttl_ns = int(ttl_s * 1e9)
        self._bound: dict[str, list[int]] = {}
        self.hits = 0
        self.misses = 0
        self.expired = 0
        self._reported = (0, 0, 0)

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
        if entry is None:
            self._bound[session] = [wid, now_ns]
        else:
            entry[1] = now_ns

    def rebind(self, session: str, wid: int, now_ns: int) -> None:
        """Bind (or move) `session` to `wid`: its worker is gone or no longer takes work."""
        self._bound[session] = [wid, now_ns]

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

    def since_last_report(self) -> tuple[int, int, int]:
        """(hits, misses, expired) since the previous call."""
        now = (self.hits, self.misses, self.expired)
        last = self._reported
        self._reported = now
        return now[0] - last[0], now[1] - last[1], now[2] - last[2]

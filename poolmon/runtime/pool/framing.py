"""The private wire between the pool and its workers: msgpack frames on a Unix socketpair.

Why msgpack frames and not pickle/mp.Pipe: a self-delimiting msgpack stream decoded with
`Unpacker.feed` and written in coalesced batches moves ~2 M small frames/s, against ~0.3-0.6 M
for one pickled message per write (pool-anchors §6). Plain values travel as msgpack with
`strict_types=True`, which refuses anything whose exact type would not come back identical
(tuples, subclasses, big ints); those fall back to pickle, so results round-trip exactly.

Frames (msgpack arrays). Pool -> worker:
  task       [seq, fid, mode, payload]
  define     [DEFINE, fid, pickled_function]      sent once per function per worker
  stop       [STOP]                                finish queued work, flush, exit 0
  tel on/off [TEL_ON] / [TEL_OFF]                  record a row for each task sent after it
Worker -> pool:
  result     [seq, status, payload]                 status R_*; results come back in seq order
             [seq, status, payload, duration_ns]    for R_ERROR / R_ERROR_RAW
  ready      [READY, pid]
  init fail  [INIT_FAILED, status, payload, 0]      the initializer raised (an error payload, as
             for a result); the worker exits with EXIT_INIT_FAILED instead of becoming ready
  tasks      [TASKS, ranges, errors, err_names]     int64 columns: ranges: (a, b, end_ns)
             triples of edge-ring indices now final (edges.py); errors: (seq, err_names index)
             pairs; see worker_main._TaskStamps and taskrows
  events     [EVENTS, pickled user events]
"""

from __future__ import annotations

import pickle
import threading
import types
from typing import Any, Final

import msgpack

from poolmon.runtime.pool.errors import SubmitError

# Control frame tags (first element, always negative; task seqs are >= 0).
DEFINE: Final = -1
STOP: Final = -2
TEL_ON: Final = -3
TEL_OFF: Final = -4
READY: Final = -1
TASKS: Final = -2
EVENTS: Final = -3
INIT_FAILED: Final = -4

# Task payload modes.
M_ARGS: Final = 0  # payload = [arg, ...]
M_ARGS_KW: Final = 1  # payload = [[arg, ...], {kw: value}]
M_PICKLED: Final = 2  # payload = pickle((args, kwargs))
M_CHUNK: Final = 3  # payload = [[arg, ...], ...]: call fn once per row, return a list
M_CHUNK_PICKLED: Final = 4  # payload = pickle([args, ...])
M_FN_PICKLED: Final = 5  # payload = pickle((fn, args, kwargs)): callables that are not cached
M_FN_CHUNK_PICKLED: Final = 6  # payload = pickle((fn, [args, ...]))

# Result statuses.
R_OK: Final = 0  # payload = the value (msgpack)
R_OK_PICKLED: Final = 1  # payload = pickle(value)
R_ERROR: Final = 2  # payload = pickle((exception, traceback_text))
R_ERROR_RAW: Final = 3  # payload = [type_name, message, traceback_text] (exception did not pickle)

PICKLE_PROTOCOL: Final = pickle.HIGHEST_PROTOCOL
MAX_CACHED_FUNCTIONS: Final = 4096
MAX_OP_NAMES: Final = 1024
"""Distinct operation names a pool tells apart; later new names share `OTHER_OPS`."""
OTHER_OPS: Final = "(other)"
"""The overflow operation: tasks of names beyond `MAX_OP_NAMES` (same label as the monitor's)."""

_CACHEABLE = (types.FunctionType, types.BuiltinFunctionType)


def new_packer() -> msgpack.Packer:
    """A packer that raises (in C, without running Python code) on any inexact type.

    No `default` hook: a pure-C failure keeps `pack` atomic under the GIL, so one packer can be
    shared by every submitting thread.
    """
    return msgpack.Packer(strict_types=True, use_bin_type=True)


def new_unpacker() -> msgpack.Unpacker:
    """A streaming decoder for one direction of one worker's socket."""
    return msgpack.Unpacker(raw=False, strict_map_key=False, max_buffer_size=2**31 - 1)


def op_name(fn: Any) -> str:
    """The operation name monitors show for a callable: its qualified name."""
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None)
    if name is None:
        inner = getattr(fn, "func", None)  # functools.partial
        if inner is not None:
            return op_name(inner)
        return type(fn).__qualname__
    return str(name)


def dumps(obj: Any, what: str) -> bytes:
    """Pickle for the wire, turning every pickling failure into one clear `SubmitError`."""
    try:
        return pickle.dumps(obj, PICKLE_PROTOCOL)
    except Exception as exc:
        raise SubmitError(f"cannot send {what} to a worker: it does not pickle ({exc})") from exc


def dumps_call(
    obj: Any,
    fn: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    chunk: list[tuple[Any, ...]] | None,
) -> bytes:
    """Pickle (part of) a task; on failure a `SubmitError` naming the value that failed.

    "cannot pickle '_thread.lock' object" alone does not say which of ten arguments was the
    lock; finding it costs one pickle per value, paid only when a submit is already failing.
    """
    try:
        return pickle.dumps(obj, PICKLE_PROTOCOL)
    except Exception as exc:
        row, part = _unpicklable_part(fn, args, kwargs, chunk)
        where = "" if row is None else f" of call {row} in the chunk"
        raise SubmitError(
            f"cannot send {op_name(fn)}(...) to a worker: {part}{where} does not pickle ({exc})",
            part=part,
            row=row,
        ) from exc


def _pickles(value: Any) -> bool:
    try:
        pickle.dumps(value, PICKLE_PROTOCOL)
    except Exception:
        return False
    return True


def _unpicklable_part(
    fn: Any, args: tuple[Any, ...], kwargs: dict[str, Any], chunk: list[tuple[Any, ...]] | None
) -> tuple[int | None, str]:
    """(row in the chunk or None, "args[1] (a _thread.lock)") of the first value that fails."""
    if not isinstance(fn, _CACHEABLE) and not _pickles(fn):
        return None, f"the callable ({_a(fn)})"
    rows: list[tuple[Any, ...]] = [args] if chunk is None else chunk
    for r, row in enumerate(rows):
        for i, value in enumerate(row):
            if not _pickles(value):
                return (None if chunk is None else r), f"args[{i}] ({_a(value)})"
    for key, value in kwargs.items():
        if not _pickles(value):
            return None, f"kwargs[{key!r}] ({_a(value)})"
    return None, "the call's arguments"


def _a(value: Any) -> str:
    kind = type(value)
    return f"a {kind.__module__}.{kind.__qualname__}"


class FunctionTable:
    """Gives each distinct plain function a small integer id, pickled once for all workers.

    Only plain functions and builtins are cached, by identity: they pickle by reference, so
    the bytes never go stale. Bound methods, partials and callable objects carry state that
    may change between calls, so they are pickled with every task (as ProcessPoolExecutor
    does). Op names are deduplicated into `ops`, the name table of every `TaskBatch`; it holds
    at most `MAX_OP_NAMES` names (the last is `OTHER_OPS`, where every later new name is
    counted), so a program that makes an op name per task (an id in it) cannot grow the pool's
    memory or every batch's name table without bound.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.ids: dict[Any, int] = {}
        self._op_ids: dict[tuple[Any, str], int] = {}
        self.pickled: list[bytes] = []
        self.fid_op: list[int] = []
        self._op_index: dict[str, int] = {}
        self.ops: list[str] = []
        self.ops_overflowed = 0
        """Lookups of a name that found the table full (about one per such task), all counted
        under OTHER_OPS."""

    def op_index(self, name: str) -> int:
        """Index of an op name in `ops`, adding it if new (`OTHER_OPS` once the table is full)."""
        idx = self._op_index.get(name)
        if idx is None:
            with self._lock:
                idx = self._op_index.get(name)
                if idx is None:
                    if len(self.ops) >= MAX_OP_NAMES - 1:
                        if name != OTHER_OPS:
                            self.ops_overflowed += 1
                        name = OTHER_OPS
                        idx = self._op_index.get(name)
                    if idx is None:
                        idx = len(self.ops)
                        self.ops.append(name)
                        self._op_index[name] = idx
        return idx

    def register(self, fn: Any, op: str | None = None) -> int:
        """Return fn's id, or -1 when fn must travel pickled with each task.

        With `op` (a caller-chosen operation name), the pair (fn, op) gets an id of its own,
        so that the op of every cached task follows from its fid alone (per-task telemetry
        relies on it: see taskrows).
        """
        if not isinstance(fn, _CACHEABLE):
            return -1
        if op is not None and op not in self._op_index and len(self.ops) >= MAX_OP_NAMES - 1:
            op = OTHER_OPS  # past the cap, new names share one id per function
        # (fn, op) pairs live apart from `ids`, which `Pool.submit` probes with any object
        ids = self.ids if op is None else self._op_ids
        key: Any = fn if op is None else (fn, op)
        fid = ids.get(key)
        if fid is not None:
            return fid
        if len(self.pickled) >= MAX_CACHED_FUNCTIONS:
            return -1
        plain = self.ids.get(fn)
        blob = self.pickled[plain] if plain is not None else dumps(fn, f"function {op_name(fn)!r}")
        op_idx = self.op_index(op_name(fn) if op is None else op)
        with self._lock:
            fid = ids.get(key)
            if fid is None:
                fid = len(self.pickled)
                self.pickled.append(blob)
                self.fid_op.append(op_idx)
                ids[key] = fid
        return fid


def encode_error(seq: int, exc: BaseException, pack: Any, duration_ns: int = 0) -> bytes:
    """Encode a task's exception with its traceback text, degrading to names if unpicklable.

    The frame carries the task's running time so `poolmon.task.exception` can report it.
    """
    import traceback

    tb_text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    try:
        blob = pickle.dumps((exc, tb_text), PICKLE_PROTOCOL)
        return pack([seq, R_ERROR, blob, duration_ns])  # type: ignore[no-any-return]
    except Exception:
        name = f"{type(exc).__module__}.{type(exc).__qualname__}"
        try:
            message = str(exc)
        except Exception:
            message = "<str() failed>"
        return pack([seq, R_ERROR_RAW, [name, message, tb_text], duration_ns])  # type: ignore[no-any-return]

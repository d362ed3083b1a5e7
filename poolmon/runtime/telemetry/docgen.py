"""Generate docs/EVENTS.md from `poolmon.core.catalog`, so the documentation cannot drift.

Run ``python -m poolmon.runtime.telemetry.docgen`` after changing the catalog (``--check``
exits 1 when the file is stale instead of writing it; ``--stdout`` prints it). A test compares
the committed file with `render()`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from poolmon.core.catalog import CATALOG_VERSION, EventSpec
from poolmon.core.catalog_entries import CATALOG
from poolmon.core.events import STATUS_NAMES
from poolmon.runtime.telemetry.sampling import SAMPLE_KEYS

EVENTS_MD = Path(__file__).resolve().parents[3] / "docs" / "EVENTS.md"
"""Where the generated file lives in a source checkout."""

REGENERATE = "python -m poolmon.runtime.telemetry.docgen"
"""The command that rewrites docs/EVENTS.md."""

_HEADER = f"""\
# Telemetry events

<!-- Generated from poolmon/core/catalog_entries.py by `{REGENERATE}`. Do not edit by hand. -->

Catalog version {{version}}. Every event poolmon emits is listed here, once, with its fields.
Attach to them with `poolmon.telemetry.attach(handler_id, prefixes, handler)`; a prefix matches
whole dotted segments (`poolmon.worker` matches `poolmon.worker.exit`).

Conventions:

- **Units are in the field names** and every duration is integer **nanoseconds** (`_ns`, measured
  on a monotonic clock); timestamps (`start_ns`, `system_time_ns`, `ts_ns`) are wall-clock
  nanoseconds since the epoch; sizes are `_bytes`; shares are `_percent` (0..100) or
  `utilization` (0..1).
- **Every metadata key listed is present** in every emission, `None` when it does not apply.
- **Delivery** `event`: one call per occurrence. `batch`: per-task, carried in columnar
  `TaskBatch`es (`attach_batch`); handlers attached by a non-empty prefix covering the name get
  one call per task expanded from the batch (slow: prefer batches). `periodic`: on a timer,
  with counts since the previous one.
- Task status codes: {{statuses}}.
- Error rates are errors / all finished tasks (`tasks_failed / tasks_done`), never errors alone.

Events emitted inside a task with `poolmon.telemetry.emit(...)` (for example `myapp.cache.hit`)
are buffered in the worker and re-emitted in the pool process with their own metadata plus
`pool`, `worker_id`, `pid` and `ts_ns` (the worker's wall-clock time of the emit). When a
worker's buffer is full, further events are dropped and counted in a `poolmon.error` event
(category `telemetry`).

With task sampling on (`Telemetry(task_sample_every=N)`), batches keep every failed row and one
successful row in N, and their metadata carries exact totals: {{sample_keys}}.

A handler that raises is detached and reported as `poolmon.error` (category `telemetry`, with
`handler_id`, `event` and the traceback); it never breaks the pool.

Quick start:

```python
import poolmon.telemetry as telemetry

def on_exit(name, measurements, metadata):          # runs in the emitting thread: be quick
    print(metadata["worker_id"], metadata["reason"], measurements["lifetime_ns"])

telemetry.attach("my-exits", "poolmon.worker.exit", on_exit)
telemetry.attach_batch("my-tasks", lambda batch, md: print(md["pool"], len(batch)))

def task(key):                                        # inside a pool task (a worker process)
    telemetry.emit("myapp.cache.hit", {{{{"count": 1}}}}, {{{{"key": key}}}})
    with telemetry.span("myapp.load", {{{{"key": key}}}}) as span:
        span.measurements["rows"] = 3                 # sent with myapp.load.stop

from poolmon.testing import capture_events            # in tests
with capture_events("poolmon.worker") as captured:
    ...                                               # the code under test
    exits = captured.wait_for("poolmon.worker.exit")  # events may still be on their way
```
"""


def _table(title: str, fields: dict[str, str]) -> list[str]:
    if not fields:
        return [f"{title}: none.", ""]
    lines = [f"| {title.lower()} | meaning |", "|---|---|"]
    lines += [
        f"| `{name}` | {meaning.replace('|', '&#124;')} |" for name, meaning in fields.items()
    ]
    return [*lines, ""]


def _section(spec: EventSpec) -> list[str]:
    return [
        f"### `{spec.name}`",
        "",
        spec.description,
        "",
        f"Delivery: {spec.delivery}. Emitted by: {spec.emitted_by}.",
        "",
        *_table("Measurements", spec.measurements),
        *_table("Metadata", spec.metadata),
    ]


def render() -> str:
    """The full text of docs/EVENTS.md for the current catalog."""
    header = _HEADER.format(
        version=CATALOG_VERSION,
        statuses=", ".join(f"{code} = `{name}`" for code, name in enumerate(STATUS_NAMES)),
        sample_keys=", ".join(f"`{key}`" for key in SAMPLE_KEYS),
    )
    groups: dict[str, list[EventSpec]] = {}
    for spec in CATALOG:
        groups.setdefault(spec.name.split(".")[1], []).append(spec)
    lines = [header, "## Index", ""]
    lines += [f"- `{spec.name}` ({spec.delivery}): {spec.description}" for spec in CATALOG]
    lines.append("")
    for group, specs in groups.items():
        lines += [f"## {group}", ""]
        for spec in specs:
            lines += _section(spec)
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write (or check, or print) docs/EVENTS.md; returns the process exit code."""
    parser = argparse.ArgumentParser(prog=REGENERATE, description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    parser.add_argument("--stdout", action="store_true", help="print instead of writing")
    parser.add_argument("--path", type=Path, default=EVENTS_MD, help="file to write or check")
    args = parser.parse_args(argv)
    text = render()
    if args.stdout:
        sys.stdout.write(text)
        return 0
    if args.check:
        current = args.path.read_text(encoding="utf-8") if args.path.exists() else ""
        if current != text:
            print(f"{args.path} is stale; regenerate with: {REGENERATE}", file=sys.stderr)
            return 1
        return 0
    args.path.write_text(text, encoding="utf-8")
    print(f"wrote {args.path} ({len(CATALOG)} events)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

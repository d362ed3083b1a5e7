"""The self-monitoring view's tables, built from `SelfFigures` (pure: values in, Rich out).

Three tables: the app itself (frame and snapshot times against the refresh period, CPU,
memory, threads), what each pool's monitor receives and loses, and what the shown pool says
its telemetry costs on its side. Every figure not measured yet reads "—".
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from poolmon.core.self_figures import BEHIND_LAG_S, PoolIntake, SelfFigures
from poolmon.widgets import _format as fmt

FRAME_BUDGET_MS = 50.0
"""A frame should take at most this long (docs/BENCHMARKS.md, `app`)."""

INTERNALS_WORDS: dict[str, tuple[str, str]] = {
    "monitors": ("monitors attached", "count"),
    "socket_buffer_bytes": ("queued to monitors", "bytes"),
    "history_events": ("history held", "count"),
    "history_bytes": ("history size", "bytes"),
    "telemetry_buffer_events": ("telemetry buffer", "count"),
    "telemetry_buffer_bytes": ("telemetry buffer size", "bytes"),
    "events_dropped": ("events it dropped", "count"),
    "sessions": ("session bindings", "count"),
}
"""How each `poolmon.resource.internals` measurement is named and formatted."""


def ms(value: float | None) -> str:
    """`12.3 ms`, or "—"."""
    return fmt.NO_DATA if value is None else f"{value:.1f} ms"


def _table(title: str) -> Table:
    table = Table(
        title=title,
        title_justify="left",
        show_header=False,
        box=None,
        padding=(0, 2),
        min_width=len(title),
    )
    # the labels never shrink (a squeezed table cut them to "snapshot …"); values wrap instead
    table.add_column(style="bold", no_wrap=True, min_width=len("snapshot build"))
    table.add_column()
    return table


def app_table(f: SelfFigures) -> Table:
    """The app's own figures."""
    table = _table("This app")
    frame = Text(
        f"p50 {ms(f.frame_ms_p50)} · p95 {ms(f.frame_ms_p95)} · last {ms(f.frame_ms_last)}"
    )
    if f.frame_ms_p95 is not None and f.frame_ms_p95 > FRAME_BUDGET_MS:
        frame.stylize("bold red")
    table.add_row("frame time", frame)
    table.add_row("", f"CPU p50 {ms(f.frame_cpu_ms_p50)} (the UI thread's work)")
    table.add_row("", Text(f"over {fmt.count(f.frames)} frames; budget {FRAME_BUDGET_MS:.0f} ms"))
    table.add_row("snapshot build", f"p50 {ms(f.snapshot_ms_p50)} · last {ms(f.snapshot_ms_last)}")
    period = f"{f.refresh_hz:g}/s (every {1000 / f.refresh_hz:.0f} ms)" if f.refresh_hz else "off"
    table.add_row("refresh", period)
    cpu = None if f.cpu_fraction is None else f.cpu_fraction * 100
    table.add_row("CPU", f"{fmt.cpu(cpu)} of a core")
    table.add_row("memory (RSS)", fmt.size_bytes(f.rss_bytes))
    table.add_row("threads", fmt.count(f.threads))
    return table


def lag_text(pool: PoolIntake) -> Text:
    """The lag, red above the "behind" threshold."""
    if pool.lag_s is None:
        return Text(fmt.NO_DATA)
    text = Text(f"{pool.lag_s:.1f}s")
    if pool.lag_s > BEHIND_LAG_S:
        text.stylize("bold red")
    return text


def intake_table(pools: tuple[PoolIntake, ...]) -> Table:
    """Per pool: state, lag, records/s, totals, reconnects, what was lost where, and skips."""
    table = Table(
        title="Received per pool",  # a long title wraps at the narrow table's width
        title_justify="left",
        box=None,
        padding=(0, 1),
        pad_edge=False,  # with `total` for `records`: every header whole at 80 columns
        header_style="bold",
    )
    for name, justify in (
        ("pool", "left"),
        ("state", "left"),
        ("lag", "right"),
        ("rec/s", "right"),
        ("total", "right"),
        ("reconn", "right"),
        ("lost:sock", "right"),
        ("srv", "right"),
        ("hist", "right"),
    ):
        table.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for p in pools:
        lost = [p.lost_socket, p.lost_server, p.lost_history]
        cells = [Text(fmt.count(n), style="bold red" if n else "") for n in lost]
        table.add_row(
            p.label,
            p.state,
            lag_text(p),
            fmt.count(p.records_per_s),
            fmt.count(p.records_total),
            fmt.count(p.reconnects),
            *cells,
        )
    if not pools:
        table.add_row("—", "no pool attached", *([""] * 7))
    skipped = [p for p in pools if p.frames_skipped]
    if skipped:
        table.caption = Text(
            "\n".join(
                f"{p.label}: {fmt.count(p.frames_skipped)} frames skipped, their data missing "
                f"(last: {p.last_skip})"
                for p in skipped
            ),
            style="bold red",
        )
        table.caption_justify = "left"
    return table


def pool_side_table(pool: PoolIntake | None) -> Table:
    """The shown pool's telemetry cost, as its `poolmon.resource.internals` reports it."""
    name = pool.label if pool is not None else "the pool"
    table = _table(f"Telemetry cost at {name} (its own report)")
    if pool is None or not pool.internals:
        table.add_row("internals", f"{fmt.NO_DATA} (no report received yet)")
        return table
    for key, value in pool.internals:
        label, kind = INTERNALS_WORDS.get(key, (key, "count"))
        table.add_row(label, fmt.size_bytes(value) if kind == "bytes" else fmt.count(value))
    table.add_row("reported", f"{fmt.age(int((pool.internals_age_s or 0) * 1e9))} ago")
    return table


CLIENT_QUEUE_NOTE = (
    "Lag = now minus the newest timestamp received. Lost: sock = sequence gaps the client "
    "saw, srv = what the pool could not send to this monitor (its heartbeat), hist = what a "
    "resume could no longer backfill. No client queue can overflow: frames are ingested as "
    "they are read, so a slow app leaves them in the socket, where the pool counts them (srv)."
)
"""Why there is no client-queue drop figure: there is no such queue."""

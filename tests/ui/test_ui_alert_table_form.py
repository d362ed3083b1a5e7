"""The alert table's two-line form: chosen when the one-line form does not fit, nothing lost."""

from __future__ import annotations

from rich.text import Text

from poolmon.widgets.alert_table import COLUMNS, one_line_width, two_line

ACTIVE_ROW = (
    "a1",
    (
        "▲",
        Text("WorkerCrashLoop"),
        Text("firing"),
        Text("1m15s"),
        Text("slot=1"),
        "3 >= 3",
        "acked by alice",
    ),
)


def test_one_line_width_counts_the_widest_cell_of_each_column_and_padding() -> None:
    headers = COLUMNS["active"]
    width = one_line_width(headers, [ACTIVE_ROW])
    expected = sum(
        max(len(h), len(c.plain if isinstance(c, Text) else c)) + 2
        for h, c in zip(headers, ACTIVE_ROW[1], strict=True)
    )
    assert width == expected
    wider = (
        "a2",
        (
            "◆",
            Text("UtilizationOutsideBand"),
            Text("silenced"),
            Text("24m30s"),
            Text("op=fetch_profile"),
            "384ms > 250ms",
            "silence s-1",
        ),
    )
    assert one_line_width(headers, [ACTIVE_ROW, wider]) > 78  # two lines at 80 columns


def test_two_line_form_keeps_every_cell() -> None:
    cells = two_line("active", ACTIVE_ROW[1])
    plain = [c.plain if isinstance(c, Text) else c for c in cells]
    assert plain == ["▲", "WorkerCrashLoop\nslot=1", "firing\n1m15s", "3 >= 3\nacked by alice"]
    history = ("●", Text("ErrorRateHigh"), Text("op=x"), "23:21:30", "23:26:30", Text("5m"), "bob")
    assert [c.plain if isinstance(c, Text) else c for c in two_line("history", history)] == [
        "●",
        "ErrorRateHigh\nop=x",
        "23:21:30\n23:26:30",
        "5m\nbob",
    ]

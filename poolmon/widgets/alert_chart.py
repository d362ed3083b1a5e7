"""The details screen's chart: an alert's recent values against its threshold.

The pool sends, with each alert, the rule's value at its latest evaluations (one a second,
`Alert.recent`); drawn as a line with the threshold as a horizontal line in the severity's
colour, it answers "how far over is it, and is it getting better". The y axis spans the
values and the threshold (not from zero), labelled in the metric's unit; evaluations without
data are breaks in the line, never zeros.
"""

from __future__ import annotations

from textual.reactive import reactive
from textual_plotext.plot import Plot

from poolmon.core.alerts.model import Alert
from poolmon.core.snapshot import Series
from poolmon.widgets import _alert_format as af
from poolmon.widgets import _format as fmt
from poolmon.widgets._chart import ThemedChart
from poolmon.widgets._series import gauge_range, relative_points, segments, time_ticks

NS = 1_000_000_000


def recent_series(alert: Alert) -> Series:
    """`Alert.recent` as a one-second series ending at the alert's last evaluation."""
    n = len(alert.recent)
    return Series(start_ns=alert.last_eval_ns - n * NS, step_ns=NS, values=alert.recent)


class AlertChart(ThemedChart):
    """A braille line of an alert's recent values and its threshold (see module doc)."""

    DEFAULT_CSS = """
    AlertChart {
        border: round $primary 50%;
        border-title-color: $text;
        border-subtitle-color: $text-muted;
    }
    """

    alert: reactive[Alert | None] = reactive(None, repaint=False)
    """The alert drawn (None: nothing to draw)."""

    kept_s: float = 900.0
    """How long the pool keeps a resolved alert's values (`AlertsView.resolved_retention_s`)."""

    def watch_alert(self, alert: Alert | None) -> None:
        """Name the metric and the threshold in the border."""
        if alert is None:
            self.border_title, self.border_subtitle = "Value", ""
        else:
            self.border_title = f"{alert.metric or alert.rule} · last {len(alert.recent)}s"
            threshold = af.metric_value(alert.threshold, af.value_metric(alert))
            self.border_subtitle = (
                f"── threshold {threshold}" if alert.threshold is not None else "no threshold"
            )
        self.refresh_if_changed()

    def data_key(self) -> object:
        """Redraw when the alert's values or threshold change."""
        alert = self.alert
        return None if alert is None else (alert.recent, alert.threshold, alert.last_eval_ns)

    def draw(self, plt: Plot) -> None:
        """The values, the threshold line and a relative time axis."""
        alert = self.alert
        if alert is None or not alert.recent:
            resolved = alert is not None and alert.state == "resolved"
            kept = fmt.span(round(self.kept_s))
            words = f"values are kept {kept} after it resolves" if resolved else "no values yet"
            plt.text(words, x=0.5, y=0.5, alignment="center")
            plt.xlim(0, 1)
            plt.ylim(0, 1)
            plt.xticks([], [])
            plt.yticks([], [])
            return
        series = recent_series(alert)
        width = max(10, self.size.width - 10)
        points = relative_points(series, alert.last_eval_ns, width * 2)
        span = len(alert.recent)
        ticks, labels = time_ticks(span, max(2, width // 8))
        plt.xticks(ticks, labels)
        plt.xlim(-span, 0)
        self.x_range = (-float(span), 0.0)
        with_threshold = [*points.y, alert.threshold]
        bottom, top = gauge_range(with_threshold)
        plt.ylim(bottom, top)
        marks = [bottom, top] if alert.threshold is None else [bottom, alert.threshold, top]
        plt.yticks(marks, [af.metric_value(v, af.value_metric(alert)) for v in marks])
        if alert.threshold is not None:
            tint = af.SEVERITY_COLOUR.get(alert.severity, "warning")
            plt.hline(alert.threshold, self.colour(tint))
        for xs, ys in segments(points):
            plt.plot(xs, ys, color=self.colour("primary"), marker="braille")

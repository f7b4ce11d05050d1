"""The "My progress" page: one trainee's scores, trust, calibration and red flags as charts.

The charts come from QtCharts, imported only when the page is first filled, so start-up
does not pay for it. Below every chart the same numbers are written out as text, for
screen readers and for anyone who prefers reading to looking.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QLabel,
    QPlainTextEdit,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.core.model import ContentLibrary
from app.core.scoring import TrustMetrics
from app.ui.progress_data import ProgressData
from app.ui.style import Theme, set_text_role
from app.ui.themes import application_theme
from app.ui.widgets import card

if TYPE_CHECKING:
    from PySide6.QtCharts import QChart, QChartView

    from app.services.training import MeasureChange

SCORE, TRUST, CALIBRATION, FLAGS, TIME, BASELINE = (
    "score",
    "trust",
    "calibration",
    "flags",
    "time",
    "baseline",
)
CHART_KEYS = (SCORE, TRUST, CALIBRATION, FLAGS, TIME, BASELINE)
# The time chart shows the scenarios played most recently; the text lists all of them.
MAX_TIME_BARS = 12
MINUS = "\N{MINUS SIGN}"
# A text alternative longer than this scrolls inside its box instead of growing the card.
MAX_TEXT_LINES = 9


class NumbersText(QPlainTextEdit):
    """The numbers behind a chart as read-only text, as tall as its lines up to a limit.

    Screen readers read it like any text field; Tab reaches it and the arrow keys scroll
    a long list.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("numbers")
        self.setReadOnly(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.document().documentLayout().documentSizeChanged.connect(lambda *_: self._fit())

    def set_text(self, text: str) -> None:
        """Show ``text`` (plain) from its first line."""
        self.setPlainText(text)
        self._fit()

    def text(self) -> str:
        """The text shown."""
        return self.toPlainText()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._fit()  # the line height changed with the text size

    def _fit(self) -> None:
        # A plain-text document's height is counted in wrapped lines.
        lines = max(1, round(self.document().size().height()))
        shown = min(lines, MAX_TEXT_LINES)
        height = shown * self.fontMetrics().lineSpacing()
        margins = self.contentsMargins()
        extra = 2 * round(self.document().documentMargin()) + margins.top() + margins.bottom()
        self.setFixedHeight(height + extra + 2)


@dataclass(slots=True)
class ChartCard:
    """One chart on the page: its heading, view (once built) and text alternative."""

    key: str
    frame: QFrame
    heading: QLabel
    text: NumbersText
    view: QChartView | None = None

    @property
    def chart(self) -> QChart | None:
        """The chart shown, if any."""
        return self.view.chart() if self.view is not None else None


def percent(value: float | None) -> str:
    """``0.333`` as ``"33 %"``."""
    return "" if value is None else f"{round(value * 100)} %"


def _as_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class DashboardPage(QWidget):
    """Charts of one trainee's progress, each with its numbers as text."""

    def __init__(self, library: ContentLibrary, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._library = library
        self._data: ProgressData | None = None
        self.cards: dict[str, ChartCard] = {}
        self.charts_built = False
        self.theme: Theme = application_theme()
        """The theme the charts were drawn with."""
        self._drawn_with: tuple[Theme, float] | None = None

        root = QVBoxLayout(self)
        root.setContentsMargins(20, 16, 20, 16)
        root.setSpacing(10)
        self.title_label = QLabel(self.tr("My progress"))
        self.title_label.setTextFormat(Qt.TextFormat.PlainText)  # it carries the name
        set_text_role(self.title_label, "title")
        self.summary_label = QLabel()
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextFormat(Qt.TextFormat.PlainText)
        set_text_role(self.summary_label, "body")
        root.addWidget(self.title_label)
        root.addWidget(self.summary_label)

        self.content = QWidget()
        self.content.setObjectName("conversation")  # transparent, like the player's
        self.grid = QGridLayout(self.content)
        self.grid.setContentsMargins(0, 0, 8, 8)
        self.grid.setHorizontalSpacing(16)
        self.grid.setVerticalSpacing(16)
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setWidget(self.content)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll_area.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        root.addWidget(self.scroll_area, 1)

        headings = {
            SCORE: self.tr("Score over time"),
            TRUST: self.tr("Over-trust and under-trust"),
            CALIBRATION: self.tr("Calibration: confidence against accuracy"),
            FLAGS: self.tr("Red flags: strengths and gaps"),
            TIME: self.tr("Time per scenario"),
            BASELINE: self.tr("Baseline against follow-up"),
        }
        for position, key in enumerate(CHART_KEYS):
            frame, layout = card()
            heading = QLabel(headings[key])
            set_text_role(heading, "heading")
            heading.setWordWrap(True)
            text = NumbersText()
            text.setAccessibleName(self.tr("Numbers: {chart}").format(chart=headings[key].lower()))
            layout.addWidget(heading)
            layout.addWidget(text)
            layout.addStretch(1)
            self.cards[key] = ChartCard(key, frame, heading, text)
            self.grid.addWidget(frame, position // 2, position % 2)
        self.grid.setColumnStretch(0, 1)
        self.grid.setColumnStretch(1, 1)
        # Spare height goes below the cards, not into them.
        self.grid.setRowStretch((len(CHART_KEYS) + 1) // 2, 1)
        self.summary_label.setText(self.tr("Choose a trainee profile to see progress."))

    def focus_first_chart(self) -> None:
        """Put the keyboard focus on the first chart shown (its description is read out)."""
        for entry in self.cards.values():
            if entry.view is not None and not entry.view.isHidden():
                entry.view.setFocus(Qt.FocusReason.OtherFocusReason)
                return

    # Data

    @property
    def data(self) -> ProgressData | None:
        """What the page shows."""
        return self._data

    def show_data(self, data: ProgressData) -> None:
        """Show ``data``: charts (built on first use) and the numbers as text."""
        self._ensure_charts()
        self._data = data
        self.theme = application_theme()
        self._drawn_with = self._appearance()
        self.title_label.setText(self.tr("My progress: {name}").format(name=data.trainee))
        self.summary_label.setText(self.summary_text(data.metrics))
        self._fill_score(data)
        self._fill_trust(data.metrics)
        self._fill_calibration(data.metrics)
        self._fill_flags(data)
        self._fill_time(data)
        self._fill_baseline(data)

    def _appearance(self) -> tuple[Theme, float]:
        return application_theme(), self.font().pointSizeF()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        kinds = (QEvent.Type.PaletteChange, QEvent.Type.StyleChange, QEvent.Type.FontChange)
        data = self._data
        # Charts draw their own colours and fonts: draw them again for a new theme or size.
        if event.type() in kinds and data is not None and self._appearance() != self._drawn_with:
            self.show_data(data)

    def _ensure_charts(self) -> None:
        if self.charts_built:
            return
        # QtCharts is imported here, on first use, and not at start-up.
        from app.ui.charts import chart_view

        names = {
            SCORE: self.tr("Chart: score over time"),
            TRUST: self.tr("Chart: over-trust and under-trust"),
            CALIBRATION: self.tr("Chart: calibration"),
            FLAGS: self.tr("Chart: red-flag recall"),
            TIME: self.tr("Chart: time per scenario"),
            BASELINE: self.tr("Chart: baseline against follow-up"),
        }
        for key, entry in self.cards.items():
            view = chart_view(names[key], "")
            layout = entry.frame.layout()
            assert isinstance(layout, QVBoxLayout)
            layout.insertWidget(1, view)
            entry.view = view
        self.charts_built = True

    def _show(
        self,
        key: str,
        lines: list[str],
        build: Callable[[], QChart] | None,
        empty: str,
        *,
        horizontal_rows: int = 0,
    ) -> None:
        from app.ui.charts import fit_height, replace_chart

        entry = self.cards[key]
        view = entry.view
        assert view is not None
        if build is None:
            view.hide()
            entry.text.set_text(empty)
            view.setAccessibleDescription(empty)
            return
        replace_chart(view, build())
        if horizontal_rows:
            fit_height(view, horizontal_rows)
        view.show()
        text = "\n".join(lines)
        entry.text.set_text(text)
        view.setAccessibleDescription(text)

    def summary_text(self, metrics: TrustMetrics) -> str:
        """One line with the headline measures, or what to do when there are none."""
        if not metrics.answers:
            return self.tr(
                "Answer a few scenarios to see your progress here: your score, how often you "
                "trust harmful advice or block good advice, and whether your confidence "
                "matches your accuracy."
            )
        parts = [
            self.tr("1 step answered")
            if metrics.answers == 1
            else self.tr("{count} steps answered").format(count=metrics.answers),
            self.tr("score {score}").format(score=percent(metrics.score)),
        ]
        if metrics.over_trust_rate is not None:
            parts.append(self.tr("over-trust {rate}").format(rate=percent(metrics.over_trust_rate)))
        if metrics.under_trust_rate is not None:
            parts.append(
                self.tr("under-trust {rate}").format(rate=percent(metrics.under_trust_rate))
            )
        if metrics.brier is not None:
            parts.append(self.tr("Brier score {brier}").format(brier=f"{metrics.brier:.3f}"))
        if metrics.d_prime is not None:
            parts.append(self.tr("sensitivity d′ {value}").format(value=f"{metrics.d_prime:.2f}"))
        parts.append(self.tr("hints taken {count}").format(count=metrics.hints_taken))
        parts.append(self.tr("steps checked first {count}").format(count=metrics.steps_checked))
        return " · ".join(parts)

    # The six charts

    def _fill_score(self, data: ProgressData) -> None:
        from app.ui.charts import line_chart

        plays = data.plays
        lines = []
        for play in plays:
            lines.append(
                self.tr("Play {number} · {date} · {title}: {score}").format(
                    number=play.number,
                    date=_as_utc(play.finished_at).strftime("%Y-%m-%d"),
                    title=play.scenario_title,
                    score=percent(play.score),
                )
            )
        if data.metrics.score is not None:
            lines.append(
                self.tr("Mean step score: {score}").format(score=percent(data.metrics.score))
            )
        points = [(float(p.number), p.score * 100) for p in plays]
        self._show(
            SCORE,
            lines,
            (
                lambda: line_chart(
                    self.tr("Score (%)"),
                    points,
                    x_title=self.tr("Play, oldest first"),
                    y_title=self.tr("Score (%)"),
                )
            )
            if plays
            else None,
            self.tr("Answer a few scenarios to see your score over time."),
        )

    def _fill_trust(self, metrics: TrustMetrics) -> None:
        from app.ui.charts import bar_chart

        over, under = metrics.over_trust_rate, metrics.under_trust_rate
        if over is None:
            over_line = self.tr("Over-trust: not measured yet (no harmful suggestion answered).")
        else:
            over_line = self.tr(
                "Over-trust: {rate} ({accepted} of {seen} harmful suggestions accepted as "
                "they stood)."
            ).format(
                rate=percent(over), accepted=metrics.harmful_accepted, seen=metrics.harmful_seen
            )
        if under is None:
            under_line = self.tr("Under-trust: not measured yet (no good suggestion answered).")
        else:
            under_line = self.tr(
                "Under-trust: {rate} ({rejected} of {seen} good suggestions rejected)."
            ).format(rate=percent(under), rejected=metrics.good_rejected, seen=metrics.good_seen)
        categories = [self.tr("Over-trust"), self.tr("Under-trust")]
        values = [(over or 0.0) * 100, (under or 0.0) * 100]
        self._show(
            TRUST,
            [over_line, under_line],
            (
                lambda: bar_chart(
                    categories,
                    [(self.tr("Rate (%)"), values, self.theme.accent)],
                    value_title=self.tr("Rate (%)"),
                    label_format="@value %",
                )
            )
            if over is not None or under is not None
            else None,
            self.tr(
                "Answer a few scenarios to see how often you accept harmful advice and how "
                "often you block good advice."
            ),
        )

    def _fill_calibration(self, metrics: TrustMetrics) -> None:
        from app.ui.charts import calibration_chart

        lines = []
        if metrics.brier is not None:
            lines.append(
                self.tr(
                    "Brier score: {brier} (0 is perfect; always answering 50 % scores 0.25)."
                ).format(brier=f"{metrics.brier:.3f}")
            )
        points = []
        for band in metrics.reliability:
            name = f"{band.low}–{band.high} %"
            if not band.count or band.mean_confidence is None or band.accuracy is None:
                lines.append(self.tr("{band}: no answers").format(band=name))
                continue
            answers = (
                self.tr("1 answer")
                if band.count == 1
                else self.tr("{count} answers").format(count=band.count)
            )
            lines.append(
                self.tr(
                    "{band}: {answers}, mean confidence {confidence} %, right {accuracy}"
                ).format(
                    band=name,
                    answers=answers,
                    confidence=f"{band.mean_confidence:.0f}",
                    accuracy=percent(band.accuracy),
                )
            )
            points.append((band.mean_confidence, band.accuracy * 100))
        self._show(
            CALIBRATION,
            lines,
            (
                lambda: calibration_chart(
                    points,
                    answers_name=self.tr("Your answers, by confidence band"),
                    diagonal_name=self.tr("Perfectly calibrated"),
                    x_title=self.tr("Stated confidence (%)"),
                    y_title=self.tr("Actually right (%)"),
                )
            )
            if points
            else None,
            self.tr(
                "Give a confidence with your answers to see whether it matches how often "
                "you are right."
            ),
        )

    def _fill_flags(self, data: ProgressData) -> None:
        from app.ui.charts import bar_chart

        flags = data.flags
        lines = [
            self.tr("{title}: caught {caught} of {present} ({recall})").format(
                title=f.title, caught=f.caught, present=f.present, recall=percent(f.recall)
            )
            for f in flags
        ]
        strengths = [f.title for f in flags if f.strength]
        gaps = [f.title for f in flags if f.gap]
        if strengths:
            lines.append(self.tr("Strengths: {titles}.").format(titles=", ".join(strengths)))
        if gaps:
            lines.append(self.tr("Gaps to practise: {titles}.").format(titles=", ".join(gaps)))
        # A horizontal bar chart draws its first category at the bottom: best on top.
        shown = list(reversed(flags))
        self._show(
            FLAGS,
            lines,
            (
                lambda: bar_chart(
                    [f.title for f in shown],
                    [(self.tr("Recall (%)"), [f.recall * 100 for f in shown], self.theme.accent)],
                    value_title=self.tr("Caught when present (%)"),
                    horizontal=True,
                    label_format="@value %",
                )
            )
            if flags
            else None,
            self.tr(
                "Mark the red flags you spot when you answer to see which ones you catch "
                "and which you miss."
            ),
            horizontal_rows=len(flags),
        )

    def duration_text(self, seconds: float) -> str:
        """``"40 s"`` or ``"2 min 5 s"``."""
        whole = round(seconds)
        if whole < 60:
            return self.tr("{seconds} s").format(seconds=whole)
        return self.tr("{minutes} min {seconds} s").format(minutes=whole // 60, seconds=whole % 60)

    def _fill_time(self, data: ProgressData) -> None:
        from app.ui.charts import bar_chart

        times = data.times
        lines = [
            self.tr("{title}: {duration} per play ({plays})").format(
                title=t.title,
                duration=self.duration_text(t.mean_seconds),
                plays=self.tr("1 play")
                if t.plays == 1
                else self.tr("{count} plays").format(count=t.plays),
            )
            for t in times
        ]
        recent = sorted(times, key=lambda t: t.last_played)[-MAX_TIME_BARS:]
        if len(times) > len(recent):
            lines.append(
                self.tr("The chart shows the {count} scenarios played most recently.").format(
                    count=len(recent)
                )
            )
        top = max((t.mean_seconds for t in recent), default=60.0)
        # Round the axis up to the next whole minute so the bars never touch its end.
        axis_end = max(60.0, (int(top // 60) + 1) * 60.0)
        # A horizontal bar chart draws its first category at the bottom: the latest on top.
        shown = recent
        self._show(
            TIME,
            lines,
            (
                lambda: bar_chart(
                    [t.title for t in shown],
                    [
                        (
                            self.tr("Seconds per play"),
                            [t.mean_seconds for t in shown],
                            self.theme.avatar,
                        )
                    ],
                    value_title=self.tr("Seconds per play (mean)"),
                    value_range=(0.0, axis_end),
                    horizontal=True,
                    label_format="@value s",
                )
            )
            if times
            else None,
            self.tr("Play a scenario to see how long each one takes you."),
            horizontal_rows=len(recent),
        )

    def change_line(self, change: MeasureChange) -> str:
        """One measure before and after, with the change and whether it is better."""
        names = {
            "score": self.tr("Score"),
            "over_trust_rate": self.tr("Over-trust"),
            "under_trust_rate": self.tr("Under-trust"),
            "brier": self.tr("Calibration (Brier score, lower is better)"),
        }
        name = names.get(change.name, change.name)
        brier = change.name == "brier"

        def shown(value: float | None) -> str:
            if value is None:
                return self.tr("not measured")
            return f"{value:.3f}" if brier else percent(value)

        line = f"{name}: {shown(change.baseline)} → {shown(change.follow_up)}"
        delta = change.change
        if delta is None:
            return line
        higher_is_better = change.name == "score"
        if abs(delta) < 1e-9:
            verdict = self.tr("no change")
        elif (delta > 0) == higher_is_better:
            verdict = self.tr("better")
        else:
            verdict = self.tr("worse")
        sign = "+" if delta > 0 else (MINUS if delta < 0 else "")
        amount = (
            f"{sign}{abs(delta):.3f}"
            if brier
            else self.tr("{sign}{points} points").format(sign=sign, points=round(abs(delta) * 100))
        )
        return f"{line} ({amount}, {verdict})"

    def _fill_baseline(self, data: ProgressData) -> None:
        from app.ui.charts import bar_chart

        comparison = data.comparison
        lines = []
        if not data.has_baseline_track:
            lines.append(self.tr("The loaded content has no baseline track."))
        elif comparison.baseline is None:
            lines.append(
                self.tr(
                    "You have not taken the baseline check yet. It comes first under What "
                    "next on the home page, so that your starting point is measured."
                )
            )
        if not data.has_follow_up_track:
            lines.append(self.tr("The loaded content has no follow-up track."))
        elif comparison.follow_up is None:
            lines.append(
                self.tr(
                    "You have not taken the follow-up check yet. It is offered once the "
                    "new-hire track is complete, to show how much you have changed."
                )
            )
        changes = comparison.changes
        if comparison.baseline is not None or comparison.follow_up is not None:
            lines = [self.change_line(change) for change in changes] + lines

        categories = [
            self.tr("Score (%)"),
            self.tr("Over-trust (%)"),
            self.tr("Under-trust (%)"),
            self.tr("Brier × 100"),
        ]
        sets: list[tuple[str, list[float], str]] = []
        baseline_values = [(c.baseline or 0.0) * 100 for c in changes]
        follow_up_values = [(c.follow_up or 0.0) * 100 for c in changes]
        if comparison.baseline is not None:
            sets.append((self.tr("Baseline"), baseline_values, self.theme.progress))
        if comparison.follow_up is not None:
            sets.append((self.tr("Follow-up"), follow_up_values, self.theme.accent))
        if sets:
            lines.append(
                self.tr("A measure not yet measured is drawn as 0 in the chart.")
                if any(
                    (c.baseline is None and comparison.baseline is not None)
                    or (c.follow_up is None and comparison.follow_up is not None)
                    for c in changes
                )
                else ""
            )
        self._show(
            BASELINE,
            [line for line in lines if line],
            (lambda: bar_chart(categories, sets, value_title=self.tr("Value"))) if sets else None,
            "\n".join(lines),
        )

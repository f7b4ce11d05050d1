"""Chart builders for the progress dashboard, on QtCharts.

This is the only module that imports QtCharts, and the dashboard imports it when the page
is first shown, so the charting library costs nothing at start-up. Each builder takes
plain numbers and already-translated labels and returns a ``QChart``; nothing is
animated, so a chart is complete the moment it is drawn (offscreen too).

Charts take the colours of the theme they are given (QtCharts' dark or high-contrast
chart theme underneath a dark one) and the application font, so they follow the text
size too.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from PySide6.QtCharts import (
    QAbstractAxis,
    QAbstractBarSeries,
    QAbstractSeries,
    QBarCategoryAxis,
    QBarSeries,
    QBarSet,
    QChart,
    QChartView,
    QHorizontalBarSeries,
    QLineSeries,
    QScatterSeries,
    QValueAxis,
)
from PySide6.QtCore import QMargins, Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QPainter, QPen
from PySide6.QtWidgets import QWidget

from app.ui.style import Theme
from app.ui.themes import HIGH_CONTRAST_NAME, application_theme, is_dark, name_of

# Long scenario titles would squeeze the plot area; the text below the chart has them whole.
MAX_CATEGORY_CHARS = 34
CHART_MIN_HEIGHT = 250
# Room around 0 % and 100 % so that points drawn there are not cut in half.
PERCENT_PADDING = 5.0


def elide(text: str, limit: int = MAX_CATEGORY_CHARS) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def chart_theme(theme: Theme) -> QChart.ChartTheme:
    """The QtCharts theme underneath ``theme``'s own colours."""
    if name_of(theme) == HIGH_CONTRAST_NAME:
        return QChart.ChartTheme.ChartThemeHighContrast
    if is_dark(theme):
        return QChart.ChartTheme.ChartThemeDark
    return QChart.ChartTheme.ChartThemeLight


def chart_font(scale: float = 1.0) -> QFont:
    """The application font (which carries the text size), optionally scaled."""
    font = QFont(QGuiApplication.font())
    if scale != 1.0 and font.pointSizeF() > 0:
        font.setPointSizeF(font.pointSizeF() * scale)
    return font


def _base_chart(theme: Theme, *, legend: bool) -> QChart:
    chart = QChart()
    chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
    chart.setTheme(chart_theme(theme))
    chart.setBackgroundBrush(QColor(theme.surface))
    chart.setBackgroundRoundness(0)
    chart.setMargins(QMargins(4, 4, 4, 4))
    chart.legend().setVisible(legend)
    chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
    chart.legend().setLabelColor(QColor(theme.text))
    chart.legend().setFont(chart_font())
    return chart


def _value_axis(
    title: str,
    low: float,
    high: float,
    theme: Theme,
    *,
    interval: float | None = None,
    padding: float = 0.0,
) -> QValueAxis:
    axis = QValueAxis()
    axis.setRange(low - padding, high + padding)
    # Ticks at round values from ``low``, whatever the padding around the range.
    axis.setTickType(QValueAxis.TickType.TicksDynamic)
    axis.setTickAnchor(low)
    axis.setTickInterval(interval or _nice_interval(high - low))
    axis.setLabelFormat("%d")
    axis.setTitleText(title)
    axis.setLabelsColor(QColor(theme.muted_text))
    axis.setTitleBrush(QColor(theme.muted_text))
    axis.setGridLineColor(QColor(theme.surface_alt))
    axis.setLabelsFont(chart_font(0.9))
    axis.setTitleFont(chart_font(0.9))
    axis.setLinePenColor(QColor(theme.border))
    return axis


def _nice_interval(span: float) -> float:
    for step in (1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0, 600.0):
        if span / step <= 6:
            return step
    return span / 5


def _category_axis(categories: Sequence[str], theme: Theme) -> QBarCategoryAxis:
    axis = QBarCategoryAxis()
    # QtCharts draws labels as rich text; titles from content packs must stay plain words.
    axis.append([html.escape(elide(c), quote=False) for c in categories])
    axis.setLabelsColor(QColor(theme.text))
    axis.setLabelsFont(chart_font(0.9))
    axis.setLinePenColor(QColor(theme.border))
    axis.setGridLineVisible(False)
    # Qt would cut every label to "..." when space is short; they are elided above instead.
    axis.setTruncateLabels(False)
    return axis


def _attach(
    chart: QChart,
    series: QAbstractSeries,
    horizontal: QAbstractAxis,
    vertical: QAbstractAxis,
) -> None:
    if series.chart() is None:
        chart.addSeries(series)
    if horizontal not in chart.axes():
        chart.addAxis(horizontal, Qt.AlignmentFlag.AlignBottom)
    if vertical not in chart.axes():
        chart.addAxis(vertical, Qt.AlignmentFlag.AlignLeft)
    series.attachAxis(horizontal)
    series.attachAxis(vertical)


def _bar_labels(series: QAbstractBarSeries, theme: Theme, label_format: str) -> None:
    series.setLabelsVisible(True)
    series.setLabelsPrecision(3)
    series.setLabelsFormat(label_format)
    series.setLabelsPosition(QAbstractBarSeries.LabelsPosition.LabelsInsideEnd)
    for bar_set in series.barSets():
        # Dark text on a light bar, light text on a dark one.
        light_bar = bar_set.color().lightnessF() > 0.6
        dark_text = QColor("#000000") if is_dark(theme) else QColor(theme.text)
        light_text = QColor(theme.text) if is_dark(theme) else QColor("#ffffff")
        bar_set.setLabelColor(dark_text if light_bar else light_text)
        bar_set.setLabelFont(chart_font(0.9))


def line_chart(
    name: str,
    points: Sequence[tuple[float, float]],
    *,
    x_title: str,
    y_title: str,
    y_range: tuple[float, float] = (0.0, 100.0),
    theme: Theme | None = None,
) -> QChart:
    """One line with its points marked; x runs from 1 to the last point."""
    theme = theme or application_theme()
    chart = _base_chart(theme, legend=False)
    series = QLineSeries()
    series.setName(name)
    series.setPointsVisible(True)
    series.setPen(QPen(QColor(theme.accent), 2.5))
    series.setColor(QColor(theme.accent))
    for x, y in points:
        series.append(x, y)
    last = max((x for x, _ in points), default=1.0)
    x_axis = _value_axis(x_title, 1.0, max(2.0, last), theme, padding=0.3)
    y_axis = _value_axis(y_title, *y_range, theme, interval=20.0, padding=PERCENT_PADDING)
    _attach(chart, series, x_axis, y_axis)
    return chart


def bar_chart(
    categories: Sequence[str],
    sets: Sequence[tuple[str, Sequence[float], str]],
    *,
    value_title: str,
    value_range: tuple[float, float] = (0.0, 100.0),
    horizontal: bool = False,
    label_format: str = "@value",
    theme: Theme | None = None,
) -> QChart:
    """Bars by category; ``sets`` are (name, one value per category, colour) groups."""
    theme = theme or application_theme()
    chart = _base_chart(theme, legend=len(sets) > 1)
    series: QAbstractBarSeries = QHorizontalBarSeries() if horizontal else QBarSeries()
    for set_name, values, colour in sets:
        bar_set = QBarSet(set_name)
        bar_set.append(list(values))
        bar_set.setColor(QColor(colour))
        bar_set.setBorderColor(QColor(colour))
        series.append(bar_set)
    _bar_labels(series, theme, label_format)
    chart.addSeries(series)
    category_axis = _category_axis(categories, theme)
    value_axis = _value_axis(value_title, *value_range, theme)
    if horizontal:
        _attach(chart, series, value_axis, category_axis)
    else:
        _attach(chart, series, category_axis, value_axis)
    return chart


def calibration_chart(
    points: Sequence[tuple[float, float]],
    *,
    answers_name: str,
    diagonal_name: str,
    x_title: str,
    y_title: str,
    theme: Theme | None = None,
) -> QChart:
    """Mean stated confidence against the share right, per band, with the diagonal."""
    theme = theme or application_theme()
    chart = _base_chart(theme, legend=True)
    diagonal = QLineSeries()
    diagonal.setName(diagonal_name)
    diagonal.setPen(QPen(QColor(theme.muted_text), 1.5, Qt.PenStyle.DashLine))
    diagonal.append(50.0, 50.0)
    diagonal.append(100.0, 100.0)
    answers = QScatterSeries()
    answers.setName(answers_name)
    answers.setMarkerSize(13.0)
    answers.setColor(QColor(theme.accent))
    answers.setBorderColor(QColor(theme.surface))
    for x, y in points:
        answers.append(x, y)
    x_axis = _value_axis(x_title, 50.0, 100.0, theme, interval=10.0, padding=2.0)
    y_axis = _value_axis(y_title, 0.0, 100.0, theme, interval=20.0, padding=PERCENT_PADDING)
    _attach(chart, diagonal, x_axis, y_axis)
    _attach(chart, answers, x_axis, y_axis)
    return chart


def fit_height(view: QChartView, categories: int) -> None:
    """Give a horizontal bar chart enough height for one readable row per category."""
    row = view.fontMetrics().height() + 10
    view.setMinimumHeight(max(CHART_MIN_HEIGHT, categories * row + 90))


def chart_view(name: str, description: str, parent: QWidget | None = None) -> QChartView:
    """An empty, antialiased chart view with an accessible name and description."""
    view = QChartView(parent)
    view.setRenderHint(QPainter.RenderHint.Antialiasing)
    view.setMinimumHeight(CHART_MIN_HEIGHT)
    view.setAccessibleName(name)
    view.setAccessibleDescription(description)
    # Tab reaches the view, which says its name and description; its drawing surface
    # takes no focus. The surface passes its policy on to the view, so it goes first.
    view.viewport().setFocusPolicy(Qt.FocusPolicy.NoFocus)
    view.setFocusPolicy(Qt.FocusPolicy.TabFocus)
    return view


def replace_chart(view: QChartView, chart: QChart) -> None:
    """Show ``chart`` in ``view`` and free the chart shown before."""
    old = view.chart()
    view.setChart(chart)
    if old is not None and old is not chart:
        old.deleteLater()

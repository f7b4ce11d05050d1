"""PDF cohort reports with certificates, drawn with QPainter on a QPdfWriter (A4 landscape).

One document holds, in order: a summary page (who is covered, the numbers, and charts of
the status counts and the scores, drawn by QtCharts into the page), the completion table
over as many pages as it needs (its header repeated on each), then one certificate per
passed trainee and track. Everything is text in the bundled fonts (``app.ui.fonts``,
embedded as subsets), so names in any script print, and the PDF can be searched and
checked by machine.

QtCharts needs a ``QApplication``; the command line creates an offscreen one with
:func:`ensure_application`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, BinaryIO

from PySide6.QtCharts import QAbstractBarSeries, QChart
from PySide6.QtCore import (
    QBuffer,
    QCoreApplication,
    QIODevice,
    QLineF,
    QMarginsF,
    QObject,
    QRectF,
    Qt,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QPen,
)
from PySide6.QtWidgets import QApplication, QGraphicsScene

from app import APP_NAME
from app.core.completion import CompletionStatus
from app.services.completion import CompletionRecord
from app.services.manager import Certificate
from app.ui.charts import bar_chart
from app.ui.fonts import document_font
from app.ui.manager_models import (
    OVERDUE_MARK,
    date_text,
    percent_text,
    status_label,
    time_text,
)
from app.ui.style import LIGHT

if TYPE_CHECKING:
    from app.services.manager import ManagerService, ManagerSession

PageProgress = Callable[[int, int], None]
"""Called with (pages written, pages in all)."""

RESOLUTION_DPI = 300
# QtCharts lays a chart out in scene units of 1/96 inch; it is scaled into the page.
SCENE_DPI = 96.0
MARGIN_MM = 14.0
FOOTER_MM = 8.0
VERIFY_COMMAND = "thinktwice records verify-certificate"
SCORE_BANDS: tuple[tuple[int, int], ...] = ((0, 49), (50, 59), (60, 69), (70, 79), (80, 89))
# The last band includes 100 %.
TOP_BAND = (90, 100)

# Table columns: width in millimetres (they fill the 269 mm between the margins).
COLUMN_WIDTHS_MM = (40.0, 20.0, 38.0, 44.0, 14.0, 20.0, 22.0, 33.0, 38.0)
NUMERIC_COLUMNS = frozenset({4, 5, 6})


@dataclass(frozen=True, slots=True)
class CohortReport:
    """What a cohort report shows: the filters, the records and the certificates."""

    cohort: str | None
    track_title: str | None
    since: datetime | None
    generated_at: datetime
    records: tuple[CompletionRecord, ...]
    certificates: tuple[Certificate, ...]


def collect_report(
    manager: ManagerService,
    session: ManagerSession,
    *,
    cohort: str | None = None,
    track: str | None = None,
    since: datetime | None = None,
    now: datetime | None = None,
) -> CohortReport:
    """Issue the certificates of the passed trainees in the filter, then gather the report.

    Issuing is idempotent, so a report made twice prints the same certificate ids. No Qt
    is used here: this may run on a worker thread.
    """
    issued = manager.issue_certificates(session, cohort, track)
    records = manager.completion_records(session, cohort, track, since)
    shown = {r.certificate_id for r in records if r.certificate_id is not None}
    order = {(r.trainee_uid, r.track_id): i for i, r in enumerate(records)}
    certificates = sorted(
        (c for c in issued if c.certificate_id in shown),
        key=lambda c: order.get((c.trainee_uid, c.track_id), len(order)),
    )
    scope = manager.scope(session, cohort=cohort, track=track, since=since)
    track_title = None
    if track is not None:
        track_title = next((r.track_title for r in records if r.track_id == track), track)
    return CohortReport(
        cohort=scope.cohort_name,
        track_title=track_title,
        since=since,
        generated_at=now or datetime.now(UTC),
        records=tuple(records),
        certificates=tuple(certificates),
    )


def ensure_application() -> QApplication:
    """The running ``QApplication``, or a new offscreen one (keep a reference to it).

    ``RuntimeError`` when a ``QGuiApplication`` without widgets runs: QtCharts cannot
    draw there.
    """
    app = QCoreApplication.instance()
    if app is None:
        return QApplication(["thinktwice", "-platform", "offscreen"])
    if not isinstance(app, QApplication):
        raise RuntimeError("PDF reports need a QApplication: their charts are QtCharts.")
    return app


def export_pdf(
    manager: ManagerService,
    session: ManagerSession,
    out: BinaryIO,
    *,
    cohort: str | None = None,
    track: str | None = None,
    since: datetime | None = None,
    progress: PageProgress | None = None,
) -> int:
    """Write the cohort report with its certificates to ``out``; returns the records shown.

    Needs a running ``QApplication`` (see :func:`ensure_application`).
    """
    report = collect_report(manager, session, cohort=cohort, track=track, since=since)
    write_report_pdf(report, out, progress=progress)
    return len(report.records)


def write_report_pdf(
    report: CohortReport, out: BinaryIO, *, progress: PageProgress | None = None
) -> int:
    """Draw ``report`` as a PDF into ``out``; returns the number of pages."""
    return ReportPdfWriter().write(report, out, progress=progress)


def score_bands(records: Sequence[CompletionRecord]) -> list[tuple[str, int]]:
    """How many scored records fall in each band, lowest band first."""
    counts = Counter[str]()
    labels = [f"{low}–{high} %" for low, high in (*SCORE_BANDS, TOP_BAND)]
    for record in records:
        if record.score is None:
            continue
        percent = math.floor(record.score * 100 + 1e-9)
        band = min(max(percent, 0), 100)
        for (low, high), label in zip((*SCORE_BANDS, TOP_BAND), labels, strict=True):
            if low <= band <= high:
                counts[label] += 1
                break
    return [(label, counts[label]) for label in labels]


def status_counts(records: Sequence[CompletionRecord]) -> list[tuple[CompletionStatus, int]]:
    """How many records have each status, in the order of :class:`CompletionStatus`."""
    counts = Counter(record.status for record in records)
    return [(status, counts[status]) for status in CompletionStatus]


class _Page:
    """Millimetre geometry and text drawing on one painter."""

    def __init__(self, painter: QPainter, writer: QPdfWriter) -> None:
        self.painter = painter
        self.writer = writer
        self.per_mm = RESOLUTION_DPI / 25.4

    def mm(self, value: float) -> float:
        return value * self.per_mm

    def rect(self, x: float, y: float, width: float, height: float) -> QRectF:
        return QRectF(self.mm(x), self.mm(y), self.mm(width), self.mm(height))

    @property
    def width_mm(self) -> float:
        return self.writer.width() / self.per_mm

    @property
    def height_mm(self) -> float:
        return self.writer.height() / self.per_mm

    def rule(self, start: float, end: float, y: float, thickness: float) -> None:
        """A horizontal line in the border colour."""
        self.painter.setPen(QPen(QColor(LIGHT.border), self.mm(thickness)))
        self.painter.drawLine(QLineF(self.mm(start), self.mm(y), self.mm(end), self.mm(y)))

    def metrics(self, font: QFont) -> QFontMetricsF:
        return QFontMetricsF(font, self.writer)

    def line_mm(self, font: QFont) -> float:
        return self.metrics(font).height() / self.per_mm

    def text(
        self,
        x: float,
        y: float,
        width: float,
        text: str,
        font: QFont,
        *,
        colour: str = LIGHT.text,
        align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignLeft,
        elide: bool = True,
    ) -> float:
        """Draw one line of text with its top at ``y``; returns its height in mm."""
        metrics = self.metrics(font)
        shown = (
            metrics.elidedText(text, Qt.TextElideMode.ElideRight, self.mm(width)) if elide else text
        )
        height = metrics.height() / self.per_mm
        self.painter.setFont(font)
        self.painter.setPen(QColor(colour))
        self.painter.drawText(
            self.rect(x, y, width, height), int(align | Qt.AlignmentFlag.AlignVCenter), shown
        )
        return height

    def wrapped(
        self,
        x: float,
        y: float,
        width: float,
        text: str,
        font: QFont,
        *,
        colour: str = LIGHT.text,
        align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignLeft,
    ) -> float:
        """Draw text wrapped to ``width``; returns its height in mm."""
        flags = int(align | Qt.TextFlag.TextWordWrap)
        bounds = self.metrics(font).boundingRect(
            QRectF(0, 0, self.mm(width), self.mm(1000)), flags, text
        )
        height = bounds.height() / self.per_mm
        self.painter.setFont(font)
        self.painter.setPen(QColor(colour))
        self.painter.drawText(self.rect(x, y, width, height + 1), flags, text)
        return height

    def fit_font(self, text: str, width: float, size: float, minimum: float) -> QFont:
        """A bold font no larger than ``size`` points in which ``text`` fits ``width``."""
        while True:
            font = document_font(size, bold=True)
            if size <= minimum or self.metrics(font).horizontalAdvance(text) <= self.mm(width):
                return font
            size -= 1.0


class ReportPdfWriter(QObject):
    """Draws a :class:`CohortReport`: summary and charts, the table, the certificates."""

    def write(
        self, report: CohortReport, out: BinaryIO, *, progress: PageProgress | None = None
    ) -> int:
        """Write the PDF to ``out``; returns the number of pages."""
        buffer = QBuffer()
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        writer = QPdfWriter(buffer)
        writer.setResolution(RESOLUTION_DPI)
        writer.setPageLayout(
            QPageLayout(
                QPageSize(QPageSize.PageSizeId.A4),
                QPageLayout.Orientation.Landscape,
                QMarginsF(0, 0, 0, 0),
            )
        )
        writer.setTitle(self._document_title(report))
        writer.setCreator(APP_NAME)
        painter = QPainter()
        if not painter.begin(writer):
            raise OSError(self.tr("Could not start drawing the PDF."))
        page = _Page(painter, writer)
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
            rows_per_page = self._rows_per_page(page)
            chunks = [
                report.records[start : start + rows_per_page]
                for start in range(0, len(report.records), rows_per_page)
            ] or [()]
            total = 1 + len(chunks) + len(report.certificates)
            number = 1
            self._summary_page(page, report)
            self._footer(page, report, number, total)
            if progress is not None:
                progress(number, total)
            for chunk in chunks:
                writer.newPage()
                number += 1
                self._table_page(page, chunk, empty=not report.records)
                self._footer(page, report, number, total)
                if progress is not None:
                    progress(number, total)
            for certificate in report.certificates:
                writer.newPage()
                number += 1
                self._certificate_page(page, certificate)
                if progress is not None:
                    progress(number, total)
        finally:
            painter.end()
        buffer.close()
        out.write(bytes(buffer.data().data()))
        return total

    # Text

    def _document_title(self, report: CohortReport) -> str:
        if report.cohort is not None:
            return self.tr("{app} cohort report: {cohort}").format(
                app=APP_NAME, cohort=report.cohort
            )
        return self.tr("{app} report: all trainees").format(app=APP_NAME)

    def _scope_text(self, report: CohortReport) -> str:
        cohort = report.cohort or self.tr("all trainees")
        track = report.track_title or self.tr("all tracks")
        since = date_text(report.since) if report.since is not None else self.tr("any time")
        return self.tr("Cohort: {cohort} · Track: {track} · Activity since: {since}").format(
            cohort=cohort, track=track, since=since
        )

    def _numbers_text(self, report: CohortReport) -> str:
        records = report.records
        trainees = len({r.trainee_uid for r in records})
        overdue = sum(1 for r in records if r.overdue)
        passed = sum(1 for r in records if r.status is CompletionStatus.PASSED)
        return self.tr(
            "{trainees} trainee(s) · {records} record(s) · {passed} passed · "
            "{overdue} overdue · {certificates} certificate(s)"
        ).format(
            trainees=trainees,
            records=len(records),
            passed=passed,
            overdue=overdue,
            certificates=len(report.certificates),
        )

    def _footer(self, page: _Page, report: CohortReport, number: int, total: int) -> None:
        font = document_font(8)
        y = page.height_mm - MARGIN_MM + 2
        width = page.width_mm - 2 * MARGIN_MM
        page.rule(MARGIN_MM, MARGIN_MM + width, y - 1, 0.2)
        page.text(
            MARGIN_MM, y, width * 0.75, self._document_title(report), font, colour=LIGHT.muted_text
        )
        page.text(
            MARGIN_MM + width * 0.75,
            y,
            width * 0.25,
            self.tr("Page {number} of {total}").format(number=number, total=total),
            font,
            colour=LIGHT.muted_text,
            align=Qt.AlignmentFlag.AlignRight,
        )

    # Summary page

    def _summary_page(self, page: _Page, report: CohortReport) -> None:
        x, width = MARGIN_MM, page.width_mm - 2 * MARGIN_MM
        y = MARGIN_MM
        y += page.text(x, y, width, self._document_title(report), document_font(20, bold=True))
        y += 2
        y += page.text(x, y, width, self._scope_text(report), document_font(11))
        y += page.text(
            x,
            y,
            width,
            self.tr("Generated {when}").format(when=time_text(report.generated_at)),
            document_font(9),
            colour=LIGHT.muted_text,
        )
        y += 4
        y += page.text(x, y, width, self._numbers_text(report), document_font(12, bold=True))
        y += 4

        gap = 10.0
        chart_width = (width - gap) / 2
        chart_height = 98.0
        statuses = status_counts(report.records)
        bands = score_bands(report.records)
        self._chart(
            page,
            self.tr("Records by status"),
            [status_label(s) for s, _ in statuses],
            [float(n) for _, n in statuses],
            self.tr("Records"),
            page.rect(x, y, chart_width, chart_height),
        )
        self._chart(
            page,
            self.tr("Scores of the records with a score"),
            [label for label, _ in bands],
            [float(n) for _, n in bands],
            self.tr("Records"),
            page.rect(x + chart_width + gap, y, chart_width, chart_height),
        )
        y += chart_height + 4
        small = document_font(9)
        status_line = " · ".join(f"{status_label(s)}: {n}" for s, n in statuses)
        score_line = " · ".join(f"{label}: {n}" for label, n in bands)
        y += page.wrapped(
            x, y, width, self.tr("Status counts: {counts}").format(counts=status_line), small
        )
        y += 1
        y += page.wrapped(
            x, y, width, self.tr("Score bands: {counts}").format(counts=score_line), small
        )
        y += 3
        page.wrapped(
            x,
            y,
            width,
            self.tr(
                "Over-trust is the share of harmful suggestions accepted; under-trust the "
                "share of good suggestions rejected. Each certificate that follows can be "
                "checked against the training records with the command {command} and its id."
            ).format(command=VERIFY_COMMAND),
            small,
            colour=LIGHT.muted_text,
        )

    def _chart(
        self,
        page: _Page,
        title: str,
        categories: list[str],
        values: list[float],
        value_title: str,
        target: QRectF,
    ) -> None:
        # Headroom above the tallest bar for its value, printed above it.
        top = math.ceil(max(max(values, default=0.0), 1.0) * 1.15)
        chart = bar_chart(
            categories,
            [(value_title, values, LIGHT.accent)],
            value_title=value_title,
            value_range=(0.0, float(top)),
            label_format="@value",
        )
        chart.setTitle(title)
        self._chart_fonts(chart)
        scale = SCENE_DPI / RESOLUTION_DPI
        chart.resize(target.width() * scale, target.height() * scale)
        scene = QGraphicsScene()
        scene.addItem(chart)
        scene.setSceneRect(QRectF(0, 0, target.width() * scale, target.height() * scale))
        page.painter.save()
        page.painter.setPen(QPen(QColor(LIGHT.border), page.mm(0.3)))
        page.painter.drawRect(target)
        scene.render(page.painter, target, scene.sceneRect())
        page.painter.restore()
        scene.removeItem(chart)
        chart.deleteLater()

    def _chart_fonts(self, chart: QChart) -> None:
        # Pixel sizes in scene units: they scale with the chart into the page.
        def sized(pixels: int, *, bold: bool = False) -> QFont:
            font = document_font(10, bold=bold)
            font.setPixelSize(pixels)
            return font

        chart.setTitleFont(sized(14, bold=True))
        chart.setTitleBrush(QColor(LIGHT.text))
        chart.legend().setVisible(False)
        for axis in chart.axes():
            axis.setLabelsFont(sized(11))
            axis.setTitleFont(sized(11))
        for series in chart.series():
            if isinstance(series, QAbstractBarSeries):
                series.setLabelsPosition(QAbstractBarSeries.LabelsPosition.LabelsOutsideEnd)
                for bar_set in series.barSets():
                    bar_set.setLabelFont(sized(11, bold=True))
                    bar_set.setLabelColor(QColor(LIGHT.text))

    # Table pages

    def _headers(self) -> tuple[str, ...]:
        return (
            self.tr("Trainee"),
            self.tr("Team"),
            self.tr("Track"),
            self.tr("Status"),
            self.tr("Score"),
            self.tr("Over-trust"),
            self.tr("Under-trust"),
            self.tr("Completed (UTC)"),
            self.tr("Certificate id"),
        )

    def _row_height(self, page: _Page) -> float:
        return page.line_mm(document_font(8.5)) * 1.55

    def _table_top(self, page: _Page) -> float:
        return MARGIN_MM + page.line_mm(document_font(14, bold=True)) + 3

    def _rows_per_page(self, page: _Page) -> int:
        row = self._row_height(page)
        available = page.height_mm - MARGIN_MM - FOOTER_MM - self._table_top(page) - row
        return max(1, int(available // row))

    def _cells(self, record: CompletionRecord) -> tuple[str, ...]:
        status = status_label(record.status)
        if record.overdue:
            status = self.tr("{mark} Overdue · {status}").format(mark=OVERDUE_MARK, status=status)
        return (
            record.trainee_name,
            record.trainee_team or "",
            record.track_title,
            status,
            percent_text(record.score),
            percent_text(record.over_trust_rate),
            percent_text(record.under_trust_rate),
            time_text(record.completed_at).removesuffix(" UTC"),
            record.certificate_id or "",
        )

    def _table_page(self, page: _Page, records: Sequence[CompletionRecord], *, empty: bool) -> None:
        x = MARGIN_MM
        width = page.width_mm - 2 * MARGIN_MM
        page.text(x, MARGIN_MM, width, self.tr("Completion records"), document_font(14, bold=True))
        y = self._table_top(page)
        row = self._row_height(page)
        header_font = document_font(8.5, bold=True)
        body_font = document_font(8.5)
        padding = 1.2
        painter = page.painter
        painter.fillRect(page.rect(x, y, width, row), QColor(LIGHT.surface_alt))
        self._row_text(page, x, y, row, self._headers(), header_font, padding, LIGHT.muted_text)
        y += row
        page.rule(x, x + width, y, 0.25)
        if empty:
            page.text(x, y + 2, width, self.tr("No records match these filters."), body_font)
            return
        for index, record in enumerate(records):
            if record.overdue:
                painter.fillRect(page.rect(x, y, width, row), QColor(LIGHT.caution_soft))
            elif index % 2:
                painter.fillRect(page.rect(x, y, width, row), QColor(LIGHT.window))
            font = header_font if record.overdue else body_font
            self._row_text(page, x, y, row, self._cells(record), font, padding, LIGHT.text)
            y += row
        page.rule(x, x + width, y, 0.25)

    def _row_text(
        self,
        page: _Page,
        x: float,
        y: float,
        height: float,
        cells: Sequence[str],
        font: QFont,
        padding: float,
        colour: str,
    ) -> None:
        line = page.line_mm(font)
        top = y + (height - line) / 2
        for column, (cell, column_width) in enumerate(zip(cells, COLUMN_WIDTHS_MM, strict=True)):
            align = (
                Qt.AlignmentFlag.AlignRight
                if column in NUMERIC_COLUMNS
                else Qt.AlignmentFlag.AlignLeft
            )
            page.text(
                x + padding, top, column_width - 2 * padding, cell, font, colour=colour, align=align
            )
            x += column_width

    # Certificates

    def _certificate_page(self, page: _Page, certificate: Certificate) -> None:
        painter = page.painter
        width, height = page.width_mm, page.height_mm
        painter.setPen(QPen(QColor(LIGHT.accent), page.mm(1.2)))
        painter.drawRect(page.rect(10, 10, width - 20, height - 20))
        painter.setPen(QPen(QColor(LIGHT.accent), page.mm(0.3)))
        painter.drawRect(page.rect(13, 13, width - 26, height - 26))

        inner = width - 60
        x = 30.0
        centre = Qt.AlignmentFlag.AlignHCenter
        y = 30.0
        y += page.text(
            x,
            y,
            inner,
            APP_NAME.upper(),
            document_font(12, bold=True),
            colour=LIGHT.accent,
            align=centre,
        )
        y += 4
        y += page.text(
            x,
            y,
            inner,
            self.tr("Certificate of completion"),
            document_font(28, bold=True),
            align=centre,
        )
        y += 8
        y += page.text(
            x,
            y,
            inner,
            self.tr("This certifies that"),
            document_font(13),
            colour=LIGHT.muted_text,
            align=centre,
        )
        y += 3
        name_font = page.fit_font(certificate.trainee_name, inner, 30, 14)
        y += page.text(x, y, inner, certificate.trainee_name, name_font, align=centre)
        y += 3
        y += page.text(
            x,
            y,
            inner,
            self.tr("has passed the track"),
            document_font(13),
            colour=LIGHT.muted_text,
            align=centre,
        )
        y += 3
        title_font = page.fit_font(certificate.track_title, inner, 20, 12)
        y += page.text(x, y, inner, certificate.track_title, title_font, align=centre)
        y += 3
        y += page.text(
            x,
            y,
            inner,
            self.tr("with a score of {score} on {date}").format(
                score=certificate_score(certificate.score), date=date_text(certificate.issued_at)
            ),
            document_font(13),
            align=centre,
        )
        y += 8
        page.wrapped(
            x + 20,
            y,
            inner - 40,
            self.tr(
                "{app} trains engineers to judge the advice of AI assistants and agents "
                "before they apply it."
            ).format(app=APP_NAME),
            document_font(10),
            colour=LIGHT.muted_text,
            align=centre,
        )

        detail = document_font(9.5)
        label_width = 45.0
        rows = (
            (self.tr("Certificate id"), certificate.certificate_id),
            (self.tr("Verification hash"), certificate.verification_hash),
            (self.tr("Track id"), certificate.track_id),
            (self.tr("Issued"), time_text(certificate.issued_at)),
        )
        line = page.line_mm(detail) + 1.2
        y = height - 30 - line * (len(rows) + 2.5)
        for label, value in rows:
            page.text(
                x, y, label_width, label, document_font(9.5, bold=True), colour=LIGHT.muted_text
            )
            page.text(x + label_width, y, inner - label_width, value, detail, elide=False)
            y += line
        y += line * 0.5
        page.wrapped(
            x,
            y,
            inner,
            self.tr(
                "To verify this certificate against the training records, run: {command} {id} "
                "(add --hash and the verification hash above to check the hash too)."
            ).format(command=VERIFY_COMMAND, id=certificate.certificate_id),
            document_font(9),
            colour=LIGHT.muted_text,
        )


def certificate_score(score: float) -> str:
    """A certificate's score as printed: one decimal, as ``verify-certificate`` shows it."""
    return f"{score * 100:.1f} %"

"""A room session's summary as a PDF: who attended, how the room voted, the notes.

Laid out as rich text (a QTextDocument) and printed on a QPdfWriter in the bundled fonts
(``app.ui.fonts``), so names in any script print and the text can be searched. The file
is written next to its destination first and then renamed, so a failed export never
leaves half a PDF where the facilitator asked for it.
"""

from __future__ import annotations

import html
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QMarginsF, QObject, QSizeF
from PySide6.QtGui import QFontMetricsF, QPageLayout, QPageSize, QPdfWriter, QTextDocument

from app import APP_NAME
from app.core.model import Decision
from app.ui.fonts import document_font

if TYPE_CHECKING:
    from app.services.room import RoomStepSummary, SessionSummary

RESOLUTION_DPI = 300
MARGIN_MM = 16.0
BODY_POINTS = 10.5
# Widths of the steps table's columns: the scenario's title gets the room it needs.
COLUMN_PERCENT = (26, 8, 10, 10, 10, 12, 11, 13)


def local_time(moment: datetime | None) -> str:
    """``2026-11-24 10:15`` in the machine's time zone, or an empty string."""
    return "" if moment is None else moment.astimezone().strftime("%Y-%m-%d %H:%M")


class SessionPdfWriter(QObject):
    """Writes the summary of one room session as a PDF."""

    def decision_name(self, decision: Decision | None) -> str:
        """A decision in words (``None``: no majority)."""
        names = {
            Decision.ACCEPT: self.tr("Accept"),
            Decision.REVISE: self.tr("Revise"),
            Decision.REJECT: self.tr("Reject"),
        }
        return self.tr("no majority") if decision is None else names[decision]

    def result_text(self, summary: SessionSummary) -> str:
        """The room result in a sentence."""
        result = summary.result
        if result.share is None:
            return self.tr("No step was revealed with votes, so there is no room result.")
        return self.tr(
            "The room's majority made the right call on {right} of {counted} revealed "
            "step(s): {percent} %."
        ).format(
            right=result.steps_right,
            counted=result.steps_counted,
            percent=round(result.share * 100),
        )

    def step_result(self, step: RoomStepSummary) -> str:
        """``✔ Right``, ``✘ Not right`` or ``– Not revealed``: never told by colour."""
        right = step.outcome.right
        if right is None:
            return self.tr("– Not counted") if step.revealed else self.tr("– Not revealed")
        return self.tr("✔ Right") if right else self.tr("✘ Not right")

    def html(self, summary: SessionSummary) -> str:
        """The summary as the rich text that is printed."""
        session = summary.session
        e = html.escape
        if session.track_title:
            covered = self.tr("Track: {title}").format(title=session.track_title)
        else:
            covered = self.tr("{count} chosen scenario(s)").format(count=len(session.scenario_ids))
        facts = [
            (self.tr("Facilitator"), session.facilitator),
            (self.tr("Content"), covered),
            (self.tr("Started"), local_time(session.started_at)),
            (self.tr("Ended"), local_time(session.ended_at) or self.tr("not ended")),
            (self.tr("Session id"), session.session_id),
        ]
        parts = [
            f"<h1>{e(self.tr('Facilitated session summary'))}</h1>",
            f"<p>{e(APP_NAME)}</p>",
            '<table cellpadding="3">',
            *(f"<tr><td><b>{e(k)}</b></td><td>{e(v)}</td></tr>" for k, v in facts),
            "</table>",
            f"<h2>{e(self.tr('Room result'))}</h2>",
            f"<p>{e(self.result_text(summary))}</p>",
            f"<h2>{e(self.tr('Attendees ({count})').format(count=len(session.attendees)))}</h2>",
        ]
        recorded = {r.trainee_uid for r in summary.records}
        if session.attendees:
            parts.append("<ul>")
            for profile in session.attendees:
                mark = self.tr(" — attendance recorded ✔") if profile.uid in recorded else ""
                parts.append(f"<li>{e(profile.display_name)}{e(mark)}</li>")
            parts.append("</ul>")
        else:
            parts.append(f"<p>{e(self.tr('Nobody was listed as attending.'))}</p>")
        headers = [
            self.tr("Scenario"),
            self.tr("Step"),
            self.tr("Accept"),
            self.tr("Revise"),
            self.tr("Reject"),
            self.tr("Room's choice"),
            self.tr("Right call"),
            self.tr("Result"),
        ]
        parts += [
            f"<h2>{e(self.tr('Steps'))}</h2>",
            '<table border="1" cellspacing="0" cellpadding="4" width="100%">',
            "<tr>"
            + "".join(
                f'<th width="{width}%">{e(h)}</th>'
                for h, width in zip(headers, COLUMN_PERCENT, strict=True)
            )
            + "</tr>",
        ]
        for step in summary.steps:
            total = step.tally.total
            cells = [
                step.scenario_title,
                f"{step.step_number}/{step.steps_in_scenario}",
                str(total.accept),
                str(total.revise),
                str(total.reject),
                self.decision_name(total.majority) if total.total else "–",
                self.decision_name(step.expected),
                self.step_result(step),
            ]
            parts.append("<tr>" + "".join(f"<td>{e(c)}</td>" for c in cells) + "</tr>")
        parts.append("</table>")
        noted = [s for s in summary.steps if s.notes.strip()]
        if noted:
            parts.append(f"<h2>{e(self.tr('Discussion notes'))}</h2>")
            for step in noted:
                heading = self.tr("{title}, step {number}").format(
                    title=step.scenario_title, number=step.step_number
                )
                body = "<br/>".join(e(line) for line in step.notes.strip().splitlines())
                parts.append(f"<h3>{e(heading)}</h3><p>{body}</p>")
        return "\n".join(parts)

    def write(self, summary: SessionSummary, path: Path) -> None:
        """Write the PDF to ``path`` (replaced atomically); ``OSError`` when it cannot be."""
        target = path.expanduser()
        handle, temp_name = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
        )
        os.close(handle)
        try:
            writer = QPdfWriter(temp_name)
            writer.setResolution(RESOLUTION_DPI)
            writer.setTitle(self.tr("Facilitated session summary"))
            writer.setCreator(APP_NAME)
            writer.setPageLayout(
                QPageLayout(
                    QPageSize(QPageSize.PageSizeId.A4),
                    QPageLayout.Orientation.Portrait,
                    QMarginsF(MARGIN_MM, MARGIN_MM, MARGIN_MM, MARGIN_MM),
                    QPageLayout.Unit.Millimeter,
                )
            )
            document = QTextDocument()
            document.setDefaultFont(document_font(BODY_POINTS))
            document.setDefaultStyleSheet(
                "h1 { font-size: 18pt; } h2 { font-size: 13pt; } h3 { font-size: 11pt; } "
                "th { background-color: #e6e6e6; font-size: 9pt; }"
            )
            document.setHtml(self.html(summary))
            # Laid out on the page's printable area in the pixels the document measures its
            # fonts in, so text keeps its size and tables can use the whole width.
            layout_dpi = QFontMetricsF(document.defaultFont()).fontDpi()
            area = writer.pageLayout().paintRectPixels(round(layout_dpi))
            document.setPageSize(QSizeF(area.size()))
            document.print_(writer)
            del writer  # finishes the file
            os.replace(temp_name, target)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise

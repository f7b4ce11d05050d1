"""The end of a room session: who attended, how the room did, the notes, and what next.

From here the facilitator exports the summary as a PDF and resets the room for the next
group (the session and its records stay stored).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.ui.notices import show_message
from app.ui.room_pdf import SessionPdfWriter, local_time
from app.ui.style import set_text_role

if TYPE_CHECKING:
    from app.services.room import SessionSummary

PathAsker = Callable[[QWidget, str], Path | None]
"""Asks where to save a file, given a suggested name; ``None`` when cancelled."""


def ask_pdf_path(parent: QWidget, suggested: str) -> Path | None:
    """The desktop's save dialog (which itself asks before replacing a file)."""
    chosen, _filter = QFileDialog.getSaveFileName(
        parent, parent.tr("Export summary as PDF"), suggested, "PDF (*.pdf)"
    )
    if not chosen:
        return None
    path = Path(chosen)
    return path if path.suffix.lower() == ".pdf" else path.with_suffix(".pdf")


class RoomSummaryView(QWidget):
    """The session summary, with the PDF export and the reset of the room.

    Signals:
        reset_requested(): the facilitator wants the room ready for the next group.
        exported(str): the summary PDF was written to this path.
    """

    reset_requested = Signal()
    exported = Signal(str)

    def __init__(
        self, *, ask_path: PathAsker = ask_pdf_path, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.ask_path = ask_path
        self._summary: SessionSummary | None = None
        self.pdf = SessionPdfWriter(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 14, 20, 14)
        layout.setSpacing(10)
        self.title_label = QLabel(self.tr("Session summary"))
        set_text_role(self.title_label, "title")
        self.facts_label = QLabel()
        self.facts_label.setWordWrap(True)
        set_text_role(self.facts_label, "caption")
        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        set_text_role(self.result_label, "heading")
        self.result_label.setAccessibleName(self.tr("Room result"))
        layout.addWidget(self.title_label)
        layout.addWidget(self.facts_label)
        layout.addWidget(self.result_label)

        columns = QHBoxLayout()
        columns.setSpacing(14)
        left = QVBoxLayout()
        attendees_label = QLabel(self.tr("Attendees"))
        set_text_role(attendees_label, "subheading")
        self.attendee_list = QListWidget()
        self.attendee_list.setAccessibleName(self.tr("Attendees"))
        left.addWidget(attendees_label)
        left.addWidget(self.attendee_list)
        columns.addLayout(left, 1)
        right = QVBoxLayout()
        steps_label = QLabel(self.tr("Steps"))
        set_text_role(steps_label, "subheading")
        self.step_table = QTableWidget(0, 8)
        self.step_table.setAccessibleName(self.tr("Steps and votes"))
        self.step_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.step_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.step_table.verticalHeader().setVisible(False)
        self.step_table.setHorizontalHeaderLabels(
            [
                self.tr("Scenario"),
                self.tr("Step"),
                self.tr("Accept"),
                self.tr("Revise"),
                self.tr("Reject"),
                self.tr("Room's choice"),
                self.tr("Right call"),
                self.tr("Result"),
            ]
        )
        header = self.step_table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, 8):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        notes_label = QLabel(self.tr("Discussion notes"))
        set_text_role(notes_label, "subheading")
        self.notes_view = QPlainTextEdit()
        self.notes_view.setReadOnly(True)
        self.notes_view.setAccessibleName(self.tr("Discussion notes"))
        self.notes_view.setTabChangesFocus(True)
        right.addWidget(steps_label)
        right.addWidget(self.step_table, 2)
        right.addWidget(notes_label)
        right.addWidget(self.notes_view, 1)
        columns.addLayout(right, 3)
        layout.addLayout(columns, 1)

        buttons = QHBoxLayout()
        self.export_button = QPushButton(self.tr("Export summary as &PDF…"))
        self.export_button.setAccessibleName(self.tr("Export summary as PDF"))
        self.export_button.clicked.connect(self.export_pdf)
        self.reset_button = QPushButton(self.tr("&Reset room"))
        self.reset_button.setObjectName("primary")
        self.reset_button.setAccessibleName(self.tr("Reset room"))
        self.reset_button.setToolTip(
            self.tr("Clear the session and the attendees for the next group; records stay")
        )
        self.reset_button.clicked.connect(self.reset_requested)
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.status_label.setAccessibleName(self.tr("Export status"))
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.reset_button)
        buttons.addWidget(self.status_label, 1)
        layout.addLayout(buttons)

    @property
    def summary(self) -> SessionSummary | None:
        """The summary on screen."""
        return self._summary

    def show_summary(self, summary: SessionSummary) -> None:
        """Show ``summary``."""
        self._summary = summary
        session = summary.session
        self.status_label.clear()
        what = session.track_title or self.tr("{count} chosen scenario(s)").format(
            count=len(session.scenario_ids)
        )
        self.facts_label.setText(
            self.tr("{what} · facilitator {name} · {start} to {end}").format(
                what=what,
                name=session.facilitator,
                start=local_time(session.started_at),
                end=local_time(session.ended_at),
            )
        )
        self.result_label.setText(self.pdf.result_text(summary))
        recorded = {r.trainee_uid for r in summary.records}
        self.attendee_list.clear()
        for profile in session.attendees:
            mark = self.tr(" — attendance recorded ✔") if profile.uid in recorded else ""
            self.attendee_list.addItem(f"{profile.display_name}{mark}")
        if not session.attendees:
            self.attendee_list.addItem(self.tr("Nobody was listed as attending."))
        self.step_table.setRowCount(len(summary.steps))
        for row, step in enumerate(summary.steps):
            total = step.tally.total
            cells = [
                step.scenario_title,
                f"{step.step_number}/{step.steps_in_scenario}",
                str(total.accept),
                str(total.revise),
                str(total.reject),
                self.pdf.decision_name(total.majority) if total.total else "–",
                self.pdf.decision_name(step.expected),
                self.pdf.step_result(step),
            ]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if 2 <= column <= 4:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.step_table.setItem(row, column, item)
        notes = [
            self.tr("{title}, step {number}:").format(title=s.scenario_title, number=s.step_number)
            + "\n"
            + s.notes.strip()
            for s in summary.steps
            if s.notes.strip()
        ]
        self.notes_view.setPlainText(
            "\n\n".join(notes) if notes else self.tr("No notes were taken.")
        )
        self.export_button.setFocus(Qt.FocusReason.OtherFocusReason)

    def export_pdf(self) -> Path | None:
        """Ask where, then write the summary PDF there."""
        summary = self._summary
        if summary is None:
            return None
        day = (summary.session.ended_at or summary.session.started_at).astimezone()
        suggested = f"room-session-{day:%Y-%m-%d}.pdf"
        path = self.ask_path(self, suggested)
        if path is None:
            return None
        try:
            self.pdf.write(summary, path)
        except OSError as error:
            show_message(
                self,
                self.tr("The summary could not be written to {path}.").format(path=path),
                str(error.strerror or error),
            )
            return None
        self.status_label.setText(self.tr("Summary written to {path}").format(path=path))
        self.exported.emit(str(path))
        return path

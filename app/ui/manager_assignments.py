"""The trainee's assigned training on the home page: tracks, due dates, overdue marks.

A manager assigns tracks to cohorts; a trainee sees only their own assignments here. An
overdue one says "Overdue since" with a warning sign and icon, not by colour alone.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import QAbstractItemView, QFrame, QLabel, QListView, QVBoxLayout, QWidget

from app.services.training import Assignment
from app.ui.manager_models import AssignmentListModel
from app.ui.style import set_text_role

# Rows visible before the list scrolls.
ROWS_SHOWN = 4


class AssignmentsCard(QFrame):
    """ "Assigned to you": the trainee's tracks from their cohorts, soonest due first.

    Hidden while the trainee has no assignment.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 16)
        layout.setSpacing(10)
        self.heading = QLabel(self.tr("Assigned to you"))
        set_text_role(self.heading, "heading")
        self.model = AssignmentListModel(parent=self)
        self.list_view = QListView()
        self.list_view.setModel(self.model)
        self.list_view.setAccessibleName(self.tr("Training assigned to you"))
        self.list_view.setAccessibleDescription(
            self.tr("Tracks your cohorts assigned, soonest due first. Overdue ones say so.")
        )
        self.list_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.list_view.setWordWrap(True)
        self.overdue_label = QLabel()
        self.overdue_label.setObjectName("badge")
        self.overdue_label.setWordWrap(True)
        layout.addWidget(self.heading)
        layout.addWidget(self.overdue_label)
        layout.addWidget(self.list_view)
        self.show_assignments([])

    def show_assignments(self, assignments: Sequence[Assignment]) -> None:
        """List the trainee's assignments; hide the card when there are none."""
        self.model.set_items(assignments)
        overdue = sum(1 for a in assignments if a.overdue)
        self.overdue_label.setText(self.tr("⚠ {count} assignment(s) overdue").format(count=overdue))
        self.overdue_label.setVisible(overdue > 0)
        # Never shown without a parent: it would open as a window of its own.
        self.setVisible(bool(assignments) and self.parentWidget() is not None)
        if assignments:
            visible = min(len(assignments), ROWS_SHOWN)
            row = max(self.list_view.sizeHintForRow(0), self.fontMetrics().height() + 8)
            self.list_view.setFixedHeight(visible * row + 2 * self.list_view.frameWidth() + 4)

    def assignments(self) -> list[Assignment]:
        """The assignments listed, in order."""
        return [a for a in self.model.items() if isinstance(a, Assignment)]

    def texts(self) -> list[str]:
        """Each row's text, as shown."""
        return [str(self.model.index(row).data()) for row in range(self.model.rowCount())]

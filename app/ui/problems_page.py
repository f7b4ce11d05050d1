"""The content problems page: every file that was skipped or partly loaded, and why."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import QAbstractItemView, QLabel, QListView, QVBoxLayout, QWidget

from app.core.model import ContentProblem
from app.ui.models import ProblemListModel
from app.ui.style import set_text_role
from app.ui.widgets import card


class ProblemsPage(QWidget):
    """A read-only list of content problems as ``path:line: message``."""

    def __init__(self, problems: Sequence[ContentProblem] = (), parent: QWidget | None = None):
        super().__init__(parent)
        frame, frame_layout = card()
        heading = QLabel(self.tr("Content &problems"))
        set_text_role(heading, "heading")
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        set_text_role(self.summary, "caption")
        self.model = ProblemListModel(parent=self)
        self.list_view = QListView()
        self.list_view.setModel(self.model)
        self.list_view.setAccessibleName(self.tr("Content problems"))
        self.list_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.list_view.setWordWrap(True)
        self.list_view.setAlternatingRowColors(True)
        heading.setBuddy(self.list_view)
        frame_layout.addWidget(heading)
        frame_layout.addWidget(self.summary)
        frame_layout.addWidget(self.list_view, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 16)
        layout.addWidget(frame)
        self.set_problems(problems)

    def set_problems(self, problems: Sequence[ContentProblem]) -> None:
        """Show these problems."""
        self.model.set_items(problems)
        if problems:
            self.summary.setText(
                self.tr(
                    "{count} problem(s) in the content files. The rest of the content "
                    "loaded; fix these files and restart to load them too. Each line reads "
                    "file:line: what is wrong."
                ).format(count=len(problems))
            )
        else:
            self.summary.setText(self.tr("Every content file loaded without a problem."))

    def lines(self) -> list[str]:
        """The problems as shown, one line each."""
        return [str(self.model.index(row).data()) for row in range(self.model.rowCount())]

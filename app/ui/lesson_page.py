"""The lesson reader: the list of lessons and the rendered lesson beside it."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListView,
    QVBoxLayout,
    QWidget,
)

from app.core.model import ContentLibrary
from app.ui.markdown_view import SafeMarkdownView, UrlOpener, open_in_browser
from app.ui.models import ID_ROLE, LessonListModel, lesson_rows
from app.ui.style import set_text_role
from app.ui.widgets import card


class LessonPage(QWidget):
    """Lists the lessons and shows the one opened.

    Signals:
        lesson_opened(str): a lesson (id) was opened; the workspace marks it read.
    """

    lesson_opened = Signal(str)

    def __init__(
        self,
        library: ContentLibrary,
        *,
        open_url: UrlOpener = open_in_browser,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._library = library
        self._read: set[str] = set()
        self._current: str | None = None

        list_frame, list_layout = card()
        list_label = QLabel(self.tr("&Lessons"))
        set_text_role(list_label, "heading")
        self.model = LessonListModel(parent=self)
        self.list_view = QListView()
        self.list_view.setModel(self.model)
        self.list_view.setAccessibleName(self.tr("Lessons"))
        self.list_view.setAccessibleDescription(self.tr("Press Enter or click to read a lesson."))
        self.list_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.list_view.setWordWrap(True)
        self.list_view.activated.connect(self._on_activated)
        self.list_view.clicked.connect(self._on_activated)
        list_label.setBuddy(self.list_view)
        list_layout.addWidget(list_label)
        list_layout.addWidget(self.list_view, 1)

        reader_frame, reader_layout = card()
        self.title_label = QLabel(self.tr("Choose a lesson"))
        set_text_role(self.title_label, "title")
        self.title_label.setWordWrap(True)
        self.summary_label = QLabel(
            self.tr("Lessons explain the red flags the scenarios train. Pick one from the list.")
        )
        self.summary_label.setWordWrap(True)
        set_text_role(self.summary_label, "caption")
        self.reader = SafeMarkdownView(open_url=open_url, max_line_chars=90)
        self.reader.setAccessibleName(self.tr("Lesson text"))
        self.reader.setObjectName("embedded")
        reader_layout.addWidget(self.title_label)
        reader_layout.addWidget(self.summary_label)
        reader_layout.addWidget(self.reader, 1)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 16)
        layout.setSpacing(16)
        column = QVBoxLayout()
        column.addWidget(list_frame)
        layout.addLayout(column, 1)
        layout.addWidget(reader_frame, 3)
        self.setTabOrder(self.list_view, self.reader)
        self._refresh_list()

    @property
    def current_lesson_id(self) -> str | None:
        """The lesson shown."""
        return self._current

    def set_read(self, lesson_ids: Iterable[str]) -> None:
        """Mark these lessons as read in the list."""
        self._read = set(lesson_ids)
        self._refresh_list()

    def show_lesson(self, lesson_id: str) -> bool:
        """Show a lesson and report it opened; False when there is no such lesson."""
        lesson = self._library.lessons.get(lesson_id)
        if lesson is None:
            return False
        self._current = lesson_id
        self.title_label.setText(lesson.title)
        if lesson.minutes:
            summary = self.tr("{summary} · about {minutes} min").format(
                summary=lesson.summary, minutes=lesson.minutes
            )
        else:
            summary = lesson.summary
        self.summary_label.setText(summary)
        self.reader.set_markdown(lesson.body, self._library.pack_root(lesson.pack_id))
        self.reader.verticalScrollBar().setValue(0)
        self._select(lesson_id)
        self.lesson_opened.emit(lesson_id)
        return True

    def _refresh_list(self) -> None:
        self.model.set_items(lesson_rows(self._library.ordered_lessons(), self._read))
        if self._current is not None:
            self._select(self._current)

    def _select(self, lesson_id: str) -> None:
        for row in range(self.model.rowCount()):
            index = self.model.index(row)
            if index.data(ID_ROLE) == lesson_id:
                self.list_view.setCurrentIndex(index)
                return

    def _on_activated(self, index: QModelIndex) -> None:
        lesson_id = index.data(ID_ROLE)
        if isinstance(lesson_id, str) and lesson_id != self._current:
            self.show_lesson(lesson_id)
        elif isinstance(lesson_id, str):
            self.reader.setFocus(Qt.FocusReason.OtherFocusReason)

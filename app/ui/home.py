"""The home page: the scenario catalogue, what to do next, the review due, tracks, lessons."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListView,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from app.core.guidance import NextItem, next_item, ordered_tracks
from app.core.model import ContentLibrary, TrackItemKind
from app.core.records import TrackProgress, TraineeProgress
from app.ui.manager_assignments import AssignmentsCard
from app.ui.models import (
    DIFFICULTY_NAMES,
    ID_ROLE,
    CatalogueFilter,
    CatalogueModel,
    LessonListModel,
    ReviewListModel,
    ReviewRow,
    catalogue_rows,
    difficulty_text,
    format_score,
    lesson_rows,
)
from app.ui.style import set_text_role
from app.ui.widgets import ColumnScrollArea, card

if TYPE_CHECKING:
    from app.services.training import ReviewSuggestion

# Rows of the review list visible before it scrolls.
REVIEW_ROWS_SHOWN = 4


class HomePage(QWidget):
    """Tracks, catalogue, lessons, "What next" and "Review due".

    Signals:
        scenario_requested(str, str): open a scenario (id) within a track (id or "").
        lesson_requested(str): open a lesson (id).
    """

    scenario_requested = Signal(str, str)
    lesson_requested = Signal(str)

    def __init__(self, library: ContentLibrary, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._library = library
        self._next: NextItem | None = None
        self._progress = TraineeProgress()

        self.catalogue = CatalogueModel(self)
        self.filter = CatalogueFilter(self)
        self.filter.setSourceModel(self.catalogue)

        outer = QHBoxLayout(self)
        outer.setContentsMargins(20, 16, 20, 16)
        outer.setSpacing(16)
        outer.addWidget(self._build_catalogue_card(), 3)
        side_widget = QWidget()
        side_widget.setObjectName("sideColumn")
        side = QVBoxLayout(side_widget)
        side.setContentsMargins(0, 0, 4, 0)
        side.setSpacing(16)
        side.addWidget(self._build_next_card())
        # Training a manager assigned through a cohort (hidden when there is none).
        self.assignments = AssignmentsCard()
        side.addWidget(self.assignments)
        side.addWidget(self._build_review_card())
        side.addWidget(self._build_tracks_card())
        side.addWidget(self._build_lessons_card(), 1)
        # The cards keep their natural height; on a small screen the column scrolls. It
        # is never narrower than its cards need, however large the text.
        self.side_scroll = ColumnScrollArea(side_widget)
        outer.addWidget(self.side_scroll, 2)

        self.setTabOrder(self.continue_button, self.assignments.list_view)
        self.setTabOrder(self.assignments.list_view, self.review_list)
        self.setTabOrder(self.review_list, self.difficulty_combo)
        self.setTabOrder(self.difficulty_combo, self.flag_combo)
        self.setTabOrder(self.flag_combo, self.lesson_combo)
        self.setTabOrder(self.lesson_combo, self.clear_button)
        self.setTabOrder(self.clear_button, self.tree)
        self.setTabOrder(self.tree, self.lesson_list)
        self.show_progress(TraineeProgress(), [])

    # Building

    def _build_catalogue_card(self) -> QFrame:
        frame, layout = card(self.tr("Scenarios"))
        filters = QGridLayout()
        filters.setHorizontalSpacing(8)
        self.difficulty_combo = QComboBox()
        self.difficulty_combo.addItem(self.tr("All levels"), None)
        for level in DIFFICULTY_NAMES:
            self.difficulty_combo.addItem(difficulty_text(level), level)
        self.flag_combo = QComboBox()
        self.flag_combo.addItem(self.tr("All red flags"), None)
        for flag in sorted(self._library.red_flags.values(), key=lambda f: f.title):
            self.flag_combo.addItem(flag.title, flag.id)
        self.lesson_combo = QComboBox()
        self.lesson_combo.addItem(self.tr("All lessons"), None)
        for lesson in self._library.ordered_lessons():
            self.lesson_combo.addItem(lesson.title, lesson.id)
        combos = (
            (self.tr("&Difficulty"), self.tr("Filter by difficulty"), self.difficulty_combo),
            (self.tr("Red &flag"), self.tr("Filter by red flag"), self.flag_combo),
            (self.tr("Le&sson"), self.tr("Filter by lesson"), self.lesson_combo),
        )
        for column, (text, name, combo) in enumerate(combos):
            label = QLabel(text)
            label.setBuddy(combo)
            set_text_role(label, "caption")
            combo.setAccessibleName(name)
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(8)
            combo.currentIndexChanged.connect(self._apply_filters)
            filters.addWidget(label, 0, column)
            filters.addWidget(combo, 1, column)
        self.clear_button = QPushButton(self.tr("&Clear filters"))
        self.clear_button.clicked.connect(self.clear_filters)
        self.clear_button.setAutoDefault(True)
        filters.addWidget(self.clear_button, 1, len(combos))
        layout.addLayout(filters)

        self.tree = QTreeView()
        self.tree.setModel(self.filter)
        self.tree.setAccessibleName(self.tr("Scenario catalogue"))
        self.tree.setAccessibleDescription(
            self.tr("Scenarios grouped by domain. Press Enter or double-click to play one.")
        )
        self.tree.setUniformRowHeights(True)
        self.tree.setAllColumnsShowFocus(True)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(CatalogueModel.TITLE, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(
            CatalogueModel.DIFFICULTY, QHeaderView.ResizeMode.ResizeToContents
        )
        header.setSectionResizeMode(
            CatalogueModel.PROGRESS, QHeaderView.ResizeMode.ResizeToContents
        )
        self.tree.activated.connect(self._on_catalogue_activated)
        layout.addWidget(self.tree, 1)
        self.empty_label = QLabel(self.tr("No scenario matches these filters."))
        set_text_role(self.empty_label, "caption")
        self.empty_label.hide()
        layout.addWidget(self.empty_label)
        hint = QLabel(self.tr("Double-click a scenario, or select it and press Enter, to play it."))
        hint.setWordWrap(True)
        set_text_role(hint, "caption")
        layout.addWidget(hint)
        return frame

    def _build_next_card(self) -> QFrame:
        frame, layout = card(self.tr("What next"))
        self.next_label = QLabel()
        self.next_label.setWordWrap(True)
        self.next_label.setTextFormat(Qt.TextFormat.PlainText)
        self.continue_button = QPushButton(self.tr("C&ontinue"))
        self.continue_button.setObjectName("primary")
        # Enter presses it when it has the focus, as Space does.
        self.continue_button.setAutoDefault(True)
        self.continue_button.clicked.connect(self.continue_next)
        layout.addWidget(self.next_label)
        layout.addWidget(self.continue_button, 0, Qt.AlignmentFlag.AlignRight)
        return frame

    def _build_review_card(self) -> QFrame:
        frame, layout = card()
        self.review_heading = QLabel(self.tr("&Review due"))
        set_text_role(self.review_heading, "heading")
        self.review_model = ReviewListModel(parent=self)
        self.review_list = QListView()
        self.review_list.setModel(self.review_model)
        self.review_list.setAccessibleName(self.tr("Review due"))
        self.review_list.setAccessibleDescription(
            self.tr(
                "Red flags you missed, due for practice, each with a scenario to practise it "
                "in. Press Enter or double-click to play one."
            )
        )
        self.review_list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.review_list.setWordWrap(True)
        self.review_list.activated.connect(self._on_review_activated)
        self.review_heading.setBuddy(self.review_list)
        self.review_empty = QLabel(
            self.tr(
                "Nothing is due. A red flag you miss comes back here the next day, in "
                "another scenario, then at growing intervals while you keep catching it."
            )
        )
        self.review_empty.setWordWrap(True)
        set_text_role(self.review_empty, "caption")
        layout.addWidget(self.review_heading)
        layout.addWidget(self.review_list)
        layout.addWidget(self.review_empty)
        self.show_review([])
        return frame

    def _build_tracks_card(self) -> QFrame:
        frame, layout = card(self.tr("Tracks"))
        self.tracks_layout = QVBoxLayout()
        self.tracks_layout.setSpacing(10)
        layout.addLayout(self.tracks_layout)
        self.track_bars: dict[str, QProgressBar] = {}
        self.track_labels: dict[str, QLabel] = {}
        if not self._library.tracks:
            none = QLabel(self.tr("No tracks in the loaded content."))
            set_text_role(none, "caption")
            self.tracks_layout.addWidget(none)
        for track in ordered_tracks(self._library):
            title = QLabel(track.title)
            set_text_role(title, "subheading")
            title.setToolTip(track.summary)
            bar = QProgressBar()
            bar.setRange(0, max(1, len(track.items)))
            bar.setTextVisible(True)
            bar.setAccessibleName(self.tr("Progress in {track}").format(track=track.title))
            bar.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            detail = QLabel()
            detail.setWordWrap(True)
            set_text_role(detail, "caption")
            self.tracks_layout.addWidget(title)
            self.tracks_layout.addWidget(bar)
            self.tracks_layout.addWidget(detail)
            self.track_bars[track.id] = bar
            self.track_labels[track.id] = detail
        return frame

    def _build_lessons_card(self) -> QFrame:
        frame, layout = card()
        label = QLabel(self.tr("Lesso&ns"))
        set_text_role(label, "heading")
        self.lessons_model = LessonListModel(parent=self)
        self.lesson_list = QListView()
        self.lesson_list.setModel(self.lessons_model)
        self.lesson_list.setAccessibleName(self.tr("Lessons"))
        self.lesson_list.setAccessibleDescription(
            self.tr("Press Enter or double-click to read a lesson.")
        )
        self.lesson_list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.lesson_list.activated.connect(self._on_lesson_activated)
        self.lesson_list.setMinimumHeight(self.fontMetrics().height() * 8)
        label.setBuddy(self.lesson_list)
        layout.addWidget(label)
        layout.addWidget(self.lesson_list, 1)
        return frame

    # Data

    def show_progress(self, progress: TraineeProgress, tracks: Sequence[TrackProgress]) -> None:
        """Mark done scenarios, read lessons, track progress and what to do next."""
        self._progress = progress
        selected = self.selected_scenario_id()
        self.catalogue.set_rows(catalogue_rows(self._library, progress))
        self.tree.expandAll()
        if selected is not None:
            self.select_scenario(selected)
        self.lessons_model.set_items(
            lesson_rows(self._library.ordered_lessons(), progress.lessons_read)
        )
        by_id = {t.track_id: t for t in tracks}
        for track in ordered_tracks(self._library):
            state = by_id.get(track.id)
            done = state.items_done if state is not None else 0
            total = len(track.items)
            bar = self.track_bars[track.id]
            bar.setValue(done)
            count = self.tr("{done} of {total} done").format(done=done, total=total)
            bar.setFormat(count)
            status = []
            if state is not None and state.complete:
                status.append("✓ " + self.tr("Complete"))
            if state is not None and state.score is not None:
                status.append(self.tr("score {score}").format(score=format_score(state.score)))
            self.track_labels[track.id].setText(" · ".join(status) or track.summary)
            bar.setAccessibleDescription(" · ".join([count, *status]))
        self._show_next(next_item(self._library, progress, tracks))
        self._update_empty_hint()

    def show_review(self, suggestions: Sequence[ReviewSuggestion]) -> None:
        """List the review items due, each with the scenario chosen to practise it."""
        rows = []
        for suggestion in suggestions:
            flag_id = suggestion.item.flag
            title = None
            if flag_id is not None:
                flag = self._library.red_flags.get(flag_id)
                title = flag.title if flag is not None else flag_id
            rows.append(
                ReviewRow(
                    key=suggestion.item.key,
                    flag_title=title,
                    scenario_id=suggestion.scenario.id,
                    scenario_title=suggestion.scenario.title,
                    due=suggestion.item.due,
                )
            )
        self.review_model.set_items(rows)
        self.review_heading.setText(
            self.tr("&Review due ({count})").format(count=len(rows))
            if rows
            else self.tr("&Review due")
        )
        self.review_list.setVisible(bool(rows))
        self.review_empty.setVisible(not rows)
        if rows:
            self._fit_review_list()
            if not self.review_list.currentIndex().isValid():
                self.review_list.setCurrentIndex(self.review_model.index(0))

    def _fit_review_list(self) -> None:
        rows = self.review_model.rowCount()
        if not rows:
            return
        visible = min(rows, REVIEW_ROWS_SHOWN)
        row_height = max(self.review_list.sizeHintForRow(0), self.fontMetrics().height() + 8)
        frame = 2 * self.review_list.frameWidth()
        self.review_list.setFixedHeight(visible * row_height + frame + 4)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            # Sized in rows of text: size it again for the new text size.
            self._fit_review_list()
            self.lesson_list.setMinimumHeight(self.fontMetrics().height() * 8)

    def review_rows(self) -> list[ReviewRow]:
        """The review items listed, in order."""
        return [row for row in self.review_model.items() if isinstance(row, ReviewRow)]

    def _on_review_activated(self, index: QModelIndex) -> None:
        scenario_id = index.data(ID_ROLE)
        if isinstance(scenario_id, str):
            self.scenario_requested.emit(scenario_id, "")

    def _show_next(self, item: NextItem | None) -> None:
        self._next = item
        if item is None:
            if self._library.scenarios:
                text = self.tr("You have done everything here. Replay any scenario to practise.")
            else:
                text = self.tr("There are no scenarios in the loaded content yet.")
            self.next_label.setText(text)
            self.continue_button.setEnabled(False)
            return
        lesson = item.kind is TrackItemKind.LESSON
        what = (self.tr("Lesson: {title}") if lesson else self.tr("Scenario: {title}")).format(
            title=item.title
        )
        where = (
            self.tr("Next in {track}:").format(track=item.track_title)
            if item.track_title
            else self.tr("Next up:")
        )
        self.next_label.setText(f"{where}\n{what}")
        self.continue_button.setEnabled(True)
        self.continue_button.setAccessibleName(
            (
                self.tr("Continue with lesson {title}")
                if lesson
                else self.tr("Continue with scenario {title}")
            ).format(title=item.title)
        )

    @property
    def next(self) -> NextItem | None:
        """What "Continue" opens."""
        return self._next

    def continue_next(self) -> None:
        """Open the next item."""
        item = self._next
        if item is None:
            return
        if item.kind is TrackItemKind.LESSON:
            self.lesson_requested.emit(item.ref)
        else:
            self.scenario_requested.emit(item.ref, item.track_id or "")

    # Catalogue

    def clear_filters(self) -> None:
        """Show every scenario again."""
        for combo in (self.difficulty_combo, self.flag_combo, self.lesson_combo):
            combo.setCurrentIndex(0)

    def _apply_filters(self) -> None:
        self.filter.set_difficulty(self.difficulty_combo.currentData())
        self.filter.set_flag(self.flag_combo.currentData())
        self.filter.set_lesson(self.lesson_combo.currentData())
        self.tree.expandAll()
        self._update_empty_hint()

    def _update_empty_hint(self) -> None:
        self.empty_label.setVisible(
            not self.visible_scenario_ids() and bool(self._library.scenarios)
        )

    def visible_scenario_ids(self) -> list[str]:
        """The ids of the scenarios the filters let through, in display order."""
        ids = []
        for group in range(self.filter.rowCount()):
            parent = self.filter.index(group, 0)
            for row in range(self.filter.rowCount(parent)):
                scenario_id = self.filter.index(row, 0, parent).data(ID_ROLE)
                if isinstance(scenario_id, str):
                    ids.append(scenario_id)
        return ids

    def status_text(self, scenario_id: str) -> str:
        """The progress column's text for a scenario."""
        index = self.catalogue.index_of(scenario_id)
        value = index.siblingAtColumn(CatalogueModel.PROGRESS).data()
        return value if isinstance(value, str) else ""

    def selected_scenario_id(self) -> str | None:
        """The scenario selected in the catalogue, if any."""
        value = self.tree.currentIndex().data(ID_ROLE)
        return value if isinstance(value, str) else None

    def select_scenario(self, scenario_id: str) -> bool:
        """Select a scenario's row (when the filters show it)."""
        index = self.filter.mapFromSource(self.catalogue.index_of(scenario_id))
        if not index.isValid():
            return False
        self.tree.setCurrentIndex(index)
        self.tree.scrollTo(index)
        return True

    def _on_catalogue_activated(self, index: QModelIndex) -> None:
        scenario_id = index.data(ID_ROLE)
        if isinstance(scenario_id, str):
            self.scenario_requested.emit(scenario_id, "")

    def _on_lesson_activated(self, index: QModelIndex) -> None:
        lesson_id = index.data(ID_ROLE)
        if isinstance(lesson_id, str):
            self.lesson_requested.emit(lesson_id)

"""The manager's completion table: filters, the records, and waive / reset / correct.

Every change is an event with who, when and why, made through the manager service; the
selected trainee's events are listed under the table, newest first.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QItemSelection, QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.core.completion import CompletionStatus
from app.core.model import ContentLibrary
from app.core.records import Profile
from app.services.completion import CompletionRecord
from app.services.manager import ManagerService, ManagerSession
from app.services.training import TrainingService
from app.ui.manager_dialogs import ManagerErrors, ReasonDialog
from app.ui.manager_models import (
    OVERDUE_FILTER,
    AnswerListModel,
    AnswerRow,
    CompletionFilter,
    CompletionTableModel,
    EventTableModel,
    status_label,
)
from app.ui.models import ROW_ROLE
from app.ui.style import set_text_role

SessionSource = Callable[[], ManagerSession | None]


class CompletionView(QWidget):
    """Filters over the completion records, the table, record actions and the audit events.

    Signals:
        records_changed(): an event was recorded (other views may refresh).
    """

    records_changed = Signal()

    def __init__(
        self,
        manager: ManagerService,
        training: TrainingService,
        library: ContentLibrary,
        session: SessionSource,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._manager = manager
        self._training = training
        self._library = library
        self._session = session
        self._errors = ManagerErrors(self)
        self._profiles: dict[str, Profile] = {}
        self.dialog: ReasonDialog | None = None

        self.model = CompletionTableModel(self)
        self.proxy = CompletionFilter(self)
        self.proxy.setSourceModel(self.model)
        self.events_model = EventTableModel(self)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.addLayout(self._build_filters())
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setAccessibleName(self.tr("Completion records"))
        self.table.setAccessibleDescription(
            self.tr(
                "One row per trainee and track. Overdue rows begin with the word Overdue "
                "and a warning sign."
            )
        )
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSortingEnabled(True)
        self.table.setWordWrap(False)
        self.table.setTabKeyNavigation(False)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        layout.addWidget(self.table, 3)
        self.count_label = QLabel()
        set_text_role(self.count_label, "caption")
        layout.addWidget(self.count_label)

        actions = QHBoxLayout()
        self.waive_button = QPushButton(self.tr("Wai&ve…"))
        self.waive_button.setToolTip(self.tr("Mark the selected track waived for this trainee"))
        self.reset_button = QPushButton(self.tr("Res&et…"))
        self.reset_button.setToolTip(
            self.tr("Count the selected track afresh for this trainee from now on")
        )
        self.correct_button = QPushButton(self.tr("C&orrect an answer…"))
        self.correct_button.setToolTip(
            self.tr("Void one of this trainee's answers in the selected track")
        )
        for button, name in (
            (self.waive_button, self.tr("Waive")),
            (self.reset_button, self.tr("Reset")),
            (self.correct_button, self.tr("Correct an answer")),
        ):
            button.setAccessibleName(name)
            actions.addWidget(button)
        actions.addStretch(1)
        self.waive_button.clicked.connect(self.waive_selected)
        self.reset_button.clicked.connect(self.reset_selected)
        self.correct_button.clicked.connect(self.correct_selected)
        layout.addLayout(actions)

        self.events_heading = QLabel(self.tr("Audit events"))
        set_text_role(self.events_heading, "subheading")
        layout.addWidget(self.events_heading)
        self.events_table = QTableView()
        self.events_table.setModel(self.events_model)
        self.events_table.setAccessibleName(self.tr("Audit events of the selected trainee"))
        self.events_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.events_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.events_table.setTabKeyNavigation(False)
        self.events_table.verticalHeader().hide()
        self.events_table.horizontalHeader().setStretchLastSection(True)
        layout.addWidget(self.events_table, 1)
        self._update_actions()

    def _build_filters(self) -> QGridLayout:
        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        self.cohort_combo = QComboBox()
        self.track_combo = QComboBox()
        self.status_combo = QComboBox()
        self.status_combo.addItem(self.tr("All statuses"), None)
        self.status_combo.addItem(self.tr("Overdue only"), OVERDUE_FILTER)
        for status in CompletionStatus:
            self.status_combo.addItem(status_label(status), status.value)
        combos = (
            (self.tr("&Cohort"), self.cohort_combo, self.tr("Filter by cohort")),
            (self.tr("T&rack"), self.track_combo, self.tr("Filter by track")),
            (self.tr("&Status"), self.status_combo, self.tr("Filter by status")),
        )
        for column, (text, combo, name) in enumerate(combos):
            label = QLabel(text)
            label.setBuddy(combo)
            set_text_role(label, "caption")
            combo.setAccessibleName(name)
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            grid.addWidget(label, 0, column)
            grid.addWidget(combo, 1, column)
        self.refresh_button = QPushButton(self.tr("Re&fresh"))
        self.refresh_button.setAccessibleName(self.tr("Refresh"))
        self.refresh_button.clicked.connect(self.refresh)
        grid.addWidget(self.refresh_button, 1, len(combos))
        grid.setColumnStretch(len(combos) + 1, 1)
        self.cohort_combo.currentIndexChanged.connect(self.refresh)
        self.track_combo.currentIndexChanged.connect(self._apply_filters)
        self.status_combo.currentIndexChanged.connect(self._apply_filters)
        return grid

    # Data

    def set_cohorts(self, names: list[str]) -> None:
        """Offer these cohorts in the filter (keeping the choice when it is still there)."""
        current = self.cohort_combo.currentData()
        self.cohort_combo.blockSignals(True)
        self.cohort_combo.clear()
        self.cohort_combo.addItem(self.tr("All trainees"), None)
        for name in names:
            self.cohort_combo.addItem(name, name)
        index = self.cohort_combo.findData(current) if current is not None else 0
        self.cohort_combo.setCurrentIndex(max(index, 0))
        self.cohort_combo.blockSignals(False)
        if self.track_combo.count() == 0:
            self.track_combo.blockSignals(True)
            self.track_combo.addItem(self.tr("All tracks"), None)
            for track in self._library.tracks.values():
                self.track_combo.addItem(track.title, track.id)
            self.track_combo.blockSignals(False)

    def refresh(self) -> None:
        """Read the completion records again for the chosen cohort."""
        session = self._session()
        if session is None:
            self.clear()
            return
        cohort = self.cohort_combo.currentData()
        selected = self.selected_record()
        records = self._errors.attempt(
            self,
            self.tr("read the completion records"),
            lambda: self._manager.completion_records(
                session, cohort if isinstance(cohort, str) else None
            ),
        )
        profiles = self._errors.attempt(
            self,
            self.tr("read the profiles"),
            lambda: self._manager.profiles(session, include_archived=True),
        )
        self._profiles = {p.uid: p for p in profiles or []}
        self.model.set_records(records or [])
        self._apply_filters()
        self.table.resizeColumnsToContents()
        if selected is not None:
            self.select(selected.trainee_uid, selected.track_id)
        self._selection_changed()

    def clear(self) -> None:
        """Forget every record shown (on locking)."""
        self.model.set_records([])
        self.events_model.set_events([])
        self._profiles = {}
        self.cohort_combo.blockSignals(True)
        self.cohort_combo.clear()
        self.cohort_combo.blockSignals(False)
        self._update_count()
        self._update_actions()

    def _apply_filters(self) -> None:
        track = self.track_combo.currentData()
        status = self.status_combo.currentData()
        self.proxy.set_track(track if isinstance(track, str) else None)
        self.proxy.set_status(status if isinstance(status, str) else None)
        self._update_count()

    def _update_count(self) -> None:
        shown = self.proxy.rowCount()
        overdue = sum(1 for r in self.proxy.visible_records() if r.overdue)
        self.count_label.setText(
            self.tr("{shown} of {total} record(s) shown · {overdue} overdue").format(
                shown=shown, total=self.model.rowCount(), overdue=overdue
            )
        )

    # Selection

    def selected_record(self) -> CompletionRecord | None:
        """The record of the selected row, if any."""
        index = self.table.currentIndex()
        if not index.isValid() or not self.table.selectionModel().isSelected(index):
            return None
        value = index.data(ROW_ROLE)
        return value if isinstance(value, CompletionRecord) else None

    def select(self, trainee_uid: str, track_id: str) -> bool:
        """Select the row of this trainee and track (when the filters show it)."""
        for row in range(self.proxy.rowCount()):
            index = self.proxy.index(row, 0)
            record = index.data(ROW_ROLE)
            if (
                isinstance(record, CompletionRecord)
                and record.trainee_uid == trainee_uid
                and record.track_id == track_id
            ):
                self.table.selectRow(row)
                self.table.setCurrentIndex(index)
                self.table.scrollTo(index)
                return True
        return False

    def _selection_changed(
        self, _selected: QItemSelection | None = None, _deselected: QItemSelection | None = None
    ) -> None:
        self._update_actions()
        record = self.selected_record()
        session = self._session()
        profile = self._profiles.get(record.trainee_uid) if record is not None else None
        if record is None or profile is None or session is None:
            self.events_heading.setText(self.tr("Audit events (select a row)"))
            self.events_model.set_events([])
            return
        self.events_heading.setText(
            self.tr("Audit events of {name}").format(name=record.trainee_name)
        )
        events = self._errors.attempt(
            self,
            self.tr("read the audit events"),
            lambda: self._manager.events(session, profile),
        )
        titles = {track.id: track.title for track in self._library.tracks.values()}
        self.events_model.set_events(events or [], titles)
        self.events_table.resizeColumnsToContents()

    def _update_actions(self) -> None:
        chosen = self.selected_record() is not None
        for button in (self.waive_button, self.reset_button, self.correct_button):
            button.setEnabled(chosen)

    # Record actions

    def _target(self) -> tuple[ManagerSession, CompletionRecord, Profile] | None:
        session = self._session()
        record = self.selected_record()
        if session is None or record is None:
            return None
        profile = self._profiles.get(record.trainee_uid)
        if profile is None:
            return None
        return session, record, profile

    def waive_selected(self) -> ReasonDialog | None:
        """Ask why, then mark the selected trainee's track waived."""
        target = self._target()
        if target is None:
            return None
        session, record, profile = target
        dialog = ReasonDialog(
            self.tr("Waive a track"),
            self.tr("Mark “{track}” waived for {name}. It then counts as done.").format(
                track=record.track_title, name=record.trainee_name
            ),
            session.actor,
            parent=self,
        )
        dialog.set_apply(
            lambda: self._manager.waive(session, profile, record.track_id, dialog.reason())
        )
        return self._open(dialog, record)

    def reset_selected(self) -> ReasonDialog | None:
        """Ask why, then count the selected trainee's track afresh from now on."""
        target = self._target()
        if target is None:
            return None
        session, record, profile = target
        dialog = ReasonDialog(
            self.tr("Reset a track"),
            self.tr(
                "Count “{track}” afresh for {name} from now on. Earlier answers stay stored."
            ).format(track=record.track_title, name=record.trainee_name),
            session.actor,
            parent=self,
        )
        dialog.set_apply(
            lambda: self._manager.reset(session, profile, record.track_id, dialog.reason())
        )
        return self._open(dialog, record)

    def correct_selected(self) -> ReasonDialog | None:
        """Choose one of the trainee's answers in the track, ask why, then void it."""
        target = self._target()
        if target is None:
            return None
        session, record, profile = target
        history = self._errors.attempt(
            self, self.tr("read the answers"), lambda: self._training.history(profile)
        )
        if history is None:
            return None
        track = self._library.tracks.get(record.track_id)
        in_track = set(track.scenario_ids) if track is not None else set()
        voided = history.voided_attempts
        rows = [
            AnswerRow(
                answer,
                self._library.scenarios[answer.scenario_id].title
                if answer.scenario_id in self._library.scenarios
                else answer.scenario_id,
                answer.attempt_id in voided,
            )
            for answer in reversed(history.answers)
            if answer.scenario_id in in_track
        ]
        answers = AnswerListModel(rows)
        dialog = ReasonDialog(
            self.tr("Correct an answer"),
            self.tr(
                "Void one of {name}'s answers in “{track}”: it stays stored but no longer counts."
            ).format(name=record.trainee_name, track=record.track_title),
            session.actor,
            answers=answers,
            parent=self,
        )

        def apply() -> object:
            attempt = dialog.chosen_answer()
            if attempt is None:
                raise ValueError(self.tr("Choose the answer to void."))
            return self._manager.correct(session, profile, attempt, dialog.reason())

        dialog.set_apply(apply)
        return self._open(dialog, record)

    def _open(self, dialog: ReasonDialog, record: CompletionRecord) -> ReasonDialog:
        def done() -> None:
            self.dialog = None
            self.refresh()
            self.select(record.trainee_uid, record.track_id)
            self.records_changed.emit()

        dialog.accepted.connect(done)
        self.dialog = dialog
        dialog.open()
        return dialog

    def focus_table(self) -> None:
        """Put the keyboard focus in the table, on the first row."""
        if self.proxy.rowCount() and not self.table.currentIndex().isValid():
            self.table.setCurrentIndex(self.proxy.index(0, 0))
        self.table.setFocus()

    def current_index(self) -> QModelIndex:
        """The table's current index (for tests)."""
        return self.table.currentIndex()

"""The manager's cohorts: create, rename, members, assigned tracks with due dates, archive,
and "Start the next group" (archive a cohort and the room's profiles in one action).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListView,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.model import ContentLibrary
from app.services.manager import Cohort, ManagerService, ManagerSession, NextGroup
from app.ui.manager_dialogs import (
    ApplyDialog,
    AssignTrackDialog,
    CohortDialog,
    ManagerErrors,
    MembersDialog,
    confirm,
    confirm_with_option,
)
from app.ui.manager_models import CohortListModel, CohortTrackListModel, ProfileChoiceModel
from app.ui.models import ID_ROLE, ROW_ROLE, ProfileListModel
from app.ui.style import set_text_role

SessionSource = Callable[[], ManagerSession | None]
D = TypeVar("D", bound=ApplyDialog)


class CohortsView(QWidget):
    """Cohorts on the left; the chosen cohort's members and tracks on the right.

    Signals:
        cohorts_changed(): a cohort was created, renamed, changed or archived.
        next_group_started(object): "Start the next group" ran; carries the ``NextGroup``.
    """

    cohorts_changed = Signal()
    next_group_started = Signal(object)

    def __init__(
        self,
        manager: ManagerService,
        library: ContentLibrary,
        session: SessionSource,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._manager = manager
        self._library = library
        self._session = session
        self._errors = ManagerErrors(self)
        self.dialog: ApplyDialog | None = None

        self.cohort_model = CohortListModel(parent=self)
        self.member_model = ProfileListModel(parent=self)
        self.track_model = CohortTrackListModel(parent=self)

        grid = QGridLayout(self)
        grid.setContentsMargins(0, 8, 0, 0)
        grid.setHorizontalSpacing(16)

        left = QVBoxLayout()
        cohorts_label = QLabel(self.tr("C&ohorts"))
        set_text_role(cohorts_label, "subheading")
        self.cohort_list = QListView()
        self.cohort_list.setModel(self.cohort_model)
        self.cohort_list.setAccessibleName(self.tr("Cohorts"))
        self.cohort_list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.cohort_list.selectionModel().currentChanged.connect(self._show_cohort)
        cohorts_label.setBuddy(self.cohort_list)
        self.archived_box = QCheckBox(self.tr("Include archive&d cohorts"))
        self.archived_box.setAccessibleName(self.tr("Include archived cohorts"))
        self.archived_box.toggled.connect(self.refresh)
        left.addWidget(cohorts_label)
        left.addWidget(self.cohort_list, 1)
        left.addWidget(self.archived_box)
        cohort_buttons = QHBoxLayout()
        self.new_button = QPushButton(self.tr("&New cohort…"))
        self.rename_button = QPushButton(self.tr("&Rename…"))
        self.archive_button = QPushButton(self.tr("Archi&ve"))
        self.next_group_button = QPushButton(self.tr("Start the next gro&up…"))
        self.next_group_button.setToolTip(
            self.tr(
                "Archive this cohort and its members' profiles (or every profile on this "
                "machine) in one action; their records are kept and stay exportable."
            )
        )
        for button, name in (
            (self.new_button, self.tr("New cohort")),
            (self.rename_button, self.tr("Rename cohort")),
            (self.archive_button, self.tr("Archive cohort")),
            (self.next_group_button, self.tr("Start the next group")),
        ):
            button.setAccessibleName(name)
            cohort_buttons.addWidget(button)
        cohort_buttons.addStretch(1)
        left.addLayout(cohort_buttons)
        self.new_button.clicked.connect(self.new_cohort)
        self.rename_button.clicked.connect(self.rename_cohort)
        self.archive_button.clicked.connect(self.archive_cohort)
        self.next_group_button.clicked.connect(self.start_next_group)

        right = QVBoxLayout()
        self.detail_heading = QLabel()
        set_text_role(self.detail_heading, "subheading")
        right.addWidget(self.detail_heading)
        members_label = QLabel(self.tr("Mem&bers"))
        self.member_list = QListView()
        self.member_list.setModel(self.member_model)
        self.member_list.setAccessibleName(self.tr("Members"))
        self.member_list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        members_label.setBuddy(self.member_list)
        self.members_button = QPushButton(self.tr("Choose m&embers…"))
        self.members_button.setAccessibleName(self.tr("Choose members"))
        self.members_button.clicked.connect(self.choose_members)
        right.addWidget(members_label)
        right.addWidget(self.member_list, 1)
        right.addWidget(self.members_button)
        tracks_label = QLabel(self.tr("Assigned tr&acks"))
        self.track_list = QListView()
        self.track_list.setModel(self.track_model)
        self.track_list.setAccessibleName(self.tr("Assigned tracks"))
        self.track_list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        tracks_label.setBuddy(self.track_list)
        track_buttons = QHBoxLayout()
        self.assign_button = QPushButton(self.tr("A&ssign track…"))
        self.assign_button.setAccessibleName(self.tr("Assign track"))
        self.unassign_button = QPushButton(self.tr("Remove trac&k"))
        self.unassign_button.setAccessibleName(self.tr("Remove track"))
        self.assign_button.clicked.connect(self.assign_track)
        self.unassign_button.clicked.connect(self.unassign_track)
        track_buttons.addWidget(self.assign_button)
        track_buttons.addWidget(self.unassign_button)
        track_buttons.addStretch(1)
        right.addWidget(tracks_label)
        right.addWidget(self.track_list, 1)
        right.addLayout(track_buttons)

        grid.addLayout(left, 0, 0)
        grid.addLayout(right, 0, 1)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        self._show_cohort()

    # Data

    def refresh(self) -> None:
        """Read the cohorts again, keeping the one selected."""
        session = self._session()
        if session is None:
            self.clear()
            return
        current = self.selected_cohort()
        cohorts = self._errors.attempt(
            self,
            self.tr("read the cohorts"),
            lambda: self._manager.cohorts(session, include_archived=self.archived_box.isChecked()),
        )
        self.cohort_model.set_items(cohorts or [])
        if current is not None:
            self.select(current.name)
        elif self.cohort_model.rowCount():
            self.cohort_list.setCurrentIndex(self.cohort_model.index(0))
        self._show_cohort()

    def clear(self) -> None:
        """Forget every cohort shown (on locking)."""
        self.cohort_model.set_items([])
        self._show_cohort()

    def cohorts(self) -> list[Cohort]:
        """The cohorts listed."""
        return [c for c in self.cohort_model.items() if isinstance(c, Cohort)]

    def selected_cohort(self) -> Cohort | None:
        """The cohort selected, if any."""
        value = self.cohort_list.currentIndex().data(ROW_ROLE)
        return value if isinstance(value, Cohort) else None

    def select(self, name: str) -> bool:
        """Select a cohort by name."""
        for row in range(self.cohort_model.rowCount()):
            index = self.cohort_model.index(row)
            if index.data(ID_ROLE) == name:
                self.cohort_list.setCurrentIndex(index)
                return True
        return False

    def _show_cohort(self) -> None:
        cohort = self.selected_cohort()
        has = cohort is not None
        active = has and cohort is not None and cohort.archived_at is None
        for button in (
            self.rename_button,
            self.members_button,
            self.assign_button,
            self.unassign_button,
        ):
            button.setEnabled(active)
        self.archive_button.setEnabled(active)
        self.next_group_button.setEnabled(has)
        if cohort is None:
            self.detail_heading.setText(self.tr("No cohort selected"))
            self.member_model.set_items([])
            self.track_model.set_items([])
            return
        self.detail_heading.setText(cohort.name)
        self.member_model.set_items(cohort.members)
        self.track_model.set_items(cohort.tracks)

    def _changed(self, cohort: Cohort | None) -> None:
        self.dialog = None
        self.refresh()
        if cohort is not None:
            self.select(cohort.name)
        self.cohorts_changed.emit()

    # Actions

    def new_cohort(self) -> CohortDialog | None:
        """Ask for a name and an optional due date, then create the cohort."""
        session = self._session()
        if session is None:
            return None
        dialog = CohortDialog(self.tr("New cohort"), parent=self)
        created: list[Cohort] = []
        dialog.set_apply(
            lambda: created.append(
                self._manager.create_cohort(session, dialog.name(), dialog.due_at())
            )
        )
        dialog.accepted.connect(lambda: self._changed(created[-1] if created else None))
        return self._open(dialog)

    def rename_cohort(self) -> CohortDialog | None:
        """Ask for a new name for the selected cohort."""
        session, cohort = self._session(), self.selected_cohort()
        if session is None or cohort is None:
            return None
        dialog = CohortDialog(
            self.tr("Rename {cohort}").format(cohort=cohort.name),
            name=cohort.name,
            with_due=False,
            parent=self,
        )
        renamed: list[Cohort] = []
        dialog.set_apply(
            lambda: renamed.append(self._manager.rename_cohort(session, cohort.name, dialog.name()))
        )
        dialog.accepted.connect(lambda: self._changed(renamed[-1] if renamed else None))
        return self._open(dialog)

    def choose_members(self) -> MembersDialog | None:
        """Tick the trainees of the selected cohort; adds and removes the difference."""
        session, cohort = self._session(), self.selected_cohort()
        if session is None or cohort is None:
            return None
        profiles = self._errors.attempt(
            self, self.tr("read the profiles"), lambda: self._manager.profiles(session)
        )
        if profiles is None:
            return None
        model = ProfileChoiceModel()
        model.set_profiles(profiles, [p.id for p in cohort.members])
        dialog = MembersDialog(cohort.name, model, parent=self)
        before = {p.id for p in cohort.members}

        def apply() -> None:
            chosen = model.checked_profiles()
            chosen_ids = {p.id for p in chosen}
            added = [p for p in chosen if p.id not in before]
            removed = [p for p in cohort.members if p.id not in chosen_ids]
            if added:
                self._manager.add_members(session, cohort.name, added)
            if removed:
                self._manager.remove_members(session, cohort.name, removed)

        dialog.set_apply(apply)
        dialog.accepted.connect(lambda: self._changed(cohort))
        return self._open(dialog)

    def assign_track(self) -> AssignTrackDialog | None:
        """Choose a track and a due date for the selected cohort."""
        session, cohort = self._session(), self.selected_cohort()
        if session is None or cohort is None:
            return None
        tracks = [(t.id, t.title) for t in self._library.tracks.values()]
        dialog = AssignTrackDialog(cohort.name, tracks, cohort.due_at, parent=self)
        dialog.set_apply(
            lambda: self._manager.assign_track(
                session, cohort.name, dialog.track_id(), dialog.due_at()
            )
        )
        dialog.accepted.connect(lambda: self._changed(cohort))
        return self._open(dialog)

    def unassign_track(self) -> bool:
        """Take the selected track off the selected cohort."""
        session, cohort = self._session(), self.selected_cohort()
        track_id = self.track_list.currentIndex().data(ID_ROLE)
        if session is None or cohort is None or not isinstance(track_id, str):
            return False
        done = self._errors.attempt(
            self,
            self.tr("remove the track"),
            lambda: self._manager.unassign_track(session, cohort.name, track_id),
        )
        if done is not None:
            self._changed(cohort)
        return done is not None

    def archive_cohort(self) -> bool:
        """Archive the selected cohort after asking; its records stay exportable."""
        session, cohort = self._session(), self.selected_cohort()
        if session is None or cohort is None:
            return False
        if not confirm(
            self,
            self.tr("Archive the cohort “{cohort}”?").format(cohort=cohort.name),
            self.tr(
                "Its trainees no longer see its assignments. Its records are kept and stay "
                "exportable."
            ),
        ):
            return False
        done = self._errors.attempt(
            self,
            self.tr("archive the cohort"),
            lambda: self._manager.archive_cohort(session, cohort.name),
        )
        if done is not None:
            self._changed(None)
        return done is not None

    def start_next_group(self) -> NextGroup | None:
        """Archive the selected cohort and its members' profiles after one confirmation.

        The question has a check box to archive every active profile on this machine
        instead of only the members (a training room between groups).
        """
        session, cohort = self._session(), self.selected_cohort()
        if session is None or cohort is None:
            return None
        answer, every = confirm_with_option(
            self,
            self.tr(
                "Start the next group: archive “{cohort}” and its {count} member profile(s)?"
            ).format(cohort=cohort.name, count=len(cohort.members)),
            self.tr(
                "Nothing is deleted: the cohort's progress and the profiles stay in the "
                "records and exports, but are no longer offered in the app."
            ),
            yes=self.tr("Start the next group"),
            option=self.tr(
                "Also archive every other active profile on this machine (a training room)"
            ),
        )
        if not answer:
            return None
        result = self._errors.attempt(
            self,
            self.tr("start the next group"),
            lambda: self._manager.start_next_group(session, cohort.name, all_profiles=every),
        )
        if result is None:
            return None
        self._changed(None)
        self.next_group_started.emit(result)
        return result

    def _open(self, dialog: D) -> D:
        self.dialog = dialog
        dialog.rejected.connect(lambda: setattr(self, "dialog", None))
        dialog.open()
        return dialog

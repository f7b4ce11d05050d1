"""Setting up a facilitated room session: what the room plays and who attends.

The facilitator picks a track or a list of scenarios, ticks the attendees among the
profiles or types the names of new ones, and starts. Sessions already running on this
database can be resumed (after a restart, say). The attendee's side, voting from one's
own app, sits next to it (``app.ui.room_join``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.core.records import Profile
from app.ui.notices import call_service
from app.ui.room_join import JoinRoomPanel
from app.ui.room_presentation import TALLY_POLL_MS
from app.ui.style import set_text_role
from app.ui.widgets import card

if TYPE_CHECKING:
    from app.services.room import RoomService, RoomSession
    from app.services.training import TrainingService

ID_ROLE = Qt.ItemDataRole.UserRole
# A name typed for a new attendee (no profile yet) is kept under this role.
NEW_NAME_ROLE = Qt.ItemDataRole.UserRole + 1


class RoomSetupView(QWidget):
    """Choose the content and the attendees, then start; or resume a running session.

    Signals:
        session_started(object): a new session (``RoomSession``) was started.
        resume_requested(object): the facilitator wants to run this ``RoomSession`` again.
    """

    session_started = Signal(object)
    resume_requested = Signal(object)

    def __init__(
        self,
        room: RoomService,
        training: TrainingService,
        *,
        poll_ms: int = TALLY_POLL_MS,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._room = room
        self._training = training
        self._running: list[RoomSession] = []
        self._profiles: dict[int, Profile] = {}
        root = QVBoxLayout(self)
        root.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        # Tab goes to the controls inside, and the area follows the focus.
        scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        inner = QWidget()
        inner.setObjectName("conversation")
        layout = QVBoxLayout(inner)
        layout.setContentsMargins(20, 14, 20, 14)
        layout.setSpacing(12)
        title = QLabel(self.tr("Facilitated room session"))
        set_text_role(title, "title")
        intro = QLabel(
            self.tr(
                "Run a session on a projector: the room discusses one step at a time, votes, "
                "and sees what its choice leads to. Every attendee gets an attended-session "
                "record at the end."
            )
        )
        intro.setWordWrap(True)
        set_text_role(intro, "caption")
        layout.addWidget(title)
        layout.addWidget(intro)
        columns = QHBoxLayout()
        columns.setSpacing(16)
        columns.addWidget(self._build_run_card(), 3)
        self.join_panel = JoinRoomPanel(room, poll_ms=poll_ms)
        columns.addWidget(self.join_panel, 2, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(columns)
        layout.addStretch(1)
        scroll.setWidget(inner)
        root.addWidget(scroll)
        self._fill_content()

    def _build_run_card(self) -> QWidget:
        frame, layout = card(self.tr("Run a session"))
        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(6)
        self.facilitator_edit = QLineEdit()
        self.facilitator_edit.setAccessibleName(self.tr("Facilitator"))
        self.facilitator_edit.setPlaceholderText(self.tr("Your name, as the records show it"))
        facilitator_label = QLabel(self.tr("&Facilitator"))
        facilitator_label.setBuddy(self.facilitator_edit)
        grid.addWidget(facilitator_label, 0, 0)
        grid.addWidget(self.facilitator_edit, 0, 1)

        self.track_radio = QRadioButton(self.tr("A &track"))
        self.track_radio.setAccessibleName(self.tr("Play a track"))
        self.track_box = QComboBox()
        self.track_box.setAccessibleName(self.tr("Track"))
        self.scenarios_radio = QRadioButton(self.tr("&Chosen scenarios"))
        self.scenarios_radio.setAccessibleName(self.tr("Play chosen scenarios"))
        self.scenario_list = QListWidget()
        self.scenario_list.setAccessibleName(self.tr("Scenarios"))
        self.scenario_list.setMinimumHeight(120)
        self.source_group = QButtonGroup(self)
        self.source_group.addButton(self.track_radio)
        self.source_group.addButton(self.scenarios_radio)
        self.track_radio.setChecked(True)
        self.track_radio.toggled.connect(self._source_changed)
        # Choosing in a list also chooses that source.
        self.track_box.activated.connect(lambda _index: self.track_radio.setChecked(True))
        self.scenario_list.itemChanged.connect(self._scenario_ticked)
        grid.addWidget(self.track_radio, 1, 0)
        grid.addWidget(self.track_box, 1, 1)
        grid.addWidget(self.scenarios_radio, 2, 0, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.scenario_list, 2, 1)

        self.attendee_list = QListWidget()
        self.attendee_list.setAccessibleName(self.tr("Attendees"))
        self.attendee_list.setMinimumHeight(120)
        attendee_label = QLabel(self.tr("Atte&ndees"))
        attendee_label.setBuddy(self.attendee_list)
        grid.addWidget(attendee_label, 3, 0, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.attendee_list, 3, 1)
        self.new_name_edit = QLineEdit()
        self.new_name_edit.setAccessibleName(self.tr("New attendee's name"))
        self.new_name_edit.setPlaceholderText(self.tr("A name not in the list"))
        self.new_name_edit.returnPressed.connect(self.add_new_name)
        self.add_button = QPushButton(self.tr("&Add"))
        self.add_button.setAccessibleName(self.tr("Add the new attendee"))
        self.add_button.clicked.connect(self.add_new_name)
        new_label = QLabel(self.tr("Ne&w attendee"))
        new_label.setBuddy(self.new_name_edit)
        new_row = QHBoxLayout()
        new_row.addWidget(self.new_name_edit, 1)
        new_row.addWidget(self.add_button)
        grid.addWidget(new_label, 4, 0)
        grid.addLayout(new_row, 4, 1)
        grid.setColumnStretch(1, 1)
        layout.addLayout(grid)

        self.error_label = QLabel()
        self.error_label.setObjectName("errorText")
        self.error_label.setWordWrap(True)
        self.error_label.setAccessibleName(self.tr("Problem"))
        layout.addWidget(self.error_label)
        self.start_button = QPushButton(self.tr("&Start session"))
        self.start_button.setObjectName("primary")
        self.start_button.setAccessibleName(self.tr("Start session"))
        self.start_button.clicked.connect(self.start)
        layout.addWidget(self.start_button, 0, Qt.AlignmentFlag.AlignLeft)

        running_label = QLabel(self.tr("Sessions &running on this database"))
        self.running_list = QListWidget()
        self.running_list.setAccessibleName(self.tr("Sessions running on this database"))
        self.running_list.setMaximumHeight(110)
        running_label.setBuddy(self.running_list)
        self.resume_button = QPushButton(self.tr("Res&ume"))
        self.resume_button.setAccessibleName(self.tr("Resume the session"))
        self.resume_button.clicked.connect(self.resume)
        layout.addWidget(running_label)
        layout.addWidget(self.running_list)
        layout.addWidget(self.resume_button, 0, Qt.AlignmentFlag.AlignLeft)
        return frame

    def _fill_content(self) -> None:
        library = self._room.library
        for track in library.tracks.values():
            if any(s in library.scenarios for s in track.scenario_ids):
                self.track_box.addItem(track.title, track.id)
        scenarios = sorted(library.scenarios.values(), key=lambda s: s.title.casefold())
        for scenario in scenarios:
            item = QListWidgetItem(scenario.title)
            item.setData(ID_ROLE, scenario.id)
            item.setToolTip(scenario.summary)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.scenario_list.addItem(item)
        if self.track_box.count() == 0:
            self.scenarios_radio.setChecked(True)
        self._source_changed()

    def _scenario_ticked(self, item: QListWidgetItem) -> None:
        if item.checkState() is Qt.CheckState.Checked:
            self.scenarios_radio.setChecked(True)

    def _source_changed(self, *_: object) -> None:
        self.track_box.setEnabled(self.track_radio.isChecked())

    # State

    def set_profile(self, profile: Profile | None) -> None:
        """The trainee using this app: they vote as themselves and are the default facilitator."""
        self.join_panel.set_profile(profile)
        if profile is not None and not self.facilitator_edit.text().strip():
            self.facilitator_edit.setText(profile.display_name)

    def refresh(self) -> None:
        """Re-read the profiles (ticks are kept) and the running sessions."""
        profiles = call_service(self, self.tr("read the profiles"), self._training.list_profiles)
        if profiles is not None:
            self._fill_attendees(profiles)
        running = call_service(self, self.tr("read the sessions"), self._room.active_sessions)
        if running is not None:
            self._running = running
            self.running_list.clear()
            for session in running:
                what = session.track_title or self.tr("{count} scenario(s)").format(
                    count=len(session.scenario_ids)
                )
                self.running_list.addItem(
                    self.tr("{what}, run by {name}, {count} attendee(s)").format(
                        what=what, name=session.facilitator, count=len(session.attendees)
                    )
                )
            if running:
                self.running_list.setCurrentRow(0)
        self.resume_button.setEnabled(bool(self._running))
        self.join_panel.refresh()

    def _fill_attendees(self, profiles: list[Profile]) -> None:
        ticked = {p.id for p in self.selected_attendees()}
        new_names = self.new_names()
        self.attendee_list.clear()
        for profile in profiles:
            item = QListWidgetItem(profile.display_name)
            item.setData(ID_ROLE, profile.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            checked = profile.id in ticked
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
            self.attendee_list.addItem(item)
        self._profiles = {p.id: p for p in profiles}
        for name in new_names:
            self._add_name_item(name)

    def selected_attendees(self) -> list[Profile]:
        """The profiles ticked in the attendee list."""
        profiles = self._profiles
        chosen = []
        for row in range(self.attendee_list.count()):
            item = self.attendee_list.item(row)
            profile_id = item.data(ID_ROLE)
            if item.checkState() is Qt.CheckState.Checked and profile_id in profiles:
                chosen.append(profiles[profile_id])
        return chosen

    def new_names(self) -> list[str]:
        """The names typed for new attendees and still ticked."""
        return [
            str(item.data(NEW_NAME_ROLE))
            for item in (self.attendee_list.item(r) for r in range(self.attendee_list.count()))
            if item.data(NEW_NAME_ROLE) and item.checkState() is Qt.CheckState.Checked
        ]

    def selected_scenarios(self) -> list[str]:
        """The scenario ids ticked, in list order."""
        return [
            str(item.data(ID_ROLE))
            for item in (self.scenario_list.item(r) for r in range(self.scenario_list.count()))
            if item.checkState() is Qt.CheckState.Checked
        ]

    def add_new_name(self) -> None:
        """Put the typed name in the attendee list, ticked."""
        name = self.new_name_edit.text().strip()
        if not name:
            return
        for row in range(self.attendee_list.count()):
            item = self.attendee_list.item(row)
            if item.text().casefold() == name.casefold():
                item.setCheckState(Qt.CheckState.Checked)
                self.new_name_edit.clear()
                return
        self._add_name_item(name)
        self.new_name_edit.clear()

    def _add_name_item(self, name: str) -> None:
        item = QListWidgetItem(self.tr("{name} (new)").format(name=name))
        item.setData(NEW_NAME_ROLE, name)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked)
        self.attendee_list.addItem(item)

    def clear_selection(self) -> None:
        """Forget the attendees, the new names and the chosen content (for the next group)."""
        for row in reversed(range(self.attendee_list.count())):
            item = self.attendee_list.item(row)
            if item.data(NEW_NAME_ROLE):
                self.attendee_list.takeItem(row)
            else:
                item.setCheckState(Qt.CheckState.Unchecked)
        for row in range(self.scenario_list.count()):
            self.scenario_list.item(row).setCheckState(Qt.CheckState.Unchecked)
        self.new_name_edit.clear()
        self.error_label.clear()
        if self.track_box.count():
            self.track_box.setCurrentIndex(0)
            self.track_radio.setChecked(True)

    # Actions

    def start(self) -> RoomSession | None:
        """Start a session with what is chosen; a problem is shown above the button."""
        self.error_label.clear()
        track_id = self.track_box.currentData() if self.track_radio.isChecked() else None
        scenario_ids = [] if self.track_radio.isChecked() else self.selected_scenarios()
        attendees, names = self.selected_attendees(), self.new_names()
        facilitator = self.facilitator_edit.text()
        try:
            session = call_service(
                self,
                self.tr("start the session"),
                lambda: self._room.start_session(
                    facilitator,
                    track_id=track_id,
                    scenario_ids=scenario_ids,
                    attendees=attendees,
                    new_attendees=names,
                ),
            )
        except ValueError as error:
            self.error_label.setText(str(error))
            return None
        if session is not None:
            self.session_started.emit(session)
        return session

    def resume(self) -> None:
        """Run the session chosen in the running list again."""
        row = self.running_list.currentRow()
        if 0 <= row < len(self._running):
            self.resume_requested.emit(self._running[row])

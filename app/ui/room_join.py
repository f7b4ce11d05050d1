"""The attendee's side of a room session: vote on the current step from your own app.

Shown on the Room page of any trainee's app. With a shared (team) database it lists the
sessions running anywhere on it; the trainee picks one and votes Accept, Revise or Reject
on the step the room is on. The vote lands in the facilitator's live tally within a few
seconds. A vote can be changed until the facilitator reveals the step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.model import Decision
from app.core.records import Profile
from app.ui.notices import SERVICE_ERRORS, call_service
from app.ui.room_presentation import TALLY_POLL_MS
from app.ui.style import set_text_role

if TYPE_CHECKING:
    from app.services.room import RoomService, RoomSession

SESSION_ROLE = Qt.ItemDataRole.UserRole


class JoinRoomPanel(QFrame):
    """Lists the running sessions and casts the trainee's vote on the current step.

    Signals:
        vote_cast(str): the trainee's vote (a ``Decision`` value) was recorded.
    """

    vote_cast = Signal(str)

    def __init__(
        self, room: RoomService, *, poll_ms: int = TALLY_POLL_MS, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._room = room
        self._profile: Profile | None = None
        self._sessions: dict[str, RoomSession] = {}
        self.setObjectName("card")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 16)
        layout.setSpacing(8)
        heading = QLabel(self.tr("Join a room vote"))
        set_text_role(heading, "heading")
        layout.addWidget(heading)
        self.intro = QLabel()
        self.intro.setWordWrap(True)
        set_text_role(self.intro, "caption")
        layout.addWidget(self.intro)
        list_label = QLabel(self.tr("&Open sessions"))
        self.session_list = QListWidget()
        self.session_list.setAccessibleName(self.tr("Open sessions"))
        self.session_list.setMinimumHeight(90)
        self.session_list.setMaximumHeight(170)
        self.session_list.currentItemChanged.connect(self._selection_changed)
        list_label.setBuddy(self.session_list)
        layout.addWidget(list_label)
        layout.addWidget(self.session_list)
        self.step_label = QLabel()
        self.step_label.setWordWrap(True)
        self.step_label.setAccessibleName(self.tr("Step being voted on"))
        layout.addWidget(self.step_label)
        buttons = QHBoxLayout()
        texts = {
            Decision.ACCEPT: (self.tr("Vote acce&pt"), self.tr("Vote accept")),
            Decision.REVISE: (self.tr("Vote re&vise"), self.tr("Vote revise")),
            Decision.REJECT: (self.tr("Vote re&ject"), self.tr("Vote reject")),
        }
        self._texts = texts
        self._names = {
            Decision.ACCEPT: self.tr("Accept"),
            Decision.REVISE: self.tr("Revise"),
            Decision.REJECT: self.tr("Reject"),
        }
        self.vote_buttons: dict[Decision, QPushButton] = {}
        for decision in Decision:
            button = QPushButton(texts[decision][0])
            button.setAccessibleName(texts[decision][1])
            button.clicked.connect(lambda _checked=False, d=decision: self.vote(d))
            buttons.addWidget(button)
            self.vote_buttons[decision] = button
        layout.addLayout(buttons)
        self.vote_label = QLabel()
        self.vote_label.setWordWrap(True)
        self.vote_label.setAccessibleName(self.tr("Your vote"))
        layout.addWidget(self.vote_label)
        self.refresh_button = QPushButton(self.tr("Refres&h"))
        self.refresh_button.setAccessibleName(self.tr("Refresh the open sessions"))
        self.refresh_button.clicked.connect(self.refresh)
        layout.addWidget(self.refresh_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addStretch(1)
        self.poll_timer = QTimer(self)
        self.poll_timer.setInterval(poll_ms)
        self.poll_timer.timeout.connect(self.refresh)
        self.set_profile(None)

    def set_profile(self, profile: Profile | None) -> None:
        """Vote as this trainee."""
        self._profile = profile
        if profile is None:
            self.intro.setText(self.tr("Choose a trainee profile to vote in a room session."))
        else:
            self.intro.setText(
                self.tr(
                    "In a facilitated session, vote on the step shown in the room as {name}."
                ).format(name=profile.display_name)
            )
        self._update_step()

    def selected_session(self) -> RoomSession | None:
        """The session picked in the list."""
        item = self.session_list.currentItem()
        if item is None:
            return None
        return self._sessions.get(str(item.data(SESSION_ROLE)))

    def refresh(self) -> None:
        """Re-read the running sessions and the step each is on."""
        try:
            sessions = self._room.active_sessions()
        except SERVICE_ERRORS as error:
            self.vote_label.setText(
                self.tr("The sessions could not be read: {error}").format(error=error)
            )
            return
        chosen = self.selected_session()
        chosen_id = chosen.session_id if chosen is not None else None
        self._sessions = {s.session_id: s for s in sessions}
        self.session_list.blockSignals(True)
        self.session_list.clear()
        for session in sessions:
            item = QListWidgetItem(self._session_text(session))
            item.setData(SESSION_ROLE, session.session_id)
            self.session_list.addItem(item)
            if session.session_id == chosen_id:
                self.session_list.setCurrentItem(item)
        if self.session_list.currentItem() is None and self.session_list.count() == 1:
            self.session_list.setCurrentRow(0)
        self.session_list.blockSignals(False)
        self._update_step()

    def _session_text(self, session: RoomSession) -> str:
        what = session.track_title or self.tr("{count} scenario(s)").format(
            count=len(session.scenario_ids)
        )
        started = session.started_at.astimezone().strftime("%H:%M")
        return self.tr("{what}, run by {name} (started {time})").format(
            what=what, name=session.facilitator, time=started
        )

    def _selection_changed(self, *_: object) -> None:
        self._update_step()

    def _update_step(self) -> None:
        session = self.selected_session()
        can_vote = session is not None and self._profile is not None
        if session is None:
            self.step_label.setText(
                self.tr("No session is open on this database.")
                if not self._sessions
                else self.tr("Pick a session to vote in.")
            )
            mine = None
        else:
            scenario = self._room.library.scenarios.get(session.scenario_id)
            title = scenario.title if scenario is not None else session.scenario_id
            steps = len(scenario.steps) if scenario is not None else 1
            self.step_label.setText(
                self.tr("Now: {title}, step {step} of {steps}").format(
                    title=title, step=session.step_index + 1, steps=steps
                )
            )
            if session.current_revealed:
                can_vote = False
            mine = None
            profile = self._profile
            if profile is not None:
                mine = call_service(
                    self,
                    self.tr("read your vote"),
                    lambda: self._room.vote_of(session.session_id, profile),
                )
        for decision, button in self.vote_buttons.items():
            button.setEnabled(can_vote)
            label = self._texts[decision][0]
            button.setText(f"✔ {label}" if decision is mine else label)
        if session is not None and session.current_revealed:
            self.vote_label.setText(self.tr("Voting on this step has closed: it was revealed."))
        elif mine is not None:
            self.vote_label.setText(
                self.tr("Your vote: {decision}. You can change it until the reveal.").format(
                    decision=self._names[mine]
                )
            )
        else:
            self.vote_label.setText(self.tr("You have not voted on this step."))

    def vote(self, decision: Decision) -> None:
        """Cast the trainee's vote on the step they see."""
        session, profile = self.selected_session(), self._profile
        if session is None or profile is None:
            return
        scenario = self._room.library.scenarios.get(session.scenario_id)
        step_id = scenario.steps[session.step_index].id if scenario is not None else None
        try:
            done = call_service(
                self,
                self.tr("record your vote"),
                lambda: self._room.cast_vote(
                    session.session_id,
                    profile,
                    decision,
                    scenario_id=session.scenario_id,
                    step_id=step_id,
                ),
            )
        except ValueError as error:
            self.refresh()
            self.vote_label.setText(str(error))
            return
        if done is not None:
            self.vote_cast.emit(decision.value)
        self.refresh()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.refresh()
        self.poll_timer.start()

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802
        super().hideEvent(event)
        self.poll_timer.stop()

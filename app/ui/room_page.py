"""The Room page: set up a facilitated session, present it, then its summary.

Three views in a stack: set-up (with the attendee's "Join a room vote" panel beside it),
the presentation, and the summary. "Reset room" takes the room back to set-up with the
session closed and the attendee selection cleared; past sessions and their records stay.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QStackedWidget, QVBoxLayout, QWidget

from app.core.records import Profile
from app.ui.markdown_view import UrlOpener, open_in_browser
from app.ui.notices import call_service
from app.ui.room_presentation import TALLY_POLL_MS, PresentationView
from app.ui.room_setup import RoomSetupView
from app.ui.room_summary import PathAsker, RoomSummaryView, ask_pdf_path

if TYPE_CHECKING:
    from app.services.room import RoomService, RoomSession, SessionSummary
    from app.services.training import TrainingService


class RoomPage(QWidget):
    """A facilitated room session from set-up to summary."""

    def __init__(
        self,
        room: RoomService,
        training: TrainingService,
        *,
        open_url: UrlOpener = open_in_browser,
        poll_ms: int = TALLY_POLL_MS,
        ask_path: PathAsker = ask_pdf_path,
        clock: Callable[[], float] = time.monotonic,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.room = room
        self._session_id: str | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.stack = QStackedWidget()
        self.setup = RoomSetupView(room, training, poll_ms=poll_ms)
        self.presentation = PresentationView(room, open_url=open_url, poll_ms=poll_ms, clock=clock)
        self.summary = RoomSummaryView(ask_path=ask_path)
        for view in (self.setup, self.presentation, self.summary):
            self.stack.addWidget(view)
        layout.addWidget(self.stack)
        self.setup.session_started.connect(self.present)
        self.setup.resume_requested.connect(self.present)
        self.presentation.session_ended.connect(self.show_summary)
        self.summary.reset_requested.connect(self.reset_room)

    @property
    def session_id(self) -> str | None:
        """The session this room is running or has just run."""
        return self._session_id

    def set_profile(self, profile: Profile | None) -> None:
        """The trainee using this app (the attendee side votes as them)."""
        self.setup.set_profile(profile)

    def present(self, session: RoomSession) -> None:
        """Show ``session`` in the presentation view."""
        self._session_id = session.session_id
        self.presentation.show_session(session)
        self.stack.setCurrentWidget(self.presentation)
        self.presentation.timer_panel.toggle_button.setFocus(Qt.FocusReason.OtherFocusReason)

    def show_summary(self, summary: SessionSummary) -> None:
        """Show the summary of the session that just ended."""
        self._session_id = summary.session.session_id
        self.summary.show_summary(summary)
        self.stack.setCurrentWidget(self.summary)

    def reset_room(self) -> None:
        """Close the session (abandoned if it was not ended) and clear the attendees."""
        session_id = self._session_id
        self.presentation.stop()
        if session_id is not None:
            done = call_service(
                self, self.tr("reset the room"), lambda: self.room.reset_room(session_id)
            )
            if done is None:
                return
        self._session_id = None
        self.setup.clear_selection()
        self.stack.setCurrentWidget(self.setup)
        self.setup.refresh()
        self.setup.start_button.setFocus(Qt.FocusReason.OtherFocusReason)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self.stack.currentWidget() is self.setup:
            self.setup.refresh()

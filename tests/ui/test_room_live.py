"""The room on a shared database: votes from attendees' own apps reach the projector live.

"Another app" is a second service on its own connection to the same database file, as a
second machine on a team database would be.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt

from app.core.model import Decision
from app.core.room import VoteCounts
from app.services.room import RoomService
from app.storage.database import open_database
from app.ui.main_window import ROOM
from tests.ui.test_accessibility import unnamed_controls

FAST_POLL_MS = 50


@pytest.fixture
def other_app(context: Any) -> Iterator[RoomService]:
    """The room service of another machine on the same database."""
    database = open_database(
        context.config.effective_database_url(), backup_dir=context.config.backup_dir
    )
    try:
        yield RoomService(database, context.library, context.settings)
    finally:
        database.close()


def test_the_projected_tally_picks_up_votes_cast_from_other_apps(
    qtbot: Any, workspace: Any, context: Any, other_app: RoomService
) -> None:
    page = workspace.room_page
    presentation = page.presentation
    presentation.poll_timer.setInterval(FAST_POLL_MS)
    workspace.show_page(ROOM)
    session = page.room.start_session("Ada Example", track_id="starter")
    page.present(session)
    counts = presentation.votes_panel.counts
    assert counts[Decision.REJECT].text() == "0"

    bo = context.training.create_profile("Bo")
    cleo = context.training.create_profile("Cleo")
    other_app.cast_vote(session.session_id, bo, Decision.REJECT)
    other_app.cast_vote(session.session_id, cleo, Decision.REJECT)

    qtbot.waitUntil(lambda: counts[Decision.REJECT].text() == "2 ◀", timeout=5000)
    assert presentation.votes_panel.sources_label.text() == (
        "0 hands in the room, 2 from attendees' apps"
    )
    # Hands counted in the room add to the apps' votes.
    qtbot.mouseClick(
        presentation.votes_panel.steppers[Decision.ACCEPT][1], Qt.MouseButton.LeftButton
    )
    assert counts[Decision.ACCEPT].text() == "1"
    assert presentation.votes_panel.lead_label.text() == "Most votes: Reject (2 of 3)"

    # The reveal counts both.
    presentation.reveal()
    reveal = presentation.last_reveal
    assert reveal is not None
    assert reveal.tally.total == VoteCounts(accept=1, reject=2)
    assert presentation.verdict_label.text() == "✔ The room chose Reject: the right call"


def test_an_attendee_votes_from_their_own_app_until_the_reveal(
    qtbot: Any, workspace: Any, context: Any, other_app: RoomService
) -> None:
    facilitator = other_app
    session = facilitator.start_session("Fran", track_id="starter")
    panel = workspace.room_page.setup.join_panel
    panel.poll_timer.setInterval(FAST_POLL_MS)
    workspace.show_page(ROOM)
    qtbot.waitUntil(lambda: panel.session_list.count() == 1, timeout=5000)
    assert panel.selected_session() is not None
    assert panel.step_label.text() == "Now: The grant that grew, step 1 of 2"
    assert panel.vote_label.text() == "You have not voted on this step."
    assert unnamed_controls(workspace.window) == [], "join panel"

    qtbot.mouseClick(panel.vote_buttons[Decision.REJECT], Qt.MouseButton.LeftButton)

    assert facilitator.tally(session.session_id).apps == VoteCounts(reject=1)
    assert panel.vote_buttons[Decision.REJECT].text().startswith("✔ ")
    assert panel.vote_label.text() == "Your vote: Reject. You can change it until the reveal."
    # Voting joined Ada to the session, so she gets its record at the end.
    assert [p.display_name for p in facilitator.session(session.session_id).attendees] == [
        "Ada Example"
    ]

    # A second vote replaces the first.
    panel.vote_buttons[Decision.ACCEPT].setFocus()
    qtbot.keyClick(panel.vote_buttons[Decision.ACCEPT], Qt.Key.Key_Space)
    assert facilitator.tally(session.session_id).apps == VoteCounts(accept=1)

    facilitator.reveal(session.session_id)
    qtbot.waitUntil(lambda: not panel.vote_buttons[Decision.ACCEPT].isEnabled(), timeout=5000)
    assert panel.vote_label.text() == "Voting on this step has closed: it was revealed."

    facilitator.next_step(session.session_id)
    qtbot.waitUntil(
        lambda: panel.step_label.text() == "Now: The grant that grew, step 2 of 2", timeout=5000
    )
    assert panel.vote_buttons[Decision.REVISE].isEnabled()
    assert panel.vote_label.text() == "You have not voted on this step."

    facilitator.end_session(session.session_id)
    qtbot.waitUntil(lambda: panel.session_list.count() == 0, timeout=5000)
    assert panel.step_label.text() == "No session is open on this database."
    (record,) = facilitator.attended_sessions()
    assert (record.trainee_name, record.facilitator) == ("Ada Example", "Fran")

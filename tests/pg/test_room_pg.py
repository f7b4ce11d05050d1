"""A room session on a real PostgreSQL server: many attendees vote at once from their apps.

Each attendee's "app" is a service on its own connection pool, voting from its own
thread at the same moment, as a room of laptops on a team database would. Every vote
lands once, the tally counts each attendee once, and the attendance records chain
cleanly.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.model import Decision
from app.core.room import RoomStatus, VoteCounts
from app.services.manager import ManagerService
from app.services.room import RoomService
from app.services.settings import Settings
from app.services.training import TrainingService
from app.storage.database import Database, open_database
from tests.pg.workload import sample_library

pytestmark = pytest.mark.postgres

ATTENDEES = 12


@pytest.fixture
def databases(postgres_url: str) -> Iterator[list[Database]]:
    """The facilitator's connection and one per attendee's app."""
    opened = [open_database(postgres_url, backup_dir=None) for _ in range(ATTENDEES + 1)]
    try:
        yield opened
    finally:
        for database in opened:
            database.close()


def test_attendees_voting_at_once_are_each_counted_once(
    databases: list[Database], tmp_path: Path
) -> None:
    library = sample_library()
    settings = Settings.in_data_dir(tmp_path)
    facilitator_db, *attendee_dbs = databases
    room = RoomService(facilitator_db, library, settings)
    training = TrainingService(facilitator_db, library, settings)
    people = [training.create_profile(f"Attendee {n:02d}") for n in range(ATTENDEES)]
    session = room.start_session("Fran", scenario_ids=["cleanup-disk"])
    room.record_room_votes(session.session_id, VoteCounts(accept=1))

    start = threading.Barrier(ATTENDEES)
    errors: list[BaseException] = []

    def vote(database: Database, index: int) -> None:
        app = RoomService(database, library, settings)
        decision = Decision.ACCEPT if index % 4 == 0 else Decision.REJECT
        try:
            start.wait()
            app.cast_vote(session.session_id, people[index], Decision.REVISE)
            # A change of mind right away: the second vote replaces the first.
            app.cast_vote(session.session_id, people[index], decision)
        except BaseException as error:  # the assertion on ``errors`` reports it
            errors.append(error)

    threads = [threading.Thread(target=vote, args=(db, n)) for n, db in enumerate(attendee_dbs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    tally = room.tally(session.session_id)
    assert tally.apps == VoteCounts(accept=3, reject=9)
    assert tally.total == VoteCounts(accept=4, reject=9)
    assert len(room.session(session.session_id).attendees) == ATTENDEES

    reveal = room.reveal(session.session_id)
    assert (reveal.majority, reveal.right) == (Decision.REJECT, True)
    summary = room.end_session(session.session_id)
    assert summary.session.status is RoomStatus.ENDED
    assert len(summary.records) == ATTENDEES
    assert {r.room_result for r in summary.records} == {1.0}
    assert ManagerService(facilitator_db, library, settings).verify_records() is None

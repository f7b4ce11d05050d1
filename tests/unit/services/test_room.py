"""The facilitated room: sessions, votes from the room and from apps, reveal, records."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from ralph.models.xapi.base.statements import BaseXapiStatement

from app.core.model import ContentLibrary, Decision
from app.core.records import Profile
from app.core.room import VERB_ATTENDED, RoomStatus, VoteCounts
from app.services.exports import ExportFormat
from app.services.history import EventKind
from app.services.manager import ManagerService
from app.services.room import SESSION_CSV_COLUMNS, RoomService
from app.services.settings import Settings
from app.services.training import TrainingService
from app.storage.database import Database, open_database


@pytest.fixture
def room(database: Database, library: ContentLibrary, settings: Settings) -> RoomService:
    return RoomService(database, library, settings)


@pytest.fixture
def other_room(
    database_path: Path, tmp_path: Path, library: ContentLibrary, settings: Settings
) -> Iterator[RoomService]:
    """A second app instance on the same database file, as an attendee's machine."""
    database = open_database(f"sqlite:///{database_path}", backup_dir=tmp_path / "b2")
    try:
        yield RoomService(database, library, settings)
    finally:
        database.close()


@pytest.fixture
def people(training: TrainingService) -> dict[str, Profile]:
    return {name: training.create_profile(name) for name in ("Ada", "Bob", "Cleo")}


def test_a_track_session_covers_its_scenarios_with_picked_and_new_attendees(
    room: RoomService, training: TrainingService, people: dict[str, Profile]
) -> None:
    session = room.start_session(
        "Fran Facilitator",
        track_id="new-hire",
        attendees=[people["Ada"], people["Bob"]],
        new_attendees=["Dev Newcomer", "  ", "ada"],
    )

    assert session.scenario_ids == ("cleanup-disk", "terraform-plan")
    assert session.track_title == "New hire"
    assert session.status is RoomStatus.ACTIVE
    assert (session.scenario_index, session.step_index) == (0, 0)
    # "ada" is Ada's profile (names ignore case); "Dev Newcomer" is created.
    assert [p.display_name for p in session.attendees] == ["Ada", "Bob", "Dev Newcomer"]
    assert training.profile_named("Dev Newcomer") is not None
    assert room.active_sessions() == [session]


def test_a_session_needs_one_kind_of_content_and_a_facilitator(room: RoomService) -> None:
    with pytest.raises(ValueError, match="not both"):
        room.start_session("F", track_id="new-hire", scenario_ids=["cleanup-disk"])
    with pytest.raises(ValueError, match="no scenario 'nope'"):
        room.start_session("F", scenario_ids=["nope"])
    with pytest.raises(ValueError, match="at least one scenario"):
        room.start_session("F")
    with pytest.raises(ValueError, match="cannot be empty"):
        room.start_session("  ", scenario_ids=["cleanup-disk"])
    assert room.sessions() == []


def test_scenario_lists_keep_their_order_without_repeats(room: RoomService) -> None:
    session = room.start_session(
        "F", scenario_ids=["terraform-plan", "cleanup-disk", "terraform-plan"]
    )
    assert session.scenario_ids == ("terraform-plan", "cleanup-disk")
    assert session.track_id is None


def test_the_room_steps_through_every_step_of_every_scenario(room: RoomService) -> None:
    session = room.start_session("F", track_id="new-hire")
    seen = [room.current_step(session)[1].id]
    while not room.is_last_step(session):
        session = room.next_step(session.session_id)
        seen.append(room.current_step(session)[1].id)
    assert seen == ["delete", "plan", "review"]
    with pytest.raises(ValueError, match="last step"):
        room.next_step(session.session_id)

    session = room.previous_step(session.session_id)
    session = room.previous_step(session.session_id)
    assert (session.scenario_index, session.step_index) == (0, 0)
    with pytest.raises(ValueError, match="first step"):
        room.previous_step(session.session_id)


def test_the_tally_adds_the_facilitators_counts_to_votes_from_other_apps(
    room: RoomService, other_room: RoomService, people: dict[str, Profile]
) -> None:
    session = room.start_session("F", track_id="new-hire", attendees=[people["Ada"]])
    room.record_room_votes(session.session_id, VoteCounts(accept=2, revise=0, reject=3))

    other_room.cast_vote(session.session_id, people["Bob"], Decision.REJECT)
    other_room.cast_vote(session.session_id, people["Cleo"], Decision.ACCEPT)
    tally = room.tally(session.session_id)

    assert tally.room == VoteCounts(2, 0, 3)
    assert tally.apps == VoteCounts(1, 0, 1)
    assert tally.total == VoteCounts(3, 0, 4)
    assert tally.majority is Decision.REJECT
    # Voting from an app joins the session.
    names = [p.display_name for p in room.session(session.session_id).attendees]
    assert names == ["Ada", "Bob", "Cleo"]


def test_an_attendee_has_one_vote_per_step_and_can_change_it_until_the_reveal(
    room: RoomService, other_room: RoomService, people: dict[str, Profile]
) -> None:
    session = room.start_session("F", track_id="new-hire")
    ada = people["Ada"]
    other_room.cast_vote(session.session_id, ada, Decision.ACCEPT)
    other_room.cast_vote(session.session_id, ada, Decision.REJECT)

    assert room.tally(session.session_id).apps == VoteCounts(reject=1)
    assert other_room.vote_of(session.session_id, ada) is Decision.REJECT

    room.reveal(session.session_id)
    with pytest.raises(ValueError, match="closed"):
        other_room.cast_vote(session.session_id, ada, Decision.ACCEPT)
    with pytest.raises(ValueError, match="revealed"):
        room.record_room_votes(session.session_id, VoteCounts(accept=9))
    assert room.tally(session.session_id).total == VoteCounts(reject=1)

    moved = room.next_step(session.session_id)
    assert other_room.vote_of(moved.session_id, ada) is None
    with pytest.raises(ValueError, match="moved on"):
        other_room.cast_vote(
            session.session_id, ada, Decision.REJECT, scenario_id="cleanup-disk", step_id="delete"
        )


def test_reveal_tells_what_the_majority_and_the_other_choices_lead_to(
    room: RoomService,
) -> None:
    session = room.start_session("F", track_id="new-hire")
    room.record_room_votes(session.session_id, VoteCounts(accept=4, reject=1))

    reveal = room.reveal(session.session_id)

    assert reveal.majority is Decision.ACCEPT
    assert reveal.expected is Decision.REJECT
    assert reveal.right is False
    assert reveal.outcomes == {
        Decision.ACCEPT: "Everything is gone.",
        Decision.REJECT: "The data is safe.",
    }
    # cleanup-disk has one step: its debrief comes with this reveal.
    assert reveal.debrief == "The debrief."
    assert reveal.last_step_of_session is False
    assert room.session(session.session_id).current_revealed is True

    session = room.next_step(session.session_id)
    assert session.current_revealed is False
    room.record_room_votes(session.session_id, VoteCounts(revise=3, reject=1))
    reveal = room.reveal(session.session_id)
    assert (reveal.majority, reveal.right) == (Decision.REVISE, True)
    assert reveal.outcomes[Decision.REVISE] == "Only the bucket changes."
    assert reveal.safe_revision == "Apply with -target on the bucket only."
    # The plan step is not terraform-plan's last: no debrief yet.
    assert reveal.debrief is None


def test_a_tie_or_no_votes_is_no_majority(room: RoomService) -> None:
    session = room.start_session("F", scenario_ids=["cleanup-disk"])
    empty = room.reveal(session.session_id)
    assert (empty.majority, empty.leaders, empty.right) == (None, (), None)
    assert empty.last_step_of_session is True

    tied = room.start_session("F", scenario_ids=["cleanup-disk"])
    room.record_room_votes(tied.session_id, VoteCounts(accept=2, reject=2))
    reveal = room.reveal(tied.session_id)
    assert reveal.majority is None
    assert reveal.leaders == (Decision.ACCEPT, Decision.REJECT)
    assert reveal.right is False


def test_notes_are_kept_per_step(room: RoomService) -> None:
    session = room.start_session("F", track_id="new-hire")
    room.save_notes(session.session_id, "Nobody asked what the glob matches.")
    room.next_step(session.session_id)
    room.save_notes(session.session_id, "Plan output was skimmed.")

    assert room.notes(session.session_id) == "Plan output was skimmed."
    assert (
        room.notes(session.session_id, scenario_id="cleanup-disk", step_id="delete")
        == "Nobody asked what the glob matches."
    )
    notes = {s.step_id: s.notes for s in room.summary(session.session_id).steps}
    assert notes == {
        "delete": "Nobody asked what the glob matches.",
        "plan": "Plan output was skimmed.",
        "review": "",
    }


def _run_whole_session(
    room: RoomService, other_room: RoomService, people: dict[str, Profile]
) -> str:
    """Three steps: the room is right on delete (reject) and review (accept), wrong on plan."""
    session = room.start_session(
        "Fran Facilitator", track_id="new-hire", attendees=[people["Ada"], people["Bob"]]
    )
    sid = session.session_id
    room.record_room_votes(sid, VoteCounts(accept=1, reject=4))
    room.reveal(sid)
    room.next_step(sid)
    room.record_room_votes(sid, VoteCounts(accept=3, revise=1))
    other_room.cast_vote(sid, people["Cleo"], Decision.ACCEPT)
    room.reveal(sid)
    room.next_step(sid)
    room.record_room_votes(sid, VoteCounts(accept=5))
    room.reveal(sid)
    return sid


def test_ending_gives_every_attendee_one_record_with_the_room_result(
    room: RoomService,
    other_room: RoomService,
    people: dict[str, Profile],
    database: Database,
    library: ContentLibrary,
    settings: Settings,
    training: TrainingService,
) -> None:
    sid = _run_whole_session(room, other_room, people)

    summary = room.end_session(sid)

    assert summary.session.status is RoomStatus.ENDED
    assert (summary.result.steps_counted, summary.result.steps_right) == (3, 2)
    assert summary.result.share == pytest.approx(2 / 3)
    assert [step.outcome.right for step in summary.steps] == [True, False, True]
    records = {r.trainee_name: r for r in summary.records}
    assert set(records) == {"Ada", "Bob", "Cleo"}
    for record in records.values():
        assert record.session_id == sid
        assert record.track_id == "new-hire"
        assert record.facilitator == "Fran Facilitator"
        assert (record.steps_counted, record.steps_right) == (3, 2)
        assert record.room_result == pytest.approx(2 / 3)

    # Ending again changes nothing.
    again = room.end_session(sid)
    assert len(again.records) == 3
    assert len(room.attended_sessions()) == 3

    # The records are links of each trainee's chain, and the chains still verify.
    manager = ManagerService(database, library, settings)
    assert manager.verify_records() is None
    history = training.history(people["Ada"])
    (event,) = history.events
    assert event.kind is EventKind.ATTENDED
    assert event.actor == "Fran Facilitator"
    # An attendance changes no track's standing.
    assert training.track_outcomes(people["Ada"])[0].status.value == "not started"

    with pytest.raises(ValueError, match="ended"):
        room.cast_vote(sid, people["Ada"], Decision.ACCEPT)


def test_an_attendance_record_changed_outside_the_app_is_caught(
    room: RoomService,
    other_room: RoomService,
    people: dict[str, Profile],
    database: Database,
    database_path: Path,
    library: ContentLibrary,
    settings: Settings,
) -> None:
    sid = _run_whole_session(room, other_room, people)
    room.end_session(sid)

    with sqlite3.connect(database_path) as connection:
        connection.execute(
            "UPDATE event SET details = json_set(details, '$.steps_right', 3) "
            "WHERE kind = 'attended' AND trainee_id = ?",
            (people["Bob"].id,),
        )

    broken = ManagerService(database, library, settings).verify_records()
    assert broken is not None
    assert broken.trainee_name == "Bob"
    assert broken.record_id.startswith("event ")


def test_reset_abandons_the_running_session_and_keeps_past_ones(
    room: RoomService, other_room: RoomService, people: dict[str, Profile]
) -> None:
    past = _run_whole_session(room, other_room, people)
    room.end_session(past)
    running = room.start_session("F", scenario_ids=["cleanup-disk"], attendees=[people["Ada"]])
    room.record_room_votes(running.session_id, VoteCounts(reject=2))

    after = room.reset_room(running.session_id)

    assert after is not None and after.status is RoomStatus.ABANDONED
    assert room.active_sessions() == []
    assert {s.status for s in room.sessions()} == {RoomStatus.ENDED, RoomStatus.ABANDONED}
    # The past session and its records stay; the reset one gave nobody a record.
    assert room.summary(past).session.status is RoomStatus.ENDED
    assert {r.session_id for r in room.attended_sessions()} == {past}
    # Its votes are kept, but it takes no more.
    assert room.tally(running.session_id).room == VoteCounts(reject=2)
    with pytest.raises(ValueError, match="reset"):
        other_room.cast_vote(running.session_id, people["Bob"], Decision.ACCEPT)
    with pytest.raises(ValueError, match="reset"):
        room.end_session(running.session_id)
    assert room.reset_room(None) is None


def test_attended_sessions_are_in_the_json_csv_and_xapi_exports(
    room: RoomService,
    other_room: RoomService,
    people: dict[str, Profile],
    training: TrainingService,
) -> None:
    sid = _run_whole_session(room, other_room, people)
    room.end_session(sid)
    ada = people["Ada"]

    out = io.BytesIO()
    training.export_own(ada, out, ExportFormat.JSON)
    document = json.loads(out.getvalue())
    (attended,) = document["attended_sessions"]
    assert attended["trainee_uid"] == ada.uid
    assert attended["session_id"] == sid
    assert attended["facilitator"] == "Fran Facilitator"
    assert attended["room_result"] == pytest.approx(2 / 3)
    assert (attended["steps_counted"], attended["steps_right"]) == (3, 2)

    out = io.BytesIO()
    from app.services.exports import Detail

    training.export_own(ada, out, ExportFormat.CSV, detail=Detail.SESSIONS)
    rows = list(csv.reader(io.StringIO(out.getvalue().decode("utf-8-sig"))))
    assert tuple(rows[0]) == SESSION_CSV_COLUMNS
    (row,) = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    assert (row["trainee_name"], row["track_id"], row["room_result"]) == (
        "Ada",
        "new-hire",
        "0.6667",
    )

    out = io.BytesIO()
    training.export_own(ada, out, ExportFormat.XAPI)
    statements = json.loads(out.getvalue())
    attended_statements = [s for s in statements if s["verb"]["id"] == VERB_ATTENDED]
    (statement,) = attended_statements
    BaseXapiStatement(**statement)
    assert statement["actor"]["account"]["name"] == ada.uid
    assert statement["object"]["id"].endswith(f"/room-sessions/{sid}")
    assert statement["result"]["score"]["scaled"] == pytest.approx(0.6667)
    # Exporting again gives the same statement id.
    again = io.BytesIO()
    training.export_own(ada, again, ExportFormat.XAPI)
    assert statement["id"] in {s["id"] for s in json.loads(again.getvalue())}


def test_a_track_filter_keeps_only_that_tracks_sessions(
    room: RoomService, people: dict[str, Profile]
) -> None:
    on_track = room.start_session("F", track_id="new-hire", attendees=[people["Ada"]])
    room.end_session(on_track.session_id)
    loose = room.start_session("F", scenario_ids=["cleanup-disk"], attendees=[people["Ada"]])
    room.end_session(loose.session_id)

    assert {r.session_id for r in room.attended_sessions(track_id="new-hire")} == {
        on_track.session_id
    }
    assert len(room.attended_sessions(trainee_ids=[people["Ada"].id])) == 2
    assert room.attended_sessions(trainee_ids=[people["Bob"].id]) == []
    loose_record = room.attended_sessions(track_id=None)[1]
    # Nothing was revealed: no step counted, so there is no room result.
    assert loose_record.room_result is None


def test_the_documented_session_columns_and_keys_are_the_written_ones(
    room: RoomService, people: dict[str, Profile], training: TrainingService
) -> None:
    from tests.unit.services.test_record_exports import _documented_tables

    columns, extra = _documented_tables("Attended sessions")
    assert tuple(columns) == SESSION_CSV_COLUMNS
    session = room.start_session("F", scenario_ids=["cleanup-disk"], attendees=[people["Ada"]])
    room.end_session(session.session_id)
    out = io.BytesIO()
    training.export_own(people["Ada"], out, ExportFormat.JSON)
    (attended,) = json.loads(out.getvalue())["attended_sessions"]
    assert set(attended) == set(columns) | set(extra)


def test_attendance_records_travel_in_a_records_bundle(
    room: RoomService,
    people: dict[str, Profile],
    training: TrainingService,
    library: ContentLibrary,
    settings: Settings,
    tmp_path: Path,
) -> None:
    from app.services.bundles import import_bundle

    session = room.start_session("Fran", track_id="new-hire", attendees=[people["Ada"]])
    room.record_room_votes(session.session_id, VoteCounts(reject=4))
    room.reveal(session.session_id)
    room.end_session(session.session_id)
    out = io.BytesIO()
    training.export_bundle(people["Ada"], out)

    with open_database(f"sqlite:///{tmp_path / 'manager.db'}", backup_dir=None) as elsewhere:
        report = import_bundle(elsewhere, out.getvalue())
        assert (report.events_added, report.conflicts) == (1, [])
        (record,) = RoomService(elsewhere, library, settings).attended_sessions()
        assert (record.trainee_name, record.session_id, record.room_result) == (
            "Ada",
            session.session_id,
            1.0,
        )
        assert ManagerService(elsewhere, library, settings).verify_records() is None

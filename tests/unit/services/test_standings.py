"""Cached track standings: equal to a replay of the records, and stale when they change."""

from __future__ import annotations

import io
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from app.core.completion import CompletionStatus
from app.core.judging import StepAnswer
from app.core.model import ContentLibrary, Decision
from app.core.records import Profile
from app.services import standings as standings_module
from app.services.completion import CompletionRecord, completion_records, resolve_scope
from app.services.history import TraineeHistory, event_from_row, load_histories
from app.services.manager import ManagerService, ManagerSession
from app.services.settings import Settings
from app.services.standings import refresh_standings
from app.services.training import TrainingService
from app.storage.database import Database, open_database
from app.storage.ledger import append, lock_trainee
from app.storage.tables import AnswerRow, EventRow, LessonReadRow, TraineeRow
from tests.unit.services.records_support import (
    CLEANUP,
    PASSPHRASE,
    PLAN,
    REVIEW,
    T0,
    Clock,
    ada_passes,
    bob_fails,
    build_library,
    play,
    right,
)

TRACKS = ("new-hire", "baseline", "follow-up", "reading")


@pytest.fixture
def library() -> ContentLibrary:
    return build_library()


@pytest.fixture
def clock() -> Clock:
    # Later than any answer recorded by the tests, which use the real time.
    return Clock(T0 + timedelta(days=3650))


@pytest.fixture
def manager(
    database: Database, library: ContentLibrary, settings: Settings, clock: Clock
) -> ManagerService:
    return ManagerService(database, library, settings, clock=clock)


@pytest.fixture
def session(manager: ManagerService) -> ManagerSession:
    manager.set_passphrase(PASSPHRASE)
    return manager.unlock(PASSPHRASE, "Training lead")


@pytest.fixture
def people(
    training: TrainingService,
    library: ContentLibrary,
    manager: ManagerService,
    session: ManagerSession,
    database: Database,
    clock: Clock,
) -> dict[str, Profile]:
    """Histories with every rule in play: plays across tracks, lessons, and all events."""
    ada = training.create_profile("Ada", "ada@example.com", "Platform")
    ada_passes(training, ada, library)
    bob = training.create_profile("bob", "E-2", "Data")
    bob_fails(training, bob, library)
    eve = training.create_profile("Eve")
    (wrong,) = play(training, eve, library, "cleanup-disk", StepAnswer(Decision.ACCEPT))
    play(training, eve, library, "cleanup-disk", right(CLEANUP, hint_taken=True))
    play(
        training,
        eve,
        library,
        "terraform-plan",
        StepAnswer(Decision.REVISE, revision_index=1, flags=frozenset(), confidence=55),
        right(REVIEW, checks_made=("Read the rule",), check_minutes=3),
    )
    manager.correct(session, eve, wrong.attempt_id, "Recorded on a broken build")
    clock.advance(60)
    manager.waive(session, eve, "reading", "Read it on paper")
    clock.advance(60)
    manager.reset(session, bob, "follow-up", "Asked to retake it")
    clock.advance(60)
    manager.waive(session, bob, "follow-up", "Retook it in class")
    _attended(database, ada, "new-hire", clock.now)
    training.create_profile("Nobody")  # has done nothing at all
    return {"ada": ada, "bob": bob, "eve": eve}


def _attended(database: Database, profile: Profile, track_id: str, when: datetime) -> None:
    """An ``attended`` event, as a room session writes it into the chain."""
    with database.write_session() as db:
        trainee = lock_trainee(db, profile.id)
        event = EventRow(
            event_id=uuid.uuid4().hex,
            trainee_id=profile.id,
            kind="attended",
            track_id=track_id,
            reason="Room session",
            actor="Facilitator",
            created_at=when,
            details={"steps_counted": 2, "steps_right": 2},
            chain_seq=0,
            previous_hash="",
            record_hash="",
        )
        append(db, trainee, event)


def _replayed(database: Database, library: ContentLibrary) -> dict[tuple[str, str], Any]:
    """Every standing computed straight from the ORM rows, as before the cache existed."""
    found: dict[tuple[str, str], Any] = {}
    with database.read_session() as db:
        for trainee in db.exec(select(TraineeRow)):
            answers = db.exec(
                select(AnswerRow)
                .where(AnswerRow.trainee_id == trainee.id)
                .order_by(col(AnswerRow.answered_at), col(AnswerRow.id))
            ).all()
            lessons = db.exec(select(LessonReadRow).where(LessonReadRow.trainee_id == trainee.id))
            events = db.exec(
                select(EventRow)
                .where(EventRow.trainee_id == trainee.id)
                .order_by(col(EventRow.created_at), col(EventRow.id))
            ).all()
            history = TraineeHistory(
                profile=trainee.to_profile(),
                archived_at=trainee.archived_at,
                answers=[row.to_record() for row in answers],
                lessons_read={row.lesson_id: row.read_at for row in lessons},
                events=[event_from_row(row, trainee.uid) for row in events],
            )
            for track in library.tracks.values():
                outcome = history.outcome(track, library.scenarios)
                found[(trainee.uid, track.id)] = (outcome, history.last_activity(track))
    return found


def _standing_of(record: CompletionRecord) -> tuple[Any, ...]:
    return (
        record.status,
        record.items_done,
        record.items_total,
        record.score,
        record.over_trust_rate,
        record.under_trust_rate,
        record.first_started,
        record.completed_at,
        record.seconds_spent,
        record.content_hash,
        record.last_activity,
    )


def _expected(outcome: Any, last: datetime | None) -> tuple[Any, ...]:
    return (
        outcome.status,
        outcome.items_done,
        outcome.items_total,
        outcome.score,
        outcome.over_trust_rate,
        outcome.under_trust_rate,
        outcome.first_started,
        outcome.completed_at,
        outcome.seconds_spent,
        outcome.content_hash,
        last,
    )


def _assert_table_is_the_replay(
    manager: ManagerService,
    session: ManagerSession,
    database: Database,
    library: ContentLibrary,
) -> list[CompletionRecord]:
    records = manager.completion_records(session)
    replayed = _replayed(database, library)
    assert len(records) == len(replayed)
    for record in records:
        outcome, last = replayed[(record.trainee_uid, record.track_id)]
        assert _standing_of(record) == _expected(outcome, last), record
    return records


def _cached_rows(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        return int(connection.execute("SELECT count(*) FROM track_standing").fetchone()[0])


def _records_without_recompute(
    manager: ManagerService, session: ManagerSession, monkeypatch: pytest.MonkeyPatch
) -> list[CompletionRecord]:
    with monkeypatch.context() as patch:
        patch.setattr(
            standings_module,
            "load_histories",
            lambda *_a, **_k: pytest.fail("a standing was recomputed"),
        )
        return manager.completion_records(session)


# The cache equals the replay


def test_the_first_table_fills_the_cache_and_the_second_reads_only_the_cache(
    manager: ManagerService,
    session: ManagerSession,
    database: Database,
    database_path: Path,
    library: ContentLibrary,
    people: dict[str, Profile],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = _assert_table_is_the_replay(manager, session, database, library)
    assert _cached_rows(database_path) == 4 * len(TRACKS)
    second = _records_without_recompute(manager, session, monkeypatch)
    assert second == first
    statuses = {(r.trainee_name, r.track_id): r.status for r in second}
    assert statuses[("Eve", "reading")] is CompletionStatus.WAIVED
    assert statuses[("bob", "follow-up")] is CompletionStatus.WAIVED
    assert statuses[("Ada", "new-hire")] is CompletionStatus.PASSED
    assert statuses[("Nobody", "new-hire")] is CompletionStatus.NOT_STARTED
    # Ordered by name ignoring case, then track order.
    assert [r.trainee_name for r in second[:: len(TRACKS)]] == ["Ada", "bob", "Eve", "Nobody"]


def test_the_cached_values_survive_a_round_trip_exactly(
    manager: ManagerService,
    session: ManagerSession,
    database: Database,
    library: ContentLibrary,
    people: dict[str, Profile],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert refresh_standings(database, library) == 4 * len(TRACKS)
    records = _records_without_recompute(manager, session, monkeypatch)
    replayed = _replayed(database, library)
    for record in records:
        assert _standing_of(record) == _expected(*replayed[(record.trainee_uid, record.track_id)])
        assert record.last_activity is None or record.last_activity.utcoffset() == timedelta(0)


def test_since_filters_on_the_cached_last_activity(
    manager: ManagerService,
    session: ManagerSession,
    database: Database,
    library: ContentLibrary,
    people: dict[str, Profile],
    clock: Clock,
) -> None:
    refresh_standings(database, library)
    # Only the events are dated by the clock, after every answer.
    later = manager.completion_records(session, since=T0 + timedelta(days=3650))
    assert {(r.trainee_name, r.track_id) for r in later} == {
        ("Eve", "reading"),
        ("bob", "follow-up"),
        ("Ada", "new-hire"),
    }


def test_the_loaded_answers_are_the_stored_ones(
    database: Database, people: dict[str, Profile]
) -> None:
    with database.read_session() as db:
        histories = load_histories(db)
        rows = db.exec(select(AnswerRow).order_by(col(AnswerRow.answered_at), col(AnswerRow.id)))
        stored: dict[int, list[Any]] = {}
        for row in rows:
            stored.setdefault(row.trainee_id, []).append(row.to_record())
    assert {i: h.answers for i, h in histories.items() if h.answers} == stored
    eve = histories[people["eve"].id]
    assert [a.flags_chosen for a in eve.answers] == [None, None, (), None]
    assert eve.answers[1].hint_taken
    assert eve.answers[3].checks_made == ("Read the rule",)


def test_answers_can_be_limited_to_some_scenarios(
    database: Database, people: dict[str, Profile]
) -> None:
    with database.read_session() as db:
        limited = load_histories(db, [people["eve"].id], scenario_ids={"terraform-plan"})
    (eve,) = limited.values()
    assert {a.scenario_id for a in eve.answers} == {"terraform-plan"}
    assert len(eve.events) == 2  # events and lessons are always whole


# What makes a trainee's standings stale


def test_a_new_answer_makes_only_that_trainees_rows_stale(
    manager: ManagerService,
    session: ManagerSession,
    training: TrainingService,
    database: Database,
    library: ContentLibrary,
    people: dict[str, Profile],
) -> None:
    refresh_standings(database, library)
    play(training, people["bob"], library, "cleanup-disk", right(CLEANUP))
    records = _assert_table_is_the_replay(manager, session, database, library)
    bob = {r.track_id: r.status for r in records if r.trainee_name == "bob"}
    assert bob["baseline"] is CompletionStatus.PASSED
    assert refresh_standings(database, library) == 0  # the table wrote them back
    play(training, people["bob"], library, "terraform-plan", right(PLAN), right(REVIEW))
    assert refresh_standings(database, library) == len(TRACKS)


def test_a_lesson_read_makes_the_trainees_rows_stale(
    manager: ManagerService,
    session: ManagerSession,
    training: TrainingService,
    database: Database,
    library: ContentLibrary,
    people: dict[str, Profile],
) -> None:
    refresh_standings(database, library)
    training.mark_lesson_read(people["eve"], "irreversible-actions")
    records = _assert_table_is_the_replay(manager, session, database, library)
    eve = {r.track_id: r for r in records if r.trainee_name == "Eve"}
    assert eve["new-hire"].items_done == 3
    # Reading it again changes nothing, so nothing is stale.
    training.mark_lesson_read(people["eve"], "irreversible-actions")
    assert refresh_standings(database, library) == 0


def test_manager_events_make_the_trainees_rows_stale(
    manager: ManagerService,
    session: ManagerSession,
    database: Database,
    library: ContentLibrary,
    people: dict[str, Profile],
    clock: Clock,
) -> None:
    refresh_standings(database, library)
    clock.advance(60)
    manager.reset(session, people["ada"], "new-hire", "Asked to retake it")
    records = _assert_table_is_the_replay(manager, session, database, library)
    ada = {r.track_id: r.status for r in records if r.trainee_name == "Ada"}
    assert ada["new-hire"] is CompletionStatus.NOT_STARTED
    assert ada["baseline"] is CompletionStatus.PASSED
    clock.advance(60)
    manager.waive(session, people["ada"], "new-hire", "External course")
    _attended(database, people["ada"], "baseline", clock.now)
    records = _assert_table_is_the_replay(manager, session, database, library)
    ada_records = {r.track_id: r for r in records if r.trainee_name == "Ada"}
    assert ada_records["new-hire"].status is CompletionStatus.WAIVED
    assert ada_records["baseline"].last_activity == clock.now


def test_an_imported_bundle_makes_the_trainees_rows_stale(
    training: TrainingService,
    library: ContentLibrary,
    people: dict[str, Profile],
    tmp_path: Path,
    clock: Clock,
) -> None:
    other_path = tmp_path / "other" / "thinktwice.db"
    with open_database(f"sqlite:///{other_path}", backup_dir=None) as other:
        target = ManagerService(other, library, Settings.in_data_dir(tmp_path / "other"))
        target.set_passphrase(PASSPHRASE)
        target_session = target.unlock(PASSPHRASE)

        def bundle() -> bytes:
            out = io.BytesIO()
            training.export_bundle(people["bob"], out)
            return out.getvalue()

        target.import_bundle(target_session, bundle())
        before = {r.track_id: r.status for r in target.completion_records(target_session)}
        assert before["baseline"] is CompletionStatus.FAILED
        assert _cached_rows(other_path) == len(TRACKS)

        play(training, people["bob"], library, "cleanup-disk", right(CLEANUP))
        target.import_bundle(target_session, bundle())
        records = _assert_table_is_the_replay(target, target_session, other, library)
        assert {r.track_id: r.status for r in records}["baseline"] is CompletionStatus.PASSED


def test_changed_content_is_noticed(
    manager: ManagerService,
    session: ManagerSession,
    database: Database,
    library: ContentLibrary,
    settings: Settings,
    clock: Clock,
    people: dict[str, Profile],
) -> None:
    refresh_standings(database, library)
    cleanup = library.scenarios["cleanup-disk"]
    newer = replace(
        library, scenarios={**library.scenarios, cleanup.id: replace(cleanup, version=2)}
    )
    later = ManagerService(database, newer, settings, clock=clock)
    records = _assert_table_is_the_replay(later, later.unlock(PASSPHRASE), database, newer)
    hashes = {r.track_id: r.content_hash for r in records}
    before = {r.track_id: r.content_hash for r in manager.completion_records(session)}
    assert hashes["baseline"] != before["baseline"]
    assert hashes["follow-up"] == before["follow-up"]  # does not use that scenario
    # Steps renamed without a new version: the counting changes, so the rows are stale.
    renamed = replace(
        library,
        scenarios={
            **library.scenarios,
            cleanup.id: replace(cleanup, steps=(replace(CLEANUP, id="delete-all"),)),
        },
    )
    assert refresh_standings(database, library) == 0
    assert refresh_standings(database, renamed) == 4 * 2  # new-hire and baseline
    renamed_manager = ManagerService(database, renamed, settings, clock=clock)
    records = _assert_table_is_the_replay(
        renamed_manager, renamed_manager.unlock(PASSPHRASE), database, renamed
    )
    ada = {r.track_id: r.status for r in records if r.trainee_name == "Ada"}
    assert ada["baseline"] is CompletionStatus.IN_PROGRESS  # her answer is to a gone step


def test_new_counting_rules_make_every_row_stale(
    database: Database,
    library: ContentLibrary,
    people: dict[str, Profile],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    refresh_standings(database, library)
    monkeypatch.setattr(
        standings_module, "STANDING_RULES_VERSION", standings_module.STANDING_RULES_VERSION + 1
    )
    assert refresh_standings(database, library) == 4 * len(TRACKS)


def test_a_row_with_an_unknown_status_is_recomputed(
    manager: ManagerService,
    session: ManagerSession,
    database: Database,
    database_path: Path,
    library: ContentLibrary,
    people: dict[str, Profile],
) -> None:
    refresh_standings(database, library)
    with sqlite3.connect(database_path) as connection:
        connection.execute("UPDATE track_standing SET status = 'excused'")
    _assert_table_is_the_replay(manager, session, database, library)
    with sqlite3.connect(database_path) as connection:
        statuses = {row[0] for row in connection.execute("SELECT status FROM track_standing")}
    assert "excused" not in statuses


def test_refresh_can_be_limited_to_some_trainees(
    database: Database, library: ContentLibrary, people: dict[str, Profile]
) -> None:
    assert refresh_standings(database, library, [people["ada"].id, people["eve"].id]) == 8
    assert refresh_standings(database, library, batch_size=1) == 2 * len(TRACKS)
    assert refresh_standings(database, library) == 0


# When the cache cannot be written


def test_a_read_only_database_still_gives_correct_records(
    database: Database,
    database_path: Path,
    library: ContentLibrary,
    people: dict[str, Profile],
    clock: Clock,
) -> None:
    database.close()
    expected = _replayed(database, library)
    with (
        open_database(f"sqlite:///{database_path}", backup_dir=None, read_only=True) as read_only,
        read_only.read_session() as db,
    ):
        records = completion_records(db, library, resolve_scope(db, library), clock.now)
    assert len(records) == len(expected)
    for record in records:
        assert _standing_of(record) == _expected(*expected[(record.trainee_uid, record.track_id)])
    assert _cached_rows(database_path) == 0


def test_a_locked_database_still_gives_correct_records(
    manager: ManagerService,
    session: ManagerSession,
    database: Database,
    database_path: Path,
    library: ContentLibrary,
    people: dict[str, Profile],
) -> None:
    other = sqlite3.connect(database_path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another writer holds the lock throughout
        _assert_table_is_the_replay(manager, session, database, library)
        other.execute("ROLLBACK")
    finally:
        other.close()
    assert _cached_rows(database_path) == 0
    manager.completion_records(session)
    assert _cached_rows(database_path) == 4 * len(TRACKS)


def test_an_in_memory_database_gives_records_without_caching(
    library: ContentLibrary, clock: Clock, tmp_path: Path
) -> None:
    with open_database("sqlite://", backup_dir=None) as memory:
        training = TrainingService(memory, library, Settings.in_data_dir(tmp_path))
        ada = training.create_profile("Ada")
        ada_passes(training, ada, library)
        with memory.read_session() as db:
            records = completion_records(db, library, resolve_scope(db, library), clock.now)
            assert {r.track_id: r.status for r in records}["new-hire"] is CompletionStatus.PASSED
            # The read session is still usable: its connection was left alone.
            assert db.exec(select(TraineeRow)).one().display_name == "Ada"


# On both database engines


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def any_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'any' / 'thinktwice.db'}"
    else:
        url = str(request.getfixturevalue("postgres_url"))
    opened = open_database(url, backup_dir=tmp_path / "backups")
    try:
        yield opened
    finally:
        opened.close()


def test_the_cache_is_written_read_and_kept_current_on_both_engines(
    any_database: Database,
    library: ContentLibrary,
    clock: Clock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = Settings.in_data_dir(tmp_path / "settings")
    training = TrainingService(any_database, library, settings)
    manager = ManagerService(any_database, library, settings, clock=clock)
    manager.set_passphrase(PASSPHRASE)
    session = manager.unlock(PASSPHRASE, "Lead")
    ada = training.create_profile("Ada")
    ada_passes(training, ada, library)
    bob = training.create_profile("Bob")
    bob_fails(training, bob, library)
    (wrong,) = play(
        training, bob, library, "cleanup-disk", StepAnswer(Decision.ACCEPT, flags=frozenset())
    )
    manager.correct(session, bob, wrong.attempt_id, "Broken build")
    manager.waive(session, ada, "reading", "On paper")
    cy = training.create_profile("Cy")

    first = _assert_table_is_the_replay(manager, session, any_database, library)
    assert _records_without_recompute(manager, session, monkeypatch) == first
    with any_database.read_session() as db:
        histories = load_histories(db)
        stored = db.exec(select(AnswerRow).order_by(col(AnswerRow.answered_at), col(AnswerRow.id)))
        by_trainee: dict[int, list[Any]] = {}
        for row in stored:
            by_trainee.setdefault(row.trainee_id, []).append(row.to_record())
    assert {i: h.answers for i, h in histories.items() if h.answers} == by_trainee

    clock.advance(60)
    manager.reset(session, ada, "new-hire", "Retake")
    training.mark_lesson_read(cy, "irreversible-actions")
    assert refresh_standings(any_database, library) == 2 * len(TRACKS)
    assert refresh_standings(any_database, library) == 0
    assert _records_without_recompute(manager, session, monkeypatch) == (
        _assert_table_is_the_replay(manager, session, any_database, library)
    )

"""The hash chain as stored: revision 0002 chains existing answers; writers extend chains."""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from app.core.chain import GENESIS, link_hash
from app.storage import migrator
from app.storage.database import Database, open_database
from app.storage.ledger import append, chain_links, lock_trainee, verify_links
from app.storage.tables import AnswerRow, EventRow, TraineeRow

UID_ADA = "a" * 32
UID_BOB = "b" * 32


def _fill_0001_for_chaining(url: str) -> None:
    """A database at revision 0001: two trainees, answers inserted out of time order."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            migrator.upgrade(connection, "0001")
            run = connection.exec_driver_sql
            run(
                "INSERT INTO trainee (uid, display_name, created_at) VALUES "
                f"('{UID_ADA}', 'Ada', '2026-11-24 08:00:00.000000+00:00'), "
                f"('{UID_BOB}', 'Bob', '2026-11-24 08:00:00.000000+00:00')"
            )
            columns = (
                "attempt_id, play_id, trainee_id, scenario_id, scenario_version, pack_id, "
                "step_id, decision, expected, revision_index, revision_text, correct, verdict, "
                "flags_chosen, flags_missed, flags_true, confidence, seconds, answered_at"
            )
            rows = [
                # id 1: Ada's second answer in time; id 2: Bob's; id 3: Ada's first.
                "('att2', 'play1', 1, 'cleanup', 1, 'core', 'two', 'revise', 'revise', 0, "
                "'Use -target', TRUE, 'right', NULL, '[\"blast-radius\"]', "
                "'[\"blast-radius\"]', NULL, 3.25, '2026-11-24 09:10:00.250000+00:00')",
                "('attb', 'playb', 2, 'cleanup', 1, 'core', 'one', 'accept', 'reject', NULL, "
                "NULL, FALSE, 'harmful', '[]', '[\"irreversible\"]', '[\"irreversible\"]', "
                "60, 2.0, '2026-11-24 09:00:00.000000+00:00')",
                "('att1', 'play1', 1, 'cleanup', 1, 'core', 'one', 'reject', 'reject', NULL, "
                "NULL, TRUE, 'right', '[\"irreversible\"]', '[]', '[\"irreversible\"]', 90, "
                "12.5, '2026-11-24 09:05:00.000000+00:00')",
            ]
            for values in rows:
                run(f"INSERT INTO answer ({columns}) VALUES {values}")
    finally:
        engine.dispose()


def _fill_sqlite_0001(path: Path) -> None:
    """As above, with the times written the way SQLAlchemy writes them to SQLite."""
    _fill_0001_for_chaining(f"sqlite:///{path}")
    with sqlite3.connect(path) as connection:
        for table, column in (("trainee", "created_at"), ("answer", "answered_at")):
            connection.execute(f"UPDATE {table} SET {column} = replace({column}, '+00:00', '')")


def _payload(**fields: Any) -> dict[str, object]:
    """The chained content of an answer, written out by hand for revision 0002."""
    base: dict[str, object] = {
        "record": "answer",
        "scenario_id": "cleanup",
        "scenario_version": 1,
        "pack_id": "core",
        "revision_index": None,
        "revision_text": None,
        "checks_made": [],
        "check_minutes": 0,
        "hint_taken": False,
    }
    base.update(fields)
    return base


def test_revision_0002_chains_existing_answers_per_trainee_in_time_order(
    tmp_path: Path,
) -> None:
    path = tmp_path / "thinktwice.db"
    _fill_sqlite_0001(path)

    with open_database(f"sqlite:///{path}", backup_dir=tmp_path / "backups") as database:
        assert database.current_revision() == migrator.HEAD_REVISION

    connection = sqlite3.connect(path)
    connection.row_factory = sqlite3.Row
    try:
        answers = {row["attempt_id"]: row for row in connection.execute("SELECT * FROM answer")}
        trainees = {row["uid"]: row for row in connection.execute("SELECT * FROM trainee")}
    finally:
        connection.close()

    first = _payload(
        attempt_id="att1",
        play_id="play1",
        trainee=UID_ADA,
        step_id="one",
        decision="reject",
        expected="reject",
        correct=True,
        verdict="right",
        flags_chosen=["irreversible"],
        flags_missed=[],
        flags_true=["irreversible"],
        confidence=90,
        seconds=12.5,
        answered_at=datetime(2026, 11, 24, 9, 5, tzinfo=UTC),
    )
    second = _payload(
        attempt_id="att2",
        play_id="play1",
        trainee=UID_ADA,
        step_id="two",
        decision="revise",
        expected="revise",
        revision_index=0,
        revision_text="Use -target",
        correct=True,
        verdict="right",
        flags_chosen=None,
        flags_missed=["blast-radius"],
        flags_true=["blast-radius"],
        confidence=None,
        seconds=3.25,
        answered_at=datetime(2026, 11, 24, 9, 10, 0, 250000, tzinfo=UTC),
    )
    bobs = _payload(
        attempt_id="attb",
        play_id="playb",
        trainee=UID_BOB,
        step_id="one",
        decision="accept",
        expected="reject",
        correct=False,
        verdict="harmful",
        flags_chosen=[],
        flags_missed=["irreversible"],
        flags_true=["irreversible"],
        confidence=60,
        seconds=2.0,
        answered_at=datetime(2026, 11, 24, 9, 0, tzinfo=UTC),
    )
    hash1 = link_hash(GENESIS, first)
    hash2 = link_hash(hash1, second)
    hash_b = link_hash(GENESIS, bobs)

    assert (answers["att1"]["chain_seq"], answers["att1"]["previous_hash"]) == (1, GENESIS)
    assert answers["att1"]["record_hash"] == hash1
    assert (answers["att2"]["chain_seq"], answers["att2"]["previous_hash"]) == (2, hash1)
    assert answers["att2"]["record_hash"] == hash2
    assert (answers["attb"]["chain_seq"], answers["attb"]["record_hash"]) == (1, hash_b)
    assert (trainees[UID_ADA]["chain_head"], trainees[UID_ADA]["chain_length"]) == (hash2, 2)
    assert (trainees[UID_BOB]["chain_head"], trainees[UID_BOB]["chain_length"]) == (hash_b, 1)
    # The new columns start empty, and the 0001 data is untouched.
    assert answers["att1"]["checks_made"] == "[]"
    assert (answers["att1"]["check_minutes"], answers["att1"]["hint_taken"]) == (0, 0)
    assert answers["att2"]["revision_text"] == "Use -target"
    assert answers["attb"]["confidence"] == 60


def test_revision_0002_chains_verify_with_the_current_code(
    database_url: str, tmp_path: Path
) -> None:
    if database_url.startswith("sqlite"):
        (tmp_path / "data").mkdir()
        _fill_sqlite_0001(Path(database_url.removeprefix("sqlite:///")))
    else:
        _fill_0001_for_chaining(database_url)
    with (
        open_database(database_url, backup_dir=tmp_path / "backups") as database,
        database.read_session() as session,
    ):
        trainees = session.exec(select(TraineeRow).order_by(TraineeRow.uid)).all()
        assert [(t.uid, t.chain_length) for t in trainees] == [(UID_ADA, 2), (UID_BOB, 1)]
        for trainee in trainees:
            links = chain_links(session, trainee)
            assert verify_links(links, trainee.chain_head, trainee.chain_length, "x") is None
        first = session.exec(select(AnswerRow).where(AnswerRow.attempt_id == "att1")).one()
        assert (first.chain_seq, first.checks_made, first.hint_taken) == (1, [], False)


def test_revision_0002_keeps_the_answer_checks_after_rebuilding_the_table(
    tmp_path: Path,
) -> None:
    path = tmp_path / "thinktwice.db"
    _fill_sqlite_0001(path)
    open_database(f"sqlite:///{path}", backup_dir=tmp_path / "backups").close()
    connection = sqlite3.connect(path)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            connection.execute("UPDATE answer SET decision = 'maybe' WHERE attempt_id = 'att1'")
        with pytest.raises(sqlite3.IntegrityError, match="NOT NULL"):
            connection.execute("UPDATE answer SET record_hash = NULL WHERE attempt_id = 'att1'")
        with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
            connection.execute("UPDATE answer SET chain_seq = 1 WHERE attempt_id = 'att2'")
    finally:
        connection.close()


# Writers


def _answer(trainee_id: int, **extra: Any) -> AnswerRow:
    values: dict[str, Any] = {
        "attempt_id": uuid.uuid4().hex,
        "play_id": "p" * 32,
        "trainee_id": trainee_id,
        "scenario_id": "cleanup",
        "scenario_version": 1,
        "pack_id": "core",
        "step_id": "one",
        "decision": "reject",
        "expected": "reject",
        "correct": True,
        "verdict": "right",
        "flags_missed": [],
        "flags_true": ["irreversible"],
        "seconds": 1.5,
        "chain_seq": 0,
        "previous_hash": "",
        "record_hash": "",
    }
    values.update(extra)
    return AnswerRow(**values)


def _event(trainee_id: int) -> EventRow:
    return EventRow(
        event_id=uuid.uuid4().hex,
        trainee_id=trainee_id,
        kind="waive",
        track_id="new-hire",
        reason="Took the course elsewhere",
        actor="Lead",
        details={},
        chain_seq=0,
        previous_hash="",
        record_hash="",
    )


def _new_trainee(database: Database, name: str = "Ada") -> int:
    with database.write_session() as session:
        row = TraineeRow(uid=uuid.uuid4().hex, display_name=name)
        session.add(row)
        session.flush()
        assert row.id is not None
        return row.id


def _write(
    database: Database, trainee_id: int, make: Callable[[int], AnswerRow | EventRow]
) -> None:
    with database.write_session() as session:
        append(session, lock_trainee(session, trainee_id), make(trainee_id))


def test_answers_and_events_share_one_chain_that_verifies(database: Database) -> None:
    ada = _new_trainee(database)
    for maker in (_answer, _event, _answer):
        _write(database, ada, maker)
    with database.read_session() as session:
        trainee = session.exec(select(TraineeRow).where(TraineeRow.id == ada)).one()
        links = chain_links(session, trainee)
    assert [link.record_id.split()[0] for link in links] == ["answer", "event", "answer"]
    assert links[1].previous_hash == links[0].record_hash
    assert trainee.chain_length == 3
    assert trainee.chain_head == links[-1].record_hash
    assert verify_links(links, trainee.chain_head, trainee.chain_length, "ada") is None


def test_a_removed_newest_record_is_noticed(database: Database) -> None:
    ada = _new_trainee(database)
    _write(database, ada, _answer)
    _write(database, ada, _answer)
    with database.write_session() as session:
        newest = session.exec(select(AnswerRow).where(AnswerRow.chain_seq == 2)).one()
        session.delete(newest)
    with database.read_session() as session:
        trainee = session.exec(select(TraineeRow)).one()
        links = chain_links(session, trainee)
    broken = verify_links(links, trainee.chain_head, trainee.chain_length, trainee.uid)
    assert broken is not None
    assert broken.record_id == f"trainee {trainee.uid}"
    assert "removed" in broken.reason


def test_a_record_can_only_join_its_own_trainees_chain(database: Database) -> None:
    ada = _new_trainee(database, "Ada")
    bob = _new_trainee(database, "Bob")
    with pytest.raises(ValueError, match="own trainee"), database.write_session() as session:
        append(session, lock_trainee(session, ada), _answer(bob))


def test_locking_an_unknown_trainee_raises(database: Database) -> None:
    with pytest.raises(LookupError), database.write_session() as session:
        lock_trainee(session, 4242)


def test_a_second_record_in_the_same_place_is_refused_by_the_database(
    database: Database,
) -> None:
    ada = _new_trainee(database)
    _write(database, ada, _answer)
    with pytest.raises(IntegrityError), database.write_session() as session:
        session.add(_answer(ada, chain_seq=1, previous_hash=GENESIS, record_hash="f" * 64))


def test_concurrent_writers_never_fork_a_chain(database_url: str, tmp_path: Path) -> None:
    """Writers on their own connections append to one trainee at once; the chain holds."""
    first = open_database(database_url, backup_dir=tmp_path / "backups")
    ada = _new_trainee(first)
    writers = [first, *(open_database(database_url, backup_dir=None) for _ in range(3))]
    errors: list[BaseException] = []

    def work(database: Database) -> None:
        try:
            for index in range(10):
                _write(database, ada, _answer if index % 3 else _event)
        except BaseException as error:  # handed to the main thread
            errors.append(error)

    threads = [threading.Thread(target=work, args=(w,)) for w in writers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        with first.read_session() as session:
            trainee = session.exec(select(TraineeRow)).one()
            links = chain_links(session, trainee)
        assert len(links) == 40 == trainee.chain_length
        assert verify_links(links, trainee.chain_head, trainee.chain_length, "ada") is None
    finally:
        for writer in writers:
            writer.close()


def test_chain_times_survive_the_round_trip_exactly(database: Database) -> None:
    ada = _new_trainee(database)
    moment = datetime(2026, 11, 24, 10, 15, 3, 123456, tzinfo=UTC) + timedelta(microseconds=1)
    _write(database, ada, lambda t: _answer(t, answered_at=moment, seconds=0.1 + 0.2))
    with database.read_session() as session:
        trainee = session.exec(select(TraineeRow)).one()
        links = chain_links(session, trainee)
    assert links[0].payload["answered_at"] == moment
    assert verify_links(links, trainee.chain_head, trainee.chain_length, "ada") is None

"""Opening the database and using it in short sessions."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from app.storage.database import Database, open_database
from app.storage.tables import AnswerRow, TraineeRow


def _sqlite_only(database: Database) -> Path:
    if database.sqlite_path is None:
        pytest.skip("about SQLite files")
    return database.sqlite_path


def test_sqlite_connections_use_wal_foreign_keys_and_full_sync(database: Database) -> None:
    _sqlite_only(database)
    with database.engine.connect() as connection:
        pragma = connection.exec_driver_sql
        assert pragma("PRAGMA journal_mode").scalar() == "wal"
        assert pragma("PRAGMA foreign_keys").scalar() == 1
        assert pragma("PRAGMA synchronous").scalar() == 2  # FULL
        assert pragma("PRAGMA busy_timeout").scalar() == 5000


def test_the_parent_folder_is_created(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "thinktwice.db"
    with open_database(f"sqlite:///{path}", backup_dir=None):
        assert path.is_file()


def test_foreign_keys_are_enforced(
    database: Database, answer_factory: Callable[..., AnswerRow]
) -> None:
    with pytest.raises(IntegrityError), database.write_session() as session:
        session.add(answer_factory(trainee_id=4242))


def test_a_write_session_is_committed_when_it_ends(
    database: Database,
    independent_engine: Engine,
    trainee_factory: Callable[..., TraineeRow],
    rows: Callable[[Engine, str], int],
) -> None:
    with database.write_session() as session:
        session.add(trainee_factory())
    assert rows(independent_engine, "trainee") == 1


def test_a_write_session_that_fails_keeps_nothing(
    database: Database,
    independent_engine: Engine,
    trainee_factory: Callable[..., TraineeRow],
    answer_factory: Callable[..., AnswerRow],
    rows: Callable[[Engine, str], int],
) -> None:
    with pytest.raises(RuntimeError), database.write_session() as session:
        trainee = trainee_factory()
        session.add(trainee)
        session.flush()
        assert trainee.id is not None
        session.add(answer_factory(trainee.id))
        session.flush()
        raise RuntimeError("the action failed half-way")
    assert rows(independent_engine, "trainee") == 0
    assert rows(independent_engine, "answer") == 0


def test_times_come_back_aware_in_utc(
    database: Database,
    trainee_factory: Callable[..., TraineeRow],
    answer_factory: Callable[..., AnswerRow],
) -> None:
    answered = datetime(2026, 11, 24, 10, 15, 30, 250000, tzinfo=UTC)
    with database.write_session() as session:
        trainee = trainee_factory()
        session.add(trainee)
        session.flush()
        assert trainee.id is not None
        session.add(answer_factory(trainee.id, answered_at=answered))
    with database.read_session() as session:
        stored = session.exec(select(AnswerRow)).one()
    assert stored.answered_at == answered
    assert stored.answered_at.utcoffset() is not None


def test_flags_not_given_are_sql_null_and_lists_round_trip(
    database: Database,
    trainee_factory: Callable[..., TraineeRow],
    answer_factory: Callable[..., AnswerRow],
) -> None:
    with database.write_session() as session:
        trainee = trainee_factory()
        session.add(trainee)
        session.flush()
        assert trainee.id is not None
        session.add(answer_factory(trainee.id, attempt="n" * 32, flags_chosen=None))
        session.add(answer_factory(trainee.id, attempt="e" * 32, flags_chosen=[]))
        session.add(answer_factory(trainee.id, attempt="g" * 32, flags_chosen=["a", "b"]))
    with database.read_session() as session:
        nulls = (
            session.connection()
            .exec_driver_sql("SELECT attempt_id FROM answer WHERE flags_chosen IS NULL")
            .all()
        )
        stored = {a.attempt_id: a.flags_chosen for a in session.exec(select(AnswerRow))}
    assert [row[0] for row in nulls] == ["n" * 32]
    assert stored == {"n" * 32: None, "e" * 32: [], "g" * 32: ["a", "b"]}


def test_reading_does_not_hold_up_a_writer(
    database: Database, database_url: str, trainee_factory: Callable[..., TraineeRow]
) -> None:
    with database.write_session() as session:
        session.add(trainee_factory("First"))
    other = open_database(database_url, backup_dir=None, busy_timeout=0.2)
    try:
        with database.read_session() as reading:
            assert len(reading.exec(select(TraineeRow)).all()) == 1
            # The read transaction is still open while another connection writes.
            with other.write_session() as writing:
                writing.add(trainee_factory("Second"))
    finally:
        other.close()
    with database.read_session() as session:
        assert len(session.exec(select(TraineeRow)).all()) == 2


def test_backup_holds_every_committed_row_of_a_live_wal_database(
    database: Database, tmp_path: Path, trainee_factory: Callable[..., TraineeRow]
) -> None:
    _sqlite_only(database)
    with database.write_session() as session:
        for number in range(5):
            session.add(trainee_factory(f"Trainee {number}"))
    # The database stays open, so the rows may still be only in the -wal file.
    backup = database.backup(tmp_path / "copies", label="manual")
    assert backup.parent == tmp_path / "copies"
    assert "manual" in backup.name
    with sqlite3.connect(backup) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert copy.execute("SELECT count(*) FROM trainee").fetchone() == (5,)
    assert not list((tmp_path / "copies").glob(".*partial"))


def test_two_backups_in_the_same_second_do_not_overwrite_each_other(
    database: Database, tmp_path: Path
) -> None:
    _sqlite_only(database)
    first = database.backup(tmp_path / "copies")
    second = database.backup(tmp_path / "copies")
    assert first != second
    assert first.is_file()
    assert second.is_file()


def test_default_backup_folder_is_beside_the_file(tmp_path: Path) -> None:
    path = tmp_path / "thinktwice.db"
    with open_database(f"sqlite:///{path}", backup_dir=None) as database:
        assert database.backup_dir == tmp_path / "backups"


def test_an_in_memory_database_is_migrated_too() -> None:
    with open_database("sqlite://", backup_dir=None) as database:
        with database.write_session() as session:
            session.add(TraineeRow(uid="m" * 32, display_name="In memory"))
        with database.read_session() as session:
            assert session.exec(select(TraineeRow.display_name)).all() == ["In memory"]

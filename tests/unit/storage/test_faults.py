"""Database faults come out as clear StorageError subclasses, and nothing half-written."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import event
from sqlmodel import select

from app.storage.database import Database, open_database
from app.storage.errors import (
    DatabaseCorrupt,
    DatabaseLocked,
    DatabaseReadOnly,
    DatabaseUnreachable,
    DiskFull,
    StorageError,
    translate_error,
)
from app.storage.tables import AnswerRow, TraineeRow


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Path:
    """A migrated SQLite database with one trainee, closed again."""
    path = tmp_path / "thinktwice.db"
    with (
        open_database(f"sqlite:///{path}", backup_dir=None) as database,
        database.write_session() as session,
    ):
        session.add(TraineeRow(uid="t" * 32, display_name="Ada Example"))
    return path


@pytest.fixture
def opened(sqlite_file: Path) -> Iterator[Database]:
    database = open_database(f"sqlite:///{sqlite_file}", backup_dir=None, busy_timeout=0.1)
    try:
        yield database
    finally:
        database.close()


def _add_answer(database: Database, answer_factory: Callable[..., AnswerRow]) -> None:
    with database.write_session() as session:
        trainee = session.exec(select(TraineeRow)).one()
        assert trainee.id is not None
        session.add(answer_factory(trainee.id))


def _answers(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        return int(connection.execute("SELECT count(*) FROM answer").fetchone()[0])


def test_a_corrupt_file_is_reported_as_corrupt_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "thinktwice.db"
    garbage = os.urandom(64) + b"not a database" * 500
    path.write_bytes(garbage)

    with pytest.raises(DatabaseCorrupt) as raised:
        open_database(f"sqlite:///{path}", backup_dir=None)

    assert str(path) in str(raised.value)
    assert "backup" in str(raised.value)
    assert path.read_bytes() == garbage


def test_a_locked_database_is_reported_and_nothing_is_written(
    opened: Database, sqlite_file: Path, answer_factory: Callable[..., AnswerRow]
) -> None:
    holder = sqlite3.connect(sqlite_file, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(DatabaseLocked) as raised:
            _add_answer(opened, answer_factory)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert str(sqlite_file) in str(raised.value)
    assert "try again" in str(raised.value)
    assert _answers(sqlite_file) == 0
    _add_answer(opened, answer_factory)  # once the other writer is gone, it works
    assert _answers(sqlite_file) == 1


def test_reading_still_works_while_another_program_writes(
    opened: Database, sqlite_file: Path
) -> None:
    holder = sqlite3.connect(sqlite_file, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with opened.read_session() as session:
            assert session.exec(select(TraineeRow.display_name)).all() == ["Ada Example"]
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_a_database_opened_read_only_reads_but_refuses_writes(
    sqlite_file: Path, answer_factory: Callable[..., AnswerRow]
) -> None:
    before = sqlite_file.read_bytes()
    with open_database(f"sqlite:///{sqlite_file}", backup_dir=None, read_only=True) as database:
        assert database.read_only
        with database.read_session() as session:
            assert session.exec(select(TraineeRow.display_name)).all() == ["Ada Example"]
        with pytest.raises(DatabaseReadOnly) as raised:
            _add_answer(database, answer_factory)
    assert "Nothing was saved" in str(raised.value)
    assert sqlite_file.read_bytes() == before


@pytest.mark.skipif(os.geteuid() == 0, reason="file permissions do not bind root")
def test_a_read_only_file_is_reported_and_nothing_is_written(
    sqlite_file: Path, answer_factory: Callable[..., AnswerRow]
) -> None:
    sqlite_file.chmod(0o444)
    try:
        with (
            open_database(f"sqlite:///{sqlite_file}", backup_dir=None) as database,
            pytest.raises(DatabaseReadOnly),
        ):
            _add_answer(database, answer_factory)
    finally:
        sqlite_file.chmod(0o644)
    assert _answers(sqlite_file) == 0


def test_a_full_disk_is_reported_and_nothing_is_written(
    opened: Database, sqlite_file: Path, answer_factory: Callable[..., AnswerRow]
) -> None:
    # SQLite reports "database or disk is full" when the file may not grow any more.
    @event.listens_for(opened.engine, "connect")
    def _cap_size(dbapi_connection: Any, _record: Any) -> None:
        pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
        dbapi_connection.execute(f"PRAGMA max_page_count={pages}")

    opened.engine.dispose()
    with opened.write_session() as session:
        trainee_id = session.exec(select(TraineeRow.id)).one()
    with pytest.raises(DiskFull) as raised, opened.write_session() as session:
        session.add(answer_factory(trainee_id, revision_text="x" * 200_000))
    assert "Free some space" in str(raised.value)
    assert _answers(sqlite_file) == 0


def test_a_commit_that_fails_leaves_no_half_written_answer(
    opened: Database, sqlite_file: Path, answer_factory: Callable[..., AnswerRow]
) -> None:
    failures = []

    def _fail_commit(_connection: Any) -> None:
        error = sqlite3.OperationalError("disk I/O error")
        error.sqlite_errorcode = 10
        failures.append(error)
        raise error

    event.listen(opened.engine, "commit", _fail_commit)
    with pytest.raises(StorageError):
        _add_answer(opened, answer_factory)
    event.remove(opened.engine, "commit", _fail_commit)

    assert failures
    assert _answers(sqlite_file) == 0
    with sqlite3.connect(sqlite_file) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_a_folder_that_cannot_be_created_is_reported(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be", encoding="utf-8")
    path = blocker / "thinktwice.db"
    with pytest.raises(DatabaseUnreachable) as raised:
        open_database(f"sqlite:///{path}", backup_dir=None)
    assert str(path) in str(raised.value)


def test_an_unreachable_server_is_reported_without_its_password() -> None:
    url = "postgresql+psycopg://trainer:s3cret-pw@127.0.0.1:9/thinktwice?connect_timeout=2"
    with pytest.raises(DatabaseUnreachable) as raised:
        open_database(url, backup_dir=None)
    assert "127.0.0.1" in str(raised.value)
    assert "s3cret-pw" not in str(raised.value)


def test_a_malformed_url_is_reported() -> None:
    with pytest.raises(DatabaseUnreachable, match="not a database address"):
        open_database("this is not a url", backup_dir=None)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (psycopg.errors.DeadlockDetected("deadlock detected"), DatabaseLocked),
        (psycopg.errors.LockNotAvailable("could not obtain lock"), DatabaseLocked),
        (psycopg.errors.DiskFull("could not extend file"), DiskFull),
        (psycopg.errors.ReadOnlySqlTransaction("read-only transaction"), DatabaseReadOnly),
        (psycopg.errors.InsufficientPrivilege("permission denied"), DatabaseReadOnly),
        (psycopg.errors.DataCorrupted("invalid page"), DatabaseCorrupt),
        (psycopg.errors.AdminShutdown("terminating connection"), DatabaseUnreachable),
        (psycopg.OperationalError("connection refused"), DatabaseUnreachable),
    ],
)
def test_server_faults_are_translated(error: Exception, expected: type[StorageError]) -> None:
    translated = translate_error(error, "postgresql+psycopg://host/db")
    assert type(translated) is expected
    assert translated is not None
    assert "postgresql+psycopg://host/db" in str(translated)


def test_constraint_violations_are_not_faults() -> None:
    assert translate_error(psycopg.errors.UniqueViolation("duplicate key"), "db") is None
    assert translate_error(sqlite3.IntegrityError("UNIQUE constraint failed"), "db") is None


def test_other_errors_are_not_mistaken_for_faults() -> None:
    assert translate_error(ValueError("a bug"), "db") is None
    assert translate_error(BrokenPipeError(32, "Broken pipe"), "db") is None

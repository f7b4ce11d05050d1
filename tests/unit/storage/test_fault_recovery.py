"""Database faults at open time and the file-level rescue tools (no Qt).

Each fault must come out as its StorageError subclass with a message, leave no
half-written answer, and leave the way open to retry, open read-only or restore.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlmodel import select

from app.storage import database as database_module
from app.storage.database import open_database
from app.storage.errors import (
    DatabaseLocked,
    DatabaseReadOnly,
    DiskFull,
    MigrationFailed,
    StorageError,
)
from app.storage.recovery import copy_database, integrity_problem, move_aside
from app.storage.tables import AnswerRow, TraineeRow

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Path:
    """A migrated SQLite database with one trainee, closed again."""
    path = tmp_path / "data" / "thinktwice.db"
    with (
        open_database(f"sqlite:///{path}", backup_dir=None) as database,
        database.write_session() as session,
    ):
        session.add(TraineeRow(uid="t" * 32, display_name="Ada Example"))
    return path


def _answers(path: Path) -> int:
    with sqlite3.connect(path) as connection:
        return int(connection.execute("SELECT count(*) FROM answer").fetchone()[0])


def _refuse_writes_to(monkeypatch: pytest.MonkeyPatch, refused: Path) -> None:
    """Make the write check see ``refused`` as not writable (root ignores file modes)."""
    real_access = os.access

    def access(path: str | os.PathLike[str], mode: int) -> bool:
        if mode == os.W_OK and Path(path) == refused:
            return False
        return real_access(path, mode)

    monkeypatch.setattr(database_module.os, "access", access)


# Read-only files and folders


def test_a_file_that_cannot_be_written_is_refused_at_open(
    sqlite_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _refuse_writes_to(monkeypatch, sqlite_file)
    before = sqlite_file.read_bytes()
    with pytest.raises(DatabaseReadOnly) as raised:
        open_database(f"sqlite:///{sqlite_file}", backup_dir=None)
    assert str(sqlite_file) in str(raised.value)
    assert "the file is not writable" in str(raised.value)
    assert sqlite_file.read_bytes() == before


def test_a_folder_that_cannot_be_written_is_refused_at_open(
    sqlite_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _refuse_writes_to(monkeypatch, sqlite_file.parent)
    with pytest.raises(DatabaseReadOnly, match=r"its folder .* is not writable"):
        open_database(f"sqlite:///{sqlite_file}", backup_dir=None)


@pytest.mark.skipif(os.geteuid() == 0, reason="file permissions do not bind root")
def test_a_read_only_file_is_refused_at_open_and_opens_read_only(sqlite_file: Path) -> None:
    sqlite_file.chmod(0o444)
    try:
        with pytest.raises(DatabaseReadOnly):
            open_database(f"sqlite:///{sqlite_file}", backup_dir=None)
        with (
            open_database(f"sqlite:///{sqlite_file}", backup_dir=None, read_only=True) as database,
            database.read_session() as session,
        ):
            assert session.exec(select(TraineeRow.display_name)).all() == ["Ada Example"]
    finally:
        sqlite_file.chmod(0o644)


def test_read_only_mode_reads_and_refuses_every_write_with_a_message(
    sqlite_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _refuse_writes_to(monkeypatch, sqlite_file)
    with open_database(f"sqlite:///{sqlite_file}", backup_dir=None, read_only=True) as database:
        with database.read_session() as session:
            assert session.exec(select(TraineeRow.display_name)).all() == ["Ada Example"]
        with pytest.raises(DatabaseReadOnly) as raised, database.write_session() as session:
            session.add(TraineeRow(uid="u" * 32, display_name="Bob"))
    assert "open read-only" in str(raised.value)
    assert "Nothing was saved" in str(raised.value)
    with sqlite3.connect(sqlite_file) as connection:
        assert connection.execute("SELECT count(*) FROM trainee").fetchone() == (1,)


# A database locked by another program


def test_a_database_locked_at_open_is_reported_and_a_retry_works(sqlite_file: Path) -> None:
    holder = sqlite3.connect(sqlite_file, isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(DatabaseLocked) as raised:
            open_database(f"sqlite:///{sqlite_file}", backup_dir=None, busy_timeout=0.2)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "busy" in str(raised.value) and "try again" in str(raised.value)
    with open_database(f"sqlite:///{sqlite_file}", backup_dir=None) as database:
        assert database.current_revision() is not None


def test_a_migration_blocked_by_another_writer_rolls_back_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.storage import migrator

    path = tmp_path / "thinktwice.db"
    engine_url = f"sqlite:///{path}"
    from sqlalchemy import create_engine

    engine = create_engine(engine_url)
    with engine.begin() as connection:
        migrator.upgrade(connection, migrator.known_revisions()[0])
    engine.dispose()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(MigrationFailed) as raised:
            open_database(engine_url, backup_dir=tmp_path / "backups", busy_timeout=0.2)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert "rolled back" in str(raised.value)
    assert raised.value.backup_path is not None and raised.value.backup_path.is_file()
    assert str(raised.value.backup_path) in str(raised.value)


# A full disk


def test_a_full_disk_while_backing_up_before_an_upgrade_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import create_engine

    from app.storage import migrator

    path = tmp_path / "thinktwice.db"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        migrator.upgrade(connection, migrator.known_revisions()[0])
    engine.dispose()
    before = path.read_bytes()

    def no_space(*_args: object, **_kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(database_module.os, "replace", no_space)
    with pytest.raises(DiskFull) as raised:
        open_database(f"sqlite:///{path}", backup_dir=tmp_path / "backups")
    assert "Free some space" in str(raised.value)
    assert path.read_bytes() == before, "no upgrade without a backup"


_FULL_DISK_PROGRAM = textwrap.dedent(
    """
    import os
    import sys
    from pathlib import Path
    from sqlmodel import select
    from app.storage.database import open_database
    from app.storage.errors import DiskFull
    from app.storage.tables import AnswerRow, TraineeRow
    from tests.unit.storage.conftest import make_answer

    folder = Path(sys.argv[1])
    database = open_database(f"sqlite:///{folder / 'thinktwice.db'}", backup_dir=None)
    with database.write_session() as session:
        session.add(TraineeRow(uid="t" * 32, display_name="Ada Example"))
    with database.read_session() as session:
        trainee_id = session.exec(select(TraineeRow.id)).one()
    filler = folder / "filler"
    handle = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while True:  # take every byte that is left
            os.write(handle, b"x" * 4096)
    except OSError:
        pass
    finally:
        os.close(handle)
    try:
        with database.write_session() as session:
            session.add(make_answer(trainee_id, "a" * 32, revision_text="y" * 300_000))
        print("saved")
    except DiskFull as error:
        print("full:", error)
    filler.unlink()
    with database.write_session() as session:
        session.add(make_answer(trainee_id, "b" * 32))
    with database.read_session() as session:
        print("kept:", sorted(r.attempt_id for r in session.exec(select(AnswerRow))))
    """
)


@pytest.mark.skipif(
    sys.platform != "linux" or os.geteuid() != 0 or shutil.which("unshare") is None,
    reason="needs root and unshare to mount a tiny tmpfs in a private mount namespace",
)
def test_a_really_full_disk_is_reported_and_nothing_half_written(tmp_path: Path) -> None:
    folder = tmp_path / "tiny"
    folder.mkdir()
    script = tmp_path / "full_disk.py"
    script.write_text(_FULL_DISK_PROGRAM, encoding="utf-8")
    # The mount lives only in the private namespace of this one command.
    command = f"mount -t tmpfs -o size=1m tmpfs {folder} && exec {sys.executable} {script} {folder}"
    result = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", command],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if result.returncode != 0 and "mount" in result.stderr and "permission" in result.stderr:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("full: The disk that holds the database"), lines
    assert lines[1] == f"kept: ['{'b' * 32}']", "the failed answer left nothing behind"


# File-level rescue tools


def test_integrity_problem_accepts_a_sound_database(sqlite_file: Path) -> None:
    assert integrity_problem(sqlite_file) is None


def test_integrity_problem_names_damage_and_foreign_files(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database at all" * 300)
    assert "cannot be read as a database" in str(integrity_problem(garbage))
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE t (x)")
    assert "not a Think Twice database" in str(integrity_problem(other))
    assert "does not exist" in str(integrity_problem(tmp_path / "missing.db"))


def test_integrity_problem_finds_a_damaged_page(sqlite_file: Path) -> None:
    with sqlite3.connect(sqlite_file) as connection:
        connection.execute("PRAGMA journal_mode=DELETE")
    data = bytearray(sqlite_file.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    for offset in range(page_size * 2, len(data), page_size):
        data[offset : offset + 100] = os.urandom(100)  # scribble over every later page
    sqlite_file.write_bytes(bytes(data))
    assert integrity_problem(sqlite_file) is not None


def test_move_aside_takes_the_wal_and_shm_files_along(sqlite_file: Path) -> None:
    for suffix in ("-wal", "-shm"):
        sqlite_file.with_name(sqlite_file.name + suffix).write_bytes(b"side file")
    moved = move_aside(sqlite_file, "corrupt-20261124T000000Z")
    assert moved.name == "thinktwice.db.corrupt-20261124T000000Z"
    assert not sqlite_file.exists()
    for suffix in ("-wal", "-shm"):
        assert not sqlite_file.with_name(sqlite_file.name + suffix).exists()
        assert moved.with_name(moved.name + suffix).read_bytes() == b"side file"
    again = sqlite_file.parent / "thinktwice.db"
    again.write_bytes(b"another")
    assert move_aside(again, "corrupt-20261124T000000Z").name.endswith("-2")


def test_copy_database_takes_rows_that_are_only_in_the_wal(
    tmp_path: Path, sqlite_file: Path, answer_factory: Callable[..., AnswerRow]
) -> None:
    database = open_database(f"sqlite:///{sqlite_file}", backup_dir=None)
    try:
        with database.write_session() as session:
            trainee_id = session.exec(select(TraineeRow.id)).one()
            session.add(answer_factory(trainee_id))
        assert sqlite_file.with_name("thinktwice.db-wal").stat().st_size > 0
        target = tmp_path / "copy.db"
        copy_database(sqlite_file, target)
    finally:
        database.close()
    assert _answers(target) == 1
    assert integrity_problem(target) is None
    assert not list(tmp_path.glob(".copy.db.partial*"))


def test_copy_database_never_replaces_a_file(sqlite_file: Path, tmp_path: Path) -> None:
    target = tmp_path / "exists.db"
    target.write_bytes(b"keep")
    with pytest.raises(StorageError, match="already exists"):
        copy_database(sqlite_file, target)
    assert target.read_bytes() == b"keep"


def test_copy_database_from_a_damaged_file_leaves_nothing_behind(tmp_path: Path) -> None:
    source = tmp_path / "garbage.db"
    source.write_bytes(b"not a database at all" * 300)
    target = tmp_path / "restored.db"
    with pytest.raises(StorageError):
        copy_database(source, target)
    assert not target.exists()
    assert not list(tmp_path.glob(".restored.db.partial*"))

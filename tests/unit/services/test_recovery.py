"""The ways forward after a fault: listing and restoring backups, starting anew, network shares."""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.services.bootstrap import AppConfig, open_records
from app.services.recovery import (
    BackupUnusable,
    database_file,
    list_backups,
    network_filesystem,
    network_share_warning,
    restore_backup,
    start_new_database,
)
from app.storage.errors import StorageError

MOMENT = datetime(2026, 11, 24, 9, 30, 5, tzinfo=UTC)


def _now() -> datetime:
    return MOMENT


@pytest.fixture
def config(tmp_path: Path) -> AppConfig:
    return AppConfig(data_dir=tmp_path / "data")


def _trainees(path: Path) -> list[str]:
    with sqlite3.connect(path) as connection:
        return [row[0] for row in connection.execute("SELECT display_name FROM trainee")]


def _add_trainee(config: AppConfig, name: str) -> None:
    from app.storage.tables import TraineeRow

    with open_records(config) as database, database.write_session() as session:
        session.add(TraineeRow(uid=name.lower().ljust(32, "x"), display_name=name))


@pytest.fixture
def backed_up(config: AppConfig) -> tuple[Path, Path]:
    """A database with Ada, backed up; then Bob added and the file damaged."""
    _add_trainee(config, "Ada")
    with open_records(config) as database:
        backup = database.backup(config.backup_dir, label="manual")
    _add_trainee(config, "Bob")
    path = database_file(config)
    assert path is not None
    path.write_bytes(b"this file was damaged" * 400)
    return path, backup


def test_database_file_follows_the_configuration(tmp_path: Path) -> None:
    assert database_file(AppConfig(data_dir=tmp_path)) == tmp_path / "thinktwice.db"
    other = tmp_path / "elsewhere" / "records.db"
    assert database_file(AppConfig(data_dir=tmp_path, database_url=f"sqlite:///{other}")) == other
    server = AppConfig(data_dir=tmp_path, database_url="postgresql+psycopg://u:p@host/db")
    assert database_file(server) is None
    assert database_file(AppConfig(data_dir=tmp_path, database_url="sqlite://")) is None


def test_backups_are_listed_newest_first(tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    folder.mkdir()
    for name, age in (("old.db", 300), ("newest.db", 10), ("middle.db", 100)):
        path = folder / name
        path.write_bytes(b"x" * 2048)
        stamp = MOMENT.timestamp() - age
        os.utime(path, (stamp, stamp))
    (folder / ".partial.db").write_bytes(b"being written")
    (folder / "notes.txt").write_text("not a backup", encoding="utf-8")
    backups = list_backups(folder)
    assert [b.path.name for b in backups] == ["newest.db", "middle.db", "old.db"]
    assert backups[0].describe().startswith("2026-11-24 09:29 UTC · newest.db · 2 KB")
    assert list_backups(tmp_path / "missing") == []


def test_restoring_a_backup_keeps_the_damaged_file_aside(
    config: AppConfig, backed_up: tuple[Path, Path]
) -> None:
    path, backup = backed_up
    damaged = path.read_bytes()
    path.with_name("thinktwice.db-wal").write_bytes(b"stale journal")

    restored = restore_backup(config, backup, now=_now)

    assert restored.database == path
    assert restored.set_aside == path.with_name("thinktwice.db.corrupt-20261124T093005Z")
    assert restored.set_aside.read_bytes() == damaged
    assert restored.set_aside.with_name(restored.set_aside.name + "-wal").exists()
    assert not path.with_name("thinktwice.db-wal").exists(), "a stale WAL must not be replayed"
    assert _trainees(path) == ["Ada"]
    with open_records(config) as database:
        assert database.current_revision() is not None
    assert backup.is_file(), "the backup itself stays"


def test_a_damaged_backup_is_refused_and_nothing_changes(
    config: AppConfig, backed_up: tuple[Path, Path]
) -> None:
    path, backup = backed_up
    backup.write_bytes(b"this backup is damaged too" * 300)
    before = path.read_bytes()
    with pytest.raises(BackupUnusable, match="Choose another backup"):
        restore_backup(config, backup, now=_now)
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir() if p.is_file()) == ["thinktwice.db"]


def test_a_restore_that_fails_half_way_puts_the_damaged_file_back(
    config: AppConfig, backed_up: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    path, backup = backed_up
    before = path.read_bytes()

    def failing_copy(_source: Path, _target: Path) -> None:
        raise StorageError("The disk is full.")

    monkeypatch.setattr("app.services.recovery.copy_database", failing_copy)
    with pytest.raises(StorageError, match="disk is full"):
        restore_backup(config, backup, now=_now)
    assert path.read_bytes() == before
    assert not list(path.parent.glob("thinktwice.db.corrupt-*"))


def test_starting_a_new_database_keeps_the_old_one_aside(
    config: AppConfig, backed_up: tuple[Path, Path]
) -> None:
    path, _backup = backed_up
    damaged = path.read_bytes()
    set_aside = start_new_database(config, now=_now)
    assert set_aside is not None and set_aside.read_bytes() == damaged
    assert not path.exists()
    with open_records(config) as database:
        assert database.current_revision() is not None
    assert _trainees(path) == []
    assert start_new_database(AppConfig(data_dir=config.data_dir / "none"), now=_now) is None


def test_server_databases_are_not_restored_from_files(tmp_path: Path) -> None:
    server = AppConfig(data_dir=tmp_path, database_url="postgresql+psycopg://u@host/db")
    with pytest.raises(StorageError, match="server's own tools"):
        restore_backup(server, tmp_path / "x.db")


MOUNTS = """\
/dev/vda / ext4 rw,relatime 0 0
server:/export/home /home nfs4 rw,relatime 0 0
//filer/training /mnt/training\\040room cifs rw 0 0
user@host:/data /mnt/ssh fuse.sshfs rw 0 0
/dev/vdb /home/local ext4 rw 0 0
"""


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/home/ada/.local/share/thinktwice/thinktwice.db", "nfs4"),
        ("/home/local/thinktwice/thinktwice.db", None),
        ("/mnt/training room/thinktwice.db", "cifs"),
        ("/mnt/ssh/thinktwice.db", "fuse.sshfs"),
        ("/var/lib/thinktwice.db", None),
        ("/homeless/thinktwice.db", None),
    ],
)
def test_network_file_systems_are_recognised(
    tmp_path: Path, path: str, expected: str | None
) -> None:
    mounts = tmp_path / "mounts"
    mounts.write_text(MOUNTS, encoding="utf-8")
    assert network_filesystem(Path(path), mounts) == expected


def test_the_network_share_warning_names_the_way_out(tmp_path: Path) -> None:
    mounts = tmp_path / "mounts"
    mounts.write_text(f"/dev/vda / ext4 rw 0 0\nsrv:/x {tmp_path}/share nfs rw 0 0\n")
    on_share = AppConfig(data_dir=tmp_path / "share" / "data")
    warning = network_share_warning(on_share, mounts)
    assert warning is not None
    assert "network share (nfs)" in warning
    assert "WAL" in warning and "--data-dir" in warning and "PostgreSQL" in warning
    assert network_share_warning(AppConfig(data_dir=tmp_path / "local"), mounts) is None


def test_an_unreadable_mount_table_gives_no_warning(tmp_path: Path) -> None:
    assert network_filesystem(tmp_path / "x.db", tmp_path / "no-such-mounts") is None

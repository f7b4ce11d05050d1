"""Ways forward after a database fault: backups to restore, a fresh start, a warning.

The interface offers these when the records cannot be opened (see ``app.ui.recovery``):
restore one of the backups Think Twice made before each schema upgrade, or start a new
database; in both cases the damaged file is kept, renamed to
``thinktwice.db.corrupt-<time>``, never deleted. It also warns when the database sits on
a network file system, where SQLite's WAL journal is not safe.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from app.storage.errors import StorageError
from app.storage.recovery import SIDE_FILE_SUFFIXES, copy_database, integrity_problem, move_aside

if TYPE_CHECKING:
    from app.services.bootstrap import AppConfig

BACKUP_SUFFIX = ".db"
CORRUPT_LABEL = "corrupt"
MOUNTS_FILE = Path("/proc/mounts")

# File system types (as /proc/mounts names them) that live on another machine. SQLite's
# WAL journal needs shared memory and locks that these do not provide reliably.
NETWORK_FILE_SYSTEMS = frozenset(
    {
        "nfs",
        "nfs4",
        "cifs",
        "smb3",
        "smbfs",
        "9p",
        "afs",
        "ceph",
        "glusterfs",
        "lustre",
        "davfs",
        "fuse.sshfs",
        "fuse.glusterfs",
        "fuse.davfs2",
        "fuse.rclone",
    }
)


class BackupUnusable(StorageError):  # noqa: N818 (named for the condition, like the others)
    """The chosen backup is damaged or is not a Think Twice database."""


@dataclass(frozen=True)
class Backup:
    """A backup file in the data folder's ``backups`` folder."""

    path: Path
    saved_at: datetime
    """When the file was written (its modification time, UTC)."""
    size: int

    def describe(self) -> str:
        """One line for a list: the time, the file name and the size."""
        when = self.saved_at.strftime("%Y-%m-%d %H:%M UTC")
        return f"{when} · {self.path.name} · {_size_text(self.size)}"


@dataclass(frozen=True)
class Restored:
    """What :func:`restore_backup` did."""

    database: Path
    backup: Path
    set_aside: Path | None
    """Where the damaged file now is (``None`` when there was none)."""


def database_file(config: AppConfig) -> Path | None:
    """The SQLite file the configuration opens, or ``None`` for a server database."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(config.effective_database_url())
    except (ArgumentError, ValueError):
        return None
    name = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or name in {"", ":memory:"}:
        return None
    return Path(name).expanduser().absolute()


def list_backups(backup_dir: Path) -> list[Backup]:
    """The backups in ``backup_dir``, newest first (an empty list when there is none)."""
    found: list[Backup] = []
    try:
        entries = list(os.scandir(backup_dir))
    except OSError:
        return found
    for entry in entries:
        # Hidden files are copies still being written (".name.partial").
        if entry.name.startswith(".") or not entry.name.endswith(BACKUP_SUFFIX):
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        saved_at = datetime.fromtimestamp(info.st_mtime, UTC)
        found.append(Backup(Path(entry.path), saved_at, info.st_size))
    found.sort(key=lambda backup: (backup.saved_at, backup.path.name), reverse=True)
    return found


def restore_backup(
    config: AppConfig, backup: Path, *, now: Callable[[], datetime] | None = None
) -> Restored:
    """Replace the configured database with a copy of ``backup``.

    The backup is checked first (SQLite's integrity check); a damaged one raises
    :class:`BackupUnusable` and changes nothing. The current file, if any, is renamed to
    ``<name>.corrupt-<time>`` together with its ``-wal`` and ``-shm`` files, then the
    backup is copied into place with SQLite's backup API. Should the copy fail, the
    damaged file is put back, so the folder is as it was. Raises a
    :class:`~app.storage.errors.StorageError` on failure.
    """
    database = _require_file(config)
    problem = integrity_problem(backup)
    if problem is not None:
        raise BackupUnusable(
            f"The backup cannot be restored: {problem}. Choose another backup, or start a "
            "new database.",
            location=str(backup),
        )
    set_aside = _set_aside(database, now)
    try:
        copy_database(backup, database)
    except BaseException:
        if set_aside is not None:
            _put_back(set_aside, database)
        raise
    return Restored(database=database, backup=backup, set_aside=set_aside)


def start_new_database(
    config: AppConfig, *, now: Callable[[], datetime] | None = None
) -> Path | None:
    """Rename the configured database aside so that the next start creates a new one.

    Returns where the old file went (``None`` when there was none). Nothing is deleted.
    """
    return _set_aside(_require_file(config), now)


def network_filesystem(path: Path, mounts_file: Path = MOUNTS_FILE) -> str | None:
    """The type of network file system ``path`` is on (``"nfs4"``, ``"cifs"``...), or ``None``.

    On Linux this reads the mount table; elsewhere it recognises only Windows network
    paths (``\\\\server\\share``). ``None`` also means "cannot tell".
    """
    text = str(path)
    if text.startswith(("\\\\", "//")) and sys.platform == "win32":
        return "smb"
    try:
        table = mounts_file.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    place = _real_path(path)
    best: tuple[int, str] | None = None
    for line in table.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        mount_point = _unescape_mount_field(fields[1])
        if not _is_within(place, mount_point):
            continue
        if best is None or len(mount_point) >= best[0]:
            best = (len(mount_point), fields[2])
    if best is None:
        return None
    return best[1] if best[1] in NETWORK_FILE_SYSTEMS else None


def network_share_warning(config: AppConfig, mounts_file: Path = MOUNTS_FILE) -> str | None:
    """A warning to show when the configured SQLite file is on a network share, else ``None``."""
    database = database_file(config)
    if database is None:
        return None
    kind = network_filesystem(database, mounts_file)
    if kind is None:
        return None
    return (
        f"The database {database} is on a network share ({kind}). Think Twice keeps answers "
        "with SQLite's WAL journal, which needs a local disk: on a network share answers "
        "can be lost or the file damaged. Start Think Twice with --data-dir pointing to a "
        "folder on a local disk, or, for a team, use a shared PostgreSQL database "
        "(--database-url)."
    )


def _require_file(config: AppConfig) -> Path:
    database = database_file(config)
    if database is None:
        raise StorageError(
            "Think Twice can restore backups only of a SQLite file; restore a server "
            "database with the server's own tools.",
            location=config.database_url,
        )
    return database


def _set_aside(database: Path, now: Callable[[], datetime] | None) -> Path | None:
    if not os.path.lexists(database):
        return None
    stamp = (now or _utc_now)().astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return move_aside(database, f"{CORRUPT_LABEL}-{stamp}")


def _put_back(set_aside: Path, database: Path) -> None:
    """Undo :func:`_set_aside` (best effort: the caller is already failing)."""
    try:
        if os.path.lexists(database):
            return
        os.replace(set_aside, database)
        for suffix in SIDE_FILE_SUFFIXES:
            side = set_aside.with_name(set_aside.name + suffix)
            if os.path.lexists(side):
                os.replace(side, database.with_name(database.name + suffix))
    except OSError:
        pass


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _size_text(size: int) -> str:
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def _real_path(path: Path) -> str:
    """``path`` made absolute with its symbolic links resolved (it need not exist yet)."""
    return os.path.realpath(path.expanduser().absolute())


def _is_within(path: str, mount_point: str) -> bool:
    if mount_point == "/":
        return path.startswith("/")
    return path == mount_point or path.startswith(mount_point.rstrip("/") + "/")


def _unescape_mount_field(field: str) -> str:
    # The kernel writes space, tab, newline and backslash in octal (\040 and so on).
    for escaped, plain in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(escaped, plain)
    return field

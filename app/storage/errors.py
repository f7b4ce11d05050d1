"""Database faults as exceptions whose message tells the user what happened and what to do.

This module imports neither SQLAlchemy nor a database driver at its top, so the interface can
import the error classes before the database layer is loaded.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

# SQLite primary result codes (the low byte of an extended code).
_SQLITE_PERM = 3
_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6
_SQLITE_READONLY = 8
_SQLITE_IOERR = 10
_SQLITE_CORRUPT = 11
_SQLITE_FULL = 13
_SQLITE_CANTOPEN = 14
_SQLITE_NOTADB = 26


class StorageError(Exception):
    """A database fault with a message meant for the user.

    ``location`` names the database (a file path, or a server address without its
    password) so that the message and any log say which one is affected.
    """

    def __init__(self, message: str, *, location: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location

    def __str__(self) -> str:
        return self.message


# The fault classes are named for the fault itself (no "Error" suffix): they read as
# the condition in the interface's handlers, e.g. ``except DatabaseLocked``.
class DatabaseLocked(StorageError):  # noqa: N818
    """Another program holds the database; waiting and retrying usually helps."""


class DatabaseReadOnly(StorageError):  # noqa: N818
    """The database, its folder or the account used cannot be written to."""


class DatabaseCorrupt(StorageError):  # noqa: N818
    """The file is damaged or is not a Think Twice database at all."""


class DiskFull(StorageError):  # noqa: N818
    """There is no room left to write."""


class DatabaseUnreachable(StorageError):  # noqa: N818
    """The database file or server cannot be reached or opened."""


class DatabaseLoginFailed(DatabaseUnreachable):
    """The database server refused the login: no password was given, or a wrong one."""


class DatabaseTooNew(StorageError):  # noqa: N818
    """The database was upgraded by a newer Think Twice than this one."""


class MigrationFailed(StorageError):  # noqa: N818
    """Upgrading the database schema failed; nothing of the upgrade was kept."""

    def __init__(
        self, message: str, *, location: str | None = None, backup_path: Path | None = None
    ) -> None:
        super().__init__(message, location=location)
        self.backup_path = backup_path


def locked_message(location: str) -> str:
    """What to say when the database stays busy past the wait."""
    return (
        f"The database {location} is busy: another program, or another Think Twice window, "
        "is writing to it. Nothing was saved. Wait a moment and try again; if it keeps "
        "happening, close the other copies of Think Twice."
    )


def translate_error(error: BaseException, location: str) -> StorageError | None:
    """The :class:`StorageError` that explains ``error``, or ``None`` if it is not a fault.

    Accepts SQLAlchemy errors (looking at the driver error inside), errors from the
    ``sqlite3`` module and psycopg errors. Constraint violations are not faults and are
    left alone (``None``), so callers can handle them; so is an ``OSError``, which may come
    from a file that is not the database (use :func:`from_os_error` where it is).
    """
    if isinstance(error, StorageError):
        return error
    driver_error = getattr(error, "orig", None)
    if isinstance(driver_error, BaseException):
        found = _from_driver_error(driver_error, location)
        if found is not None:
            return found
        if _is_integrity_error(driver_error):
            return None
    else:
        found = _from_driver_error(error, location)
        if found is not None:
            return found
        if _is_integrity_error(error):
            return None
    return _from_sqlalchemy_error(error, location)


def _is_integrity_error(error: BaseException) -> bool:
    if isinstance(error, sqlite3.IntegrityError):
        return True
    sqlstate = getattr(error, "sqlstate", None)
    return isinstance(sqlstate, str) and sqlstate.startswith("23")


def _from_driver_error(error: BaseException, location: str) -> StorageError | None:
    if isinstance(error, sqlite3.Error):
        return _from_sqlite_error(error, location)
    if type(error).__module__.startswith("psycopg"):
        return _from_psycopg_error(error, location)
    return None


def from_os_error(error: OSError, location: str) -> StorageError:
    """Explain a file-system error met while opening, backing up or writing."""
    import errno

    detail = error.strerror or str(error)
    if error.errno in {errno.ENOSPC, errno.EDQUOT}:
        return DiskFull(_disk_full_message(location), location=location)
    if error.errno in {errno.EROFS, errno.EACCES, errno.EPERM}:
        return DatabaseReadOnly(_read_only_message(location, detail), location=location)
    return DatabaseUnreachable(_unreachable_message(location, detail), location=location)


def _from_sqlite_error(error: sqlite3.Error, location: str) -> StorageError | None:
    if isinstance(error, sqlite3.IntegrityError):
        return None
    code = getattr(error, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    text = str(error).lower()
    if primary in {_SQLITE_BUSY, _SQLITE_LOCKED} or "database is locked" in text:
        return DatabaseLocked(locked_message(location), location=location)
    if primary == _SQLITE_READONLY or "readonly database" in text:
        return DatabaseReadOnly(_read_only_message(location, str(error)), location=location)
    if primary in {_SQLITE_CORRUPT, _SQLITE_NOTADB} or (
        "malformed" in text or "not a database" in text
    ):
        return DatabaseCorrupt(_corrupt_message(location), location=location)
    if primary == _SQLITE_FULL or "disk is full" in text:
        return DiskFull(_disk_full_message(location), location=location)
    if primary in {_SQLITE_CANTOPEN, _SQLITE_IOERR, _SQLITE_PERM} or (
        "unable to open" in text or "disk i/o error" in text
    ):
        return DatabaseUnreachable(_unreachable_message(location, str(error)), location=location)
    if isinstance(error, sqlite3.ProgrammingError | sqlite3.InterfaceError):
        # Misuse of the driver is a bug to fix, not a fault to explain.
        return None
    return StorageError(_generic_message(location, str(error)), location=location)


# PostgreSQL SQLSTATE codes and classes (https://www.postgresql.org/docs/current/errcodes-appendix.html).
_PG_LOCKED = {"40P01", "40001", "55P03", "55006"}
_PG_READ_ONLY = {"25006", "42501"}
_PG_CORRUPT = {"XX001", "XX002"}
_PG_DISK_FULL = {"53100"}
_PG_UNREACHABLE = {"57P01", "57P02", "57P03", "53300"}
_PG_LOGIN_REFUSED = {"28P01"}
_LOGIN_REFUSALS = ("password authentication failed", "no password supplied")


def _is_login_refusal(text: str) -> bool:
    lowered = text.lower()
    return any(phrase in lowered for phrase in _LOGIN_REFUSALS)


def _from_psycopg_error(error: BaseException, location: str) -> StorageError | None:
    sqlstate = getattr(error, "sqlstate", None)
    detail = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    if sqlstate is None:
        # psycopg gives no SQLSTATE when it never reached the server, nor for a refused
        # login; libpq's (English) wording is all there is to tell a login apart.
        if type(error).__name__ == "OperationalError" and _is_login_refusal(str(error)):
            return DatabaseLoginFailed(_login_message(location, detail), location=location)
        if type(error).__name__ in {"OperationalError", "InterfaceError"}:
            return DatabaseUnreachable(_unreachable_message(location, detail), location=location)
        return None
    if sqlstate in _PG_LOCKED:
        return DatabaseLocked(locked_message(location), location=location)
    if sqlstate in _PG_READ_ONLY:
        return DatabaseReadOnly(_read_only_message(location, detail), location=location)
    if sqlstate in _PG_CORRUPT:
        return DatabaseCorrupt(_corrupt_message(location), location=location)
    if sqlstate in _PG_DISK_FULL:
        return DiskFull(_disk_full_message(location), location=location)
    if sqlstate in _PG_LOGIN_REFUSED:
        return DatabaseLoginFailed(_login_message(location, detail), location=location)
    if sqlstate in _PG_UNREACHABLE or sqlstate.startswith(("08", "28")):
        return DatabaseUnreachable(_unreachable_message(location, detail), location=location)
    if sqlstate.startswith("23"):
        return None
    return StorageError(_generic_message(location, detail), location=location)


def _from_sqlalchemy_error(error: BaseException, location: str) -> StorageError | None:
    module = type(error).__module__
    if not module.startswith("sqlalchemy"):
        return None
    name = type(error).__name__
    if name == "IntegrityError":
        return None
    if name in {"DisconnectionError", "TimeoutError"} or getattr(
        error, "connection_invalidated", False
    ):
        return DatabaseUnreachable(_unreachable_message(location, str(error)), location=location)
    if name in {"ArgumentError", "NoSuchModuleError"}:
        return DatabaseUnreachable(
            f"{location} is not a database address Think Twice can use ({error}). "
            "Check the --database-url value, for example sqlite:///path/to/file.db or "
            "postgresql+psycopg://user@host/dbname.",
            location=location,
        )
    if name in {"OperationalError", "DatabaseError", "InternalError", "InterfaceError"}:
        return StorageError(_generic_message(location, str(error)), location=location)
    return None


def _read_only_message(location: str, detail: str) -> str:
    return (
        f"The database {location} cannot be written to ({detail}). Nothing was saved. "
        "Check that the file and its folder are writable by you (and that the database "
        "account may write), or choose another data folder with --data-dir."
    )


def _corrupt_message(location: str) -> str:
    return (
        f"The database {location} is damaged or is not a Think Twice database. "
        "Restore a backup (Think Twice keeps them in the 'backups' folder beside the "
        "database), or move the file aside so that a new, empty database is created."
    )


def _disk_full_message(location: str) -> str:
    return (
        f"The disk that holds the database {location} is full. Nothing was saved. "
        "Free some space and try again."
    )


def _unreachable_message(location: str, detail: str) -> str:
    if "://" in location:
        advice = (
            "Check that the database server is running, that the network is up and that "
            "the address, user and database name are right, then try again."
        )
    else:
        advice = (
            "Check that its folder exists and is on a local disk you can reach (not a "
            "network share), then try again."
        )
    return f"Could not open the database {location} ({detail}). {advice}"


def _login_message(location: str, detail: str) -> str:
    # The detail is the server's or libpq's own sentence; it never holds the password.
    return (
        f"The database server {location} refused the login ({detail}). Give the password "
        "for this account (in Think Twice's Team database window, or PGPASSWORD or a "
        ".pgpass file), and check the user name."
    )


def _generic_message(location: str, detail: str) -> str:
    return (
        f"The database {location} reported an error ({detail}). Nothing was saved. "
        "Try again; if it keeps happening, restore a backup or ask for help with this message."
    )

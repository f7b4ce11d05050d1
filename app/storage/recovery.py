"""Rescuing a SQLite database file: checking it, setting it aside, restoring a copy.

Everything here works on closed files with the ``sqlite3`` module. A copy is always made
with SQLite's online backup API, never by copying bytes: a database in WAL mode keeps
committed data in its ``-wal`` file, which a file copy can miss. The service layer
(``app.services.recovery``) decides when to use these.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from app.storage.errors import StorageError, from_os_error, translate_error

SIDE_FILE_SUFFIXES = ("-wal", "-shm", "-journal")
"""Files SQLite keeps beside a database; they belong to it and move with it."""

_SCHEMA_TABLE = "alembic_version"


def integrity_problem(path: Path) -> str | None:
    """``None`` when ``path`` is a sound Think Twice database, else what is wrong, in words.

    Runs SQLite's ``PRAGMA integrity_check`` and looks for the schema's version table.
    The file is opened for reading only.
    """
    if not path.is_file():
        return f"{path} does not exist"
    try:
        connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
        try:
            result = connection.execute("PRAGMA integrity_check").fetchone()
            tables = {
                row[0]
                for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
        finally:
            connection.close()
    except sqlite3.Error as error:
        return f"{path} cannot be read as a database ({error})"
    if result is None or result[0] != "ok":
        detail = result[0] if result is not None else "no answer"
        return f"{path} is damaged (SQLite's integrity check says: {detail})"
    if _SCHEMA_TABLE not in tables:
        return f"{path} is not a Think Twice database"
    return None


def move_aside(path: Path, label: str) -> Path:
    """Rename ``path`` (and its ``-wal``/``-shm`` files) to ``<name>.<label>``; returns it.

    The side files must move too: left behind, SQLite would apply an old ``-wal`` file to
    the next database created under the same name. A number is added when the name is
    taken. Raises a :class:`StorageError` when the files cannot be renamed.
    """
    target = path.with_name(f"{path.name}.{label}")
    counter = 2
    while os.path.lexists(target):
        target = path.with_name(f"{path.name}.{label}-{counter}")
        counter += 1
    try:
        os.replace(path, target)
        for suffix in SIDE_FILE_SUFFIXES:
            side = path.with_name(path.name + suffix)
            if os.path.lexists(side):
                os.replace(side, target.with_name(target.name + suffix))
    except OSError as error:
        raise from_os_error(error, str(path)) from error
    return target


def copy_database(source: Path, target: Path) -> None:
    """Write a consistent copy of the database ``source`` at ``target``.

    The copy is built under a temporary name beside ``target`` and renamed into place
    when complete, so ``target`` is never half written. ``target`` must not exist.
    Raises a :class:`StorageError` when reading or writing fails.
    """
    if os.path.lexists(target):
        raise StorageError(f"{target} already exists; it was left as it is.", location=str(target))
    partial = target.with_name(f".{target.name}.partial")
    try:
        partial.unlink(missing_ok=True)
        source_connection = sqlite3.connect(f"{source.as_uri()}?mode=ro", uri=True)
        try:
            copy_connection = sqlite3.connect(str(partial))
            try:
                source_connection.backup(copy_connection)
            finally:
                copy_connection.close()
        finally:
            source_connection.close()
        os.replace(partial, target)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise from_os_error(error, str(target)) from error
    except sqlite3.Error as error:
        partial.unlink(missing_ok=True)
        found = translate_error(error, str(source))
        if found is None:
            raise
        raise found from error

"""Opening the database: engine set-up, schema upgrade at open, backups and short sessions.

SQLite is the default; PostgreSQL works through the same code and migrations. The SQLite
connection set-up follows what was reproduced on this stack: the driver's own transaction
handling is switched off so that SQLAlchemy's ``BEGIN`` (and DDL inside it) really is
transactional, and the pragmas are set per connection on this engine only.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.storage import migrator
from app.storage.errors import (
    DatabaseCorrupt,
    DatabaseReadOnly,
    DatabaseTooNew,
    DatabaseUnreachable,
    MigrationFailed,
    StorageError,
    from_os_error,
    translate_error,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Connection, Engine
    from sqlmodel import Session

_log = logging.getLogger(__name__)

DEFAULT_BUSY_TIMEOUT = 5.0
"""Seconds a SQLite connection waits for another writer before giving up."""

DEFAULT_SERVER_CONNECT_TIMEOUT = 10
# Milliseconds unacknowledged data may wait before the connection counts as lost.
SERVER_USER_TIMEOUT_MS = 15_000
"""Seconds to wait for a database server to answer before calling it unreachable."""

BACKUP_FOLDER_NAME = "backups"

# Execution option that asks for a plain (deferred) BEGIN: reads in WAL mode then take no
# write lock, so a long export does not hold up trainees who are answering.
_READ_OPTION = "thinktwice_read"
# Any constant works; it only has to be the same for every Think Twice instance.
_MIGRATION_LOCK_KEY = 0x7417_0001
# "scheme://user:password@" in a URL, to mask the password in messages.
_PASSWORD_IN_URL = re.compile(r"(://[^:/@]*:)[^@]*@")


class Database:
    """An open database: its engine, where it is, and how to use it in short sessions.

    Create it with :func:`open_database`. Use one :meth:`write_session` per user action
    (it commits at the end of the ``with`` block) and :meth:`read_session` or
    :meth:`read_connection` for reading. Database faults inside these blocks come out as
    :class:`~app.storage.errors.StorageError` subclasses.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        location: str,
        sqlite_path: Path | None,
        backup_dir: Path | None,
        read_only: bool = False,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    ) -> None:
        self._engine = engine
        self._read_engine = engine.execution_options(**{_READ_OPTION: True})
        self._location = location
        self._sqlite_path = sqlite_path
        self._backup_dir = backup_dir
        self._read_only = read_only
        self._busy_timeout = busy_timeout

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (for code in the storage and service layers)."""
        return self._engine

    @property
    def dialect_name(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._engine.dialect.name

    @property
    def location(self) -> str:
        """The database file, or the server address without its password, for messages."""
        return self._location

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite file, or ``None`` for a server or an in-memory database."""
        return self._sqlite_path

    @property
    def backup_dir(self) -> Path | None:
        """Where backups of a SQLite file go."""
        if self._backup_dir is not None:
            return self._backup_dir
        if self._sqlite_path is not None:
            return self._sqlite_path.parent / BACKUP_FOLDER_NAME
        return None

    @property
    def read_only(self) -> bool:
        """Whether this database was opened for reading only."""
        return self._read_only

    @contextmanager
    def translated_errors(self) -> Iterator[None]:
        """Turn database faults raised inside the block into :class:`StorageError`."""
        try:
            yield
        except StorageError:
            raise
        except Exception as error:
            found = translate_error(error, self._location)
            if found is None:
                raise
            # Info, not warning: the caller shows the message; this only leaves a trace.
            _log.info("database fault: %s", found.message)
            raise found from error

    @contextmanager
    def write_session(self) -> Iterator[Session]:
        """A session for one action; commits when the block ends without an error.

        On a database opened read-only this refuses at once, with a message to show.
        """
        from sqlmodel import Session

        if self._read_only:
            raise DatabaseReadOnly(
                f"The database {self._location} is open read-only, so answers cannot be "
                "saved. Nothing was saved. Once the file can be written to again, restart "
                "Think Twice to go on answering.",
                location=self._location,
            )
        with self.translated_errors(), Session(self._engine, expire_on_commit=False) as session:
            yield session
            session.commit()

    @contextmanager
    def read_session(self) -> Iterator[Session]:
        """A session for reading; whatever it did is rolled back at the end."""
        from sqlmodel import Session

        with (
            self.translated_errors(),
            Session(self._read_engine, expire_on_commit=False) as session,
        ):
            yield session

    @contextmanager
    def read_connection(self) -> Iterator[Connection]:
        """A connection for streaming reads (exports); rolled back at the end."""
        with self.translated_errors(), self._read_engine.connect() as connection:
            yield connection

    def current_revision(self) -> str | None:
        """The schema revision recorded in the database (``None`` when it has none)."""
        with self.translated_errors(), self._read_engine.connect() as connection:
            return _revision_on(connection)

    def backup(self, directory: Path | None = None, *, label: str = "backup") -> Path:
        """Copy the SQLite database into ``directory`` with SQLite's online backup API.

        The copy is consistent even while the database is in use and in WAL mode (a plain
        file copy of a WAL database can miss committed data). It is written under a
        temporary name and renamed when complete. Returns the path of the copy.
        """
        if self._sqlite_path is None:
            raise StorageError(
                f"Think Twice cannot back up the database {self._location} itself; "
                "use the server's own backups (for PostgreSQL, pg_dump).",
                location=self._location,
            )
        target_dir = directory or self.backup_dir
        assert target_dir is not None  # a SQLite file always has a default backup folder
        return backup_sqlite_file(
            self._sqlite_path, target_dir, label=label, busy_timeout=self._busy_timeout
        )

    def close(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _bring_to_head(self, current: str | None, has_tables: bool) -> None:
        """Upgrade the schema to the head revision, backing up first if there is data."""
        if current == migrator.HEAD_REVISION:
            return
        if self._read_only:
            raise StorageError(
                f"The database {self._location} needs an upgrade for this version of "
                "Think Twice, which cannot be done while it is opened read-only.",
                location=self._location,
            )
        known = migrator.known_revisions()
        if current is not None and current not in known:
            raise DatabaseTooNew(
                f"The database {self._location} was last used by a newer version of Think "
                f"Twice (schema revision {current}). Update Think Twice to open it; nothing "
                "was changed.",
                location=self._location,
            )
        backup_path: Path | None = None
        if self._sqlite_path is not None and has_tables:
            backup_path = self.backup(label=f"before-upgrade-from-{current or 'none'}")
            _log.info("backed up %s to %s before upgrading it", self._location, backup_path)
        try:
            self._run_upgrade()
        except Exception as error:
            raise _migration_failed(error, self._location, backup_path) from error
        _log.info("upgraded %s from %s to %s", self._location, current, migrator.HEAD_REVISION)

    def _run_upgrade(self) -> None:
        """Run all pending revisions in one transaction; commit only if all succeed."""
        is_sqlite = self.dialect_name == "sqlite"
        with self._engine.connect() as connection:
            if is_sqlite:
                # Batch migrations rebuild tables; enforcement would refuse that. It is
                # checked as a whole before COMMIT instead.
                _set_foreign_keys(connection, enabled=False)
            try:
                with connection.begin():
                    if self.dialect_name == "postgresql":
                        # Several app instances may start at once against one server.
                        connection.exec_driver_sql(
                            f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_KEY})"
                        )
                    migrator.upgrade(connection)
                    if is_sqlite:
                        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                        if broken:
                            raise _ForeignKeyCheckError(
                                f"{len(broken)} row(s) would point at missing rows, "
                                f"for example in table {broken[0][0]}"
                            )
            finally:
                if is_sqlite:
                    _restore_foreign_keys(connection)


class _ForeignKeyCheckError(Exception):
    """The upgraded schema would leave rows pointing at rows that do not exist."""


def open_database(
    url: str,
    *,
    backup_dir: Path | None,
    busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    read_only: bool = False,
    password: str | None = None,
) -> Database:
    """Open the database at ``url`` and bring its schema up to date.

    ``backup_dir`` is where a SQLite file is backed up before a schema upgrade (``None``:
    a ``backups`` folder beside the file). ``busy_timeout`` is how long, in seconds, SQLite
    waits for another writer. ``read_only`` opens a SQLite file without ever writing to it
    (a way forward when the file cannot be written); it must already be up to date.
    ``password`` is used for a server whose URL carries none (from the system keyring, or
    asked for); it is handed to the driver and never shown.

    Raises a :class:`~app.storage.errors.StorageError` subclass on any fault.
    """
    parsed = _with_password(_parse_url(url), password)
    if parsed.get_backend_name() == "sqlite":
        return _open_sqlite(parsed, backup_dir, busy_timeout, read_only)
    if read_only:
        raise StorageError(
            "Opening read-only is possible only for a SQLite file.",
            location=parsed.render_as_string(hide_password=True),
        )
    return _open_server(parsed, backup_dir)


def backup_sqlite_file(
    source: Path,
    directory: Path,
    *,
    label: str = "backup",
    busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
) -> Path:
    """Back up the SQLite file ``source`` into ``directory`` with a timestamped name."""
    location = str(source)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        target = directory / f"{source.stem}-{stamp}-{label}.db"
        counter = 2
        while target.exists():
            target = directory / f"{source.stem}-{stamp}-{label}-{counter}.db"
            counter += 1
        partial = target.with_name(f".{target.name}.partial")
        source_connection = sqlite3.connect(str(source), timeout=busy_timeout)
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
        raise from_os_error(error, str(directory)) from error
    except sqlite3.Error as error:
        found = translate_error(error, location)
        if found is None:
            raise
        raise found from error
    return target


@dataclass(frozen=True)
class SchemaStatus:
    """A database's schema revision next to the one this version of Think Twice needs.

    ``location`` names the database without its password; ``current`` is ``None`` when
    the database holds no Think Twice schema yet (or the SQLite file does not exist).
    """

    location: str
    current: str | None
    head: str
    known: bool
    """Whether ``current`` is a revision of these migrations (or ``None``)."""

    @property
    def up_to_date(self) -> bool:
        """Whether the schema is exactly the one this version needs."""
        return self.current == self.head

    @property
    def needs_upgrade(self) -> bool:
        """Whether an upgrade (``thinktwice db upgrade``) would bring it to the head."""
        return not self.up_to_date and self.known


def inspect_schema(
    url: str, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT, password: str | None = None
) -> SchemaStatus:
    """Read the schema revision of the database at ``url``, changing nothing.

    Unlike :func:`open_database` this never upgrades, and never creates a SQLite file that
    does not exist. ``password`` is as for :func:`open_database`. Raises a
    :class:`~app.storage.errors.StorageError` subclass when the database cannot be reached
    or read.
    """
    parsed = _with_password(_parse_url(url), password)
    if parsed.get_backend_name() == "sqlite":
        name = parsed.database or ""
        path = None if name in {"", ":memory:"} else Path(name).expanduser().absolute()
        location = str(path) if path is not None else "(in memory)"
        current = _peek_sqlite(path, busy_timeout, location)[0] if path is not None else None
    else:
        location = parsed.render_as_string(hide_password=True)
        current = _peek_server(parsed, location)
    known = current is None or current in migrator.known_revisions()
    return SchemaStatus(
        location=location, current=current, head=migrator.HEAD_REVISION, known=known
    )


def _parse_url(url: str) -> URL:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url)
    except (ArgumentError, ValueError) as error:
        # ValueError: a port that is not a number. A URL that does not parse may still
        # hold a password: never repeat it.
        shown = _PASSWORD_IN_URL.sub(r"\1***@", url)
        raise DatabaseUnreachable(
            f"'{shown}' is not a database address Think Twice can use. Use, for example, "
            "sqlite:///path/to/thinktwice.db or postgresql+psycopg://user@host/dbname.",
            location=shown,
        ) from error


def _with_password(parsed: URL, password: str | None) -> URL:
    """``parsed`` with ``password`` when it has none of its own (a server URL only)."""
    if password is None or parsed.password is not None:
        return parsed
    if parsed.get_backend_name() == "sqlite":
        return parsed
    return parsed.set(password=password)


def _peek_server(parsed: URL, location: str) -> str | None:
    """The revision recorded on a database server, read on one short connection."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    try:
        engine = create_engine(
            parsed, poolclass=NullPool, connect_args=_server_connect_args(parsed)
        )
        try:
            with engine.connect() as connection:
                return _revision_on(connection)
        finally:
            engine.dispose()
    except Exception as error:
        found = translate_error(error, location)
        if found is None:
            raise
        raise found from error


def _server_connect_args(parsed: URL) -> dict[str, Any]:
    if parsed.get_backend_name() != "postgresql":
        return {}
    # Without keepalives and a user timeout, a query on a connection whose network went
    # away silently waits for TCP to give up: many minutes. These notice it in seconds.
    defaults: dict[str, Any] = {
        "connect_timeout": DEFAULT_SERVER_CONNECT_TIMEOUT,
        "keepalives": 1,
        "keepalives_idle": 30,
        "keepalives_interval": 5,
        "keepalives_count": 3,
        "tcp_user_timeout": SERVER_USER_TIMEOUT_MS,
    }
    return {key: value for key, value in defaults.items() if key not in parsed.query}


def _open_sqlite(
    parsed: URL, backup_dir: Path | None, busy_timeout: float, read_only: bool
) -> Database:
    name = parsed.database or ""
    path = None if name in {"", ":memory:"} else Path(name).expanduser().absolute()
    location = str(path) if path is not None else "(in memory)"
    current: str | None = None
    has_tables = False
    if path is not None:
        if read_only:
            if not path.is_file():
                raise DatabaseUnreachable(
                    f"There is no database file at {location}.", location=location
                )
        else:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise from_os_error(error, location) from error
            _check_writable(path, location)
        current, has_tables = _peek_sqlite(path, busy_timeout, location)
    engine = _sqlite_engine(path, busy_timeout, read_only)
    database = Database(
        engine,
        location=location,
        sqlite_path=path,
        backup_dir=backup_dir,
        read_only=read_only,
        busy_timeout=busy_timeout,
    )
    try:
        database._bring_to_head(current, has_tables)
    except BaseException:
        database.close()
        raise
    return database


def _check_writable(path: Path, location: str) -> None:
    """Refuse a file (or folder) that cannot be written, rather than fail at the first save.

    SQLite quietly opens such a file for reading only and fails only when an answer is
    saved. The folder matters too: the WAL journal creates files beside the database.
    """
    places = [path, path.parent] if path.exists() else [path.parent]
    for place in places:
        if not os.access(place, os.W_OK):
            what = "the file" if place == path else f"its folder {place}"
            raise from_os_error(PermissionError(errno.EACCES, f"{what} is not writable"), location)


def _peek_sqlite(path: Path, busy_timeout: float, location: str) -> tuple[str | None, bool]:
    """The recorded revision and whether there are tables, read without SQLAlchemy."""
    if not path.exists() or (path.is_file() and path.stat().st_size == 0):
        return None, False
    try:
        connection = sqlite3.connect(str(path), timeout=busy_timeout)
        try:
            tables = {
                row[0]
                for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            if "alembic_version" not in tables:
                return None, bool(tables)
            rows = connection.execute("SELECT version_num FROM alembic_version").fetchall()
        finally:
            connection.close()
    except sqlite3.Error as error:
        found = translate_error(error, location) or DatabaseCorrupt(
            f"The database {location} could not be read ({error}).", location=location
        )
        raise found from error
    current = rows[0][0] if len(rows) == 1 else None
    return current, True


def _sqlite_engine(path: Path | None, busy_timeout: float, read_only: bool) -> Engine:
    from sqlalchemy import create_engine, event
    from sqlalchemy.engine import URL
    from sqlalchemy.pool import QueuePool, StaticPool

    if path is None:
        engine = create_engine(
            "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
        )
    elif read_only:
        uri = f"{path.as_uri()}?mode=ro"

        def connect_read_only() -> sqlite3.Connection:
            return sqlite3.connect(uri, uri=True, timeout=busy_timeout, check_same_thread=False)

        engine = create_engine("sqlite://", creator=connect_read_only, poolclass=QueuePool)
    else:
        engine = create_engine(
            URL.create("sqlite", database=str(path)),
            connect_args={"timeout": busy_timeout, "check_same_thread": False},
        )

    busy_ms = max(0, round(busy_timeout * 1000))

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Python 3.11's sqlite3 would otherwise open and commit transactions on its own,
        # which makes DDL non-transactional; SQLAlchemy's BEGIN below replaces it.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
            # Only takes effect outside a transaction, hence here.
            cursor.execute("PRAGMA foreign_keys=ON")
            if not read_only and path is not None:
                mode = cursor.execute("PRAGMA journal_mode=WAL").fetchone()
                if mode is None or str(mode[0]).lower() != "wal":
                    # WAL needs shared memory, which network file systems may not offer.
                    _log.warning(
                        "%s: WAL journal not available (got %s); is it on a network share?",
                        path,
                        mode,
                    )
                cursor.execute("PRAGMA synchronous=FULL")
        finally:
            cursor.close()

    def on_begin(connection: Connection) -> None:
        deferred = read_only or bool(connection.get_execution_options().get(_READ_OPTION))
        # IMMEDIATE takes the write lock up front, so a write never fails half-way with
        # SQLITE_BUSY after it has read; plain BEGIN lets readers run beside writers.
        connection.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")

    event.listen(engine, "connect", on_connect)
    event.listen(engine, "begin", on_begin)
    return engine


def _set_foreign_keys(connection: Connection, *, enabled: bool) -> None:
    # Must run outside a transaction, so straight on the driver connection.
    driver_connection: Any = connection.connection.driver_connection
    driver_connection.execute(f"PRAGMA foreign_keys={'ON' if enabled else 'OFF'}")


def _restore_foreign_keys(connection: Connection) -> None:
    try:
        _set_foreign_keys(connection, enabled=True)
    except Exception:
        # Never hand a connection without enforcement back to the pool.
        connection.invalidate()


def _open_server(parsed: URL, backup_dir: Path | None) -> Database:
    from sqlalchemy import create_engine

    location = parsed.render_as_string(hide_password=True)
    try:
        engine = create_engine(
            parsed, pool_pre_ping=True, connect_args=_server_connect_args(parsed)
        )
    except Exception as error:
        found = translate_error(error, location)
        if found is None:
            raise
        raise found from error
    database = Database(engine, location=location, sqlite_path=None, backup_dir=backup_dir)
    try:
        with database.translated_errors(), engine.connect() as connection:
            current = _revision_on(connection)
            has_tables = bool(_table_names(connection))
        database._bring_to_head(current, has_tables)
    except BaseException:
        database.close()
        raise
    return database


def _table_names(connection: Connection) -> list[str]:
    from sqlalchemy import inspect

    return inspect(connection).get_table_names()


def _revision_on(connection: Connection) -> str | None:
    from sqlalchemy import inspect

    if not inspect(connection).has_table("alembic_version"):
        return None
    rows = connection.exec_driver_sql("SELECT version_num FROM alembic_version").fetchall()
    return str(rows[0][0]) if len(rows) == 1 else None


def _migration_failed(
    error: BaseException, location: str, backup_path: Path | None
) -> MigrationFailed:
    found = translate_error(error, location)
    cause = found.message if found is not None else (str(error) or type(error).__name__)
    where_backup = (
        f" A copy of the database made just before the upgrade is at {backup_path}."
        if backup_path is not None
        else ""
    )
    return MigrationFailed(
        f"Upgrading the database {location} for this version of Think Twice failed, and "
        f"the upgrade was rolled back completely: the database is as it was.{where_backup} "
        f"Cause: {cause}",
        location=location,
        backup_path=backup_path,
    )

"""Putting the app together: the data folder, settings, content, database and services.

The interface and the command line call :func:`open_context` (or :func:`open_records` for
commands that need only the records). SQLAlchemy, Alembic and the content loader are
imported inside these functions, so importing this module is cheap and the window can paint
before they load.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.core.model import ContentLibrary
    from app.services.credentials import KeyringPasswords
    from app.services.manager import ManagerService
    from app.services.outbox import AnswerRecorder, Outbox, OutboxSender
    from app.services.settings import Settings
    from app.services.training import TrainingService
    from app.storage.database import Database, SchemaStatus

_log = logging.getLogger(__name__)

DATABASE_FILE_NAME = "thinktwice.db"
BACKUP_FOLDER_NAME = "backups"


@dataclass(frozen=True)
class AppConfig:
    """Where state lives and what to load, as given on the command line.

    ``database_url`` replaces the SQLite file in ``data_dir`` when set (else the settings'
    ``database_url`` does, if any); ``content_dirs`` are extra content packs loaded after
    the built-in one and those named in the settings. ``database_password`` is a server
    password the trainee typed in at start; it is kept in memory only and never shown.
    """

    data_dir: Path
    database_url: str | None = None
    content_dirs: tuple[Path, ...] = ()
    read_only: bool = False
    """Open the SQLite file for reading only (offered when it cannot be written)."""
    database_password: str | None = field(default=None, repr=False, compare=False)

    @property
    def backup_dir(self) -> Path:
        """Where database backups go."""
        return self.data_dir / BACKUP_FOLDER_NAME

    @property
    def outbox_path(self) -> Path:
        """The outbox file of answers waiting for the team database server."""
        from app.services.outbox import OUTBOX_FILE_NAME

        return self.data_dir / OUTBOX_FILE_NAME

    def effective_database_url(self, settings: Settings | None = None) -> str:
        """``database_url``, else the one in the settings, else the SQLite file.

        ``settings`` are read from the data folder when not given.
        """
        if self.database_url:
            return self.database_url
        if settings is None:
            from app.services.settings import Settings

            settings = Settings.in_data_dir(self.data_dir)
        return settings.database_url or default_database_url(self.data_dir)

    def database_password_for(
        self, url: str, passwords: KeyringPasswords | None = None
    ) -> str | None:
        """The password to open the server at ``url`` with, when its URL has none.

        The one typed in at start, else the one in the system keyring, else ``None`` (then
        PostgreSQL's client library looks at ``PGPASSWORD`` and ``~/.pgpass`` itself).
        """
        from app.services.credentials import KeyringPasswords, is_server_url, split_password

        if not is_server_url(url):
            return None
        try:
            if split_password(url).password is not None:
                return None
        except ValueError:
            return None
        if self.database_password is not None:
            return self.database_password
        return (passwords or KeyringPasswords()).get(url)


@dataclass
class AppContext:
    """Everything the interface needs, opened together and closed together."""

    config: AppConfig
    library: ContentLibrary
    database: Database
    settings: Settings
    training: TrainingService
    manager: ManagerService
    recorder: AnswerRecorder | None = None
    """Records answers; with a team database it keeps them in the outbox when the server
    cannot be reached (``None`` only for contexts built by hand)."""
    outbox: Outbox | None = None
    """The outbox file, with a team database; ``None`` with a SQLite file."""

    @property
    def outbox_sender(self) -> OutboxSender | None:
        """Sends the outbox's answers, with a team database; else ``None``."""
        return None if self.recorder is None else self.recorder.sender

    def close(self) -> None:
        """Release the database connections and close the outbox."""
        try:
            self.database.close()
        finally:
            if self.outbox is not None:
                self.outbox.close()

    def __enter__(self) -> AppContext:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def default_database_url(data_dir: Path) -> str:
    """The SQLAlchemy URL of the SQLite file in ``data_dir``."""
    return f"sqlite:///{data_dir.expanduser().absolute() / DATABASE_FILE_NAME}"


def open_context(config: AppConfig, *, passwords: KeyringPasswords | None = None) -> AppContext:
    """Create the data folder if needed, load settings and content, open the database.

    With a team database server, the outbox in the data folder is opened too (answers
    waiting in it are sent by ``outbox_sender``). ``passwords`` is where server passwords
    are looked up (default: the system keyring).

    Content problems never stop this (they are listed in ``library.problems``); database
    faults raise a :class:`~app.services.errors.StorageError` subclass.
    """
    from app.content.loader import load_library
    from app.services.manager import ManagerService
    from app.services.outbox import AnswerRecorder, Outbox, OutboxSender, outbox_key
    from app.services.settings import Settings
    from app.services.training import TrainingService
    from app.storage.errors import StorageError

    _make_data_dir(config.data_dir)
    settings = Settings.in_data_dir(config.data_dir)
    library = load_library(
        content_dirs(config, settings),
        cache_path=config.data_dir / "cache" / "content-index.pickle",
    )
    database = _open(config, settings, passwords)
    training = TrainingService(database, library, settings)
    outbox: Outbox | None = None
    sender: OutboxSender | None = None
    if database.sqlite_path is None and database.dialect_name != "sqlite":
        try:
            outbox = Outbox.open(config.outbox_path)
        except StorageError as error:
            # Training still works while the server does; only the fallback is missing.
            _log.warning("no outbox for answers the server cannot take: %s", error)
        else:
            sender = OutboxSender(outbox, training, outbox_key(database.location))
    return AppContext(
        config=config,
        library=library,
        database=database,
        settings=settings,
        training=training,
        manager=ManagerService(database, library, settings),
        recorder=AnswerRecorder(training, sender),
        outbox=outbox,
    )


@contextmanager
def open_records(
    config: AppConfig, *, passwords: KeyringPasswords | None = None
) -> Iterator[Database]:
    """Just the database (for exports and other record commands), closed at the end."""
    from app.services.settings import Settings

    _make_data_dir(config.data_dir)
    database = _open(config, Settings.in_data_dir(config.data_dir), passwords)
    try:
        yield database
    finally:
        database.close()


def content_dirs(config: AppConfig, settings: Settings) -> list[Path]:
    """The extra content packs to load: those in the settings, then the configured ones.

    Each folder appears once, at its first place.
    """
    seen: set[Path] = set()
    folders: list[Path] = []
    for folder in [*(Path(d) for d in settings.extra_content_dirs), *config.content_dirs]:
        resolved = folder.expanduser().resolve()
        if resolved not in seen:
            seen.add(resolved)
            folders.append(resolved)
    return folders


def _make_data_dir(data_dir: Path) -> None:
    from app.storage.errors import from_os_error

    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise from_os_error(error, str(data_dir)) from error


def schema_status(config: AppConfig, *, passwords: KeyringPasswords | None = None) -> SchemaStatus:
    """The configured database's schema revision, changing nothing (``db status``)."""
    from app.storage.database import inspect_schema

    url = config.effective_database_url()
    return inspect_schema(url, password=config.database_password_for(url, passwords))


def _open(config: AppConfig, settings: Settings, passwords: KeyringPasswords | None) -> Database:
    from app.storage.database import open_database

    url = config.effective_database_url(settings)
    return open_database(
        url,
        backup_dir=config.backup_dir,
        read_only=config.read_only,
        password=config.database_password_for(url, passwords),
    )

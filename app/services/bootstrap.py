"""Putting the app together: the data folder, settings, content, database and services.

The interface and the command line call :func:`open_context` (or :func:`open_records` for
commands that need only the records). SQLAlchemy, Alembic and the content loader are
imported inside these functions, so importing this module is cheap and the window can paint
before they load.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.core.model import ContentLibrary
    from app.services.manager import ManagerService
    from app.services.settings import Settings
    from app.services.training import TrainingService
    from app.storage.database import Database

DATABASE_FILE_NAME = "thinktwice.db"
BACKUP_FOLDER_NAME = "backups"


@dataclass(frozen=True)
class AppConfig:
    """Where state lives and what to load, as given on the command line.

    ``database_url`` replaces the SQLite file in ``data_dir`` when set; ``content_dirs``
    are extra content packs loaded after the built-in one and those named in the settings.
    """

    data_dir: Path
    database_url: str | None = None
    content_dirs: tuple[Path, ...] = ()

    @property
    def backup_dir(self) -> Path:
        """Where database backups go."""
        return self.data_dir / BACKUP_FOLDER_NAME

    def effective_database_url(self) -> str:
        """``database_url``, or the SQLite file in the data folder."""
        return self.database_url or default_database_url(self.data_dir)


@dataclass
class AppContext:
    """Everything the interface needs, opened together and closed together."""

    config: AppConfig
    library: ContentLibrary
    database: Database
    settings: Settings
    training: TrainingService
    manager: ManagerService

    def close(self) -> None:
        """Release the database connections."""
        self.database.close()

    def __enter__(self) -> AppContext:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def default_database_url(data_dir: Path) -> str:
    """The SQLAlchemy URL of the SQLite file in ``data_dir``."""
    return f"sqlite:///{data_dir.expanduser().absolute() / DATABASE_FILE_NAME}"


def open_context(config: AppConfig) -> AppContext:
    """Create the data folder if needed, load settings and content, open the database.

    Content problems never stop this (they are listed in ``library.problems``); database
    faults raise a :class:`~app.services.errors.StorageError` subclass.
    """
    from app.content.loader import load_library
    from app.services.manager import ManagerService
    from app.services.settings import Settings
    from app.services.training import TrainingService

    _make_data_dir(config.data_dir)
    settings = Settings.in_data_dir(config.data_dir)
    library = load_library(
        content_dirs(config, settings),
        cache_path=config.data_dir / "cache" / "content-index.pickle",
    )
    database = _open(config)
    return AppContext(
        config=config,
        library=library,
        database=database,
        settings=settings,
        training=TrainingService(database, library, settings),
        manager=ManagerService(database, library, settings),
    )


@contextmanager
def open_records(config: AppConfig) -> Iterator[Database]:
    """Just the database (for exports and other record commands), closed at the end."""
    _make_data_dir(config.data_dir)
    database = _open(config)
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


def _open(config: AppConfig) -> Database:
    from app.storage.database import open_database

    return open_database(config.effective_database_url(), backup_dir=config.backup_dir)

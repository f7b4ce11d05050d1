"""Alembic, driven from code: the configuration, the head revision and the upgrade.

No ``alembic.ini`` is needed: the configuration is built here and points at the
``migrations`` folder inside this package, which also works in a frozen build that ships
that folder as data. Alembic is imported inside the functions, so that opening a database
already at :data:`HEAD_REVISION` never loads it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import Connection

MIGRATIONS_DIR = Path(__file__).resolve().with_name("migrations")

# The newest revision in MIGRATIONS_DIR. A test checks it against the script directory;
# change it together with every new revision.
HEAD_REVISION = "0004"


def alembic_config(
    connection: Connection | None = None, *, script_location: Path | None = None
) -> Config:
    """An Alembic configuration for our migrations, optionally bound to ``connection``."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(script_location or MIGRATIONS_DIR))
    # The app configures logging itself; env.py must leave it alone.
    config.attributes["configure_logger"] = False
    # Our SQLite connections really run DDL inside BEGIN ... COMMIT (see database.py).
    config.attributes["sqlite_transactional_ddl"] = True
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def script_head(script_location: Path | None = None) -> str | None:
    """The head revision id found in the migration scripts."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(
        alembic_config(script_location=script_location)
    ).get_current_head()


def known_revisions(script_location: Path | None = None) -> list[str]:
    """Every revision id in the scripts, oldest first."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(alembic_config(script_location=script_location))
    return [script.revision for script in reversed(list(scripts.walk_revisions()))]


def upgrade(
    connection: Connection, target: str = "head", *, script_location: Path | None = None
) -> None:
    """Run every pending revision up to ``target`` on ``connection``.

    The caller owns the transaction: it begins one before and commits or rolls back after,
    so that all pending revisions land together or not at all.
    """
    from alembic import command

    command.upgrade(alembic_config(connection, script_location=script_location), target)

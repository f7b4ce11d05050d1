"""Schema migrations: from empty, from every earlier revision, and when one fails."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from shutil import copytree

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from app.storage import migrator
from app.storage.database import Database, open_database
from app.storage.errors import DatabaseTooNew, MigrationFailed

APP_TABLES = {
    "trainee",
    "answer",
    "lesson_read",
    "event",
    "cohort",
    "cohort_member",
    "cohort_track",
    "manager_credential",
    "certificate",
    "room_session",
    "room_attendee",
    "room_step",
    "room_vote",
    "room_attendance",
    "track_standing",
}


def test_head_constant_is_the_head_of_the_scripts() -> None:
    assert migrator.script_head() == migrator.HEAD_REVISION


def test_revision_files_do_not_import_sqlmodel() -> None:
    for script in (migrator.MIGRATIONS_DIR / "versions").glob("*.py"):
        assert "sqlmodel" not in script.read_text(encoding="utf-8"), script.name


def test_open_creates_every_table_from_empty(database: Database) -> None:
    with database.engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
    assert tables >= APP_TABLES
    assert "alembic_version" in tables
    assert database.current_revision() == migrator.HEAD_REVISION


def test_migrated_schema_matches_the_models(database: Database) -> None:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_reopening_an_up_to_date_database_does_not_load_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'thinktwice.db'}"
    program = textwrap.dedent(
        f"""
        import sys
        from app.storage.database import open_database
        open_database({url!r}, backup_dir=None).close()
        print("alembic" in sys.modules)
        """
    )
    first = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=False
    )
    second = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=False
    )
    assert first.stdout.strip() == "True", first.stderr
    assert second.stdout.strip() == "False", second.stderr


# Upgrades from every revision, with data. Each revision needs a filler that writes rows
# the way that revision's schema holds them (plain SQL: the models follow the head).


def _fill_0001(connection: Connection) -> None:
    connection.exec_driver_sql(
        "INSERT INTO trainee (uid, display_name, email_or_id, team, created_at) VALUES "
        "('u1aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'Ada Example', 'ada@example.com', 'Platform', "
        "'2026-11-24 09:00:00.000000')"
    )
    connection.exec_driver_sql(
        "INSERT INTO answer (attempt_id, play_id, trainee_id, scenario_id, scenario_version, "
        "pack_id, step_id, decision, expected, correct, verdict, flags_chosen, flags_missed, "
        "flags_true, confidence, seconds, answered_at) VALUES "
        "('at1aaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'pl1aaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 1, "
        "'rm-rf-cleanup', 2, 'core', 'only', 'reject', 'reject', 1, 'right', "
        "'[\"irreversible\"]', '[]', '[\"irreversible\"]', 80, 12.5, "
        "'2026-11-24 09:05:00.000000')"
    )
    connection.exec_driver_sql(
        "INSERT INTO lesson_read (trainee_id, lesson_id, read_at) VALUES "
        "(1, 'irreversible-actions', '2026-11-24 09:01:00.000000')"
    )


def _fill_0002(connection: Connection) -> None:
    # Revision 0002 adds chain columns; the upgrade test only reads the 0001 columns back.
    connection.exec_driver_sql(
        "INSERT INTO trainee (uid, display_name, email_or_id, team, created_at) VALUES "
        "('u1aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'Ada Example', 'ada@example.com', 'Platform', "
        "'2026-11-24 09:00:00.000000')"
    )
    connection.exec_driver_sql(
        "INSERT INTO answer (attempt_id, play_id, trainee_id, scenario_id, scenario_version, "
        "pack_id, step_id, decision, expected, correct, verdict, flags_chosen, flags_missed, "
        "flags_true, confidence, seconds, answered_at, chain_seq, previous_hash, record_hash) "
        "VALUES ('at1aaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'pl1aaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 1, "
        "'rm-rf-cleanup', 2, 'core', 'only', 'reject', 'reject', 1, 'right', "
        "'[\"irreversible\"]', '[]', '[\"irreversible\"]', 80, 12.5, "
        f"'2026-11-24 09:05:00.000000', 1, '{'0' * 64}', '{'1' * 64}')"
    )
    connection.exec_driver_sql(
        "INSERT INTO lesson_read (trainee_id, lesson_id, read_at) VALUES "
        "(1, 'irreversible-actions', '2026-11-24 09:01:00.000000')"
    )


def _fill_0003(connection: Connection) -> None:
    # Revision 0003 adds the room tables; the upgrade test reads the 0001 columns back.
    _fill_0002(connection)
    connection.exec_driver_sql(
        "INSERT INTO room_session (session_id, facilitator, track_id, scenario_ids, status, "
        "started_at, current_scenario, current_step) VALUES "
        "('rs1aaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'Facilitator', NULL, '[\"rm-rf-cleanup\"]', "
        "'active', '2026-11-24 10:00:00.000000', 0, 0)"
    )


def _fill_0004(connection: Connection) -> None:
    # Revision 0004 adds the cache of track standings; one cached row joins the records.
    _fill_0003(connection)
    connection.exec_driver_sql(
        "INSERT INTO track_standing (trainee_id, track_id, history_mark, content_hash, "
        "rules_key, status, items_done, items_total, score, seconds_spent, last_activity, "
        f"computed_at) VALUES (1, 'new-hire', '{'m' * 64}', '{'c' * 64}', '{'r' * 64}', "
        "'in progress', 1, 3, 0.5, 12.5, '2026-11-24 09:05:00.000000', "
        "'2026-11-24 10:00:00.000000')"
    )


FILLERS: dict[str, Callable[[Connection], None]] = {
    "0001": _fill_0001,
    "0002": _fill_0002,
    "0003": _fill_0003,
    "0004": _fill_0004,
}


def test_every_revision_has_a_data_filler() -> None:
    assert set(migrator.known_revisions()) <= set(FILLERS)


def _database_at(path: Path, revision: str, script_location: Path | None = None) -> None:
    """Create a SQLite database at ``revision`` and fill it with that revision's rows."""
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as connection:
            migrator.upgrade(connection, revision, script_location=script_location)
            FILLERS[revision](connection)
    finally:
        engine.dispose()


@pytest.mark.parametrize("revision", migrator.known_revisions())
def test_upgrade_from_each_revision_keeps_the_data(tmp_path: Path, revision: str) -> None:
    path = tmp_path / "thinktwice.db"
    _database_at(path, revision)
    backups = tmp_path / "backups"

    with open_database(f"sqlite:///{path}", backup_dir=backups) as database:
        assert database.current_revision() == migrator.HEAD_REVISION

    with sqlite3.connect(path) as connection:
        trainee = connection.execute("SELECT display_name, email_or_id FROM trainee").fetchall()
        answer = connection.execute(
            "SELECT attempt_id, scenario_version, confidence, seconds FROM answer"
        ).fetchall()
        lessons = connection.execute("SELECT lesson_id FROM lesson_read").fetchall()
    assert trainee == [("Ada Example", "ada@example.com")]
    assert answer == [("at1aaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 2, 80, 12.5)]
    assert lessons == [("irreversible-actions",)]
    upgraded = revision != migrator.HEAD_REVISION
    assert (backups.is_dir() and any(backups.iterdir())) == upgraded


# Later revisions, simulated: a copy of the scripts with one more revision on top.

# Simulated revisions go on top of the real head.
_NEXT = f"{int(migrator.HEAD_REVISION) + 1:04d}"
_ON_TOP = f'revision = "{_NEXT}"\ndown_revision = "{migrator.HEAD_REVISION}"'

_GOOD_REVISION = '''
"""Test revision: add columns by rebuilding tables, one of them referenced by others."""
import sqlalchemy as sa
from alembic import op

ON_TOP
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("answer", recreate="always") as batch:
        batch.add_column(sa.Column("note", sa.String(length=40), nullable=True))
    with op.batch_alter_table("trainee", recreate="always") as batch:
        batch.add_column(sa.Column("nickname", sa.String(length=40), nullable=True))
'''

_FAILING_REVISION = '''
"""Test revision: changes the schema and data, then fails."""
import sqlalchemy as sa
from alembic import op

ON_TOP
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("scratch", sa.Column("id", sa.Integer(), primary_key=True))
    # A batch change rebuilds the table that other tables point at.
    with op.batch_alter_table("trainee") as batch:
        batch.add_column(sa.Column("nickname", sa.String(length=40), nullable=True))
    op.execute("UPDATE answer SET seconds = 0")
    raise RuntimeError("this revision fails on purpose")
'''

_DANGLING_REVISION = '''
"""Test revision: leaves an answer pointing at a trainee who does not exist."""
from alembic import op

ON_TOP
branch_labels = None
depends_on = None


def upgrade():
    op.execute("UPDATE answer SET trainee_id = 999")
'''


@pytest.fixture
def scripts_with(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], Path]:
    """Install a copy of the migrations with ``source`` as one more revision on top."""

    def install(source: str) -> Path:
        location = tmp_path / "migrations"
        copytree(migrator.MIGRATIONS_DIR, location, ignore=_no_caches)
        script = source.replace("ON_TOP", _ON_TOP)
        (location / "versions" / f"{_NEXT}_test.py").write_text(script, encoding="utf-8")
        monkeypatch.setattr(migrator, "MIGRATIONS_DIR", location)
        monkeypatch.setattr(migrator, "HEAD_REVISION", _NEXT)
        return location

    return install


def _no_caches(_folder: str, names: list[str]) -> list[str]:
    return [name for name in names if name == "__pycache__"]


def _columns(path: Path, table: str) -> set[str]:
    with sqlite3.connect(path) as connection:
        return {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}


def _version(path: Path) -> list[tuple[str]]:
    with sqlite3.connect(path) as connection:
        return connection.execute("SELECT version_num FROM alembic_version").fetchall()


def test_upgrade_to_a_later_revision_backs_up_and_keeps_data(
    tmp_path: Path, scripts_with: Callable[[str], Path]
) -> None:
    path = tmp_path / "thinktwice.db"
    _database_at(path, "0001")
    scripts_with(_GOOD_REVISION)

    with open_database(f"sqlite:///{path}", backup_dir=tmp_path / "backups") as database:
        assert database.current_revision() == _NEXT

    assert "note" in _columns(path, "answer")
    assert "nickname" in _columns(path, "trainee")
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT count(*) FROM answer").fetchone() == (1,)
        assert connection.execute("SELECT count(*) FROM lesson_read").fetchone() == (1,)
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
    (backup,) = (tmp_path / "backups").iterdir()
    assert "0001" in backup.name
    assert _version(backup) == [("0001",)]
    assert "note" not in _columns(backup, "answer")


def test_failed_migration_rolls_back_completely_and_names_the_backup(
    tmp_path: Path, scripts_with: Callable[[str], Path]
) -> None:
    path = tmp_path / "thinktwice.db"
    _database_at(path, "0001")
    scripts_with(_FAILING_REVISION)

    with pytest.raises(MigrationFailed) as raised:
        open_database(f"sqlite:///{path}", backup_dir=tmp_path / "backups")

    assert _version(path) == [("0001",)]
    with sqlite3.connect(path) as connection:
        tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master")}
        assert connection.execute("SELECT seconds FROM answer").fetchall() == [(12.5,)]
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert "scratch" not in tables
    assert "nickname" not in _columns(path, "trainee")

    backup = raised.value.backup_path
    assert backup is not None
    assert backup.is_file()
    assert str(backup) in str(raised.value)
    assert "rolled back" in str(raised.value)
    with sqlite3.connect(backup) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert connection.execute("SELECT display_name FROM trainee").fetchall() == [
            ("Ada Example",)
        ]


def test_failed_migration_can_be_retried_by_a_fixed_version(
    tmp_path: Path, scripts_with: Callable[[str], Path]
) -> None:
    path = tmp_path / "thinktwice.db"
    _database_at(path, "0001")
    location = scripts_with(_FAILING_REVISION)
    with pytest.raises(MigrationFailed):
        open_database(f"sqlite:///{path}", backup_dir=tmp_path / "backups")

    (location / "versions" / f"{_NEXT}_test.py").write_text(
        _GOOD_REVISION.replace("ON_TOP", _ON_TOP), encoding="utf-8"
    )
    with open_database(f"sqlite:///{path}", backup_dir=tmp_path / "backups") as database:
        assert database.current_revision() == _NEXT


def test_foreign_key_check_stops_a_migration_that_leaves_dangling_rows(
    tmp_path: Path, scripts_with: Callable[[str], Path]
) -> None:
    path = tmp_path / "thinktwice.db"
    _database_at(path, "0001")
    scripts_with(_DANGLING_REVISION)

    with pytest.raises(MigrationFailed, match="missing rows"):
        open_database(f"sqlite:///{path}", backup_dir=tmp_path / "backups")

    assert _version(path) == [("0001",)]
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT trainee_id FROM answer").fetchall() == [(1,)]


def test_foreign_keys_are_enforced_again_after_a_migration(database: Database) -> None:
    with database.engine.connect() as connection:
        if connection.dialect.name != "sqlite":
            pytest.skip("a SQLite pragma")
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_database_from_a_newer_version_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "thinktwice.db"
    _database_at(path, "0001")
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    before = path.read_bytes()

    with pytest.raises(DatabaseTooNew, match="newer version"):
        open_database(f"sqlite:///{path}", backup_dir=tmp_path / "backups")

    assert path.read_bytes() == before
    assert not (tmp_path / "backups").exists()

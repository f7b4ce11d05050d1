"""End-to-end: ``thinktwice db upgrade`` and ``db status`` as subprocesses.

On the session's PostgreSQL server (a fresh database per test) and on SQLite files. The
database password must never appear in anything the commands print.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel

from app.storage import migrator, tables
from tests.postgres_server import PostgresServer

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
EMPTY = "none (no Think Twice schema yet)"


def thinktwice(
    *args: str, env: dict[str, str] | None = None, timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=REPO,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _output(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


def _password(url: str) -> str:
    password = make_url(url).password
    assert password, "the test server's URL should carry a password"
    return str(password)


def _masked(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def test_db_upgrade_creates_every_table_on_an_empty_server_database(
    postgres_url: str, tmp_path: Path
) -> None:
    common = ("--data-dir", str(tmp_path / "state"), "--database-url", postgres_url)

    before = thinktwice(*common, "db", "status")
    assert before.returncode == 1, _output(before)
    assert f"Database: {_masked(postgres_url)}" in before.stdout
    assert f"Current revision: {EMPTY}" in before.stdout
    assert f"Head revision: {migrator.HEAD_REVISION}" in before.stdout
    assert "Upgrade needed" in before.stdout

    upgrade = thinktwice(*common, "db", "upgrade")
    assert upgrade.returncode == 0, _output(upgrade)
    assert (
        f"Upgraded database {_masked(postgres_url)} from revision {EMPTY} "
        f"to {migrator.HEAD_REVISION}." in upgrade.stdout
    )

    engine = create_engine(postgres_url)
    try:
        with engine.connect() as connection:
            present = set(inspect(connection).get_table_names())
            version = connection.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    finally:
        engine.dispose()
    assert tables.AnswerRow.__tablename__ in present
    assert present >= {*SQLModel.metadata.tables, "alembic_version"}
    assert version == [(migrator.HEAD_REVISION,)]

    after = thinktwice(*common, "db", "status")
    assert after.returncode == 0, _output(after)
    assert f"Current revision: {migrator.HEAD_REVISION}" in after.stdout
    assert "Up to date." in after.stdout

    again = thinktwice(*common, "db", "upgrade")
    assert again.returncode == 0, _output(again)
    assert "nothing to do" in again.stdout

    for result in (before, upgrade, after, again):
        assert _password(postgres_url) not in _output(result)


def test_db_status_with_a_wrong_password_exits_1_without_any_password(
    postgres_url: str, tmp_path: Path
) -> None:
    wrong = (
        make_url(postgres_url)
        .set(password="not-the-Pa55word")
        .render_as_string(hide_password=False)
    )
    result = thinktwice("--data-dir", str(tmp_path), "--database-url", wrong, "db", "status")
    assert result.returncode == 1
    assert "password authentication failed" in result.stderr
    assert "Traceback" not in result.stderr
    assert "not-the-Pa55word" not in _output(result)
    assert _password(postgres_url) not in _output(result)
    assert ":***@" in result.stderr


def test_the_password_can_come_from_pgpassword(postgres_url: str, tmp_path: Path) -> None:
    password = _password(postgres_url)
    without = make_url(postgres_url)._replace(password=None).render_as_string()
    assert password not in without

    result = thinktwice(
        "--data-dir",
        str(tmp_path),
        "--database-url",
        without,
        "db",
        "upgrade",
        env={"PGPASSWORD": password, "PGPASSFILE": str(tmp_path / "none")},
    )
    assert result.returncode == 0, _output(result)
    assert f"to {migrator.HEAD_REVISION}." in result.stdout
    assert password not in _output(result)


def test_db_upgrade_refuses_a_database_left_by_a_newer_version(
    postgres_server: PostgresServer, postgres_url: str, tmp_path: Path
) -> None:
    common = ("--data-dir", str(tmp_path), "--database-url", postgres_url)
    assert thinktwice(*common, "db", "upgrade").returncode == 0
    postgres_server.execute_admin(
        "UPDATE alembic_version SET version_num = '9999'", database=make_url(postgres_url).database
    )

    status = thinktwice(*common, "db", "status")
    assert status.returncode == 1
    assert "Current revision: 9999" in status.stdout
    assert "newer version" in status.stdout

    upgrade = thinktwice(*common, "db", "upgrade")
    assert upgrade.returncode == 1
    assert "newer version" in upgrade.stderr
    assert "Traceback" not in upgrade.stderr


def test_db_status_of_an_unreachable_server_exits_1_with_a_clear_message(
    tmp_path: Path,
) -> None:
    url = "postgresql+psycopg://trainer:s3cret-pw@127.0.0.1:9/thinktwice?connect_timeout=3"
    result = thinktwice("--data-dir", str(tmp_path), "--database-url", url, "db", "status")
    assert result.returncode == 1
    assert result.stdout == ""
    assert "Could not open the database postgresql+psycopg://trainer:***@127.0.0.1:9" in (
        result.stderr
    )
    assert "server is running" in result.stderr
    assert "s3cret-pw" not in _output(result)
    assert "Traceback" not in result.stderr


def test_a_malformed_url_is_reported_without_its_password(tmp_path: Path) -> None:
    url = "postgresql+psycopg://trainer:s3cret-pw@db.example:port/thinktwice"
    result = thinktwice("--data-dir", str(tmp_path), "--database-url", url, "db", "status")
    assert result.returncode == 1
    assert "not a database address" in result.stderr
    assert "s3cret-pw" not in _output(result)
    assert "Traceback" not in result.stderr


def test_db_without_an_action_is_a_usage_error(tmp_path: Path) -> None:
    result = thinktwice("--data-dir", str(tmp_path), "db")
    assert result.returncode == 2
    assert "upgrade" in result.stderr or "ACTION" in result.stderr


# SQLite: the default database in the data folder.


def test_db_status_does_not_create_a_missing_sqlite_file(tmp_path: Path) -> None:
    data = tmp_path / "state"
    result = thinktwice("--data-dir", str(data), "db", "status")
    assert result.returncode == 1, _output(result)
    assert f"Database: {data / 'thinktwice.db'}" in result.stdout
    assert f"Current revision: {EMPTY}" in result.stdout
    assert not (data / "thinktwice.db").exists()


def test_db_upgrade_of_a_new_sqlite_file_makes_no_backup(tmp_path: Path) -> None:
    data = tmp_path / "state"
    result = thinktwice("--data-dir", str(data), "db", "upgrade")
    assert result.returncode == 0, _output(result)
    assert f"from revision {EMPTY} to {migrator.HEAD_REVISION}." in result.stdout
    assert "backup" not in result.stdout.lower() and "copy" not in result.stdout
    assert not (data / "backups").exists() or not any((data / "backups").iterdir())
    assert thinktwice("--data-dir", str(data), "db", "status").returncode == 0


def test_db_upgrade_of_an_older_sqlite_file_backs_it_up_first(tmp_path: Path) -> None:
    known = migrator.known_revisions()
    if len(known) < 2:
        pytest.skip("there is only one schema revision so far")
    data = tmp_path / "state"
    data.mkdir()
    path = data / "thinktwice.db"
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.begin() as connection:
            migrator.upgrade(connection, known[0])
            connection.exec_driver_sql(
                "INSERT INTO trainee (uid, display_name, created_at) VALUES "
                "('u1aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'Ada Example', '2026-11-24 09:00:00')"
            )
    finally:
        engine.dispose()

    status = thinktwice("--data-dir", str(data), "db", "status")
    assert status.returncode == 1
    assert f"Current revision: {known[0]}" in status.stdout

    upgrade = thinktwice("--data-dir", str(data), "db", "upgrade")
    assert upgrade.returncode == 0, _output(upgrade)
    assert f"from revision {known[0]} to {migrator.HEAD_REVISION}." in upgrade.stdout
    (backup,) = (data / "backups").iterdir()
    assert f"A copy made before the upgrade is at {backup}." in upgrade.stdout
    with sqlite3.connect(backup) as copy:
        assert copy.execute("SELECT version_num FROM alembic_version").fetchall() == [(known[0],)]
        assert copy.execute("SELECT display_name FROM trainee").fetchall() == [("Ada Example",)]

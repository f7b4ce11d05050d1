"""Reading a database's schema revision without changing anything (``inspect_schema``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from app.storage import migrator
from app.storage.database import inspect_schema, open_database
from app.storage.errors import DatabaseUnreachable


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return set(inspect(connection).get_table_names())
    finally:
        engine.dispose()


def test_an_empty_database_needs_an_upgrade_and_is_left_empty(database_url: str) -> None:
    status = inspect_schema(database_url)

    assert status.current is None
    assert status.head == migrator.HEAD_REVISION
    assert status.needs_upgrade
    assert not status.up_to_date
    if database_url.startswith("sqlite"):
        assert not Path(database_url.removeprefix("sqlite:///")).exists()
    else:
        assert _tables(database_url) == set()


def test_an_opened_database_is_up_to_date(database_url: str, tmp_path: Path) -> None:
    open_database(database_url, backup_dir=tmp_path / "backups").close()

    status = inspect_schema(database_url)

    assert status.current == migrator.HEAD_REVISION
    assert status.up_to_date
    assert not status.needs_upgrade


def test_a_revision_from_a_newer_version_is_not_known(database_url: str, tmp_path: Path) -> None:
    open_database(database_url, backup_dir=tmp_path / "backups").close()
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    finally:
        engine.dispose()

    status = inspect_schema(database_url)

    assert status.current == "9999"
    assert not status.known
    assert not status.needs_upgrade
    assert not status.up_to_date


def test_the_location_of_a_server_hides_its_password() -> None:
    url = "postgresql+psycopg://trainer:s3cret-pw@127.0.0.1:9/thinktwice?connect_timeout=2"
    with pytest.raises(DatabaseUnreachable) as raised:
        inspect_schema(url)
    assert "trainer:***@127.0.0.1:9/thinktwice" in str(raised.value)
    assert "s3cret-pw" not in str(raised.value)


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://trainer:s3cret-pw@db.example:port/thinktwice",
        "nosuchdriver://trainer:s3cret-pw@db.example/thinktwice",
    ],
)
def test_a_url_that_cannot_be_used_is_reported_without_its_password(url: str) -> None:
    with pytest.raises(DatabaseUnreachable, match="not a database address") as raised:
        inspect_schema(url)
    assert "s3cret-pw" not in str(raised.value)
    with pytest.raises(DatabaseUnreachable) as opened:
        open_database(url, backup_dir=None)
    assert "s3cret-pw" not in str(opened.value)

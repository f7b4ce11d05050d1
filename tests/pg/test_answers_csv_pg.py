"""The answers CSV written from PostgreSQL is byte for byte the one written from SQLite.

PostgreSQL formats every cell in Python; SQLite formats them in SQL. The same awkward
answers in both (formula starts, CSV specials, unicode, newlines, flags not given and
given empty, seconds at rounding edges) give the same file, with and without filters.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from app.services.exports import write_answers_csv
from app.storage.database import Database, open_database
from tests.unit.services.answers_csv_support import T0, fill

pytestmark = pytest.mark.postgres


@pytest.fixture
def databases(postgres_url: str, tmp_path: Path) -> Iterator[tuple[Database, Database]]:
    sqlite = open_database(f"sqlite:///{tmp_path / 'thinktwice.db'}", backup_dir=tmp_path)
    server = open_database(postgres_url, backup_dir=None)
    try:
        yield sqlite, server
    finally:
        sqlite.close()
        server.close()


def _csv(database: Database, **filters: object) -> bytes:
    out = io.BytesIO()
    write_answers_csv(database, out, **filters)  # type: ignore[arg-type]
    return out.getvalue()


def test_postgresql_and_sqlite_write_the_same_file(databases: tuple[Database, Database]) -> None:
    sqlite, server = databases
    trainees, _ = fill(sqlite)
    assert fill(server)[0] == trainees, "the same ids on both, so that filters match"
    for filters in (
        {},
        {"trainee_ids": trainees[:3]},
        {"scenario_ids": ["terraform-plan", "has,comma"]},
        {"since": T0 + timedelta(seconds=40)},
    ):
        from_server = _csv(server, **filters)
        assert _csv(sqlite, **filters) == from_server
        assert _csv(sqlite, format_in_database=False, **filters) == from_server
        assert from_server.count(b"\r\n") > 1

"""Every revision, base to head, one step at a time, with new data at every step.

Unlike the per-revision upgrade tests (test_migrations.py), this needs no hand-written
rows: at each revision it reflects the schema and adds one row to every table, built from
the column types, foreign keys and CHECK constraints it finds. Each later step must keep
every row added before (by its primary and unique keys), and leave SQLite's integrity and
foreign-key checks clean. A new revision is covered the day it is added; when a table
needs a value this cannot guess, name it in ``VALUE_HINTS``.
"""

from __future__ import annotations

import re
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    Integer,
    MetaData,
    Numeric,
    String,
    create_engine,
    inspect,
    select,
)
from sqlalchemy import Table as SaTable
from sqlalchemy.engine import Connection, Engine

from app.storage import migrator
from app.storage.database import open_database

# (table, column) -> value, for columns whose valid values cannot be guessed.
VALUE_HINTS: dict[tuple[str, str], Any] = {}
_QUOTED = re.compile(r"'([^']*)'")
_NUMBER = re.compile(r"(?<![\w.])(-?\d+(?:\.\d+)?)(?![\w.])")
_MOMENT = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    created = create_engine(f"sqlite:///{tmp_path / 'thinktwice.db'}")
    try:
        yield created
    finally:
        created.dispose()


def _reflect(connection: Connection) -> MetaData:
    metadata = MetaData()
    metadata.reflect(connection)
    metadata.remove(metadata.tables["alembic_version"])
    return metadata


def _checks(connection: Connection, table: str) -> list[str]:
    return [str(check["sqltext"]) for check in inspect(connection).get_check_constraints(table)]


def _mentions(check: str, column: str) -> bool:
    return re.search(rf"\b{re.escape(column)}\b", check) is not None


def _guess(table: SaTable, column: Any, checks: list[str], step: int) -> Any:
    """A value for ``column`` that its type and CHECK constraints accept."""
    hint = (table.name, column.name)
    if hint in VALUE_HINTS:
        return VALUE_HINTS[hint]
    own_checks = [check for check in checks if _mentions(check, column.name)]
    if own_checks:
        if column.nullable:
            return None  # "x IS NULL OR ..." is the usual form; NULL is always fine
        quoted = _QUOTED.findall(own_checks[0])
        if quoted:
            return quoted[0]
        numbers = _NUMBER.findall(own_checks[0])
        if numbers:
            value = float(numbers[0])
            return int(value) if isinstance(column.type, Integer) else value
    kind = column.type
    if isinstance(kind, Boolean):
        return False
    if isinstance(kind, Integer):
        return step + 1
    if isinstance(kind, Float | Numeric):
        return 1.5
    if isinstance(kind, DateTime):
        return _MOMENT
    if isinstance(kind, Date):
        return _MOMENT.date()
    if isinstance(kind, JSON):
        return []
    if isinstance(kind, String):
        text = uuid.uuid4().hex
        length = kind.length or 64
        return text[:length] if length >= 8 else text[:1]
    raise AssertionError(
        f"cannot guess a value for {table.name}.{column.name} ({kind!r}); add one to VALUE_HINTS"
    )


def _identity_columns(table: SaTable) -> list[list[str]]:
    """The column sets that identify a row: the primary key and each unique constraint."""
    keys = [[c.name for c in table.primary_key.columns]] if table.primary_key.columns else []
    for constraint in table.constraints:
        columns = getattr(constraint, "columns", None)
        if constraint.__class__.__name__ == "UniqueConstraint" and columns is not None:
            keys.append([c.name for c in columns])
    return keys


def _taken(connection: Connection, table: SaTable, row: dict[str, Any]) -> bool:
    """Whether a row with the same primary key as ``row`` exists already."""
    key = [column for column in table.primary_key.columns if column.name in row]
    if not key:
        return False
    condition = [column == row[column.name] for column in key]
    return connection.execute(select(table).where(*condition)).first() is not None


def _add_a_row_everywhere(
    connection: Connection, step: int, added: dict[str, list[dict[str, Any]]]
) -> None:
    metadata = _reflect(connection)
    for table in metadata.sorted_tables:  # parents before the tables that point at them
        checks = _checks(connection, table.name)
        row: dict[str, Any] = {}
        for column in table.columns:
            numbered = (
                column.primary_key
                and isinstance(column.type, Integer)
                and len(table.primary_key.columns) == 1
            )
            if numbered and not any(_mentions(check, column.name) for check in checks):
                continue  # let the database number it
            foreign = next(iter(column.foreign_keys), None)
            if foreign is not None:
                parent = foreign.column
                row[column.name] = connection.execute(
                    select(parent).order_by(parent.desc()).limit(1)
                ).scalar_one()
                continue
            row[column.name] = _guess(table, column, checks, step)
        if _taken(connection, table, row):
            continue  # a table held to one row (CHECK (id = 1)) keeps its first
        result = connection.execute(table.insert().values(**row))
        if result.inserted_primary_key:
            for key_column, value in zip(
                table.primary_key.columns, result.inserted_primary_key, strict=False
            ):
                row.setdefault(key_column.name, value)
        added.setdefault(table.name, []).append(row)


def _assert_rows_kept(
    connection: Connection, revision: str, added: dict[str, list[dict[str, Any]]]
) -> None:
    metadata = _reflect(connection)
    for table_name, rows in added.items():
        table = metadata.tables.get(table_name)
        if table is None:
            continue  # a revision may drop a table on purpose
        for row in rows:
            for key in _identity_columns(table):
                if not all(name in row and row[name] is not None for name in key):
                    continue
                condition = [table.c[name] == row[name] for name in key]
                found = connection.execute(select(table).where(*condition)).first()
                assert found is not None, f"{table_name} row {row} lost at {revision}"
    assert connection.exec_driver_sql("PRAGMA integrity_check").fetchall() == [("ok",)]
    assert connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []


def test_walking_every_revision_with_data_at_each_step_keeps_it_all(
    engine: Engine, tmp_path: Path
) -> None:
    revisions = migrator.known_revisions()
    assert revisions[-1] == migrator.HEAD_REVISION
    added: dict[str, list[dict[str, Any]]] = {}
    for step, revision in enumerate(revisions):
        with engine.begin() as connection:
            migrator.upgrade(connection, revision)
            _assert_rows_kept(connection, revision, added)
            _add_a_row_everywhere(connection, step, added)
    engine.dispose()

    assert set(added) >= {"trainee", "answer"}
    assert all(len(rows) >= 1 for rows in added.values())
    assert len(added["trainee"]) == len(revisions), "the first table got a row at every step"
    path = tmp_path / "thinktwice.db"
    with open_database(f"sqlite:///{path}", backup_dir=tmp_path / "backups") as database:
        assert database.current_revision() == migrator.HEAD_REVISION
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT count(*) FROM trainee").fetchone() == (len(revisions),)

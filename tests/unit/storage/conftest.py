"""Fixtures for the storage tests.

The tests take a ``database`` built from ``database_url``: a SQLite file in ``tmp_path``,
and also, when ``THINKTWICE_TEST_POSTGRES_URL`` names a PostgreSQL server (an account
that may create databases), a fresh database on it for each test.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from app.storage.database import Database, open_database
from app.storage.tables import AnswerRow, TraineeRow

POSTGRES_URL = os.environ.get("THINKTWICE_TEST_POSTGRES_URL", "")
BACKENDS = ["sqlite", *(["postgresql"] if POSTGRES_URL else [])]


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database for one test."""
    backend: str = request.param
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'thinktwice.db'}"
        return
    yield from _fresh_postgres_database(POSTGRES_URL)


def _fresh_postgres_database(server_url: str) -> Iterator[str]:
    name = f"thinktwice_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"CREATE DATABASE {name}")
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        with admin.connect() as connection:
            connection.exec_driver_sql(f"DROP DATABASE {name} WITH (FORCE)")
    finally:
        admin.dispose()


@pytest.fixture
def database(database_url: str, tmp_path: Path) -> Iterator[Database]:
    """The database at ``database_url``, opened (and so migrated) the way the app does."""
    opened = open_database(database_url, backup_dir=tmp_path / "backups")
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def independent_engine(database_url: str) -> Iterator[Engine]:
    """A plain engine of its own on the same database, to see what others see."""
    engine = create_engine(database_url)
    try:
        yield engine
    finally:
        engine.dispose()


def count_rows(engine: Engine, table: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


@pytest.fixture
def rows() -> Callable[[Engine, str], int]:
    return count_rows


def make_trainee(name: str = "Ada Example") -> TraineeRow:
    return TraineeRow(uid=uuid.uuid4().hex, display_name=name)


def make_answer(trainee_id: int, attempt: str = "a" * 32, **extra: Any) -> AnswerRow:
    values: dict[str, Any] = {
        "attempt_id": attempt,
        "play_id": "p" * 32,
        "trainee_id": trainee_id,
        "scenario_id": "rm-rf-cleanup",
        "scenario_version": 1,
        "pack_id": "core",
        "step_id": "only",
        "decision": "reject",
        "expected": "reject",
        "correct": True,
        "verdict": "right",
        "flags_chosen": None,
        "flags_missed": ["irreversible"],
        "flags_true": ["irreversible"],
        "seconds": 4.5,
        "answered_at": datetime(2026, 11, 24, 10, 15, tzinfo=UTC),
    }
    values.update(extra)
    return AnswerRow(**values)


@pytest.fixture
def trainee_factory() -> Callable[..., TraineeRow]:
    return make_trainee


@pytest.fixture
def answer_factory() -> Callable[..., AnswerRow]:
    return make_answer

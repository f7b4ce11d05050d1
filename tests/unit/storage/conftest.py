"""Fixtures for the storage tests.

The tests take a ``database`` built from ``database_url``, which is parametrised: every
test runs on a SQLite file in ``tmp_path`` and again on a fresh database of the session's
PostgreSQL server (``postgres_url`` from ``tests/postgres_server.py``: the server named by
``THINKTWICE_TEST_POSTGRES_URL``, or a throwaway cluster; skipped without one).
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from app.storage.database import Database, open_database
from app.storage.tables import AnswerRow, TraineeRow

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of an empty database for one test."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'thinktwice.db'}"
    # Asked for only here, so that SQLite runs never start the server.
    return str(request.getfixturevalue("postgres_url"))


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


# Rows made here bypass the chain (app.storage.ledger): they only need distinct places.
_CHAIN_PLACES = itertools.count(1)


def make_answer(trainee_id: int, attempt: str = "a" * 32, **extra: Any) -> AnswerRow:
    values: dict[str, Any] = {
        "chain_seq": next(_CHAIN_PLACES),
        "previous_hash": "0" * 64,
        "record_hash": "f" * 64,
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

"""The answers CSV that SQLite formats is byte for byte the one Python formats.

On SQLite the export formats its cells in SQL and leaves a row to Python only when it
cannot prove the SQL writes it exactly so. These tests fill a database with awkward
values (formula starts, CSV specials, unicode, newlines, flags not given and given empty,
lists that are not as json.dumps writes them, times and seconds at the edges), then
compare the two formattings over every filter, in one chunk and in many, on one
connection and on several.
"""

from __future__ import annotations

import io
import random
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import col, select

from app.core.model import ContentLibrary
from app.services import exports
from app.services.exports import ANSWER_CSV_COLUMNS, parse_since, write_answers_csv
from app.services.manager import ManagerService
from app.services.settings import Settings
from app.services.training import TrainingService
from app.storage.database import Database
from app.storage.tables import AnswerRow, TraineeRow
from tests.unit.services.answers_csv_support import (
    NAMES,
    REVISIONS,
    T0,
    add_answer,
    add_trainee,
    fill,
)
from tests.unit.services.records_support import PASSPHRASE, ada_passes, bob_fails, build_library


@pytest.fixture
def library() -> ContentLibrary:
    return build_library()


@pytest.fixture
def manager(database: Database, library: ContentLibrary, settings: Settings) -> ManagerService:
    return ManagerService(database, library, settings)


def _both(database: Database, **filters: object) -> tuple[bytes, bytes]:
    in_sql, in_python = io.BytesIO(), io.BytesIO()
    counted = write_answers_csv(database, in_sql, **filters)  # type: ignore[arg-type]
    expected = write_answers_csv(
        database,
        in_python,
        format_in_database=False,
        **filters,  # type: ignore[arg-type]
    )
    assert counted == expected
    return in_sql.getvalue(), in_python.getvalue()


def _assert_same(database: Database, **filters: object) -> bytes:
    in_sql, in_python = _both(database, **filters)
    assert in_sql == in_python
    return in_sql


@pytest.fixture(params=["one chunk", "small chunks, one connection", "small chunks, two"])
def chunking(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if request.param != "one chunk":
        monkeypatch.setattr(exports, "ANSWER_CSV_CHUNK_ROWS", 3)
        monkeypatch.setattr(
            exports, "ANSWER_CSV_WORKERS", 2 if request.param.endswith("two") else 1
        )
    yield request.param


def _set_raw(database: Database, attempt_id: str, column: str, value: object) -> None:
    # Values the ORM would not write (JSON text as it is, times as they are).
    with database.engine.begin() as connection:
        connection.execute(
            text(f"UPDATE answer SET {column} = :value WHERE attempt_id = :attempt"),
            {"value": value, "attempt": attempt_id},
        )


# Stored texts the ORM would not write: lists and times as other writers might leave them.
RAW_LISTS: list[str | None] = [
    None,
    "null",
    "[]",
    '["blast-radius"]',
    '["a","b"]',
    '["a"] ',
    ' ["a"]',
    '[ "spaced" ]',
    '["Z\\u00f6e"]',
    '["Zöe"]',
    '["with \\"quote\\""]',
    '[", "]',
    '["a", ", ", "b"]',
    '["", "a"]',
]
RAW_TIMES = [
    "2026-11-24 09:00:00.000000",
    "2026-11-24 09:00:59.999999",
    "2026-11-24T09:00:01.500000",
    "2026-11-24 09:00:02",
    "2026-11-24 10:00:03.000000+01:00",
    "2026-11-24 09:00:04.250",
    "2026-11-24 09:00:05.123456Z",
]


@pytest.fixture
def awkward(database: Database) -> Database:
    """Every awkward value, through the ORM and as stored text."""
    trainees, sequence = fill(database)
    for index, stored in enumerate(RAW_LISTS):
        for column in ("flags_chosen", "flags_missed"):
            sequence += 1
            attempt = f"raw-{sequence}"
            add_answer(database, trainees[index % len(trainees)], sequence, attempt_id=attempt)
            if stored is None and column == "flags_missed":
                continue  # NOT NULL
            _set_raw(database, attempt, column, stored)
    for moment in RAW_TIMES:
        sequence += 1
        attempt = f"time-{sequence}"
        add_answer(database, trainees[1], sequence, attempt_id=attempt)
        _set_raw(database, attempt, "answered_at", moment)
    return database


def test_awkward_values_come_out_the_same_from_sql_and_python(
    awkward: Database, chunking: str
) -> None:
    raw = _assert_same(awkward)
    rows = raw.decode("utf-8-sig").count("\r\n")
    assert rows > len(NAMES) * len(REVISIONS), "every row is written, some over several lines"


def test_the_filters_select_the_same_rows_both_ways(awkward: Database, chunking: str) -> None:
    with awkward.read_session() as session:
        ids = [
            trainee.id for trainee in session.exec(select(TraineeRow).order_by(col(TraineeRow.id)))
        ]
    assert _assert_same(awkward, trainee_ids=ids[:3]) != _assert_same(awkward)
    _assert_same(awkward, trainee_ids=[])
    _assert_same(awkward, scenario_ids=["terraform-plan"])
    _assert_same(awkward, scenario_ids=["=equals", "has,comma"])
    _assert_same(awkward, since=T0 + timedelta(seconds=40))
    _assert_same(awkward, since=parse_since("2026-11-24"), trainee_ids=ids[1:2])


def test_cohort_track_and_since_filters_match(
    database: Database,
    training: TrainingService,
    library: ContentLibrary,
    manager: ManagerService,
    chunking: str,
) -> None:
    manager.set_passphrase(PASSPHRASE)
    session = manager.unlock(PASSPHRASE, "Lead")
    ada = training.create_profile('=Ada, "the" first', "ada@example.com", "+Platform")
    ada_passes(training, ada, library)
    bob = training.create_profile("@Bob", "E-2", "-Data")
    bob_fails(training, bob, library)
    carol = training.create_profile("Carol", None, None)
    bob_fails(training, carol, library)
    manager.create_cohort(session, "Room A")
    manager.add_members(session, "Room A", [ada, bob])
    for options in (
        {},
        {"cohort": "Room A"},
        {"track": "follow-up"},
        {"cohort": "Room A", "track": "follow-up"},
        {"since": T0},
        {"since": datetime.now(UTC) + timedelta(days=1)},
    ):
        scope = manager.scope(session, **options)
        raw = _assert_same(
            database,
            trainee_ids=scope.trainee_ids,
            scenario_ids=scope.scenario_ids,
            since=scope.since,
        )
        assert raw.startswith(b"\xef\xbb\xbf" + ",".join(ANSWER_CSV_COLUMNS).encode())


def test_random_values_come_out_the_same(database: Database, chunking: str) -> None:
    rng = random.Random(20261124)
    alphabet = [
        "a",
        "b",
        "-",
        "=",
        "+",
        "@",
        ",",
        '"',
        ";",
        " ",
        "\n",
        "\r",
        "\t",
        "\\",
        "[",
        "]",
        "é",
        "ß",
    ]

    def word(length: int) -> str:
        return "".join(rng.choice(alphabet) for _ in range(length))

    trainees = [
        add_trainee(database, word(rng.randint(0, 6)) or "x", word(3), None) for _ in range(5)
    ]
    for sequence in range(1, 301):
        add_answer(
            database,
            rng.choice(trainees),
            sequence,
            attempt_id=f"{word(2)}{sequence}",
            scenario_id=rng.choice(["cleanup-disk", word(4) or "s"]),
            step_id=rng.choice(["delete", word(3) or "p"]),
            revision_text=rng.choice([None, word(rng.randint(0, 12))]),
            flags_chosen=rng.choice(
                [None, [], [word(rng.randint(0, 4)) for _ in range(rng.randint(1, 3))]]
            ),
            flags_missed=[word(rng.randint(0, 4)) for _ in range(rng.randint(0, 3))],
            confidence=rng.choice([None, rng.randint(50, 100)]),
            seconds=rng.choice(
                [rng.random() * 100, rng.randint(0, 4000) / 16, rng.randint(0, 99999) / 1000]
            ),
            answered_at=T0 + timedelta(microseconds=rng.randint(0, 10**9)),
        )
    _assert_same(database)


def test_rows_keep_their_order_across_chunks_and_connections(
    database: Database, training: TrainingService, library: ContentLibrary, chunking: str
) -> None:
    ada = training.create_profile("Ada")
    bob = training.create_profile("Bob")
    for _ in range(4):
        ada_passes(training, ada, library)
        bob_fails(training, bob, library)
    raw = _assert_same(database)
    lines = raw.decode("utf-8-sig").split("\r\n")[1:-1]
    with database.read_session() as session:
        query = select(AnswerRow).order_by(col(AnswerRow.answered_at), col(AnswerRow.id))
        expected = [answer.attempt_id for answer in session.exec(query)]
    assert [line.split(",", 1)[0] for line in lines] == expected


def test_progress_counts_every_row(awkward: Database, chunking: str) -> None:
    seen: list[int] = []
    count = write_answers_csv(awkward, io.BytesIO(), progress=seen.append)
    assert seen and seen[-1] == count
    assert seen == sorted(seen)


def test_an_in_memory_database_formats_in_sql_too(tmp_path: object) -> None:
    from app.storage.database import open_database

    database = open_database("sqlite://", backup_dir=None)
    try:
        trainee = add_trainee(database, "=Ada", None, "Red, Blue")
        for sequence in range(1, 8):
            add_answer(database, trainee, sequence, revision_text='x,"y"' if sequence % 2 else None)
        raw = _assert_same(database)
        assert raw.count(b"\r\n") == 8
        assert b"'=Ada" in raw
    finally:
        database.close()


def test_cells_are_quoted_as_the_csv_module_quotes_them() -> None:
    import csv

    for value in ["", "plain", "a,b", 'a"b', "a\nb", "a\rb", " lead", "trail ", "é", "\t", ";"]:
        line = io.StringIO()
        csv.writer(line, lineterminator="\r\n").writerow([value, "x"])
        assert line.getvalue() == exports._csv_field(value) + ",x\r\n"


def test_a_chunk_longer_than_sqlite_allows_is_written_row_by_row(
    awkward: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    install = exports._SqliteFormatter.install

    def install_with_a_short_limit(formatter: exports._SqliteFormatter, connection: Any) -> None:
        install(formatter, connection)
        # Longer than any one line here, shorter than a chunk of them.
        connection.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, 2_000)

    monkeypatch.setattr(exports._SqliteFormatter, "install", install_with_a_short_limit)
    _assert_same(awkward)


def test_a_failure_on_a_worker_reaches_the_caller_and_stops_the_others(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(exports, "ANSWER_CSV_CHUNK_ROWS", 3)
    monkeypatch.setattr(exports, "ANSWER_CSV_WORKERS", 2)
    trainee = add_trainee(database, "Ada", None, None)
    for sequence in range(1, 40):
        add_answer(database, trainee, sequence)
    # Not JSON at all: Python cannot read it, whichever way the export formats.
    _set_raw(database, f"attempt-{trainee}-20", "flags_chosen", '["unclosed"')
    threads = threading.active_count()
    with pytest.raises(ValueError) as in_sql:
        write_answers_csv(database, io.BytesIO())
    with pytest.raises(ValueError) as in_python:
        write_answers_csv(database, io.BytesIO(), format_in_database=False)
    assert type(in_sql.value) is type(in_python.value)
    assert str(in_sql.value) == str(in_python.value), "the same fault, as Python reports it"
    assert threading.active_count() == threads

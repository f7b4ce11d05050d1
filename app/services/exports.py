"""Exports of the records for spreadsheets, HR systems, learning record stores and auditors.

- CSV, one row per answer (``--detail answers``), per trainee and track
  (``--detail tracks``) or per attended room session (``--detail sessions``): UTF-8 with
  a byte order mark (spreadsheet programs need it to detect UTF-8), ISO 8601 times in
  UTC, and text cells that a spreadsheet would run as a formula prefixed with a single
  quote.
- JSON: the completion records, the answers and the attended room sessions, keys
  documented in docs/records-schema.md.
- xAPI 1.0.3 statements (``app.core.xapi``): one per counted answer, one per finished
  track and one per attended room session (``app.core.room``), as a JSON array or as JSON
  lines.

Answers stream from the database in batches, so memory use does not grow with their
number. Writing to a file atomically is the caller's business (the CLI writes to a
temporary file and renames it).
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, time
from enum import StrEnum
from typing import TYPE_CHECKING, Any, BinaryIO

from sqlalchemy import select
from sqlmodel import col

from app.core.completion import TrackOutcome
from app.core.model import ContentLibrary, Decision
from app.core.records import AnswerRecord, Profile
from app.core.room import AttendedSession
from app.core.scoring import step_score
from app.core.xapi import answered_statement, outcome_statement
from app.services.completion import CompletionRecord, RecordScope
from app.services.history import VOID_ATTEMPT_KEY
from app.services.reports import iso_time, number
from app.storage.tables import AnswerRow, EventRow, TraineeRow

if TYPE_CHECKING:
    from app.storage.database import Database

RECORDS_SCHEMA = "thinktwice-records"
RECORDS_SCHEMA_VERSION = 1

ProgressCallback = Callable[[int], None]
"""Called with the number of rows or statements written so far."""


class ExportFormat(StrEnum):
    """What an export writes."""

    CSV = "csv"
    JSON = "json"
    XAPI = "xapi"
    BUNDLE = "bundle"
    PDF = "pdf"


class Detail(StrEnum):
    """One row per trainee and track, per answer, or per attended room session."""

    TRACKS = "tracks"
    ANSWERS = "answers"
    SESSIONS = "sessions"


TRACK_CSV_COLUMNS: tuple[str, ...] = (
    "trainee_name",
    "trainee_email_or_id",
    "trainee_team",
    "trainee_uid",
    "cohort",
    "track_id",
    "track_title",
    "content_hash",
    "status",
    "items_done",
    "items_total",
    "score",
    "over_trust_rate",
    "under_trust_rate",
    "first_started",
    "completed_at",
    "seconds_spent",
    "due_at",
    "overdue",
    "certificate_id",
)

ANSWER_CSV_COLUMNS: tuple[str, ...] = (
    "attempt_id",
    "trainee_name",
    "trainee_email_or_id",
    "trainee_team",
    "scenario_id",
    "scenario_version",
    "step_id",
    "decision",
    "revision",
    "correct",
    "flags_given",
    "flags_chosen",
    "flags_missed",
    "confidence",
    "seconds",
    "answered_at",
)
LIST_SEPARATOR = ";"
STREAM_BATCH_SIZE = 2000

# Characters that make a spreadsheet treat a cell as a formula (OWASP "CSV Injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def write_answers_csv(
    database: Database,
    out: BinaryIO,
    *,
    trainee_ids: Sequence[int] | None = None,
    scenario_ids: Sequence[str] | None = None,
    since: datetime | None = None,
    progress: ProgressCallback | None = None,
    format_in_database: bool = True,
) -> int:
    """Write the answers as CSV to ``out``, oldest first; returns the number of rows.

    Without filters every answer is written; ``trainee_ids``, ``scenario_ids`` and
    ``since`` (answered at or after) narrow them. ``out`` is left open. Columns are
    :data:`ANSWER_CSV_COLUMNS`; ``flags_given`` says whether the trainee chose flags at all
    (``flags_chosen`` is empty either way when they chose none), ``confidence`` is empty
    when not given, and ``revision`` is the text of the chosen revision.

    On SQLite the database formats the cells (:func:`_write_answer_rows_sqlite`), byte for
    byte as the Python formatting used on PostgreSQL does; ``format_in_database`` ``False``
    takes the Python formatting on SQLite too.
    """
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
    try:
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow(ANSWER_CSV_COLUMNS)
        text.flush()
        filters = _AnswerFilters(
            trainee_ids=None if trainee_ids is None else tuple(trainee_ids),
            scenario_ids=None if scenario_ids is None else tuple(scenario_ids),
            since=since,
        )
        count = None
        if format_in_database and database.dialect_name == "sqlite":
            count = _write_answer_rows_sqlite(database, out, filters, progress)
        if count is None:
            count = _write_answer_rows(database, writer, filters, progress)
        text.flush()
    finally:
        # Hand ``out`` back open: the caller owns it.
        text.detach()
    return count


@dataclass(frozen=True)
class _AnswerFilters:
    trainee_ids: tuple[int, ...] | None
    scenario_ids: tuple[str, ...] | None
    since: datetime | None


def _write_answer_rows(
    database: Database,
    writer: Any,
    filters: _AnswerFilters,
    progress: ProgressCallback | None,
) -> int:
    """The answer rows, each cell formatted in Python (any database)."""
    statement = (
        select(
            col(AnswerRow.attempt_id),
            col(TraineeRow.display_name),
            col(TraineeRow.email_or_id),
            col(TraineeRow.team),
            col(AnswerRow.scenario_id),
            col(AnswerRow.scenario_version),
            col(AnswerRow.step_id),
            col(AnswerRow.decision),
            col(AnswerRow.revision_text),
            col(AnswerRow.correct),
            col(AnswerRow.flags_chosen),
            col(AnswerRow.flags_missed),
            col(AnswerRow.confidence),
            col(AnswerRow.seconds),
            col(AnswerRow.answered_at),
        )
        .join(TraineeRow, col(TraineeRow.id) == col(AnswerRow.trainee_id))
        .order_by(col(AnswerRow.answered_at), col(AnswerRow.id))
    )
    if filters.trainee_ids is not None:
        statement = statement.where(col(AnswerRow.trainee_id).in_(filters.trainee_ids))
    if filters.scenario_ids is not None:
        statement = statement.where(col(AnswerRow.scenario_id).in_(filters.scenario_ids))
    if filters.since is not None:
        statement = statement.where(col(AnswerRow.answered_at) >= filters.since)
    count = 0
    with database.read_connection() as connection:
        # A server-side cursor on PostgreSQL; on SQLite rows are fetched as read anyway.
        result = connection.execution_options(
            stream_results=True, yield_per=STREAM_BATCH_SIZE
        ).execute(statement)
        for batch in result.partitions():
            writer.writerows(_csv_row(row) for row in batch)
            count += len(batch)
            if progress is not None:
                progress(count)
    return count


def _csv_row(row: Sequence[Any]) -> list[str]:
    (
        attempt_id,
        name,
        email_or_id,
        team,
        scenario_id,
        scenario_version,
        step_id,
        decision,
        revision_text,
        correct,
        flags_chosen,
        flags_missed,
        confidence,
        seconds,
        answered_at,
    ) = row
    return [
        safe_cell(attempt_id),
        safe_cell(name),
        safe_cell(email_or_id or ""),
        safe_cell(team or ""),
        safe_cell(scenario_id),
        str(scenario_version),
        safe_cell(step_id),
        safe_cell(decision),
        safe_cell(revision_text or ""),
        "true" if correct else "false",
        "false" if flags_chosen is None else "true",
        safe_cell(_join(flags_chosen or ())),
        safe_cell(_join(flags_missed or ())),
        "" if confidence is None else str(confidence),
        _seconds(seconds),
        iso_utc(answered_at),
    ]


# SQLite: the answers CSV formatted by the database
#
# Per answer, Python would cost more than the database's own reading: the rows are
# formatted in SQL instead, a chunk of rows at a time into one string (the connection
# gives up Python's lock while it runs), on two connections at once for large exports.
# The SQL writes a row only when it can prove the row comes out exactly as the Python
# formatting writes it: identifiers with no CSV special and a safe first character, JSON
# lists as json.dumps writes them with plain items, times with no offset from UTC,
# seconds not within a rounding error of a half millisecond. Any other row goes to
# :meth:`_SqliteFormatter.row`, which is the Python formatting itself; trainee cells are
# formatted in Python once per trainee. tests/unit/services/test_answers_csv_in_sql.py
# compares the two byte for byte.

# Rows per chunk: each chunk is one query, one string of about 3 MB and one write.
ANSWER_CSV_CHUNK_ROWS = 10_000
# Connections formatting chunks at once on a SQLite file (the main thread only writes).
ANSWER_CSV_WORKERS = 2

_TRAINEE_CELLS_TABLE = "thinktwice_export_trainee_cells"
_ROW_FUNCTION = "thinktwice_csv_row"
_TRAINEE_FUNCTION = "thinktwice_csv_trainee"
_CELL_FUNCTION = "thinktwice_csv_cell"
# The largest seconds value the SQL formats; larger ones are rare enough for Python.
_SQL_SECONDS_LIMIT = 1_000_000


def _safe_start(value: str) -> str:
    # Conservative: a first character at or above 'A', or from '.' to '<' (digits among
    # them), is none of = + - @ TAB CR; anything else (and the empty text) is not proven.
    return f"({value} >= 'A' OR ({value} >= '.' AND {value} < '='))"


def _plain_identifier(value: str) -> str:
    return f"({_safe_start(value)} AND {_no_csv_specials(value)})"


def _no_csv_specials(value: str) -> str:
    # LIKE with one character between two % runs is a fast scan in SQLite.
    return (
        f"{value} NOT LIKE '%,%' AND {value} NOT LIKE '%\"%'"
        f" AND {value} NOT LIKE '%' || char(10) || '%'"
        f" AND {value} NOT LIKE '%' || char(13) || '%'"
    )


def _list_items(value: str) -> str:
    # '["a", "b"]' (json.dumps) gives 'a;b'; NULL, JSON null and [] give ''.
    return (
        f"CASE WHEN {value} IS NULL OR {value} = 'null' OR {value} = '[]' THEN ''"
        f" ELSE replace(substr({value}, 3, length({value}) - 4), '\", \"', ';') END"
    )


def _plain_list(value: str) -> str:
    # NULL, JSON null, [], or a list of strings as json.dumps writes it ('["a", "b"]')
    # with no escape (no backslash) and no comma in an item; then _list_items is exact.
    # With no escape no item holds a quote, so every comma of an item shows: followed by
    # no space, or by a space and no quote, or by a space and the item's closing quote
    # (', ", "' or ', "]'); or, for an item of just ", ", as a first item starting with
    # a comma, which is not a safe start.
    return (
        f"({value} IS NULL OR {value} = 'null' OR {value} = '[]' OR ("
        f"{value} >= '[\"' AND {value} < '[#' AND {value} LIKE '%\"]'"
        f" AND ({value} >= '[\"A' OR ({value} >= '[\".' AND {value} < '[\"='))"
        f" AND {value} NOT LIKE '%\\%'"
        f" AND {value} NOT GLOB '*,[^ ]*' AND {value} NOT GLOB '*, [^\"]*'"
        f" AND {value} NOT LIKE '%, \", \"%' AND {value} NOT LIKE '%, \"]'))"
    )


def _answer_lines_sql(where: str) -> str:
    """The query for the CSV lines of the answers ``where`` selects, in order.

    A row is written by the SQL when it passes every check below, else by Python.
    """
    decisions = " OR ".join(f"a.decision = '{decision.value}'" for decision in Decision)
    # ms: the seconds in whole milliseconds, rounded half up; exact away from a half.
    milliseconds = "CAST(a.seconds * 1000 + 0.5 AS INTEGER)"
    proven = " AND ".join(
        [
            _plain_identifier("a.attempt_id"),
            _plain_identifier("a.scenario_id"),
            _plain_identifier("a.step_id"),
            f"({decisions})",
            # Integers (text or a fraction would be written otherwise in Python).
            "a.scenario_version = CAST(a.scenario_version AS INTEGER)",
            "a.correct = CAST(a.correct AS INTEGER)",
            "(a.confidence IS NULL OR a.confidence = CAST(a.confidence AS INTEGER))",
            _plain_list("a.flags_chosen"),
            _plain_list("a.flags_missed"),
            # A date, a space and a time, with no offset from UTC after it (+ or a - past
            # the time); what follows the seconds (a fraction, a Z) is not written. Text
            # that is not a time at all fails in Python either way.
            "a.answered_at LIKE '____-__-__ __:__:__%'",
            "a.answered_at NOT LIKE '%+%' AND a.answered_at NOT LIKE '%:%-%'",
            # Text and NULL fail the range; a half millisecond needs Python's exact
            # decimal rounding.
            f"a.seconds BETWEEN 0 AND {_SQL_SECONDS_LIMIT}",
            "a.seconds * 1000 - CAST(a.seconds * 1000 AS INTEGER) NOT BETWEEN 0.49999 AND 0.50001",
        ]
    )
    revision = (
        "CASE WHEN a.revision_text IS NULL THEN ''"
        f" WHEN a.revision_text <> '' AND NOT {_safe_start('a.revision_text')}"
        f" THEN {_CELL_FUNCTION}(a.revision_text)"
        f" WHEN {_no_csv_specials('a.revision_text')} THEN a.revision_text"
        " ELSE '\"' || replace(a.revision_text, '\"', '\"\"') || '\"' END"
    )
    line = (
        "printf('%s,%s,%s,%d,%s,%s,%s,%s,%s,%s,%s,%s,%d.%03d,%.10sT%.8sZ' || char(13, 10), "
        f"a.attempt_id, x.cells, a.scenario_id, a.scenario_version, a.step_id, a.decision, "
        f"{revision}, CASE WHEN a.correct THEN 'true' ELSE 'false' END, "
        "CASE WHEN a.flags_chosen IS NULL OR a.flags_chosen = 'null' THEN 'false' "
        f"ELSE 'true' END, {_list_items('a.flags_chosen')}, {_list_items('a.flags_missed')}, "
        f"a.confidence, {milliseconds} / 1000, {milliseconds} % 1000, "
        "a.answered_at, substr(a.answered_at, 12))"
    )
    fallback = (
        f"{_ROW_FUNCTION}(a.attempt_id, x.cells, a.scenario_id, a.scenario_version, "
        "a.step_id, a.decision, a.revision_text, a.correct, a.flags_chosen, "
        "a.flags_missed, a.confidence, a.seconds, a.answered_at)"
    )
    return (
        f"SELECT CASE WHEN {proven} THEN {line} ELSE {fallback} END AS line "
        f"FROM answer AS a JOIN temp.{_TRAINEE_CELLS_TABLE} AS x ON x.id = a.trainee_id "
        f"WHERE {where} ORDER BY a.answered_at, a.id"
    )


class _SqliteFormatter:
    """The Python formatting, for the rows and cells the SQL leaves to it."""

    def __init__(self, dialect: Any) -> None:
        def processor(column: Any) -> Callable[[Any], Any]:
            found = column.type.dialect_impl(dialect).result_processor(dialect, None)
            return found if found is not None else _unchanged

        # The conversions SQLAlchemy applies to these columns when it reads them.
        self._correct = processor(col(AnswerRow.correct))
        self._flags_chosen = processor(col(AnswerRow.flags_chosen))
        self._flags_missed = processor(col(AnswerRow.flags_missed))
        self._seconds = processor(col(AnswerRow.seconds))
        self._answered_at = processor(col(AnswerRow.answered_at))
        # SQLite reports only that a function failed: what failed is kept here.
        self.failures: list[Exception] = []

    def install(self, connection: Any) -> None:
        """Add the functions and the trainees' cells to ``connection``, in a transaction."""
        for name, arity, function in (
            (_ROW_FUNCTION, 13, self.row),
            (_TRAINEE_FUNCTION, 3, self.trainee),
            (_CELL_FUNCTION, 1, self.cell),
        ):
            connection.create_function(name, arity, self._kept(function), deterministic=True)
        connection.execute(f"DROP TABLE IF EXISTS temp.{_TRAINEE_CELLS_TABLE}")
        connection.execute(
            f"CREATE TEMP TABLE {_TRAINEE_CELLS_TABLE} (id INTEGER PRIMARY KEY, cells TEXT)"
        )
        connection.execute(
            f"INSERT INTO temp.{_TRAINEE_CELLS_TABLE} SELECT id, "
            f"{_TRAINEE_FUNCTION}(display_name, email_or_id, team) FROM main.trainee"
        )

    def _kept(self, function: Callable[..., str]) -> Callable[..., str]:
        def call(*values: Any) -> str:
            try:
                return function(*values)
            except Exception as error:
                self.failures.append(error)
                raise

        return call

    @staticmethod
    def uninstall(connection: Any) -> None:
        # The table goes with the read transaction it was made in (_read_transaction).
        for name, arity in ((_ROW_FUNCTION, 13), (_TRAINEE_FUNCTION, 3), (_CELL_FUNCTION, 1)):
            connection.create_function(name, arity, None)

    @staticmethod
    def cell(value: str) -> str:
        return _csv_field(safe_cell(value))

    @staticmethod
    def trainee(name: str, email_or_id: str | None, team: str | None) -> str:
        cells = (safe_cell(name), safe_cell(email_or_id or ""), safe_cell(team or ""))
        return ",".join(_csv_field(cell) for cell in cells)

    def row(
        self,
        attempt_id: str,
        trainee_cells: str,
        scenario_id: str,
        scenario_version: int,
        step_id: str,
        decision: str,
        revision_text: str | None,
        correct: Any,
        flags_chosen: Any,
        flags_missed: Any,
        confidence: int | None,
        seconds: Any,
        answered_at: Any,
    ) -> str:
        cells = _csv_row(
            (
                attempt_id,
                "",
                "",
                "",
                scenario_id,
                scenario_version,
                step_id,
                decision,
                revision_text,
                self._correct(correct),
                self._flags_chosen(flags_chosen),
                self._flags_missed(flags_missed),
                confidence,
                self._seconds(seconds),
                self._answered_at(answered_at),
            )
        )
        encoded = [_csv_field(cell) for cell in cells]
        return ",".join([encoded[0], trainee_cells, *encoded[4:]]) + "\r\n"


def _unchanged(value: Any) -> Any:
    return value


def _csv_field(value: str) -> str:
    """``value`` as :func:`csv.writer` writes one cell of a row of several (excel dialect)."""
    if "," in value or '"' in value or "\n" in value or "\r" in value:
        return '"' + value.replace('"', '""') + '"'
    return value


@dataclass(frozen=True)
class _Chunk:
    """One query's worth of answers: ``[low, high)`` in (answered_at, id) order."""

    low: tuple[Any, Any] | None
    high: tuple[Any, Any] | None


def _write_answer_rows_sqlite(
    database: Database,
    out: BinaryIO,
    filters: _AnswerFilters,
    progress: ProgressCallback | None,
) -> int | None:
    """The answer rows formatted by SQLite (see the comment above ``ANSWER_CSV_CHUNK_ROWS``).

    ``None`` when the database does not keep its text as UTF-8, which the file needs.
    """
    with database.read_connection() as connection, _read_transaction(connection) as driver:
        if str(driver.execute("PRAGMA encoding").fetchone()[0]).upper() != "UTF-8":
            return None
        (last_id,) = driver.execute("SELECT max(id) FROM answer").fetchone()
        if last_id is None:
            return 0
        chunks = _chunks(driver, last_id)
        formatter = _SqliteFormatter(connection.dialect)
        where, parameters = _chunk_conditions(connection.dialect, filters, last_id)
        workers = min(ANSWER_CSV_WORKERS, os.cpu_count() or 1, len(chunks))
        # An in-memory database has one connection, shared: no second reader.
        parallel = workers > 1 and database.sqlite_path is not None
        if not parallel:
            formatter.install(driver)
            try:
                written = (
                    _format_chunk(driver, formatter, chunk, where, parameters) for chunk in chunks
                )
                return _write_chunks(out, written, progress)
            finally:
                formatter.uninstall(driver)
    # Each worker reads on its own connection, so in its own snapshot; answers are only
    # ever added, and ``last_id`` leaves out any added since the chunks were counted.
    return _write_chunks_in_parallel(
        database, out, chunks, workers, formatter, where, parameters, progress
    )


@contextmanager
def _read_transaction(connection: Any) -> Iterator[Any]:
    """The driver connection of ``connection``, in one read transaction (one snapshot)."""
    driver = connection.connection.driver_connection
    driver.execute("BEGIN")
    try:
        yield driver
    finally:
        if driver.in_transaction:
            driver.execute("ROLLBACK")


def _chunks(driver: Any, last_id: int) -> list[_Chunk]:
    """Boundaries every ``ANSWER_CSV_CHUNK_ROWS`` answers, read from the time index."""
    keys: list[tuple[Any, Any]] = []
    while True:
        if keys:
            found = driver.execute(
                "SELECT answered_at, id FROM answer WHERE (answered_at, id) > (?, ?) "
                "AND id <= ? ORDER BY answered_at, id LIMIT 1 OFFSET ?",
                (*keys[-1], last_id, ANSWER_CSV_CHUNK_ROWS - 1),
            ).fetchone()
        else:
            found = driver.execute(
                "SELECT answered_at, id FROM answer WHERE id <= ? "
                "ORDER BY answered_at, id LIMIT 1 OFFSET ?",
                (last_id, ANSWER_CSV_CHUNK_ROWS),
            ).fetchone()
        if found is None:
            break
        keys.append((found[0], found[1]))
    bounds: list[tuple[Any, Any] | None] = [None, *keys, None]
    return [_Chunk(low, high) for low, high in itertools.pairwise(bounds)]


def _chunk_conditions(dialect: Any, filters: _AnswerFilters, last_id: int) -> tuple[str, list[Any]]:
    """The WHERE clause shared by every chunk (without its bounds), and its parameters."""
    conditions = ["a.id <= ?"]
    parameters: list[Any] = [last_id]
    if filters.trainee_ids is not None:
        conditions.append(f"a.trainee_id IN ({_placeholders(filters.trainee_ids)})")
        parameters.extend(filters.trainee_ids)
    if filters.scenario_ids is not None:
        conditions.append(f"a.scenario_id IN ({_placeholders(filters.scenario_ids)})")
        parameters.extend(filters.scenario_ids)
    if filters.since is not None:
        # Compared as SQLAlchemy compares it: with the time as it stores times.
        answered_at: Any = col(AnswerRow.answered_at)
        to_stored = answered_at.type.dialect_impl(dialect).bind_processor(dialect)
        conditions.append("a.answered_at >= ?")
        parameters.append(filters.since if to_stored is None else to_stored(filters.since))
    return " AND ".join(conditions), parameters


def _placeholders(values: Sequence[object]) -> str:
    return ", ".join("?" * len(values)) if values else "NULL"


def _format_chunk(
    driver: Any,
    formatter: _SqliteFormatter,
    chunk: _Chunk,
    where: str,
    parameters: Sequence[Any],
) -> tuple[bytes, int]:
    conditions = [where]
    bounds: list[Any] = []
    if chunk.low is not None:
        conditions.append("(a.answered_at, a.id) >= (?, ?)")
        bounds.extend(chunk.low)
    if chunk.high is not None:
        conditions.append("(a.answered_at, a.id) < (?, ?)")
        bounds.extend(chunk.high)
    lines = _answer_lines_sql(" AND ".join(conditions))
    values = (*parameters, *bounds)
    try:
        # The subquery delivers its rows in its ORDER BY order, and group_concat joins
        # them in the order it receives them.
        data, count = driver.execute(
            f"SELECT CAST(group_concat(line, '') AS BLOB), count(*) FROM ({lines})", values
        ).fetchone()
    except sqlite3.DataError:
        # Longer than SQLite's longest text (very long revisions): the rows one by one.
        each = driver.execute(f"SELECT CAST(line AS BLOB) FROM ({lines})", values)
        rows = [row for (row,) in each]
        return b"".join(rows), len(rows)
    except sqlite3.OperationalError as error:
        if formatter.failures:
            # What the Python formatting raises for this value, as on PostgreSQL.
            raise formatter.failures[0] from error
        raise
    return (data or b""), count


def _write_chunks(
    out: BinaryIO, chunks: Iterable[tuple[bytes, int]], progress: ProgressCallback | None
) -> int:
    count = 0
    for data, rows in chunks:
        out.write(data)
        count += rows
        if progress is not None and rows:
            progress(count)
    return count


def _write_chunks_in_parallel(
    database: Database,
    out: BinaryIO,
    chunks: Sequence[_Chunk],
    workers: int,
    formatter: _SqliteFormatter,
    where: str,
    parameters: Sequence[Any],
    progress: ProgressCallback | None,
) -> int:
    """Format the chunks on ``workers`` connections; write them in order.

    Worker ``k`` formats chunks ``k``, ``k + workers``, ... in turn into its own small
    queue, so memory holds a few chunks at most; the caller's thread takes them round
    the workers, which is the chunks' order.
    """
    queues: list[queue.Queue[tuple[bytes, int] | BaseException]] = [
        queue.Queue(maxsize=2) for _ in range(workers)
    ]
    stop = threading.Event()

    def hand_over(outbox: queue.Queue[tuple[bytes, int] | BaseException], item: Any) -> bool:
        """Put ``item`` in ``outbox`` once there is room; False once the export stopped."""
        while not stop.is_set():
            try:
                outbox.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work(first: int) -> None:
        outbox = queues[first]
        try:
            with database.read_connection() as connection, _read_transaction(connection) as driver:
                formatter.install(driver)
                try:
                    for chunk in chunks[first::workers]:
                        item = _format_chunk(driver, formatter, chunk, where, parameters)
                        if not hand_over(outbox, item):
                            return
                finally:
                    formatter.uninstall(driver)
        except BaseException as error:  # handed to the writing thread, which raises it
            hand_over(outbox, error)

    def ordered() -> Iterator[tuple[bytes, int]]:
        for index in range(len(chunks)):
            item = queues[index % workers].get()
            if isinstance(item, BaseException):
                raise item
            yield item

    threads = [
        threading.Thread(target=work, args=(first,), name=f"csv-export-{first}", daemon=True)
        for first in range(workers)
    ]
    for thread in threads:
        thread.start()
    try:
        return _write_chunks(out, ordered(), progress)
    finally:
        stop.set()
        for thread in threads:
            thread.join()


def safe_cell(value: str) -> str:
    """``value``, prefixed with ``'`` when a spreadsheet would read it as a formula."""
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value


def iso_utc(moment: datetime) -> str:
    """``2026-11-24T10:15:00Z``: ISO 8601 in UTC, to the second."""
    if moment.utcoffset() is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _join(items: Iterable[str]) -> str:
    return LIST_SEPARATOR.join(items)


def _seconds(value: float) -> str:
    # Milliseconds: finer than any trainee's timing, and never in scientific notation.
    return f"{value:.3f}"


def parse_since(text: str) -> datetime:
    """An ISO 8601 date or date and time; without a time zone it is taken as UTC.

    ``ValueError`` with a message to show when it is neither.
    """
    value = text.strip()
    try:
        if len(value) == 10:
            moment = datetime.combine(datetime.fromisoformat(value).date(), time())
        else:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"'{text}' is not a date; use an ISO 8601 date such as 2026-11-24, or a date "
            "and time such as 2026-11-24T09:00:00Z."
        ) from None
    return moment.replace(tzinfo=UTC) if moment.utcoffset() is None else moment.astimezone(UTC)


def _rate(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def write_tracks_csv(records: Iterable[CompletionRecord], out: BinaryIO) -> int:
    """Write one CSV row per trainee and track; returns the number of rows."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
    try:
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow(TRACK_CSV_COLUMNS)
        count = 0
        for record in records:
            writer.writerow(
                [
                    safe_cell(record.trainee_name),
                    safe_cell(record.trainee_email_or_id or ""),
                    safe_cell(record.trainee_team or ""),
                    record.trainee_uid,
                    safe_cell(record.cohort or ""),
                    safe_cell(record.track_id),
                    safe_cell(record.track_title),
                    record.content_hash,
                    record.status.value,
                    str(record.items_done),
                    str(record.items_total),
                    _rate(record.score),
                    _rate(record.over_trust_rate),
                    _rate(record.under_trust_rate),
                    "" if record.first_started is None else iso_utc(record.first_started),
                    "" if record.completed_at is None else iso_utc(record.completed_at),
                    _seconds(record.seconds_spent),
                    "" if record.due_at is None else iso_utc(record.due_at),
                    "true" if record.overdue else "false",
                    record.certificate_id or "",
                ]
            )
            count += 1
        text.flush()
    finally:
        text.detach()
    return count


def completion_record_json(record: CompletionRecord) -> dict[str, Any]:
    """A completion record as the JSON export writes it."""
    return {
        "trainee_uid": record.trainee_uid,
        "trainee_name": record.trainee_name,
        "trainee_email_or_id": record.trainee_email_or_id,
        "trainee_team": record.trainee_team,
        "trainee_archived": record.trainee_archived,
        "cohort": record.cohort,
        "track_id": record.track_id,
        "track_title": record.track_title,
        "content_hash": record.content_hash,
        "status": record.status.value,
        "items_done": record.items_done,
        "items_total": record.items_total,
        "score": number(record.score),
        "over_trust_rate": number(record.over_trust_rate),
        "under_trust_rate": number(record.under_trust_rate),
        "first_started": iso_time(record.first_started),
        "completed_at": iso_time(record.completed_at),
        "seconds_spent": number(record.seconds_spent),
        "due_at": iso_time(record.due_at),
        "overdue": record.overdue,
        "certificate_id": record.certificate_id,
        "last_activity": iso_time(record.last_activity),
    }


def answer_json(row: AnswerRow, trainee_uid: str, voided: bool) -> dict[str, Any]:
    """An answer as the JSON export writes it."""
    record = row.to_record()
    return {
        "attempt_id": row.attempt_id,
        "play_id": row.play_id,
        "trainee_uid": trainee_uid,
        "scenario_id": row.scenario_id,
        "scenario_version": row.scenario_version,
        "pack_id": row.pack_id,
        "step_id": row.step_id,
        "decision": row.decision,
        "expected": row.expected,
        "revision_index": row.revision_index,
        "revision_text": row.revision_text,
        "correct": bool(row.correct),
        "verdict": row.verdict,
        "flags_given": row.flags_chosen is not None,
        "flags_chosen": None if row.flags_chosen is None else list(row.flags_chosen),
        "flags_missed": list(row.flags_missed),
        "flags_true": list(row.flags_true),
        "confidence": row.confidence,
        "seconds": number(row.seconds),
        "answered_at": iso_time(row.answered_at),
        "checks_made": list(row.checks_made),
        "check_minutes": row.check_minutes,
        "hint_taken": bool(row.hint_taken),
        "step_score": number(step_score(record).total),
        "voided": voided,
        "record_hash": row.record_hash,
    }


def _voided_attempts(database: Database, trainee_ids: Sequence[int] | None) -> set[str]:
    with database.read_session() as session:
        query = select(col(EventRow.details)).where(col(EventRow.kind) == "correct")
        if trainee_ids is not None:
            query = query.where(col(EventRow.trainee_id).in_(list(trainee_ids)))
        found = set()
        for (details,) in session.execute(query):
            attempt = details.get(VOID_ATTEMPT_KEY) if isinstance(details, dict) else None
            if isinstance(attempt, str):
                found.add(attempt)
        return found


def _answers(database: Database, scope: RecordScope) -> Iterator[tuple[AnswerRow, str]]:
    """The answers in ``scope`` with their trainee's uid, oldest first, in batches."""
    with database.read_session() as session:
        query = (
            select(AnswerRow, col(TraineeRow.uid))
            .join(TraineeRow, col(TraineeRow.id) == col(AnswerRow.trainee_id))
            .order_by(col(AnswerRow.answered_at), col(AnswerRow.id))
            .execution_options(stream_results=True, yield_per=STREAM_BATCH_SIZE)
        )
        if scope.trainee_ids is not None:
            query = query.where(col(AnswerRow.trainee_id).in_(list(scope.trainee_ids)))
        if scope.scenario_ids is not None:
            query = query.where(col(AnswerRow.scenario_id).in_(list(scope.scenario_ids)))
        if scope.since is not None:
            query = query.where(col(AnswerRow.answered_at) >= scope.since)
        for batch in session.execute(query).partitions():
            yield from ((answer, uid) for answer, uid in batch)
            session.expunge_all()


def write_records_json(
    database: Database,
    out: BinaryIO,
    *,
    scope: RecordScope,
    records: Sequence[CompletionRecord] | None,
    include_answers: bool,
    progress: ProgressCallback | None = None,
    sessions: Sequence[AttendedSession] | None = None,
) -> int:
    """Write the JSON export; returns the number of completion records, answers and
    attended-session records.

    ``records`` ``None`` leaves ``completion_records`` out, ``include_answers`` ``False``
    leaves ``answers`` out and ``sessions`` ``None`` leaves ``attended_sessions`` out
    (``--detail``).
    """
    header = {
        "schema": RECORDS_SCHEMA,
        "version": RECORDS_SCHEMA_VERSION,
        "generated_at": iso_time(datetime.now(UTC)),
        "filters": scope.describe(),
    }
    opening = json.dumps(header, ensure_ascii=False)[:-1]
    out.write(opening.encode("utf-8"))
    count = 0
    if records is not None:
        out.write(b', "completion_records": [')
        for index, record in enumerate(records):
            out.write((b",\n" if index else b"\n") + _json_bytes(completion_record_json(record)))
            count += 1
        out.write(b"\n]")
    if include_answers:
        voided = _voided_attempts(database, scope.trainee_ids)
        out.write(b', "answers": [')
        first = True
        for answer, uid in _answers(database, scope):
            item = answer_json(answer, uid, answer.attempt_id in voided)
            out.write((b"\n" if first else b",\n") + _json_bytes(item))
            first = False
            count += 1
            if progress is not None and count % STREAM_BATCH_SIZE == 0:
                progress(count)
        out.write(b"\n]")
    if sessions is not None:
        from app.services.room import attended_session_json

        out.write(b', "attended_sessions": [')
        for index, attended in enumerate(sessions):
            out.write((b",\n" if index else b"\n") + _json_bytes(attended_session_json(attended)))
            count += 1
        out.write(b"\n]")
    out.write(b"}\n")
    return count


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")


def _profiles(database: Database, trainee_ids: Sequence[int] | None) -> dict[str, Profile]:
    with database.read_session() as session:
        query = select(TraineeRow)
        if trainee_ids is not None:
            query = query.where(col(TraineeRow.id).in_(list(trainee_ids)))
        return {row.uid: row.to_profile() for (row,) in session.execute(query)}


def xapi_statements(
    database: Database,
    library: ContentLibrary,
    *,
    scope: RecordScope,
    records: Sequence[CompletionRecord],
    home_page: str,
) -> Iterator[dict[str, object]]:
    """One statement per counted answer in ``scope``, then one per finished track."""
    profiles = _profiles(database, scope.trainee_ids)
    voided = _voided_attempts(database, scope.trainee_ids)
    for answer, uid in _answers(database, scope):
        if answer.attempt_id in voided:
            continue
        scenario = library.scenarios.get(answer.scenario_id)
        title = scenario.title if scenario is not None else answer.scenario_id
        record: AnswerRecord = answer.to_record()
        yield answered_statement(record, profiles[uid], home_page, title)
    for completion in records:
        track = library.tracks.get(completion.track_id)
        profile = profiles.get(completion.trainee_uid)
        if track is None or profile is None:
            continue
        outcome = TrackOutcome(
            track_id=completion.track_id,
            status=completion.status,
            items_done=completion.items_done,
            items_total=completion.items_total,
            score=completion.score,
            over_trust_rate=completion.over_trust_rate,
            under_trust_rate=completion.under_trust_rate,
            first_started=completion.first_started,
            completed_at=completion.completed_at,
            seconds_spent=completion.seconds_spent,
            content_hash=completion.content_hash,
        )
        statement = outcome_statement(outcome, track, profile, home_page)
        if statement is not None:
            yield statement
    from app.services.room import attended_in_scope, attended_statements

    yield from attended_statements(attended_in_scope(database, library, scope), profiles, home_page)


def write_xapi(
    statements: Iterable[dict[str, object]],
    out: BinaryIO,
    *,
    json_lines: bool = False,
    progress: ProgressCallback | None = None,
) -> int:
    """Write statements as a JSON array, or one per line; returns how many."""
    count = 0
    if not json_lines:
        out.write(b"[")
    for statement in statements:
        data = _json_bytes(statement)
        if json_lines:
            out.write(data + b"\n")
        else:
            out.write((b",\n" if count else b"\n") + data)
        count += 1
        if progress is not None and count % STREAM_BATCH_SIZE == 0:
            progress(count)
    if not json_lines:
        out.write(b"\n]\n")
    return count


def write_export(
    database: Database,
    library: ContentLibrary,
    out: BinaryIO,
    *,
    export_format: ExportFormat,
    scope: RecordScope,
    records: Callable[[], Sequence[CompletionRecord]],
    detail: Detail | None = None,
    home_page: str,
    json_lines: bool = False,
    progress: ProgressCallback | None = None,
) -> int:
    """Write a CSV, JSON or xAPI export of ``scope``; returns rows, records or statements.

    ``records`` computes the completion records when the export needs them. CSV is per
    answer unless ``detail`` is :attr:`Detail.TRACKS` (or :attr:`Detail.SESSIONS`: one row
    per attended room session); JSON holds completion records, answers and attended
    sessions unless ``detail`` picks one. Bundles and PDF have their own writers.
    """
    from app.services.room import attended_in_scope, write_sessions_csv

    if export_format is ExportFormat.CSV:
        if detail is Detail.TRACKS:
            return write_tracks_csv(records(), out)
        if detail is Detail.SESSIONS:
            return write_sessions_csv(attended_in_scope(database, library, scope), out)
        return write_answers_csv(
            database,
            out,
            trainee_ids=scope.trainee_ids,
            scenario_ids=scope.scenario_ids,
            since=scope.since,
            progress=progress,
        )
    if export_format is ExportFormat.JSON:
        return write_records_json(
            database,
            out,
            scope=scope,
            records=None if detail in (Detail.ANSWERS, Detail.SESSIONS) else records(),
            include_answers=detail in (None, Detail.ANSWERS),
            progress=progress,
            sessions=(
                attended_in_scope(database, library, scope)
                if detail in (None, Detail.SESSIONS)
                else None
            ),
        )
    if export_format is ExportFormat.XAPI:
        statements = xapi_statements(
            database, library, scope=scope, records=records(), home_page=home_page
        )
        return write_xapi(statements, out, json_lines=json_lines, progress=progress)
    raise ValueError(f"write_export does not write {export_format.value}")

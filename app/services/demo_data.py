"""Demo data: a plausible cohort of trainees with their answers, written fast.

``thinktwice demo-data`` fills a database with trainees who have played the loaded
scenarios: right more often than wrong and better on retakes, sometimes naming the red
flags they saw and rating their confidence, having read most of the lessons; all in one
cohort with every track assigned. Managers can try the reports and exports on realistic
volumes with it, and the benchmarks measure those on it.

Every answer joins its trainee's hash chain as the app's own writes do, so ``thinktwice
records verify`` passes on the result. Answers that differ only in per-answer values
(ids, time, confidence, seconds, flags) share a *variant*: judged once, its chained text
rendered once by ``app.storage.ledger.answer_payload`` and ``app.core.chain.canonical_json``
with placeholders, so that an answer costs a few random draws, a string join and one
SHA-256 (:mod:`app.services.demo_worker` generates them, in time order).

Two ways of writing:

- **In bulk**, into a SQLite file whose ``answer`` table is empty (a new database, the
  usual case). Everything happens in one transaction: the trainees, then the answers,
  through a multi-row ``INSERT ... SELECT`` that takes each variant's columns from a
  temporary table, then the ``answer`` indexes, dropped at the start and made again from
  their own SQL at the end (sorting once costs far less than growing them row by row).
  The journal is a rollback journal for the run (WAL would write every page twice), so
  if the run stops half-way, even killed, the file rolls back to exactly how it was: a
  half-filled cohort is never visible. ``synchronous`` stays as the app sets it (FULL):
  the journal is on disk before the file is changed, and the commit is durable. The
  CHECK constraints are checked once for every value the rows can take rather than on
  every row, and foreign keys are not enforced (each answer names a trainee of the same
  transaction). Runs of ``PARALLEL_MIN_ANSWERS`` answers or more generate in worker
  processes while this one writes.
- **In batches** otherwise (answers already there, or PostgreSQL): a transaction per
  batch, each leaving whole chains; the indexes stay.

The first answer of each share and one in every ``EXACT_CHECK_EVERY`` are hashed again
with the exact chain functions; a difference stops the run, so the shortcut can never
drift from the app's definition of the chain unnoticed.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import pickle
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection as Pipe
from multiprocessing.process import BaseProcess
from typing import Any

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.engine import Connection, Dialect

from app.core.chain import GENESIS, canonical_json, link_hash
from app.core.judging import StepAnswer, judge
from app.core.model import ContentLibrary, Decision, Scenario, Step
from app.services import demo_worker
from app.services.demo_worker import (
    CHOSEN_MARK,
    MISSED_MARK,
    ROW_COLUMNS,
    ROW_WIDTH,
    SLOT,
    SLOT_ORDER,
    SLOT_TEXT,
    TEMPLATE_SLOTS,
    CheckSample,
    DemoBatch,
    DemoJob,
    DemoPerson,
    DemoStep,
)
from app.storage.database import Database
from app.storage.ledger import answer_payload
from app.storage.tables import (
    AnswerRow,
    CohortMemberRow,
    CohortRow,
    CohortTrackRow,
    LessonReadRow,
    TraineeRow,
)

_log = logging.getLogger(__name__)

DEMO_COHORT_NAME = "Demo cohort"
DEFAULT_SEED = 1
BATCH_ANSWERS = 20_000
HISTORY_DAYS = 60
DUE_IN_DAYS = 14
EXACT_CHECK_EVERY = 997
BULK_CACHE_KIB = 128 * 1024
BULK_MMAP_BYTES = 1 << 30
INDEX_CACHE_KIB = 16 * 1024
INDEX_SORT_THREADS = 2
MAX_TRAINEES = 1_000_000
MAX_ANSWERS_PER_TRAINEE = 1_000_000
# Runs at least this big generate in worker processes (starting one takes a moment).
PARALLEL_MIN_ANSWERS = 100_000
MAX_WORKERS = 4
# Answers per batch that a worker sends, and rows per INSERT statement in bulk.
BULK_BATCH_ANSWERS = 5_000
BULK_CHUNK_ROWS = 50
WORKER_STOP_SECONDS = 5.0

FIRST_NAMES = (
    "Aaliyah", "Amara", "Andrei", "Aiko", "Bea", "Bilal", "Carmen", "Chidi", "Dana", "Diego",
    "Elif", "Emeka", "Farah", "Felix", "Grace", "Hamza", "Hana", "Ingrid", "Ivan", "Jamal",
    "Jia", "Kai", "Kofi", "Lena", "Liam", "Maya", "Mateo", "Nadia", "Nikhil", "Noor",
    "Olu", "Priya", "Rafael", "Rin", "Sofia", "Tariq", "Uma", "Viktor", "Wen", "Zara",
)  # fmt: skip
LAST_NAMES = (
    "Abebe", "Andersen", "Bakker", "Banerjee", "Chen", "Costa", "Dubois", "Eze", "Fischer",
    "García", "Haddad", "Ito", "Jansen", "Kaur", "Kowalski", "Larsen", "Li", "Mensah",
    "Moreau", "Nakamura", "Novak", "Okafor", "Olsen", "Park", "Petrov", "Quinn", "Rossi",
    "Santos", "Schmidt", "Silva", "Singh", "Sato", "Tanaka", "Torres", "Usman", "Varga",
    "Wang", "Weber", "Yilmaz", "Zhou",
)  # fmt: skip
TEAMS = ("Platform", "Payments", "Data", "Mobile", "Security", "SRE", "Web", "Support tools")

# The chained values that differ from answer to answer.
_PER_ANSWER = (*SLOT_ORDER, "flags_chosen", "flags_missed")
# Answer columns a variant fixes, after the per-answer ones (demo_worker.ROW_COLUMNS).
_STATIC_COLUMNS = (
    "scenario_id",
    "scenario_version",
    "pack_id",
    "step_id",
    "decision",
    "expected",
    "revision_index",
    "revision_text",
    "correct",
    "verdict",
    "flags_true",
    "checks_made",
    "check_minutes",
    "hint_taken",
)
_VARIANT_TABLE = "demo_variant"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DAY_US = 86_400_000_000


class DemoDataError(RuntimeError):
    """The demo data could not be generated as asked."""


@dataclass(frozen=True, slots=True)
class DemoDataSummary:
    """What :func:`generate_demo_data` wrote and how long it took."""

    trainees: int
    answers: int
    lessons_read: int
    cohort: str
    seconds: float

    @property
    def answers_per_second(self) -> float:
        """Answers written per second of the whole run."""
        return self.answers / self.seconds if self.seconds > 0 else float("inf")


def generate_demo_data(
    database: Database,
    library: ContentLibrary,
    *,
    trainees: int,
    answers_per_trainee: int,
    seed: int = DEFAULT_SEED,
    now: datetime | None = None,
    progress: Callable[[int, int], object] | None = None,
) -> DemoDataSummary:
    """Add ``trainees`` trainees with ``answers_per_trainee`` answers each, in a new cohort.

    The same ``seed`` on the same database gives the same trainees and answers (their
    times are relative to ``now``). Names never clash with the trainees already there; the
    cohort is ``Demo cohort`` (or ``Demo cohort 2`` and so on when that is taken).
    ``progress`` is called with (answers written, answers in all) after each batch.
    Raises :class:`DemoDataError` when the library has no scenario or a count is out of
    range, and a :class:`~app.services.errors.StorageError` when the database fails. A
    SQLite file without answers is filled in one transaction, so a failure leaves it as
    it was; otherwise batches already committed stay, each a consistent set of whole
    chains.
    """
    if not 1 <= trainees <= MAX_TRAINEES:
        raise DemoDataError(f"the number of trainees must be between 1 and {MAX_TRAINEES:,}")
    if not 0 <= answers_per_trainee <= MAX_ANSWERS_PER_TRAINEE:
        raise DemoDataError(
            f"the answers per trainee must be between 0 and {MAX_ANSWERS_PER_TRAINEE:,}"
        )
    if not library.scenarios:
        raise DemoDataError("no scenarios are loaded, so there is nothing to answer")
    started = time.perf_counter()
    plan = _Plan(
        library=library,
        trainees=trainees,
        answers_per_trainee=answers_per_trainee,
        seed=seed,
        now=(now or datetime.now(UTC)).astimezone(UTC),
        progress=progress,
    )
    written: tuple[int, int, str] | None = None
    with _collector_paused():
        if _can_load_in_bulk(database):
            total = trainees * answers_per_trainee
            shares = min(trainees, _worker_count()) if total >= PARALLEL_MIN_ANSWERS else 0
            # Started first: a worker's start-up then overlaps with writing the trainees.
            with _Workers.started(shares) as workers:
                written = _write_in_bulk(database, plan, workers)
        if written is None:
            written = _write_in_batches(database, plan)
    answers, lessons_read, cohort_name = written
    return DemoDataSummary(
        trainees=trainees,
        answers=answers,
        lessons_read=lessons_read,
        cohort=cohort_name,
        seconds=time.perf_counter() - started,
    )


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the garbage collector: the rows are millions of tuples and make no cycles."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass(frozen=True, slots=True)
class _Plan:
    """What the caller asked for."""

    library: ContentLibrary
    trainees: int
    answers_per_trainee: int
    seed: int
    now: datetime
    progress: Callable[[int, int], object] | None

    def job(
        self,
        people: list[DemoPerson],
        variants: _Variants,
        *,
        sqlite_values: bool,
        batch_rounds: int,
        chunk_rows: int,
    ) -> DemoJob:
        """The job of generating the answers of ``people``, ``batch_rounds`` at a time."""
        start_us = _microseconds(self.now - timedelta(days=HISTORY_DAYS))
        count = self.answers_per_trainee
        interval_us = max(1, (_microseconds(self.now) - start_us) // max(1, count))
        return DemoJob(
            people=tuple(people),
            plays=variants.plays,
            templates=variants.templates,
            answers_per_trainee=count,
            start_us=start_us,
            interval_us=interval_us,
            slot_us=interval_us / self.trainees,
            batch_rounds=batch_rounds,
            sqlite_values=sqlite_values,
            chunk_rows=chunk_rows,
            check_every=EXACT_CHECK_EVERY,
        )

    def report(self, done: int) -> None:
        if self.progress is not None:
            self.progress(done, self.trainees * self.answers_per_trainee)


@dataclass(frozen=True, slots=True)
class _Variant:
    """Everything two answers share when they differ only in per-answer values."""

    static_values: tuple[Any, ...]  # _STATIC_COLUMNS as the database takes them
    python_values: dict[str, Any]  # _STATIC_COLUMNS as plain values, for exact checks


class _Variants:
    """Every answer variant of the scenarios played, judged, with its chain template."""

    def __init__(self, library: ContentLibrary, dialect: Dialect) -> None:
        processors = [_processor(name, dialect) for name in _STATIC_COLUMNS]
        self.variants: list[_Variant] = []
        templates: list[str] = []
        plays: list[tuple[DemoStep, ...]] = []
        for scenario in _play_order(library):
            steps: list[DemoStep] = []
            for step in scenario.steps:
                right, wrong = _choices(step)
                numbers = []
                for decision, revision_index in (right, *wrong):
                    variant, template = _make_variant(
                        scenario, step, decision, revision_index, processors
                    )
                    numbers.append(len(self.variants))
                    self.variants.append(variant)
                    templates.append(template)
                steps.append(DemoStep(step=step, right=numbers[0], wrong=tuple(numbers[1:])))
            plays.append(tuple(steps))
        self.plays = tuple(plays)
        self.templates = tuple(templates)


def _choices(
    step: Step,
) -> tuple[tuple[Decision, int | None], list[tuple[Decision, int | None]]]:
    """The right decision (and revision) on a step, and the wrong ones."""
    key = step.answer
    right = (key, step.correct_revision_index if key is Decision.REVISE else None)
    wrong: list[tuple[Decision, int | None]] = [
        (choice, None) for choice in (Decision.ACCEPT, Decision.REJECT) if choice is not key
    ]
    # Revising is a wrong choice with a wrong revision, or on a step that needs none.
    wrong.extend(
        (Decision.REVISE, index)
        for index, revision in enumerate(step.revisions)
        if key is not Decision.REVISE or not revision.correct
    )
    return right, wrong


def _make_variant(
    scenario: Scenario,
    step: Step,
    decision: Decision,
    revision_index: int | None,
    processors: list[Callable[[Any], Any] | None],
) -> tuple[_Variant, str]:
    outcome = judge(step, StepAnswer(decision, revision_index))
    python_values: dict[str, Any] = {
        "scenario_id": scenario.id,
        "scenario_version": scenario.version,
        "pack_id": scenario.pack_id,
        "step_id": step.id,
        "decision": decision.value,
        "expected": step.answer.value,
        "revision_index": revision_index,
        "revision_text": (
            step.revisions[revision_index].text if revision_index is not None else None
        ),
        "correct": outcome.correct,
        "verdict": outcome.verdict.value,
        "flags_true": list(step.flags),
        "checks_made": [],
        "check_minutes": 0,
        "hint_taken": False,
    }
    static = tuple(
        value if process is None else process(value)
        for process, value in zip(
            processors, (python_values[c] for c in _STATIC_COLUMNS), strict=True
        )
    )
    return _Variant(static, python_values), _chain_template(python_values)


def _chain_template(python_values: dict[str, Any]) -> str:
    """The canonical chained text of an answer with placeholders for per-answer values.

    Built by the app's own ``answer_payload`` and ``canonical_json``, so it follows any
    change to either; the placeholders are those :class:`demo_worker.DemoJob` describes.
    """
    row = AnswerRow(
        attempt_id="",
        play_id="",
        trainee_id=0,
        seconds=0.0,
        answered_at=_EPOCH,
        flags_chosen=None,
        flags_missed=[],
        chain_seq=0,
        previous_hash="",
        record_hash="",
        **python_values,
    )
    payload = dict(answer_payload(row, ""))
    missing = [name for name in _PER_ANSWER if name not in payload]
    if missing:
        raise DemoDataError(f"the chained answer no longer has {missing}; update demo data")
    for name in _PER_ANSWER:
        payload[name] = f"\0{name}\0"
    text = canonical_json(payload)
    marks = {name: demo_worker.json_value(f"\0{name}\0") for name in _PER_ANSWER}
    if any(text.count(mark) != 1 for mark in marks.values()):
        raise DemoDataError("could not place a per-answer value in the chained text")
    if sorted(SLOT_ORDER, key=lambda name: text.find(marks[name])) != list(SLOT_ORDER):
        raise DemoDataError("the chained answer fields are not in the expected order")
    text = text.replace(marks["flags_chosen"], CHOSEN_MARK)
    text = text.replace(marks["flags_missed"], MISSED_MARK)
    for name in SLOT_ORDER:
        text = text.replace(marks[name], SLOT_TEXT[name])
    template = f"{SLOT}\n{text}"
    if template.count(SLOT) != TEMPLATE_SLOTS:
        raise DemoDataError("could not place a per-answer value in the chained text")
    return template


def _check_exactly(sample: CheckSample, variant: _Variant) -> None:
    """Hash this answer again with the app's own chain functions; they must agree."""
    row = AnswerRow(
        attempt_id=sample.attempt_id,
        play_id=sample.play_id,
        trainee_id=sample.trainee_id,
        confidence=sample.confidence,
        seconds=sample.seconds,
        answered_at=_EPOCH + timedelta(microseconds=sample.answered_at_us),
        chain_seq=sample.chain_seq,
        previous_hash=sample.previous_hash,
        record_hash="",
        flags_chosen=sample.flags_chosen,
        flags_missed=sample.flags_missed,
        **variant.python_values,
    )
    if link_hash(sample.previous_hash, answer_payload(row, sample.uid)) != sample.record_hash:
        raise DemoDataError(
            "the fast chain hash differs from app.storage.ledger's; demo data needs updating"
        )


def _check_samples(batch: DemoBatch, variants: _Variants) -> None:
    for sample in batch.samples:
        _check_exactly(sample, variants.variants[sample.variant])


def _check_stored_forms(dialect: Dialect) -> None:
    """The generator stores times and JSON lists as SQLAlchemy would on SQLite; check it."""
    moment = datetime(2024, 2, 29, 23, 59, 58, 123456, tzinfo=UTC)
    stored_time = _processor("answered_at", dialect)
    stored_list = _processor("flags_chosen", dialect)
    same = (
        stored_time is not None
        and stored_time(moment) == "2024-02-29 23:59:58.123456"
        and stored_list is not None
        and stored_list(["a", "b"]) == demo_worker.stored_json(["a", "b"])
        and stored_list(None) is None
    )
    if not same:
        raise DemoDataError("SQLite values are no longer stored as expected; update demo data")


# Writing in bulk: a SQLite file with no answers yet, in one transaction.


def _can_load_in_bulk(database: Database) -> bool:
    if database.dialect_name != "sqlite" or database.sqlite_path is None:
        return False
    with database.translated_errors(), database.engine.connect() as connection:
        return not _has_answers(connection)


def _has_answers(connection: Connection) -> bool:
    answers = _table(AnswerRow)
    return connection.execute(select(answers.c.id).limit(1)).first() is not None


def _write_in_bulk(
    database: Database, plan: _Plan, workers: _Workers
) -> tuple[int, int, str] | None:
    """Write everything in one transaction; ``None`` when answers appeared meanwhile."""
    dialect = database.engine.dialect
    _check_stored_forms(dialect)
    with (
        database.translated_errors(),
        _bulk_connection(database) as connection,
        connection.begin(),
    ):
        if _has_answers(connection):
            return None  # another program wrote answers since the check: in batches
        rng = random.Random(f"{plan.seed}/{_trainee_count(connection)}")
        people, cohort_name, lessons_read = _write_people(connection, plan, rng)
        variants = _Variants(plan.library, dialect)
        shares = _shares(people, max(1, workers.count))
        # The same rounds in every share's batches, so that they go in side by side.
        rounds = _rounds(BULK_BATCH_ANSWERS, max(len(share) for share in shares))
        jobs = [
            plan.job(
                share,
                variants,
                sqlite_values=True,
                batch_rounds=rounds,
                chunk_rows=BULK_CHUNK_ROWS,
            )
            for share in shares
        ]
        # The workers start generating while the table is made ready.
        groups = workers.batches(jobs) if workers.count else _inline(jobs)
        indexes = _drop_indexes(connection, _table(AnswerRow).name)
        writer = _BulkWriter(connection, variants)
        writer.check_constraints(people[0].id)
        heads: dict[int, tuple[str, int]] = {}
        done = 0
        for group in groups:
            # The shares' rounds side by side: every row then goes in in time order.
            for rounds in zip(*(batch.rounds for batch in group), strict=True):
                for chunks in rounds:
                    writer.write(chunks)
            for batch in group:
                _check_samples(batch, variants)
                heads.update((trainee, (head, length)) for trainee, head, length in batch.heads)
                done += batch.answers
            plan.report(done)
        _set_heads(connection, heads)
        writer.close()
        _create_indexes(connection, indexes)
    return done, lessons_read, cohort_name


@contextmanager
def _bulk_connection(database: Database) -> Iterator[Connection]:
    """One connection set up for loading a lot at once, put back as it was at the end.

    A rollback journal instead of WAL: pages added to a file need no journal, so the rows
    are written once (WAL writes them twice) and a stopped run still rolls back whole.
    Foreign keys are not enforced: every answer names a trainee of the same transaction.
    When the journal cannot be switched (another connection has the file open), the run
    stays in WAL, in one transaction just the same.
    """
    with database.engine.connect() as connection:
        driver: Any = connection.connection.driver_connection
        journal = _pragma(driver, "journal_mode")
        cache = _pragma(driver, "cache_size")
        mmap = _pragma(driver, "mmap_size")
        threads = _pragma(driver, "threads")
        busy = _pragma(driver, "busy_timeout")
        foreign_keys = _pragma(driver, "foreign_keys")
        try:
            if str(journal).lower() == "wal":
                driver.execute("PRAGMA busy_timeout=0")
                try:
                    driver.execute("PRAGMA journal_mode=DELETE").fetchone()
                except Exception as error:  # locked: some other connection is open
                    _log.info("demo data: keeping the WAL journal (%s)", error)
                driver.execute(f"PRAGMA busy_timeout={int(busy)}")
            driver.execute("PRAGMA foreign_keys=OFF")
            driver.execute(f"PRAGMA cache_size=-{BULK_CACHE_KIB}")
            # Reading pages through a memory map saves a system call per page when the
            # indexes are made (the table is read three times over).
            driver.execute(f"PRAGMA mmap_size={BULK_MMAP_BYTES}")
            yield connection
        finally:
            try:
                driver.execute(f"PRAGMA mmap_size={int(mmap)}")
                driver.execute(f"PRAGMA threads={int(threads)}")
                driver.execute("PRAGMA ignore_check_constraints=OFF")
                driver.execute(f"PRAGMA cache_size={int(cache)}")
                driver.execute(f"PRAGMA foreign_keys={int(foreign_keys)}")
                driver.execute(f"PRAGMA busy_timeout={int(busy)}")
                if str(_pragma(driver, "journal_mode")).lower() != str(journal).lower():
                    driver.execute(f"PRAGMA journal_mode={journal}").fetchone()
            except Exception as error:
                # The next connection sets its own journal mode and pragmas again.
                _log.warning("demo data: could not restore the connection (%s)", error)
                connection.invalidate()


def _pragma(driver: Any, name: str) -> Any:
    row = driver.execute(f"PRAGMA {name}").fetchone()
    return None if row is None else row[0]


def _drop_indexes(connection: Connection, table: str) -> list[str]:
    """Drop ``table``'s own indexes (not those of its constraints); returns their SQL."""
    found = connection.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
        "AND sql IS NOT NULL ORDER BY name",
        (table,),
    ).all()
    for name, _sql in found:
        connection.exec_driver_sql(f'DROP INDEX "{name}"')
    return [str(sql) for _name, sql in found]


def _create_indexes(connection: Connection, statements: list[str]) -> None:
    """Create the indexes again with their own SQL, so the schema is exactly as before.

    With a small page cache the sorter works in parts, which helper threads sort while
    the table is read (the table itself is read through the memory map).
    """
    connection.exec_driver_sql(f"PRAGMA cache_size=-{INDEX_CACHE_KIB}")
    connection.exec_driver_sql(f"PRAGMA threads={INDEX_SORT_THREADS}")
    for statement in statements:
        connection.exec_driver_sql(statement)


class _BulkWriter:
    """Inserts compact rows, taking each variant's columns from a temporary table."""

    def __init__(self, connection: Connection, variants: _Variants) -> None:
        self._cursor: Any = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        self._cursor.execute(
            f"CREATE TEMP TABLE {_VARIANT_TABLE} (id INTEGER PRIMARY KEY, "
            f"{', '.join(_STATIC_COLUMNS)})"
        )
        self._cursor.executemany(
            f"INSERT INTO temp.{_VARIANT_TABLE} VALUES "
            f"(?, {', '.join('?' for _ in _STATIC_COLUMNS)})",
            [(number, *variant.static_values) for number, variant in enumerate(variants.variants)],
        )
        self._variants = len(variants.variants)
        self._statements: dict[int, str] = {}

    def check_constraints(self, trainee_id: int) -> None:
        """Check the table's CHECK constraints once for every value the rows can take,
        then stop checking them row by row (which costs about as much as the rest of the
        insert).

        Every variant is inserted with the lowest, the highest and no confidence and the
        fewest and most seconds, in a savepoint rolled back at once.
        """
        seconds = demo_worker.seconds_table()[0]
        levels = demo_worker.CONFIDENCE_LEVELS
        empty = demo_worker.stored_json([])
        probes = [
            (
                trainee_id,
                f"{number:032x}",
                "0" * 32,
                "1970-01-01 00:00:00.000000",
                confidence,
                spent,
                number,
                GENESIS,
                GENESIS,
                None,
                empty,
                variant,
            )
            for number, (variant, confidence, spent) in enumerate(
                (variant, confidence, spent)
                for variant in range(self._variants)
                for confidence in (None, min(levels), max(levels))
                for spent in (min(seconds), max(seconds))
            )
        ]
        self._cursor.execute("SAVEPOINT demo_probe")
        try:
            for probe in probes:
                self._cursor.execute(self._statement(1), probe)
        except sqlite3.IntegrityError as error:
            raise DemoDataError(
                f"generated answers would break a constraint of the answer table ({error})"
            ) from error
        finally:
            self._cursor.execute("ROLLBACK TO demo_probe")
            self._cursor.execute("RELEASE demo_probe")
        # Statements compiled from now on leave the CHECK constraints out.
        self._cursor.execute("PRAGMA ignore_check_constraints=ON")

    def write(self, chunks: list[tuple[Any, ...]]) -> None:
        if not chunks:
            return
        width = BULK_CHUNK_ROWS * ROW_WIDTH
        whole = chunks if len(chunks[-1]) == width else chunks[:-1]
        if whole:
            self._cursor.executemany(self._statement(BULK_CHUNK_ROWS), whole)
        if len(chunks[-1]) != width:
            self._cursor.execute(self._statement(len(chunks[-1]) // ROW_WIDTH), chunks[-1])

    def close(self) -> None:
        self._cursor.execute("PRAGMA ignore_check_constraints=OFF")
        self._cursor.execute(f"DROP TABLE temp.{_VARIANT_TABLE}")
        self._cursor.close()

    def _statement(self, rows: int) -> str:
        found = self._statements.get(rows)
        if found is None:
            values = ", ".join(f"({', '.join('?' * ROW_WIDTH)})" for _ in range(rows))
            selected = [f"x.column{index + 1}" for index in range(len(ROW_COLUMNS))]
            selected += [f"v.{name}" for name in _STATIC_COLUMNS]
            # CROSS JOIN keeps the rows in the order given: chain order for each trainee.
            found = (
                f"INSERT INTO {_table(AnswerRow).name} "
                f"({', '.join((*ROW_COLUMNS, *_STATIC_COLUMNS))}) "
                f"SELECT {', '.join(selected)} FROM (VALUES {values}) AS x "
                f"CROSS JOIN temp.{_VARIANT_TABLE} AS v WHERE v.id = x.column{ROW_WIDTH}"
            )
            self._statements[rows] = found
        return found


def _set_heads(connection: Connection, heads: dict[int, tuple[str, int]]) -> None:
    if not heads:
        return
    trainees = _table(TraineeRow)
    connection.execute(
        update(trainees)
        .where(trainees.c.id == bindparam("trainee_id"))
        .values(chain_head=bindparam("head"), chain_length=bindparam("length")),
        [
            {"trainee_id": trainee_id, "head": head, "length": length}
            for trainee_id, (head, length) in heads.items()
        ],
    )


def _shares(people: list[DemoPerson], count: int) -> list[list[DemoPerson]]:
    """``people`` in ``count`` consecutive shares of nearly equal size."""
    size, extra = divmod(len(people), count)
    shares, start = [], 0
    for index in range(count):
        end = start + size + (1 if index < extra else 0)
        shares.append(people[start:end])
        start = end
    return [share for share in shares if share]


def _rounds(answers: int, trainees: int) -> int:
    """Rounds in a batch of about ``answers`` answers (at least one round)."""
    return max(1, answers // max(1, trainees))


def _inline(jobs: list[DemoJob]) -> Iterator[list[DemoBatch]]:
    """The batches of every job generated here, a batch of each at a time."""
    generators = [demo_worker.generate(job) for job in jobs]
    yield from (list(group) for group in zip(*generators, strict=True))


def _worker_count() -> int:
    """Worker processes for a big run: one per core (this process mostly waits on SQLite)."""
    return max(1, min(MAX_WORKERS, os.cpu_count() or 1))


class _Workers:
    """Worker processes that generate answers while this process writes them.

    Started with the 'spawn' method (the same everywhere, and in the packaged app, whose
    entry point calls ``multiprocessing.freeze_support()``). They are ended when the
    ``with`` block is left, whatever happened.
    """

    def __init__(self, count: int) -> None:
        self.count = count
        self._processes: list[BaseProcess] = []
        self._jobs: list[Pipe] = []
        self._results: list[Pipe] = []
        self._sender: threading.Thread | None = None

    @classmethod
    @contextmanager
    def started(cls, count: int) -> Iterator[_Workers]:
        workers = cls(count)
        try:
            workers._start()
            yield workers
        finally:
            workers._stop()

    def _start(self) -> None:
        context = multiprocessing.get_context("spawn")
        for number in range(self.count):
            job_reader, job_writer = context.Pipe(duplex=False)
            result_reader, result_writer = context.Pipe(duplex=False)
            process = context.Process(
                target=demo_worker.run_worker,
                args=(job_reader, result_writer),
                name=f"thinktwice-demo-data-{number + 1}",
                daemon=True,
            )
            self._processes.append(process)
            self._jobs.append(job_writer)
            self._results.append(result_reader)
            process.start()
            job_reader.close()
            result_writer.close()

    def batches(self, jobs: list[DemoJob]) -> Iterator[list[DemoBatch]]:
        """Send each worker its job at once; a batch of each at a time, as they come."""
        if len(jobs) > self.count:
            raise DemoDataError("more shares than demo data workers")
        # From a thread: a worker still starting up takes its job only once it is ready.
        self._sender = threading.Thread(
            target=self._send_jobs, args=(jobs,), name="demo-data-jobs", daemon=True
        )
        self._sender.start()
        return self._groups(len(jobs))

    def _send_jobs(self, jobs: list[DemoJob]) -> None:
        for pipe, job in zip(self._jobs, jobs, strict=False):
            try:
                pipe.send_bytes(pickle.dumps(job, pickle.HIGHEST_PROTOCOL))
            except OSError:
                return  # the worker is gone: receiving from it says so
        for pipe in self._jobs[len(jobs) :]:
            pipe.close()  # nothing to do for this one: it ends

    def _groups(self, shares: int) -> Iterator[list[DemoBatch]]:
        # Every share has the same rounds, so the same number of batches.
        results = self._results[:shares]
        while True:
            group = [self._receive(pipe) for pipe in results]
            if any(batch is None for batch in group):
                if not all(batch is None for batch in group):
                    raise DemoDataError("the demo data workers sent different numbers of batches")
                return
            yield [batch for batch in group if batch is not None]

    def _receive(self, pipe: Pipe) -> DemoBatch | None:
        try:
            kind, content = demo_worker.read_message(pipe.recv_bytes())
        except (EOFError, OSError) as error:
            raise DemoDataError("a demo data worker process stopped unexpectedly") from error
        if kind == "error":
            raise DemoDataError(f"generating demo data failed in a worker process:\n{content}")
        if kind == "done":
            return None
        batch: DemoBatch = content
        return batch

    def _stop(self) -> None:
        for pipe in self._results:
            pipe.close()  # a worker still sending then stops
        deadline = time.monotonic() + WORKER_STOP_SECONDS
        if self._sender is not None:
            self._sender.join(WORKER_STOP_SECONDS)
        for pipe in self._jobs:
            pipe.close()
        for process in self._processes:
            if process.pid is None:
                continue
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.terminate()
                process.join(WORKER_STOP_SECONDS)


# Writing in batches: answers already there, or a database server.


def _write_in_batches(database: Database, plan: _Plan) -> tuple[int, int, str]:
    dialect = database.engine.dialect
    sqlite_values = dialect.name == "sqlite"
    if sqlite_values:
        _check_stored_forms(dialect)
    with database.translated_errors(), database.engine.begin() as connection:
        rng = random.Random(f"{plan.seed}/{_trainee_count(connection)}")
        people, cohort_name, lessons_read = _write_people(connection, plan, rng)
    variants = _Variants(plan.library, dialect)
    job = plan.job(
        people,
        variants,
        sqlite_values=sqlite_values,
        batch_rounds=_rounds(BATCH_ANSWERS, len(people)),
        chunk_rows=0,
    )
    done = 0
    with database.translated_errors(), _batch_connection(database) as connection:
        writer = _AnswerWriter(database, connection)
        for batch in demo_worker.generate(job):
            _check_samples(batch, variants)
            writer.write(
                [
                    row[:-1] + variants.variants[row[-1]].static_values
                    for rows in batch.rounds
                    for row in rows
                ],
                batch.heads,
            )
            done += batch.answers
            plan.report(done)
    return done, lessons_read, cohort_name


class _AnswerWriter:
    """Writes batches of answer rows on one connection, a transaction per batch.

    Each transaction also moves the chain heads of the trainees it touched, so every
    commit leaves whole, verifiable chains.
    """

    def __init__(self, database: Database, connection: Connection) -> None:
        self._database = database
        self._connection = connection
        answers = _table(AnswerRow)
        self._answers = answers
        self._columns = (*ROW_COLUMNS, *_STATIC_COLUMNS)
        self._driver_sql: str | None = None
        if connection.dialect.name == "sqlite":
            self._driver_sql = (
                f"INSERT INTO {answers.name} ({', '.join(self._columns)}) "
                f"VALUES ({', '.join('?' for _ in self._columns)})"
            )

    def write(self, rows: list[tuple[Any, ...]], heads: list[tuple[int, str, int]]) -> None:
        connection = self._connection
        with self._database.translated_errors(), connection.begin():
            if self._driver_sql is not None:
                # The rows are already as stored: straight to the driver's executemany.
                connection.exec_driver_sql(self._driver_sql, rows)
            else:
                columns = self._columns
                connection.execute(
                    insert(self._answers), [dict(zip(columns, row, strict=True)) for row in rows]
                )
            _set_heads(connection, {trainee: (head, length) for trainee, head, length in heads})


@contextmanager
def _batch_connection(database: Database) -> Iterator[Connection]:
    """One connection for the whole run; on SQLite with a page cache big enough to hold
    the places where the indexes grow, put back as it was at the end."""
    with database.engine.connect() as connection:
        previous = None
        if connection.dialect.name == "sqlite":
            previous = connection.exec_driver_sql("PRAGMA cache_size").scalar()
            connection.exec_driver_sql(f"PRAGMA cache_size=-{BULK_CACHE_KIB}")
            connection.commit()
        try:
            yield connection
        finally:
            if previous is not None:
                connection.exec_driver_sql(f"PRAGMA cache_size={int(previous)}")
                connection.commit()


# The trainees, their cohort and the lessons they read.


def _write_people(
    connection: Connection, plan: _Plan, rng: random.Random
) -> tuple[list[DemoPerson], str, int]:
    """Insert the trainees (empty chains), their cohort and lesson reads."""
    library, now = plan.library, plan.now
    trainees = _table(TraineeRow)
    now_us = _microseconds(now)
    lesson_ids = list(
        dict.fromkeys(
            lesson_id
            for track in library.tracks.values()
            for lesson_id in track.lesson_ids
            if lesson_id in library.lessons
        )
    )
    people: list[DemoPerson] = []
    lesson_rows: list[dict[str, Any]] = []
    uids = set(connection.execute(select(trainees.c.uid)).scalars())
    taken = {
        name.casefold()
        for name in connection.execute(
            select(trainees.c.display_name).where(trainees.c.archived_at.is_(None))
        ).scalars()
    }
    cohort_name = _free_cohort_name(connection)
    cohort_id = _insert_id(
        connection,
        insert(_table(CohortRow)).values(
            name=cohort_name, due_at=now + timedelta(days=DUE_IN_DAYS), created_at=now
        ),
    )
    if library.tracks:
        connection.execute(
            insert(_table(CohortTrackRow)),
            [{"cohort_id": cohort_id, "track_id": t, "due_at": None} for t in library.tracks],
        )
    trainee_rows: list[dict[str, Any]] = []
    drawn: list[tuple[DemoPerson, list[tuple[str, datetime]]]] = []
    for number in range(1, plan.trainees + 1):
        first = FIRST_NAMES[rng.randrange(len(FIRST_NAMES))]
        last = LAST_NAMES[rng.randrange(len(LAST_NAMES))]
        name = _free_name(f"{first} {last}", taken)
        # Trainees join in the days before the cohort starts answering.
        created_us = now_us - HISTORY_DAYS * _DAY_US - rng.randrange(5 * _DAY_US)
        created = _EPOCH + timedelta(microseconds=created_us)
        uid = f"{rng.getrandbits(128):032x}"
        while uid in uids:  # as good as never, but a clash would stop the whole run
            uid = f"{rng.getrandbits(128):032x}"
        uids.add(uid)
        trainee_rows.append(
            {
                "uid": uid,
                "display_name": name,
                "email_or_id": f"{first}.{last}.{number}@example.com".lower(),
                "team": TEAMS[rng.randrange(len(TEAMS))],
                "created_at": created,
                "chain_head": GENESIS,
                "chain_length": 0,
            }
        )
        person = DemoPerson(
            id=0,  # known once inserted
            uid=uid,
            slot=number - 1,
            skill=rng.uniform(0.5, 0.92),
            flag_skill=rng.uniform(0.3, 0.9),
            names_flags=rng.uniform(0.3, 0.95),
            rates_confidence=rng.uniform(0.2, 0.9),
            seed=rng.getrandbits(64),
        )
        reads = [
            (lesson_id, created + timedelta(minutes=5 * offset + 1))
            for offset, lesson_id in enumerate(lesson_ids)
            if rng.random() < 0.9
        ]
        drawn.append((person, reads))
    trainee_ids = list(
        connection.execute(
            insert(trainees).returning(trainees.c.id, sort_by_parameter_order=True),
            trainee_rows,
        ).scalars()
    )
    if len(trainee_ids) != len(drawn):
        raise DemoDataError("the database did not return the new trainees' ids")
    member_rows: list[dict[str, Any]] = []
    for trainee_id, (person, reads) in zip(trainee_ids, drawn, strict=True):
        people.append(replace(person, id=trainee_id))
        member_rows.append({"cohort_id": cohort_id, "trainee_id": trainee_id})
        lesson_rows.extend(
            {"trainee_id": trainee_id, "lesson_id": lesson_id, "read_at": read_at}
            for lesson_id, read_at in reads
        )
    connection.execute(insert(_table(CohortMemberRow)), member_rows)
    if lesson_rows:
        connection.execute(insert(_table(LessonReadRow)), lesson_rows)
    return people, cohort_name, len(lesson_rows)


def _trainee_count(connection: Connection) -> int:
    return int(
        connection.execute(select(func.count()).select_from(_table(TraineeRow))).scalar_one()
    )


def _free_name(wanted: str, taken: set[str]) -> str:
    name, number = wanted, 1
    while name.casefold() in taken:
        number += 1
        name = f"{wanted} {number}"
    taken.add(name.casefold())
    return name


def _free_cohort_name(connection: Connection) -> str:
    cohorts = _table(CohortRow)
    existing = {name.casefold() for name in connection.execute(select(cohorts.c.name)).scalars()}
    name, number = DEMO_COHORT_NAME, 1
    while name.casefold() in existing:
        number += 1
        name = f"{DEMO_COHORT_NAME} {number}"
    return name


def _insert_id(connection: Connection, statement: Any) -> int:
    key = connection.execute(statement).inserted_primary_key
    if key is None or key[0] is None:
        raise DemoDataError("the database did not return the new row's id")
    return int(key[0])


def _play_order(library: ContentLibrary) -> list[Scenario]:
    """The scenarios in the order a trainee meets them: tracks first, then the rest."""
    ordered: list[Scenario] = []
    seen: set[str] = set()
    for track in library.tracks.values():
        for scenario_id in track.scenario_ids:
            scenario = library.scenarios.get(scenario_id)
            if scenario is not None and scenario_id not in seen:
                seen.add(scenario_id)
                ordered.append(scenario)
    ordered.extend(library.scenarios[i] for i in sorted(library.scenarios) if i not in seen)
    return ordered


def _processor(column: str, dialect: Dialect) -> Callable[[Any], Any] | None:
    if dialect.name != "sqlite":
        return None
    column_type = _table(AnswerRow).c[column].type
    processor: Callable[[Any], Any] | None = column_type.dialect_impl(dialect).bind_processor(
        dialect
    )
    return processor


def _table(model: Any) -> Table:
    table: Table = model.__table__
    return table


def _microseconds(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


def summary_line(summary: DemoDataSummary) -> str:
    """One line saying what was written, for the command line."""
    return (
        f"Added {summary.trainees:,} trainees with {summary.answers:,} answers and "
        f"{summary.lessons_read:,} lessons read to the cohort '{summary.cohort}' in "
        f"{summary.seconds:.1f} s ({summary.answers_per_second:,.0f} answers per second)."
    )

"""Demo data: a plausible cohort of trainees with their answers, written fast.

``thinktwice demo-data`` fills a database with trainees who have played the loaded
scenarios: right more often than wrong and better on retakes, sometimes naming the red
flags they saw and rating their confidence, having read most of the lessons; all in one
cohort with every track assigned. Managers can try the reports and exports on realistic
volumes with it, and the benchmarks measure those on it.

Every answer joins its trainee's hash chain as the app's own writes do, so ``thinktwice
records verify`` passes on the result. Three things make it fast:

- Answers that differ only in per-answer values (ids, time, confidence, seconds, flags)
  share a *variant*: judged once, and with its chained text rendered once by
  ``app.storage.ledger.answer_payload`` and ``app.core.chain.canonical_json`` with
  placeholders, so each answer costs a string format and one SHA-256.
- Rows go in with one ``executemany`` per batch and one transaction per batch; on SQLite
  straight through the driver, with values already converted by SQLAlchemy's own type
  processors.
- The cohort answers side by side, in time order, with ids that grow with time, so the
  indexes grow at their ends (see :class:`_Answers`).

The first answer of each trainee and one in every ``EXACT_CHECK_EVERY`` are hashed again
with the exact chain functions; a difference stops the run, so the shortcut can never
drift from the app's definition of the chain unnoticed.
"""

from __future__ import annotations

import hashlib
import math
import operator
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.engine import Connection, Dialect

from app.core.chain import GENESIS, canonical_json, link_hash
from app.core.judging import StepAnswer, judge
from app.core.model import ContentLibrary, Decision, Scenario, Step
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

DEMO_COHORT_NAME = "Demo cohort"
DEFAULT_SEED = 1
BATCH_ANSWERS = 20_000
HISTORY_DAYS = 60
DUE_IN_DAYS = 14
EXACT_CHECK_EVERY = 997
BULK_CACHE_KIB = 128 * 1024
MAX_TRAINEES = 1_000_000
MAX_ANSWERS_PER_TRAINEE = 1_000_000

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

# The chained values that differ from answer to answer, in the order they are given.
_PER_ANSWER = (
    "answered_at",
    "attempt_id",
    "play_id",
    "confidence",
    "seconds",
    "trainee",
    "flags_chosen",
    "flags_missed",
)
_MARKER = "\0{}\0"
# Answer columns: first those set per answer, then those a variant fixes.
_DYNAMIC_COLUMNS = (
    "trainee_id",
    "attempt_id",
    "play_id",
    "answered_at",
    "confidence",
    "seconds",
    "chain_seq",
    "previous_hash",
    "record_hash",
    "flags_chosen",
    "flags_missed",
)
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
_TRAINEE = _DYNAMIC_COLUMNS.index("trainee_id")
_CHAIN_SEQ = _DYNAMIC_COLUMNS.index("chain_seq")
_RECORD_HASH = _DYNAMIC_COLUMNS.index("record_hash")
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
    times are relative to ``now``). Names never clash with the trainees already there; the cohort is
    ``Demo cohort`` (or ``Demo cohort 2`` and so on when that is taken). ``progress`` is
    called with (answers written, answers in all) after each batch. Raises
    :class:`DemoDataError` when the library has no scenario or a count is out of range,
    and a :class:`~app.services.errors.StorageError` when the database fails (batches
    already committed stay, each a consistent set of whole chains).
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
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    # The data depends on the seed and on how many trainees were there before, so that
    # a second run with the same seed adds new trainees rather than copies.
    rng = random.Random(f"{seed}/{_trainee_count(database)}")
    dialect = database.engine.dialect
    variants = _Variants(library, dialect)
    people, cohort_name, lessons_read = _write_people(database, library, rng, trainees, moment)
    total = trainees * answers_per_trainee
    done = 0
    start = moment - timedelta(days=HISTORY_DAYS)
    batches = _Answers(variants, people, answers_per_trainee, rng, start, moment).batches()
    with _bulk_connection(database) as connection:
        writer = _AnswerWriter(database, connection)
        for rows in batches:
            writer.write(rows)
            done += len(rows)
            if progress is not None:
                progress(done, total)
    return DemoDataSummary(
        trainees=trainees,
        answers=done,
        lessons_read=lessons_read,
        cohort=cohort_name,
        seconds=time.perf_counter() - started,
    )


@dataclass(slots=True)
class _Person:
    """A generated trainee and the state of their hash chain."""

    id: int
    uid: str
    skill: float
    flag_skill: float
    names_flags: float
    rates_confidence: float
    head: str = GENESIS
    length: int = 0
    # Where the trainee is: the scenario being played (its steps) and the step next.
    plans: list[_StepPlan] = field(default_factory=list)
    position: int = 0
    play_index: int = 0
    play_id: str = ""
    skill_now: float = 0.0


@dataclass(frozen=True, slots=True)
class _Variant:
    """Everything two answers share when they differ only in per-answer values."""

    chain_template: str  # the chained text, with %s for each per-answer value
    static_values: tuple[Any, ...]  # _STATIC_COLUMNS as the database takes them
    python_values: dict[str, Any]  # _STATIC_COLUMNS as plain values, for exact checks


@dataclass(frozen=True, slots=True)
class _FlagValues:
    """The flags chosen and missed for one step and one choice of flags, in every form."""

    chosen: list[str] | None
    missed: list[str]
    chained: tuple[str, str]  # as they appear in the chained text
    stored: tuple[Any, Any]  # as the database takes them


class _Variants:
    """Judged answer variants and their chain templates, made once and then reused."""

    def __init__(self, library: ContentLibrary, dialect: Dialect) -> None:
        self.plays = _play_order(library)
        self._cache: dict[tuple[Any, ...], _Variant] = {}
        self._flag_cache: dict[tuple[Any, ...], _FlagValues] = {}
        # On SQLite rows go straight to the driver, so convert values the way SQLAlchemy
        # would (JSON text, the stored time format); elsewhere SQLAlchemy converts them.
        self._processors = [_processor(name, dialect) for name in _STATIC_COLUMNS]
        self.store_time = _time_storer(_processor("answered_at", dialect))
        self._flag_processors = (
            _processor("flags_chosen", dialect),
            _processor("flags_missed", dialect),
        )
        first = self.plays[0]
        step = first.steps[0]
        revision = step.correct_revision_index if step.answer is Decision.REVISE else None
        self._order: tuple[int, ...] | None = None
        self._make(first, step, step.answer, revision)
        assert self._order is not None
        self.order: tuple[int, ...] = self._order

    def get(
        self, scenario: Scenario, step: Step, decision: Decision, revision_index: int | None
    ) -> _Variant:
        """The variant of this decision (and revision) on this step."""
        key = (scenario.id, step.id, decision, revision_index)
        found = self._cache.get(key)
        if found is None:
            found = self._make(scenario, step, decision, revision_index)
            self._cache[key] = found
        return found

    def flags(self, scenario: Scenario, step: Step, flags: frozenset[str] | None) -> _FlagValues:
        """The flags chosen and missed when the trainee names ``flags`` on this step."""
        key = (scenario.id, step.id, flags)
        found = self._flag_cache.get(key)
        if found is None:
            # Which flags were missed does not depend on the decision; any valid one works.
            revision = step.correct_revision_index if step.answer is Decision.REVISE else None
            outcome = judge(step, StepAnswer(step.answer, revision, flags))
            chosen = None if flags is None else sorted(flags)
            missed = list(outcome.flags_missed)
            chosen_process, missed_process = self._flag_processors
            found = _FlagValues(
                chosen=chosen,
                missed=missed,
                chained=(_json_value(chosen), _json_value(missed)),
                stored=(
                    chosen if chosen_process is None else chosen_process(chosen),
                    missed if missed_process is None else missed_process(missed),
                ),
            )
            self._flag_cache[key] = found
        return found

    def _make(
        self, scenario: Scenario, step: Step, decision: Decision, revision_index: int | None
    ) -> _Variant:
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
        template, order = _chain_template(python_values)
        if self._order is None:
            self._order = order
        elif order != self._order:
            raise DemoDataError("the chained answer fields are not in a stable order")
        static = tuple(
            value if process is None else process(value)
            for process, value in zip(
                self._processors, (python_values[c] for c in _STATIC_COLUMNS), strict=True
            )
        )
        return _Variant(template, static, python_values)


def _chain_template(python_values: dict[str, Any]) -> tuple[str, tuple[int, ...]]:
    """The canonical chained text of an answer with placeholders for per-answer values.

    Built by the app's own ``answer_payload`` and ``canonical_json``, so it follows any
    change to either; returns the %-template and which per-answer value fills each slot.
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
    for index, name in enumerate(_PER_ANSWER):
        payload[name] = _MARKER.format(index)
    text = canonical_json(payload).replace("%", "%%")
    positions: list[tuple[int, int]] = []
    for index in range(len(_PER_ANSWER)):
        encoded = _json_value(_MARKER.format(index))
        if text.count(encoded) != 1:
            raise DemoDataError("could not place a per-answer value in the chained text")
        positions.append((text.find(encoded), index))
        text = text.replace(encoded, "%s")
    # Replacing shifts later text, but never reorders it: sorting the first positions
    # found gives the order of the slots.
    return text, tuple(index for _position, index in sorted(positions))


def _time_storer(processor: Callable[[Any], Any] | None) -> Callable[[datetime, str], Any]:
    """How to turn an answer's time (and its ISO 8601 text) into the stored value.

    SQLite stores times as text; cutting it from the ISO text already made for the chain
    is much cheaper than SQLAlchemy's conversion, and is used when both agree.
    """
    if processor is None:
        return lambda moment, _iso: moment

    def from_iso(_moment: datetime, iso: str) -> str:
        return f"{iso[:10]} {iso[11:26]}"

    sample = datetime(2024, 2, 29, 23, 59, 58, 123456, tzinfo=UTC)
    if processor(sample) == from_iso(sample, sample.isoformat(timespec="microseconds")):
        return from_iso
    return lambda moment, _iso: processor(moment)


def _json_value(value: object) -> str:
    """``value`` as it appears inside the chained text (the app's canonical JSON)."""
    return canonical_json({"": value})[4:-1]


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


@dataclass(slots=True)
class _StepPlan:
    """One step as the generator plays it: the right choice, the wrong ones, the flags."""

    scenario: Scenario
    step: Step
    right: tuple[Decision, int | None]
    wrong: tuple[tuple[Decision, int | None], ...]
    flags: tuple[str, ...]
    decoys: tuple[str, ...]

    @classmethod
    def of(cls, scenario: Scenario, step: Step) -> _StepPlan:
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
        return cls(scenario, step, right, tuple(wrong), step.flags, step.decoys)


class _Answers:
    """Generates every trainee's answers, in batches, with their chain links.

    The cohort works side by side: in round ``k`` every trainee gives their ``k``-th
    answer, at a time inside that round's window, so the answers come out in time
    order. With ids that grow with time (UUID version 7), the indexes on time and id grow
    at their ends and those by trainee at one place per trainee, which keeps bulk
    inserts fast.
    """

    def __init__(
        self,
        variants: _Variants,
        people: list[_Person],
        answers_per_trainee: int,
        rng: random.Random,
        start: datetime,
        now: datetime,
    ) -> None:
        self._variants = variants
        self._people = people
        self._count = answers_per_trainee
        self._random = rng.random
        self._random_bits = rng.getrandbits
        self._start_us = _microseconds(start)
        self._interval = max(1, (_microseconds(now) - self._start_us) // max(1, self._count))
        self._plays = [
            [_StepPlan.of(scenario, step) for step in scenario.steps] for scenario in variants.plays
        ]
        self._order_args = operator.itemgetter(*variants.order)

    def batches(self) -> Iterator[list[tuple[Any, ...]]]:
        """Answer rows in time order, about BATCH_ANSWERS at a time."""
        rows: list[tuple[Any, ...]] = []
        for round_index in range(self._count):
            window_us = self._start_us + round_index * self._interval
            rows.extend(self._answer(person, window_us) for person in self._people)
            if len(rows) >= BATCH_ANSWERS:
                yield rows
                rows = []
        if rows:
            yield rows

    def _answer(self, person: _Person, window_us: int) -> tuple[Any, ...]:
        """The person's next answer, given at a time inside the window."""
        random_float = self._random
        variants = self._variants
        at_us = window_us + int(random_float() * self._interval)
        if person.position >= len(person.plans):
            plays = self._plays
            person.plans = plays[person.play_index % len(plays)]
            person.skill_now = min(0.97, person.skill + 0.06 * (person.play_index // len(plays)))
            person.play_index += 1
            person.position = 0
            person.play_id = _uuid7(at_us, self._random_bits(74))
        plan = person.plans[person.position]
        person.position += 1
        if random_float() < person.skill_now or not plan.wrong:
            decision, revision_index = plan.right
        else:
            decision, revision_index = plan.wrong[int(random_float() * len(plan.wrong))]
        flags: frozenset[str] | None = None
        if random_float() < person.names_flags:
            seen = [flag for flag in plan.flags if random_float() < person.flag_skill]
            if plan.decoys and random_float() < 0.15:
                seen.append(plan.decoys[int(random_float() * len(plan.decoys))])
            flags = frozenset(seen)
        variant = variants.get(plan.scenario, plan.step, decision, revision_index)
        flag_values = variants.flags(plan.scenario, plan.step, flags)
        answered_at = _EPOCH + timedelta(microseconds=at_us)
        iso = answered_at.isoformat(timespec="microseconds")
        attempt_id = _uuid7(at_us, self._random_bits(74))
        confidence = (
            50 + 5 * int(random_float() * 11) if random_float() < person.rates_confidence else None
        )
        seconds = round(4.0 - 40.0 * math.log(1.0 - random_float()), 1)
        chained = (
            f'"{iso}"',
            f'"{attempt_id}"',
            f'"{person.play_id}"',
            "null" if confidence is None else str(confidence),
            repr(seconds),
            f'"{person.uid}"',
            *flag_values.chained,
        )
        text = variant.chain_template % self._order_args(chained)
        previous = person.head
        record_hash = hashlib.sha256(f"{previous}\n{text}".encode()).hexdigest()
        person.length += 1
        if person.length == 1 or person.length % EXACT_CHECK_EVERY == 0:
            _check_exactly(
                variant,
                flag_values,
                person,
                (attempt_id, person.play_id, answered_at, confidence, seconds),
                (previous, record_hash),
            )
        person.head = record_hash
        return (
            person.id,
            attempt_id,
            person.play_id,
            variants.store_time(answered_at, iso),
            confidence,
            seconds,
            person.length,
            previous,
            record_hash,
            *flag_values.stored,
            *variant.static_values,
        )


def _uuid7(at_us: int, random_74_bits: int) -> str:
    """A UUID version 7 (RFC 9562) for this time, as 32 hex digits like the app's ids."""
    value = (
        (at_us // 1000) << 80
        | 0x7 << 76
        | (random_74_bits >> 62) << 64
        | 0b10 << 62
        | (random_74_bits & ((1 << 62) - 1))
    )
    return f"{value:032x}"


def _check_exactly(
    variant: _Variant,
    flag_values: _FlagValues,
    person: _Person,
    per_answer: tuple[str, str, datetime, int | None, float],
    link: tuple[str, str],
) -> None:
    """Hash this answer again with the app's own chain functions; they must agree."""
    attempt_id, play_id, answered_at, confidence, seconds = per_answer
    previous, record_hash = link
    row = AnswerRow(
        attempt_id=attempt_id,
        play_id=play_id,
        trainee_id=person.id,
        confidence=confidence,
        seconds=seconds,
        answered_at=answered_at,
        chain_seq=person.length,
        previous_hash=previous,
        record_hash="",
        flags_chosen=flag_values.chosen,
        flags_missed=flag_values.missed,
        **variant.python_values,
    )
    if link_hash(previous, answer_payload(row, person.uid)) != record_hash:
        raise DemoDataError(
            "the fast chain hash differs from app.storage.ledger's; demo data needs updating"
        )


class _AnswerWriter:
    """Writes batches of answer rows on one connection, a transaction per batch.

    Each transaction also moves the chain heads of the trainees it touched, so every
    commit leaves whole, verifiable chains.
    """

    def __init__(self, database: Database, connection: Connection) -> None:
        self._database = database
        self._connection = connection
        answers = _table(AnswerRow)
        trainees = _table(TraineeRow)
        self._answers = answers
        self._columns = (*_DYNAMIC_COLUMNS, *_STATIC_COLUMNS)
        self._driver_sql: str | None = None
        if connection.dialect.name == "sqlite":
            self._driver_sql = (
                f"INSERT INTO {answers.name} ({', '.join(self._columns)}) "
                f"VALUES ({', '.join('?' for _ in self._columns)})"
            )
        self._set_heads = (
            update(trainees)
            .where(trainees.c.id == bindparam("trainee_id"))
            .values(chain_head=bindparam("head"), chain_length=bindparam("length"))
        )

    def write(self, rows: list[tuple[Any, ...]]) -> None:
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
            # Rows are in chain order per trainee: the last one seen is the new head.
            heads = {row[_TRAINEE]: (row[_RECORD_HASH], row[_CHAIN_SEQ]) for row in rows}
            connection.execute(
                self._set_heads,
                [
                    {"trainee_id": trainee_id, "head": head, "length": length}
                    for trainee_id, (head, length) in heads.items()
                ],
            )


@contextmanager
def _bulk_connection(database: Database) -> Iterator[Connection]:
    """One connection for the whole run; on SQLite with a page cache big enough to hold
    the places where the indexes grow, put back as it was at the end."""
    with database.translated_errors(), database.engine.connect() as connection:
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


def _write_people(
    database: Database,
    library: ContentLibrary,
    rng: random.Random,
    count: int,
    now: datetime,
) -> tuple[list[_Person], str, int]:
    """Insert the trainees (empty chains), their cohort and lesson reads; one transaction."""
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
    people: list[_Person] = []
    lesson_rows: list[dict[str, Any]] = []
    with database.translated_errors(), database.engine.begin() as connection:
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
        member_rows: list[dict[str, Any]] = []
        for number in range(1, count + 1):
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
            trainee_id = _insert_id(
                connection,
                insert(trainees).values(
                    uid=uid,
                    display_name=name,
                    email_or_id=f"{first}.{last}.{number}@example.com".lower(),
                    team=TEAMS[rng.randrange(len(TEAMS))],
                    created_at=created,
                    chain_head=GENESIS,
                    chain_length=0,
                ),
            )
            member_rows.append({"cohort_id": cohort_id, "trainee_id": trainee_id})
            people.append(
                _Person(
                    id=trainee_id,
                    uid=uid,
                    skill=rng.uniform(0.5, 0.92),
                    flag_skill=rng.uniform(0.3, 0.9),
                    names_flags=rng.uniform(0.3, 0.95),
                    rates_confidence=rng.uniform(0.2, 0.9),
                )
            )
            for offset, lesson_id in enumerate(lesson_ids):
                if rng.random() < 0.9:
                    read_at = created + timedelta(minutes=5 * offset + 1)
                    lesson_rows.append(
                        {"trainee_id": trainee_id, "lesson_id": lesson_id, "read_at": read_at}
                    )
        connection.execute(insert(_table(CohortMemberRow)), member_rows)
        if lesson_rows:
            connection.execute(insert(_table(LessonReadRow)), lesson_rows)
    return people, cohort_name, len(lesson_rows)


def _trainee_count(database: Database) -> int:
    with database.translated_errors(), database.engine.connect() as connection:
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

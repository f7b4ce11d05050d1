"""Generating demo answers with their chain links, in this process or in a worker process.

:mod:`app.services.demo_data` prepares a :class:`DemoJob` for a share of the demo cohort
(its trainees, the steps they play, the chained text of every answer variant) and turns
the :class:`DemoBatch` es that :func:`generate` yields into rows. Big runs give each of a
few worker processes a share (:func:`run_worker`), so that answers are generated while the
main process writes. This module imports only the core, so a worker starts quickly.

Each trainee draws from a random generator of their own, seeded by the job, so the data
does not depend on how the cohort is shared out. An answer costs a few random draws, one
string join and one SHA-256: the rest is decided once per variant, per choice of flags
and per day.
"""

from __future__ import annotations

import gc
import json
import marshal
import math
import pickle
import queue
import random
import threading
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from hashlib import sha256
from itertools import chain
from multiprocessing.connection import Connection
from typing import Any

from app.core.chain import GENESIS, canonical_json
from app.core.judging import StepAnswer, judge
from app.core.model import Step

# Compact answer rows: the values set per answer, then the variant (see ROW_COLUMNS).
ROW_COLUMNS = (
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
ROW_WIDTH = len(ROW_COLUMNS) + 1  # and the variant's number
# Per-answer values in the chained text: how a template marks them, and the order in
# which generate() fills them (canonical JSON sorts keys, so this is their order there).
# Canonical JSON escapes control characters, so these marks never occur in it.
SLOT = "\0"
CHOSEN_MARK = "\1flags_chosen\1"
MISSED_MARK = "\1flags_missed\1"
SLOT_ORDER = ("answered_at", "attempt_id", "confidence", "play_id", "seconds", "trainee")
# How each per-answer value appears in a template: SLOTs filled by generate().
SLOT_TEXT = {
    "answered_at": '"\0T\0+00:00"',  # the date, then the time of day with microseconds
    "attempt_id": '"\0"',
    "confidence": "\0",
    "play_id": '"\0"',
    "seconds": "\0",
    "trainee": '"\0"',
}
TEMPLATE_SLOTS = 8  # the previous hash, then the SLOT_TEXT slots in SLOT_ORDER
SECONDS_STEPS = 4096  # the answer times are drawn from this many quantiles
CONFIDENCE_LEVELS = tuple(range(50, 101, 5))
DECOY_SHARE = 0.15
SKILL_GAIN_PER_ROUND = 0.06
MAX_SKILL = 0.97
_DAY_US = 86_400_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_QUEUED_BATCHES = 3
_CLEAR_VARIANT = ((1 << 76) - 1) ^ (0b11 << 62)
_VARIANT = 0b10 << 62


@dataclass(frozen=True, slots=True)
class DemoPerson:
    """A generated trainee: id, uid, the seed of their answers and how good they are.

    ``slot`` is the trainee's place in the cohort: each round, trainees answer in this
    order, each at a random time inside their own part of the round's time window.
    """

    id: int
    uid: str
    slot: int
    seed: int
    skill: float
    flag_skill: float
    names_flags: float
    rates_confidence: float


@dataclass(frozen=True, slots=True)
class DemoStep:
    """One step as trainees play it: the variant numbers of the right and wrong choices."""

    step: Step
    right: int
    wrong: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class DemoJob:
    """Everything needed to generate the answers of a share of the cohort.

    ``templates`` hold each variant's chained text, preceded by SLOT and a line break for
    the previous hash, with CHOSEN_MARK and MISSED_MARK for the flags and SLOT_TEXT for
    each other per-answer value, in SLOT_ORDER: TEMPLATE_SLOTS SLOTs in all. Round ``k``
    is the time window of ``interval_us`` from ``start_us + k * interval_us``; each
    trainee answers inside their ``slot_us`` of it. ``sqlite_values``: times and flags
    as SQLite stores them (text) rather than as Python values. The answers numbered 1,
    ``check_every`` + 1, ... of the share come back as samples for an exact check.
    """

    people: tuple[DemoPerson, ...]
    plays: tuple[tuple[DemoStep, ...], ...]
    templates: tuple[str, ...]
    answers_per_trainee: int
    start_us: int
    interval_us: int
    slot_us: float
    batch_rounds: int
    sqlite_values: bool
    chunk_rows: int
    check_every: int


@dataclass(frozen=True, slots=True)
class CheckSample:
    """An answer to hash again with the app's own chain functions."""

    trainee_id: int
    uid: str
    chain_seq: int
    previous_hash: str
    record_hash: str
    attempt_id: str
    play_id: str
    answered_at_us: int
    confidence: int | None
    seconds: float
    variant: int
    flags_chosen: list[str] | None
    flags_missed: list[str]


@dataclass(frozen=True, slots=True)
class DemoBatch:
    """Answers of some rounds and the chain heads after them.

    ``rounds`` hold each round's answers in time order, as compact rows of ROW_WIDTH
    values; with ``chunk_rows`` set in the job they come flattened, ``chunk_rows`` rows to
    a tuple (the last tuple of a round may hold fewer). ``heads`` gives (trainee id, chain
    head, chain length) for every trainee of the share.
    """

    rounds: list[list[tuple[Any, ...]]]
    answers: int
    samples: list[CheckSample]
    heads: list[tuple[int, str, int]]


@dataclass(slots=True)
class _Flags:
    """One choice of flags on one step: stored values, and the templates filled with them."""

    chosen: list[str] | None
    missed: list[str]
    stored_chosen: Any
    stored_missed: Any
    chosen_json: str
    missed_json: str
    templates: dict[int, tuple[str, ...]]  # by variant: the text between the slots


class _StepState:
    """A step's choices, with the flags already judged for each choice of flags.

    A choice of flags is a number: a bit for each of the step's flags that was named,
    and above them the decoy named (its index plus one), if any.
    """

    __slots__ = (
        "decoy_shift",
        "decoys",
        "flag_bits",
        "flag_ids",
        "flags",
        "no_flags",
        "right",
        "step",
        "wrong",
    )

    def __init__(self, demo_step: DemoStep) -> None:
        self.step = demo_step.step
        self.right = demo_step.right
        self.wrong = demo_step.wrong
        self.flag_ids = tuple(demo_step.step.flags)
        self.flag_bits = tuple(1 << index for index in range(len(self.flag_ids)))
        self.decoy_shift = len(self.flag_ids)
        self.decoys = tuple(demo_step.step.decoys)
        self.flags: dict[int, _Flags] = {}
        self.no_flags: _Flags | None = None


class _Trainee:
    """A trainee's state while generating: chain head, place in the plays, random draws."""

    __slots__ = (
        "flag_skill",
        "getrandbits",
        "head",
        "id",
        "length",
        "names_flags",
        "offset_us",
        "plan",
        "play_id",
        "play_index",
        "position",
        "random",
        "rates_confidence",
        "skill",
        "skill_now",
        "uid",
    )

    def __init__(self, person: DemoPerson, slot_us: float) -> None:
        rng = random.Random(person.seed)
        self.offset_us = int(person.slot * slot_us)
        self.random = rng.random
        self.getrandbits = rng.getrandbits
        self.id = person.id
        self.uid = person.uid
        self.skill = person.skill
        self.flag_skill = person.flag_skill
        self.names_flags = person.names_flags
        self.rates_confidence = person.rates_confidence
        self.head = GENESIS
        self.length = 0
        self.plan: tuple[_StepState, ...] = ()
        self.position = 0
        self.play_index = 0
        self.play_id = ""
        self.skill_now = 0.0


def json_value(value: object) -> str:
    """``value`` as it appears inside the chained text (the app's canonical JSON)."""
    return canonical_json({"": value})[4:-1]


def stored_json(value: list[str] | None) -> str | None:
    """A JSON list as SQLite stores it (SQLAlchemy's JSON type, checked by the caller)."""
    return None if value is None else json.dumps(value)


def seconds_table() -> tuple[tuple[float, ...], tuple[str, ...]]:
    """Seconds spent on an answer, SECONDS_STEPS quantiles: four seconds and then some."""
    values = tuple(
        round(4.0 - 40.0 * math.log(1.0 - (index + 0.5) / SECONDS_STEPS), 1)
        for index in range(SECONDS_STEPS)
    )
    return values, tuple(json_value(value) for value in values)


def generate(job: DemoJob) -> Iterator[DemoBatch]:
    """The share's answers, ``job.batch_rounds`` rounds at a time, in time order.

    In round ``k`` every trainee gives their ``k``-th answer, inside that round's time
    window and their own slot of it, so the answers come out in time order; ids are UUID
    version 7, which grow with time. (Rows that grow at the end of every index are the
    cheapest to insert.)
    """
    trainees = [_Trainee(person, job.slot_us) for person in job.people]
    plays = [tuple(_StepState(step) for step in play) for play in job.plays]
    play_count = len(plays)
    seconds_values, seconds_texts = seconds_table()
    confidence_levels = CONFIDENCE_LEVELS
    confidence_count = len(confidence_levels)
    confidence_texts = tuple(str(level) for level in confidence_levels)
    seconds_bits = SECONDS_STEPS.bit_length() - 1
    templates = job.templates
    sqlite_values = job.sqlite_values
    interval = job.interval_us
    check_every = job.check_every
    slot_us = job.slot_us
    clock = [f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)]
    first_day = job.start_us // _DAY_US
    last_day = (job.start_us + interval * max(1, job.answers_per_trainee)) // _DAY_US
    dates = [_day_text(day) for day in range(first_day, last_day + 2)]
    made = 0
    next_check = 1
    for first_round in range(0, job.answers_per_trainee, job.batch_rounds):
        last_round = min(first_round + job.batch_rounds, job.answers_per_trainee)
        windows = [job.start_us + index * interval for index in range(first_round, last_round)]
        # Generated trainee by trainee (their state stays in local names), put in rounds.
        count = len(trainees)
        rows: list[tuple[Any, ...]] = [()] * (count * len(windows))
        samples: list[CheckSample] = []
        for place, trainee in enumerate(trainees):
            draw = trainee.random
            bits = trainee.getrandbits
            trainee_id = trainee.id
            uid = trainee.uid
            names_flags = trainee.names_flags
            flag_skill = trainee.flag_skill
            rates_confidence = trainee.rates_confidence
            head = trainee.head
            length = trainee.length
            plan = trainee.plan
            position = trainee.position
            play_id = trainee.play_id
            skill_now = trainee.skill_now
            offset_us = trainee.offset_us
            for at_row, window_us in enumerate(windows):
                at_us = window_us + offset_us + int(draw() * slot_us)
                # UUID version 7: milliseconds, version, 12 random bits, the variant (0b10)
                # and 62 random bits.
                # (%-formatting: measurably faster than an f-string here.)
                attempt_id = "%012x7%019x" % (  # noqa: UP031
                    at_us // 1000,
                    bits(76) & _CLEAR_VARIANT | _VARIANT,
                )
                if position >= len(plan):
                    # The next play: the next scenario, a little more skilled each lap;
                    # it is known by the id of its first answer.
                    laps, index = divmod(trainee.play_index, play_count)
                    plan = plays[index]
                    skill_now = min(MAX_SKILL, trainee.skill + SKILL_GAIN_PER_ROUND * laps)
                    trainee.play_index += 1
                    position = 0
                    play_id = attempt_id
                step = plan[position]
                position += 1
                if draw() < skill_now or not step.wrong:
                    variant = step.right
                else:
                    variant = step.wrong[int(draw() * len(step.wrong))]
                if draw() < names_flags:
                    seen = 0
                    for bit in step.flag_bits:
                        if draw() < flag_skill:
                            seen |= bit
                    if step.decoys and draw() < DECOY_SHARE:
                        seen |= (int(draw() * len(step.decoys)) + 1) << step.decoy_shift
                    flags = step.flags.get(seen) or _judge_flags(step, seen, sqlite_values)
                else:
                    flags = step.no_flags or _judge_flags(step, None, sqlite_values)
                p0, p1, p2, p3, p4, p5, p6, p7, p8 = flags.templates.get(variant) or _fill_flags(
                    flags, variant, templates[variant]
                )
                day, rest = divmod(at_us, _DAY_US)
                date = dates[day - first_day]
                second, micro = divmod(rest, 1_000_000)
                time_of_day = f"{clock[second]}.{micro:06d}"
                if draw() < rates_confidence:
                    level = int(draw() * confidence_count)
                    confidence: int | None = confidence_levels[level]
                    confidence_text = confidence_texts[level]
                else:
                    confidence, confidence_text = None, "null"
                spent = bits(seconds_bits)
                previous = head
                head = sha256(
                    "".join(
                        (
                            p0,
                            previous,
                            p1,
                            date,
                            p2,
                            time_of_day,
                            p3,
                            attempt_id,
                            p4,
                            confidence_text,
                            p5,
                            play_id,
                            p6,
                            seconds_texts[spent],
                            p7,
                            uid,
                            p8,
                        )
                    ).encode()
                ).hexdigest()
                length += 1
                made += 1
                if made == next_check:
                    next_check += check_every
                    samples.append(
                        CheckSample(
                            trainee_id=trainee_id,
                            uid=uid,
                            chain_seq=length,
                            previous_hash=previous,
                            record_hash=head,
                            attempt_id=attempt_id,
                            play_id=play_id,
                            answered_at_us=at_us,
                            confidence=confidence,
                            seconds=seconds_values[spent],
                            variant=variant,
                            flags_chosen=flags.chosen,
                            flags_missed=flags.missed,
                        )
                    )
                rows[at_row * count + place] = (
                    trainee_id,
                    attempt_id,
                    play_id,
                    f"{date} {time_of_day}"
                    if sqlite_values
                    else _EPOCH + timedelta(microseconds=at_us),
                    confidence,
                    seconds_values[spent],
                    length,
                    previous,
                    head,
                    flags.stored_chosen,
                    flags.stored_missed,
                    variant,
                )
            trainee.head = head
            trainee.length = length
            trainee.plan = plan
            trainee.position = position
            trainee.play_id = play_id
            trainee.skill_now = skill_now
        yield DemoBatch(
            rounds=[
                _chunks(rows[start : start + count], job.chunk_rows)
                for start in range(0, len(rows), count)
            ],
            answers=len(rows),
            samples=samples,
            heads=[(t.id, t.head, t.length) for t in trainees],
        )


def _judge_flags(step: _StepState, seen: int | None, sqlite_values: bool) -> _Flags:
    """The flags chosen and missed for a choice of flags (None: names none)."""
    flags: frozenset[str] | None = None
    if seen is not None:
        named = [
            flag for bit, flag in zip(step.flag_bits, step.flag_ids, strict=True) if seen & bit
        ]
        decoy = seen >> step.decoy_shift
        if decoy:
            named.append(step.decoys[decoy - 1])
        flags = frozenset(named)
    # Which flags were missed does not depend on the decision; the right one is valid.
    answer = step.step.answer
    revision = step.step.correct_revision_index if answer.value == "revise" else None
    outcome = judge(step.step, StepAnswer(answer, revision, flags))
    chosen = None if flags is None else sorted(flags)
    missed = list(outcome.flags_missed)
    found = _Flags(
        chosen=chosen,
        missed=missed,
        stored_chosen=stored_json(chosen) if sqlite_values else chosen,
        stored_missed=stored_json(missed) if sqlite_values else missed,
        chosen_json=json_value(chosen),
        missed_json=json_value(missed),
        templates={},
    )
    if seen is None:
        step.no_flags = found
    else:
        step.flags[seen] = found
    return found


def _fill_flags(flags: _Flags, variant: int, template: str) -> tuple[str, ...]:
    filled = template.replace(CHOSEN_MARK, flags.chosen_json).replace(
        MISSED_MARK, flags.missed_json
    )
    parts = tuple(filled.split(SLOT))
    if len(parts) != TEMPLATE_SLOTS + 1:
        raise ValueError("a chained-text template has the wrong number of slots")
    flags.templates[variant] = parts
    return parts


def _day_text(day: int) -> str:
    return (_EPOCH + timedelta(days=day)).date().isoformat()


def _chunks(rows: list[tuple[Any, ...]], size: int) -> list[tuple[Any, ...]]:
    """The rows flattened, ``size`` rows to a tuple (as they are when ``size`` is 0)."""
    if not size:
        return rows
    return [
        tuple(chain.from_iterable(rows[start : start + size]))
        for start in range(0, len(rows), size)
    ]


def run_worker(jobs: Connection, results: Connection) -> None:
    """A worker process: read one pickled job, send back pickled ("batch", DemoBatch)s.

    Ends with ("done", None), or ("error", the traceback) when generating failed. Batches
    are sent from a second thread, so that generating goes on while the receiver is busy.
    """
    outbox: queue.Queue[bytes | None] = queue.Queue(maxsize=_QUEUED_BATCHES)
    receiver_gone = threading.Event()
    sender = threading.Thread(target=_send_all, args=(outbox, results, receiver_gone), daemon=True)
    sender.start()
    # The answers make millions of short-lived tuples and no reference cycles; the
    # collector would only walk them again and again.
    gc.disable()
    try:
        job = pickle.loads(jobs.recv_bytes())
        for batch in generate(job):
            if receiver_gone.is_set():
                return
            outbox.put(_batch_message(batch))
        outbox.put(pickle.dumps(("done", None)))
    except EOFError:
        pass  # the main process went away before sending the job
    except BaseException:
        outbox.put(pickle.dumps(("error", traceback.format_exc())))
    finally:
        outbox.put(None)
        sender.join()
        results.close()


def _batch_message(batch: DemoBatch) -> bytes:
    # The rows go through marshal, which writes and reads such plain values faster.
    rows = marshal.dumps(batch.rounds)
    rest = DemoBatch(rounds=[], answers=batch.answers, samples=batch.samples, heads=batch.heads)
    return pickle.dumps(("batch", (rows, rest)), pickle.HIGHEST_PROTOCOL)


def read_message(message: bytes) -> tuple[str, Any]:
    """A message of :func:`run_worker`: ("batch", DemoBatch), ("done", None) or ("error",
    the traceback)."""
    kind, content = pickle.loads(message)
    if kind == "batch":
        rows, rest = content
        content = DemoBatch(
            rounds=marshal.loads(rows), answers=rest.answers, samples=rest.samples, heads=rest.heads
        )
    return kind, content


def _send_all(
    outbox: queue.Queue[bytes | None], results: Connection, receiver_gone: threading.Event
) -> None:
    while (message := outbox.get()) is not None:
        if receiver_gone.is_set():
            continue  # drain, so that the generating thread never blocks on a full queue
        try:
            results.send_bytes(message)
        except OSError:
            # The main process went away (or stopped reading): stop generating.
            receiver_gone.set()

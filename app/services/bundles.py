"""Records bundles: moving a trainee's records from one machine to another.

A bundle is one JSON document (optionally inside a zip file) with the trainee profiles,
their answers, manager events and lessons read, each answer and event with its place and
hashes in the trainee's chain, and a hash over the whole bundle. Its keys are documented
in docs/records-schema.md.

Import treats the file as untrusted: its shape is validated, its bundle hash and every
trainee's chain are verified before anything is written, and a bundle that fails is
refused whole. Import never overwrites: trainees are matched by uid (missing ones are
created), answers by attempt id and events by event id; a record already here with the
same content is skipped, one with different content is reported as a conflict and left
as it is here. New records join the local chain of their trainee, in the bundle's order,
so importing into an empty database reproduces the bundle's hashes exactly.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, BinaryIO, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationError,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from app.core.chain import canonical_json
from app.core.judging import CONFIDENCE_MAX, CONFIDENCE_MIN, Verdict
from app.services.reports import iso_time
from app.storage.ledger import (
    answer_payload,
    append,
    event_payload,
    links_of,
    lock_trainee,
    payload_matches,
    verify_links,
)
from app.storage.tables import (
    ACTOR_LENGTH,
    CONTENT_ID_LENGTH,
    EMAIL_OR_ID_LENGTH,
    EVENT_KINDS,
    NAME_LENGTH,
    TEAM_LENGTH,
    UID_LENGTH,
    AnswerRow,
    EventRow,
    LessonReadRow,
    TraineeRow,
    utc_now,
)

if TYPE_CHECKING:
    from app.storage.database import Database

_log = logging.getLogger(__name__)

BUNDLE_FORMAT = "thinktwice-records-bundle"
BUNDLE_VERSION = 1
BUNDLE_MEMBER = "thinktwice-records.json"
MAX_BUNDLE_BYTES = 512 * 1024 * 1024
MAX_REASON_LENGTH = 2000
MAX_TEXT_LENGTH = 100_000
_ZIP_MAGIC = b"PK\x03\x04"
_LOOKUP_CHUNK = 500

ProgressCallback = Callable[[int, int], None]
"""Called with (records done, records in all) while a bundle is imported."""


class BundleRefused(ValueError):  # noqa: N818 (named for the condition)
    """The file is not a bundle that verifies; nothing of it was imported."""


@dataclass
class ImportReport:
    """What an import did, and what it left alone and why."""

    trainees_created: int = 0
    answers_added: int = 0
    events_added: int = 0
    lessons_added: int = 0
    duplicates: int = 0
    conflicts: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """Whether anything was written."""
        return bool(
            self.trainees_created or self.answers_added or self.events_added or self.lessons_added
        )


# The bundle's shape. Every string has a length limit and every id a character set, so
# a hostile file cannot make the import write what the app would never write itself.


def _aware(moment: datetime) -> datetime:
    if moment.utcoffset() is None:
        raise ValueError("times must carry a time zone")
    return moment


AwareTime = Annotated[datetime, AfterValidator(_aware)]
RecordId = Annotated[str, Field(min_length=1, max_length=UID_LENGTH, pattern=r"^[A-Za-z0-9_-]+$")]
ContentId = Annotated[str, Field(min_length=1, max_length=CONTENT_ID_LENGTH)]
Hash = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
ShortText = Annotated[str, Field(max_length=MAX_TEXT_LENGTH)]
Decision = Literal["accept", "revise", "reject"]


class _Shape(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class BundleAnswer(_Shape):
    """An answer as a bundle carries it."""

    attempt_id: RecordId
    play_id: RecordId
    scenario_id: ContentId
    scenario_version: StrictInt = Field(ge=1)
    pack_id: ContentId
    step_id: ContentId
    decision: Decision
    expected: Decision | None
    revision_index: StrictInt | None = Field(ge=0)
    revision_text: ShortText | None
    correct: StrictBool
    verdict: Literal[tuple(v.value for v in Verdict)]  # type: ignore[valid-type]
    flags_chosen: list[ContentId] | None
    flags_missed: list[ContentId]
    flags_true: list[ContentId]
    confidence: StrictInt | None = Field(ge=CONFIDENCE_MIN, le=CONFIDENCE_MAX)
    seconds: float = Field(ge=0)
    answered_at: AwareTime
    checks_made: list[Annotated[str, Field(max_length=1000)]]
    check_minutes: StrictInt = Field(ge=0)
    hint_taken: StrictBool
    chain_seq: StrictInt = Field(ge=1)
    previous_hash: Hash
    record_hash: Hash


class BundleEvent(_Shape):
    """A manager event as a bundle carries it."""

    event_id: RecordId
    kind: Literal[EVENT_KINDS]  # type: ignore[valid-type]
    track_id: ContentId | None
    reason: Annotated[str, Field(min_length=1, max_length=MAX_REASON_LENGTH)]
    actor: Annotated[str, Field(min_length=1, max_length=ACTOR_LENGTH)]
    created_at: AwareTime
    details: dict[str, Any]
    chain_seq: StrictInt = Field(ge=1)
    previous_hash: Hash
    record_hash: Hash


class BundleLessonRead(_Shape):
    """A lesson read, as a bundle carries it."""

    lesson_id: ContentId
    read_at: AwareTime


class BundleChain(_Shape):
    """Where a trainee's chain ended when the bundle was written."""

    length: StrictInt = Field(ge=0)
    head: Hash


class BundleTrainee(_Shape):
    """One trainee's profile and records."""

    uid: RecordId
    display_name: Annotated[str, Field(min_length=1, max_length=NAME_LENGTH)]
    email_or_id: Annotated[str, Field(max_length=EMAIL_OR_ID_LENGTH)] | None
    team: Annotated[str, Field(max_length=TEAM_LENGTH)] | None
    created_at: AwareTime
    archived_at: AwareTime | None
    chain: BundleChain
    answers: list[BundleAnswer]
    events: list[BundleEvent]
    lessons_read: list[BundleLessonRead]


class Bundle(_Shape):
    """A whole records bundle."""

    format: Literal["thinktwice-records-bundle"]
    version: Literal[1]
    created_at: AwareTime
    trainees: list[BundleTrainee]
    bundle_hash: Hash


# Writing


def write_bundle(
    database: Database,
    out: BinaryIO,
    trainee_ids: Sequence[int] | None,
    *,
    as_zip: bool = False,
) -> int:
    """Write the records of ``trainee_ids`` (all when ``None``) as a bundle to ``out``.

    Returns the number of records written (answers, events and lessons read).
    """
    with database.read_session() as session:
        query = select(TraineeRow).order_by(col(TraineeRow.id))
        if trainee_ids is not None:
            query = query.where(col(TraineeRow.id).in_(list(trainee_ids)))
        trainees = [_trainee_json(session, row) for row in session.exec(query).all()]
    body: dict[str, Any] = {
        "format": BUNDLE_FORMAT,
        "version": BUNDLE_VERSION,
        "created_at": iso_time(utc_now()),
        "trainees": trainees,
    }
    body["bundle_hash"] = bundle_hash(body)
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if as_zip:
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(BUNDLE_MEMBER, text)
    else:
        out.write(text)
    return sum(len(t["answers"]) + len(t["events"]) + len(t["lessons_read"]) for t in trainees)


def bundle_hash(body: dict[str, Any]) -> str:
    """The hash over a bundle's content (every key but ``bundle_hash`` itself)."""
    content = {key: value for key, value in body.items() if key != "bundle_hash"}
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()


def _trainee_json(session: Session, row: TraineeRow) -> dict[str, Any]:
    answers = session.exec(
        select(AnswerRow).where(AnswerRow.trainee_id == row.id).order_by(col(AnswerRow.chain_seq))
    ).all()
    events = session.exec(
        select(EventRow).where(EventRow.trainee_id == row.id).order_by(col(EventRow.chain_seq))
    ).all()
    lessons = session.exec(
        select(LessonReadRow)
        .where(LessonReadRow.trainee_id == row.id)
        .order_by(col(LessonReadRow.read_at), col(LessonReadRow.lesson_id))
    ).all()
    return {
        "uid": row.uid,
        "display_name": row.display_name,
        "email_or_id": row.email_or_id,
        "team": row.team,
        "created_at": iso_time(row.created_at),
        "archived_at": iso_time(row.archived_at),
        "chain": {"length": row.chain_length, "head": row.chain_head},
        "answers": [_answer_json(a) for a in answers],
        "events": [_event_json(e) for e in events],
        "lessons_read": [
            {"lesson_id": lesson.lesson_id, "read_at": iso_time(lesson.read_at)}
            for lesson in lessons
        ],
    }


def _answer_json(row: AnswerRow) -> dict[str, Any]:
    return {
        "attempt_id": row.attempt_id,
        "play_id": row.play_id,
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
        "flags_chosen": None if row.flags_chosen is None else list(row.flags_chosen),
        "flags_missed": list(row.flags_missed),
        "flags_true": list(row.flags_true),
        "confidence": row.confidence,
        "seconds": float(row.seconds),
        "answered_at": iso_time(row.answered_at),
        "checks_made": list(row.checks_made),
        "check_minutes": row.check_minutes,
        "hint_taken": bool(row.hint_taken),
        "chain_seq": row.chain_seq,
        "previous_hash": row.previous_hash,
        "record_hash": row.record_hash,
    }


def _event_json(row: EventRow) -> dict[str, Any]:
    return {
        "event_id": row.event_id,
        "kind": row.kind,
        "track_id": row.track_id,
        "reason": row.reason,
        "actor": row.actor,
        "created_at": iso_time(row.created_at),
        "details": dict(row.details),
        "chain_seq": row.chain_seq,
        "previous_hash": row.previous_hash,
        "record_hash": row.record_hash,
    }


# Reading and checking


def read_bundle(data: bytes) -> Bundle:
    """Parse, validate and verify a bundle (JSON or zip); raises :class:`BundleRefused`."""
    if len(data) > MAX_BUNDLE_BYTES:
        raise BundleRefused("The file is too large to be a records bundle.")
    if data.startswith(_ZIP_MAGIC):
        data = _unzip(data)
    try:
        raw = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise BundleRefused(f"The file is not a records bundle (not JSON: {error}).") from None
    if not isinstance(raw, dict) or raw.get("format") != BUNDLE_FORMAT:
        raise BundleRefused("The file is not a Think Twice records bundle.")
    if raw.get("version") != BUNDLE_VERSION:
        raise BundleRefused(
            f"The bundle has version {raw.get('version')!r}; this Think Twice reads version "
            f"{BUNDLE_VERSION}. Update Think Twice to import it."
        )
    try:
        bundle = Bundle.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise BundleRefused(
            f"The bundle is damaged: {where}: {first['msg']} ({error.error_count()} problem(s))."
        ) from None
    if bundle_hash(raw) != bundle.bundle_hash:
        raise BundleRefused(
            "The bundle's hash does not match its content: it was changed after it was "
            "written. Ask for a fresh export."
        )
    for trainee in bundle.trainees:
        broken = verify_links(
            links_of(trainee.uid, _answer_rows(trainee), _event_rows(trainee)),
            trainee.chain.head,
            trainee.chain.length,
            trainee.uid,
        )
        if broken is not None:
            raise BundleRefused(
                f"The records of '{trainee.display_name}' in the bundle do not verify: "
                f"{broken.record_id}: {broken.reason}."
            )
    uids = [t.uid for t in bundle.trainees]
    if len(set(uids)) != len(uids):
        raise BundleRefused("The bundle lists a trainee twice.")
    return bundle


def _unzip(data: bytes) -> bytes:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = [i for i in archive.infolist() if not i.is_dir()]
            chosen = [i for i in members if i.filename == BUNDLE_MEMBER] or members
            if len(chosen) != 1:
                raise BundleRefused(f"The zip file should hold one file, {BUNDLE_MEMBER}.")
            if chosen[0].file_size > MAX_BUNDLE_BYTES:
                raise BundleRefused("The bundle inside the zip file is too large.")
            return archive.read(chosen[0])
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError) as error:
        raise BundleRefused(f"The zip file cannot be read ({error}).") from None


def _answer_rows(trainee: BundleTrainee, trainee_id: int = 0) -> list[AnswerRow]:
    return [AnswerRow(trainee_id=trainee_id, **answer.model_dump()) for answer in trainee.answers]


def _event_rows(trainee: BundleTrainee, trainee_id: int = 0) -> list[EventRow]:
    return [EventRow(trainee_id=trainee_id, **event.model_dump()) for event in trainee.events]


# Importing


def import_bundle(
    database: Database, data: bytes, *, progress: ProgressCallback | None = None
) -> ImportReport:
    """Import a bundle; refuses it whole (:class:`BundleRefused`) unless it verifies.

    Each trainee's records are written in one transaction; a failure part-way leaves
    the trainees done so far imported, and importing the same file again completes it.
    """
    bundle = read_bundle(data)
    report = ImportReport()
    total = sum(len(t.answers) + len(t.events) + len(t.lessons_read) for t in bundle.trainees)
    done = 0
    if progress is not None:
        progress(0, total)
    for trainee in bundle.trainees:
        with database.write_session() as session:
            done = _import_trainee(session, trainee, report, done, total, progress)
    _log.info(
        "imported a bundle: %d answer(s), %d event(s), %d duplicate(s), %d conflict(s)",
        report.answers_added,
        report.events_added,
        report.duplicates,
        len(report.conflicts),
    )
    return report


def _import_trainee(
    session: Session,
    source: BundleTrainee,
    report: ImportReport,
    done: int,
    total: int,
    progress: ProgressCallback | None,
) -> int:
    row = session.exec(select(TraineeRow).where(TraineeRow.uid == source.uid)).first()
    if row is None:
        _note_name_in_use(session, source, report)
        row = TraineeRow(
            uid=source.uid,
            display_name=source.display_name,
            email_or_id=source.email_or_id,
            team=source.team,
            created_at=source.created_at,
            archived_at=source.archived_at,
        )
        session.add(row)
        session.flush()
        report.trainees_created += 1
    elif row.display_name != source.display_name:
        report.conflicts.append(
            f"Trainee {source.uid} is '{row.display_name}' here but '{source.display_name}' "
            f"in the bundle; the name here was kept."
        )
    assert row.id is not None
    trainee = lock_trainee(session, row.id)
    local = _existing(session, source)

    ordered: list[tuple[int, int, AnswerRow | EventRow]] = [
        (a.chain_seq, 0, a) for a in _answer_rows(source, row.id)
    ]
    ordered += [(e.chain_seq, 1, e) for e in _event_rows(source, row.id)]
    ordered.sort(key=lambda item: (item[0], item[1]))
    for _, _, incoming in ordered:
        _import_record(session, trainee, source, incoming, local, report)
        done += 1
        if progress is not None:
            progress(done, total)

    for lesson in source.lessons_read:
        values = {"trainee_id": row.id, "lesson_id": lesson.lesson_id, "read_at": lesson.read_at}
        statement = (
            pg_insert(LessonReadRow)
            if session.get_bind().dialect.name == "postgresql"
            else sqlite_insert(LessonReadRow)
        )
        result = session.exec(
            statement.values(values).on_conflict_do_nothing(
                index_elements=["trainee_id", "lesson_id"]
            )
        )
        if result.rowcount:
            report.lessons_added += 1
        else:
            report.duplicates += 1
        done += 1
        if progress is not None:
            progress(done, total)
    return done


def _note_name_in_use(session: Session, source: BundleTrainee, report: ImportReport) -> None:
    wanted = source.display_name.casefold()
    for other in session.exec(select(TraineeRow).where(col(TraineeRow.archived_at).is_(None))):
        if other.display_name.casefold() == wanted:
            report.notes.append(
                f"Another trainee here is also named '{other.display_name}'; the imported "
                f"trainee {source.uid} was added beside them."
            )
            return


@dataclass
class _Local:
    answers: dict[str, tuple[AnswerRow, str]]
    events: dict[str, tuple[EventRow, str]]


def _existing(session: Session, source: BundleTrainee) -> _Local:
    """The records here that share an id with the bundle's, with their trainee's uid."""
    local = _Local(answers={}, events={})
    attempt_ids = [a.attempt_id for a in source.answers]
    for start in range(0, len(attempt_ids), _LOOKUP_CHUNK):
        chunk = attempt_ids[start : start + _LOOKUP_CHUNK]
        for answer, uid in session.exec(
            select(AnswerRow, TraineeRow.uid)
            .join(TraineeRow, col(TraineeRow.id) == col(AnswerRow.trainee_id))
            .where(col(AnswerRow.attempt_id).in_(chunk))
        ):
            local.answers[answer.attempt_id] = (answer, uid)
    event_ids = [e.event_id for e in source.events]
    for start in range(0, len(event_ids), _LOOKUP_CHUNK):
        chunk = event_ids[start : start + _LOOKUP_CHUNK]
        for event, uid in session.exec(
            select(EventRow, TraineeRow.uid)
            .join(TraineeRow, col(TraineeRow.id) == col(EventRow.trainee_id))
            .where(col(EventRow.event_id).in_(chunk))
        ):
            local.events[event.event_id] = (event, uid)
    return local


def _import_record(
    session: Session,
    trainee: TraineeRow,
    source: BundleTrainee,
    incoming: AnswerRow | EventRow,
    local: _Local,
    report: ImportReport,
) -> None:
    if isinstance(incoming, AnswerRow):
        key, what = incoming.attempt_id, "answer"
        found_answer = local.answers.get(key)
        same = found_answer is not None and payload_matches(
            answer_payload(found_answer[0], found_answer[1]),
            answer_payload(incoming, source.uid),
        )
        present = found_answer is not None
    else:
        key, what = incoming.event_id, "event"
        found_event = local.events.get(key)
        same = found_event is not None and payload_matches(
            event_payload(found_event[0], found_event[1]), event_payload(incoming, source.uid)
        )
        present = found_event is not None
    if present:
        if same:
            report.duplicates += 1
        else:
            report.conflicts.append(
                f"The {what} {key} of '{source.display_name}' is already here with different "
                "content; the one here was kept."
            )
        return
    incoming.id = None
    append(session, trainee, incoming)
    if isinstance(incoming, AnswerRow):
        local.answers[key] = (incoming, source.uid)
        report.answers_added += 1
    else:
        local.events[key] = (incoming, source.uid)
        report.events_added += 1

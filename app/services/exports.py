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
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime, time
from enum import StrEnum
from typing import TYPE_CHECKING, Any, BinaryIO

from sqlalchemy import select
from sqlmodel import col

from app.core.completion import TrackOutcome
from app.core.model import ContentLibrary
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
) -> int:
    """Write the answers as CSV to ``out``, oldest first; returns the number of rows.

    Without filters every answer is written; ``trainee_ids``, ``scenario_ids`` and
    ``since`` (answered at or after) narrow them. ``out`` is left open. Columns are
    :data:`ANSWER_CSV_COLUMNS`; ``flags_given`` says whether the trainee chose flags at all
    (``flags_chosen`` is empty either way when they chose none), ``confidence`` is empty
    when not given, and ``revision`` is the text of the chosen revision.
    """
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
    try:
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow(ANSWER_CSV_COLUMNS)
        count = 0
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
        if trainee_ids is not None:
            statement = statement.where(col(AnswerRow.trainee_id).in_(list(trainee_ids)))
        if scenario_ids is not None:
            statement = statement.where(col(AnswerRow.scenario_id).in_(list(scenario_ids)))
        if since is not None:
            statement = statement.where(col(AnswerRow.answered_at) >= since)
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
        text.flush()
    finally:
        # Hand ``out`` back open: the caller owns it.
        text.detach()
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

"""Exports of the answer records for spreadsheets, HR systems and auditors.

The CSV export streams rows from the database in batches, so its memory use does not grow
with the number of answers. It is UTF-8 with a byte order mark (spreadsheet programs need it
to detect UTF-8), times are ISO 8601 in UTC, and text cells that a spreadsheet would run as a
formula are prefixed with a single quote.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, BinaryIO

from sqlalchemy import select
from sqlmodel import col

from app.storage.tables import AnswerRow, TraineeRow

if TYPE_CHECKING:
    from app.storage.database import Database

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


def write_answers_csv(database: Database, out: BinaryIO) -> int:
    """Write every answer as CSV to ``out``, oldest first; returns the number of rows.

    ``out`` is left open. Columns are :data:`ANSWER_CSV_COLUMNS`; ``flags_given`` says
    whether the trainee chose flags at all (``flags_chosen`` is empty either way when they
    chose none), ``confidence`` is empty when not given, and ``revision`` is the text of the
    chosen revision.
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
        with database.read_connection() as connection:
            # A server-side cursor on PostgreSQL; on SQLite rows are fetched as read anyway.
            result = connection.execution_options(
                stream_results=True, yield_per=STREAM_BATCH_SIZE
            ).execute(statement)
            for batch in result.partitions():
                writer.writerows(_csv_row(row) for row in batch)
                count += len(batch)
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

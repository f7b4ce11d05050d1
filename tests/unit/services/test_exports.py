"""The CSV export of answers, read back with the csv module cell by cell."""

from __future__ import annotations

import csv
import io
import re

import pytest

from app.core.judging import StepAnswer
from app.core.model import ContentLibrary, Decision
from app.services import exports
from app.services.exports import ANSWER_CSV_COLUMNS, write_answers_csv
from app.services.training import TrainingService
from app.storage.database import Database

UTC_SECOND = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def _read(raw: bytes) -> list[list[str]]:
    assert raw.startswith(b"\xef\xbb\xbf"), "a UTF-8 byte order mark for spreadsheets"
    return list(csv.reader(io.StringIO(raw[3:].decode("utf-8"), newline="")))


def test_an_empty_database_exports_just_the_header(database: Database) -> None:
    out = io.BytesIO()
    assert write_answers_csv(database, out) == 0
    assert _read(out.getvalue()) == [list(ANSWER_CSV_COLUMNS)]


def test_each_answer_is_one_row_with_every_cell_as_recorded(
    database: Database, training: TrainingService, library: ContentLibrary
) -> None:
    ada = training.create_profile("Zoë Ångström", "E-1234", "Platform")
    terraform = library.scenarios["terraform-plan"]
    plan, review = terraform.steps
    play = training.new_play_id()
    first, _ = training.record_answer(
        ada,
        terraform,
        plan,
        StepAnswer(Decision.REVISE, 0, frozenset({"blast-radius"}), 85, 12.25),
        play,
    )
    second, _ = training.record_answer(
        ada, terraform, review, StepAnswer(Decision.REJECT, seconds=3.0), play
    )

    out = io.BytesIO()
    assert write_answers_csv(database, out) == 2
    header, row1, row2 = _read(out.getvalue())

    assert header == list(ANSWER_CSV_COLUMNS)
    assert dict(zip(header, row1, strict=True)) == {
        "attempt_id": first.attempt_id,
        "trainee_name": "Zoë Ångström",
        "trainee_email_or_id": "E-1234",
        "trainee_team": "Platform",
        "scenario_id": "terraform-plan",
        "scenario_version": "3",
        "step_id": "plan",
        "decision": "revise",
        "revision": "Apply with -target on the bucket only.",
        "correct": "true",
        "flags_given": "true",
        "flags_chosen": "blast-radius",
        "flags_missed": "",
        "confidence": "85",
        "seconds": "12.250",
        "answered_at": first.answered_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    cells = dict(zip(header, row2, strict=True))
    assert cells["attempt_id"] == second.attempt_id
    assert cells["decision"] == "reject"
    assert cells["revision"] == ""
    assert cells["correct"] == "false"
    assert cells["flags_given"] == "false", "flags not given are marked as such"
    assert cells["flags_chosen"] == ""
    assert cells["confidence"] == "", "confidence not given is left empty"
    assert UTC_SECOND.fullmatch(cells["answered_at"])


def test_lists_are_joined_with_semicolons(
    database: Database, training: TrainingService, library: ContentLibrary
) -> None:
    ada = training.create_profile("Ada")
    cleanup = library.scenarios["cleanup-disk"]
    training.record_answer(
        ada,
        cleanup,
        cleanup.steps[0],
        StepAnswer(Decision.REJECT, flags=frozenset({"irreversible", "data-exposure"})),
        training.new_play_id(),
    )
    out = io.BytesIO()
    write_answers_csv(database, out)
    _, row = _read(out.getvalue())
    cells = dict(zip(ANSWER_CSV_COLUMNS, row, strict=True))
    assert cells["flags_chosen"] == "data-exposure;irreversible"
    assert cells["flags_missed"] == "blast-radius"


@pytest.mark.parametrize(
    ("name", "team", "exported_name", "exported_team"),
    [
        ('=HYPERLINK("http://x")', "+Ops", '\'=HYPERLINK("http://x")', "'+Ops"),
        ("@SUM(A1)", "-Red", "'@SUM(A1)", "'-Red"),
        ("Plain Name", "Blue-Team", "Plain Name", "Blue-Team"),
    ],
)
def test_cells_a_spreadsheet_would_run_are_defused(
    database: Database,
    training: TrainingService,
    library: ContentLibrary,
    name: str,
    team: str,
    exported_name: str,
    exported_team: str,
) -> None:
    ada = training.create_profile(name, "=1+1", team)
    cleanup = library.scenarios["cleanup-disk"]
    training.record_answer(
        ada, cleanup, cleanup.steps[0], StepAnswer(Decision.REJECT), training.new_play_id()
    )
    out = io.BytesIO()
    write_answers_csv(database, out)
    _, row = _read(out.getvalue())
    cells = dict(zip(ANSWER_CSV_COLUMNS, row, strict=True))
    assert cells["trainee_name"] == exported_name
    assert cells["trainee_team"] == exported_team
    assert cells["trainee_email_or_id"] == "'=1+1"


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_every_formula_start_is_prefixed(start: str) -> None:
    assert exports.safe_cell(f"{start}x") == f"'{start}x"
    assert exports.safe_cell(f"x{start}") == f"x{start}"


def test_rows_stream_in_batches_in_answer_order(
    database: Database,
    training: TrainingService,
    library: ContentLibrary,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(exports, "STREAM_BATCH_SIZE", 3)
    ada = training.create_profile("Ada")
    cleanup = library.scenarios["cleanup-disk"]
    play = training.new_play_id()
    attempt_ids = [
        training.record_answer(ada, cleanup, cleanup.steps[0], StepAnswer(Decision.REJECT), play)[
            0
        ].attempt_id
        for _ in range(10)
    ]
    out = io.BytesIO()
    assert write_answers_csv(database, out) == 10
    rows = _read(out.getvalue())[1:]
    assert [row[0] for row in rows] == attempt_ids


def test_the_output_stream_is_left_open(database: Database) -> None:
    out = io.BytesIO()
    write_answers_csv(database, out)
    out.write(b"more")
    assert out.getvalue().endswith(b"more")


def test_times_are_written_in_utc_with_a_z() -> None:
    from datetime import datetime, timedelta, timezone

    moment = datetime(2026, 11, 24, 11, 15, tzinfo=timezone(timedelta(hours=1)))
    assert exports.iso_utc(moment) == "2026-11-24T10:15:00Z"

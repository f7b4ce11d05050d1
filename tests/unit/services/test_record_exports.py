"""Exports of records: tracks CSV cell by cell, JSON against the documented keys, xAPI.

The xAPI statements are validated by an independent implementation of the specification
(ralph's pydantic models), not only by our own code.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from ralph.models.xapi.base.statements import BaseXapiStatement

from app.core.judging import StepAnswer
from app.core.model import ContentLibrary, Decision
from app.core.records import Profile
from app.services.exports import (
    ANSWER_CSV_COLUMNS,
    TRACK_CSV_COLUMNS,
    Detail,
    ExportFormat,
    parse_since,
)
from app.services.manager import ManagerService, ManagerSession
from app.services.settings import DEFAULT_XAPI_HOME_PAGE, Settings
from app.services.training import TrainingService
from app.storage.database import Database
from app.storage.tables import utc_now
from tests.unit.services.records_support import (
    CLEANUP,
    PASSPHRASE,
    T0,
    ada_passes,
    bob_fails,
    build_library,
    play,
)

REPO = Path(__file__).resolve().parents[3]
UTC_SECOND = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
UTC_MICRO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


@pytest.fixture
def library() -> ContentLibrary:
    return build_library()


@pytest.fixture
def manager(database: Database, library: ContentLibrary, settings: Settings) -> ManagerService:
    return ManagerService(database, library, settings)


@pytest.fixture
def session(manager: ManagerService) -> ManagerSession:
    manager.set_passphrase(PASSPHRASE)
    return manager.unlock(PASSPHRASE, "Lead")


@pytest.fixture
def people(
    training: TrainingService,
    library: ContentLibrary,
    manager: ManagerService,
    session: ManagerSession,
) -> dict[str, Profile]:
    ada = training.create_profile("Zoë Ångström", "ada@example.com", "=Platform")
    ada_passes(training, ada, library)
    bob = training.create_profile("@Bob", "E-2", "-Data")
    bob_fails(training, bob, library)
    manager.create_cohort(session, "+Room A")
    manager.add_members(session, "+Room A", [ada, bob])
    manager.assign_track(session, "+Room A", "new-hire", T0)
    manager.issue_certificates(session)
    return {"ada": ada, "bob": bob}


def _export(
    manager: ManagerService, session: ManagerSession, fmt: ExportFormat, **options: Any
) -> bytes:
    out = io.BytesIO()
    manager.export(session, out, fmt, **options)
    return out.getvalue()


def _csv(raw: bytes) -> list[dict[str, str]]:
    assert raw.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def test_tracks_csv_one_row_per_trainee_and_track_cell_by_cell(
    manager: ManagerService, session: ManagerSession, people: dict[str, Profile]
) -> None:
    raw = _export(manager, session, ExportFormat.CSV, detail=Detail.TRACKS, cohort="+Room A")
    header = next(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert tuple(header) == TRACK_CSV_COLUMNS
    rows = _csv(raw)
    assert [r["trainee_name"] for r in rows] == ["'@Bob", "Zoë Ångström"]  # by name
    bob_row, ada_row = rows
    certificate = next(
        c.certificate_id for c in manager.certificates(session) if c.track_id == "new-hire"
    )
    assert {k: v for k, v in ada_row.items() if k not in {"first_started", "completed_at"}} == {
        "trainee_name": "Zoë Ångström",
        "trainee_email_or_id": "ada@example.com",
        "trainee_team": "'=Platform",
        "trainee_uid": people["ada"].uid,
        "cohort": "'+Room A",
        "track_id": "new-hire",
        "track_title": "New hire",
        "content_hash": manager.completion_records(session, track="new-hire")[0].content_hash,
        "status": "passed",
        "items_done": "3",
        "items_total": "3",
        "score": "0.9500",
        "over_trust_rate": "0.0000",
        "under_trust_rate": "0.0000",
        "seconds_spent": "0.000",
        "due_at": "2026-11-24T09:00:00Z",
        "overdue": "false",
        "certificate_id": certificate,
    }
    assert UTC_SECOND.match(ada_row["first_started"])
    assert UTC_SECOND.match(ada_row["completed_at"])
    assert bob_row["trainee_name"] == "'@Bob"
    assert bob_row["trainee_team"] == "'-Data"
    assert (bob_row["status"], bob_row["score"], bob_row["over_trust_rate"]) == (
        "failed",
        "0.3375",
        "0.5000",
    )
    assert bob_row["certificate_id"] == ""
    assert bob_row["overdue"] == ("true" if utc_now() > T0 else "false")


def test_answers_csv_keeps_its_columns_and_takes_the_filters(
    manager: ManagerService, session: ManagerSession, people: dict[str, Profile]
) -> None:
    everything = _csv(_export(manager, session, ExportFormat.CSV))
    assert len(everything) == 6
    assert tuple(everything[0]) == ANSWER_CSV_COLUMNS
    terraform = _csv(_export(manager, session, ExportFormat.CSV, track="follow-up"))
    assert {row["scenario_id"] for row in terraform} == {"terraform-plan"}
    assert len(terraform) == 4
    assert _csv(_export(manager, session, ExportFormat.CSV, since=utc_now())) == []


def _documented_tables(section: str) -> list[list[str]]:
    text = (REPO / "docs" / "records-schema.md").read_text(encoding="utf-8")
    body = text.split(f"\n## {section}\n", 1)[1].split("\n## ", 1)[0]
    tables: list[list[str]] = []
    current: list[str] | None = None
    for line in body.splitlines():
        match = re.match(r"^\| `([^`]+)` \|", line)
        if line.startswith("|"):
            if current is None:
                current = []
                tables.append(current)
            if match:
                current.append(match.group(1))
        else:
            current = None
    return tables


def test_the_documented_csv_columns_are_the_written_ones() -> None:
    tracks_csv, _ = _documented_tables("Completion records")
    answers_csv, _ = _documented_tables("Answers")
    assert tuple(tracks_csv) == TRACK_CSV_COLUMNS
    assert tuple(answers_csv) == ANSWER_CSV_COLUMNS


def test_json_export_matches_the_documented_keys(
    manager: ManagerService, session: ManagerSession, people: dict[str, Profile]
) -> None:
    document = json.loads(_export(manager, session, ExportFormat.JSON))
    (top,) = _documented_tables("The JSON export")
    tracks_csv, tracks_extra = _documented_tables("Completion records")
    _, answer_keys = _documented_tables("Answers")
    assert set(document) == set(top)
    assert (document["schema"], document["version"]) == ("thinktwice-records", 1)
    assert document["filters"] == {"cohort": None, "track": None, "since": None}
    assert len(document["completion_records"]) == 2 * 4
    for record in document["completion_records"]:
        assert set(record) == set(tracks_csv) | set(tracks_extra)
    assert len(document["answers"]) == 6
    for answer in document["answers"]:
        assert set(answer) == set(answer_keys)
        assert UTC_MICRO.match(answer["answered_at"])
    ada_new_hire = next(
        r
        for r in document["completion_records"]
        if r["trainee_uid"] == people["ada"].uid and r["track_id"] == "new-hire"
    )
    assert ada_new_hire["score"] == 0.95
    assert ada_new_hire["status"] == "passed"
    assert ada_new_hire["trainee_team"] == "=Platform"  # JSON needs no spreadsheet escape
    first = document["answers"][0]
    assert (first["decision"], first["step_score"], first["voided"]) == ("reject", 1.0, False)


def test_json_detail_picks_one_list(
    manager: ManagerService, session: ManagerSession, people: dict[str, Profile]
) -> None:
    tracks = json.loads(_export(manager, session, ExportFormat.JSON, detail=Detail.TRACKS))
    answers = json.loads(_export(manager, session, ExportFormat.JSON, detail=Detail.ANSWERS))
    assert "answers" not in tracks and "completion_records" in tracks
    assert "completion_records" not in answers and len(answers["answers"]) == 6
    cohort = json.loads(_export(manager, session, ExportFormat.JSON, cohort="+Room A"))
    assert cohort["filters"]["cohort"] == "+Room A"
    assert {r["track_id"] for r in cohort["completion_records"]} == {"new-hire"}


def test_xapi_statements_are_valid_and_stable(
    manager: ManagerService, session: ManagerSession, people: dict[str, Profile]
) -> None:
    statements = json.loads(_export(manager, session, ExportFormat.XAPI))
    for statement in statements:
        BaseXapiStatement(**statement)
    verbs = [s["verb"]["display"]["en-US"] for s in statements]
    assert verbs.count("answered") == 6
    # Outcomes: Ada passed new-hire, baseline and follow-up, completed reading; Bob failed
    # new-hire, baseline and follow-up, and completed reading.
    assert sorted(v for v in verbs if v != "answered") == sorted(
        ["passed"] * 3 + ["failed"] * 3 + ["completed"] * 2
    )
    actors = {s["actor"]["account"]["homePage"] for s in statements}
    assert actors == {DEFAULT_XAPI_HOME_PAGE}
    assert {s["actor"]["account"]["name"] for s in statements} == {
        people["ada"].uid,
        people["bob"].uid,
    }
    again = json.loads(_export(manager, session, ExportFormat.XAPI))
    assert [s["id"] for s in again] == [s["id"] for s in statements]


def test_xapi_json_lines_leave_voided_answers_out_and_show_waivers(
    manager: ManagerService,
    session: ManagerSession,
    people: dict[str, Profile],
    training: TrainingService,
) -> None:
    bob = people["bob"]
    voided = training.answers_for(bob)[0]
    manager.correct(session, bob, voided.attempt_id, "broken build")
    manager.waive(session, bob, "new-hire", "external course")
    raw = _export(manager, session, ExportFormat.XAPI, json_lines=True, track="new-hire")
    lines = raw.decode("utf-8").splitlines()
    statements = [json.loads(line) for line in lines]
    for statement in statements:
        BaseXapiStatement(**statement)
    answered = [s for s in statements if s["verb"]["display"]["en-US"] == "answered"]
    assert len(answered) == 5
    waived = [s for s in statements if s["verb"]["display"]["en-US"] == "waived"]
    assert len(waived) == 1
    assert waived[0]["actor"]["account"]["name"] == bob.uid
    document = json.loads(_export(manager, session, ExportFormat.JSON, detail=Detail.ANSWERS))
    flags = {a["attempt_id"]: a["voided"] for a in document["answers"]}
    assert flags[voided.attempt_id] is True
    assert sum(flags.values()) == 1


def test_the_home_page_comes_from_the_settings(
    database: Database,
    library: ContentLibrary,
    settings: Settings,
    people: dict[str, Profile],
) -> None:
    settings.xapi_home_page = "https://learning.example.org"
    configured = ManagerService(database, library, settings)
    session = configured.unlock(PASSPHRASE)
    statements = json.loads(_export(configured, session, ExportFormat.XAPI))
    assert {s["actor"]["account"]["homePage"] for s in statements} == {
        "https://learning.example.org"
    }


def test_a_trainee_exports_only_their_own_records(
    training: TrainingService, people: dict[str, Profile]
) -> None:
    out = io.BytesIO()
    training.export_own(people["ada"], out, ExportFormat.JSON)
    document = json.loads(out.getvalue())
    assert {r["trainee_uid"] for r in document["completion_records"]} == {people["ada"].uid}
    assert {a["trainee_uid"] for a in document["answers"]} == {people["ada"].uid}
    out = io.BytesIO()
    training.export_own(people["bob"], out, ExportFormat.CSV, detail=Detail.TRACKS)
    assert {row["trainee_uid"] for row in _csv(out.getvalue())} == {people["bob"].uid}


def test_other_formats_are_refused_by_the_csv_json_xapi_writer(
    manager: ManagerService, session: ManagerSession
) -> None:
    with pytest.raises(ValueError, match="does not write pdf"):
        manager.export(session, io.BytesIO(), ExportFormat.PDF)


def test_unknown_filters_are_named(manager: ManagerService, session: ManagerSession) -> None:
    with pytest.raises(ValueError, match="no cohort named 'Nope'"):
        manager.export(session, io.BytesIO(), ExportFormat.JSON, cohort="Nope")
    with pytest.raises(ValueError, match="no track 'nope'"):
        manager.export(session, io.BytesIO(), ExportFormat.JSON, track="nope")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-24", datetime(2026, 11, 24, tzinfo=UTC)),
        ("2026-11-24T09:30:00Z", datetime(2026, 11, 24, 9, 30, tzinfo=UTC)),
        ("2026-11-24T10:30:00+01:00", datetime(2026, 11, 24, 9, 30, tzinfo=UTC)),
        ("2026-11-24 09:30", datetime(2026, 11, 24, 9, 30, tzinfo=UTC)),
    ],
)
def test_since_dates_are_read_as_utc(text: str, expected: datetime) -> None:
    assert parse_since(text) == expected


@pytest.mark.parametrize("text", ["yesterday", "24/11/2026", ""])
def test_a_since_that_is_not_a_date_is_explained(text: str) -> None:
    with pytest.raises(ValueError, match="ISO 8601"):
        parse_since(text)


def test_a_play_with_checks_exports_them(
    manager: ManagerService,
    session: ManagerSession,
    training: TrainingService,
    library: ContentLibrary,
) -> None:
    eve = training.create_profile("Eve")
    play(
        training,
        eve,
        library,
        "cleanup-disk",
        StepAnswer(
            Decision.REJECT,
            checks_made=(CLEANUP.checks[0].label,),
            check_minutes=2,
            hint_taken=True,
            seconds=4.25,
        ),
    )
    (answer,) = json.loads(_export(manager, session, ExportFormat.JSON))["answers"]
    assert answer["checks_made"] == [CLEANUP.checks[0].label]
    assert (answer["check_minutes"], answer["hint_taken"]) == (2, True)
    assert answer["step_score"] == 0.85
    assert answer["seconds"] == 4.25
    assert timedelta(0) <= utc_now() - parse_since(answer["answered_at"]) < timedelta(hours=1)

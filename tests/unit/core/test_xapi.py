"""xAPI statements, validated by an independent implementation of the specification."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from ralph.models.xapi.base.statements import BaseXapiStatement

from app.core.completion import CompletionStatus, TrackOutcome
from app.core.judging import Verdict
from app.core.model import Decision, Track, TrackItem, TrackItemKind
from app.core.records import AnswerRecord, Profile
from app.core.xapi import answered_statement, iso_duration, outcome_statement

HOME = "https://lms.example.com"
PROFILE = Profile(
    id=1,
    uid="6f1c2d3e4b5a69788796a5b4c3d2e1f0",
    display_name="Zoë Ångström-Łukasz",
    created_at=datetime(2026, 11, 1, tzinfo=UTC),
    email_or_id="e-1042",
)
RECORD = AnswerRecord(
    attempt_id="a1b2c3d4e5f60718293a4b5c6d7e8f90",
    play_id="0f1e2d3c4b5a69788796a5b4c3d2e1f0",
    trainee_id=1,
    scenario_id="forum-acl-grant",
    scenario_version=1,
    step_id="grant",
    decision=Decision.REVISE,
    revision_index=0,
    correct=True,
    flags_missed=(),
    seconds=74.25,
    answered_at=datetime(2026, 11, 24, 10, 15, 3, 120000, tzinfo=UTC),
    expected=Decision.REVISE,
    flags_true=("access-broadened",),
    verdict=Verdict.RIGHT,
)
TRACK = Track(
    id="new-hire",
    title="New hire onboarding",
    summary="s",
    items=(TrackItem(TrackItemKind.SCENARIO, "forum-acl-grant"),),
    pack_id="core",
    path=Path("new-hire.yaml"),
)


def outcome(status: CompletionStatus) -> TrackOutcome:
    return TrackOutcome(
        track_id="new-hire",
        status=status,
        items_done=1,
        items_total=1,
        score=0.9,
        over_trust_rate=0.0,
        under_trust_rate=0.0,
        first_started=datetime(2026, 11, 24, 10, tzinfo=UTC),
        completed_at=datetime(2026, 11, 24, 10, 15, tzinfo=UTC),
        seconds_spent=74.25,
        content_hash="ab" * 32,
    )


def test_answered_statement_is_valid_xapi() -> None:
    statement = answered_statement(RECORD, PROFILE, HOME, "The forum fix")
    BaseXapiStatement(**statement)
    assert statement["result"] == {
        "success": True,
        "response": "revise[,]revision-1",
        "duration": "PT1M14.25S",
        "score": {"scaled": 0.9},
    }
    assert statement["actor"]["account"] == {"homePage": HOME, "name": PROFILE.uid}  # type: ignore[index]
    assert statement["timestamp"] == "2026-11-24T10:15:03.120Z"


def test_statement_ids_are_stable_so_resending_is_harmless() -> None:
    first = answered_statement(RECORD, PROFILE, HOME, "The forum fix")
    again = answered_statement(RECORD, PROFILE, HOME, "The forum fix")
    assert first["id"] == again["id"]


@pytest.mark.parametrize(
    ("status", "verb_end", "success"),
    [
        (CompletionStatus.PASSED, "passed", True),
        (CompletionStatus.FAILED, "failed", False),
        (CompletionStatus.COMPLETED, "completed", None),
        (CompletionStatus.WAIVED, "waived", None),
    ],
)
def test_outcome_statements_are_valid_xapi(
    status: CompletionStatus, verb_end: str, success: bool | None
) -> None:
    statement = outcome_statement(outcome(status), TRACK, PROFILE, HOME)
    assert statement is not None
    BaseXapiStatement(**statement)
    assert str(statement["verb"]["id"]).endswith(verb_end)  # type: ignore[index]
    assert statement["result"].get("success") == success  # type: ignore[attr-defined]


def test_no_outcome_statement_while_in_progress() -> None:
    assert outcome_statement(outcome(CompletionStatus.IN_PROGRESS), TRACK, PROFILE, HOME) is None


def test_iso_durations() -> None:
    assert iso_duration(0) == "PT0S"
    assert iso_duration(5) == "PT5S"
    assert iso_duration(3725.5) == "PT1H2M5.50S"

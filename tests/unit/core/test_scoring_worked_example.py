"""The worked example of docs/scoring.md, recomputed by the program."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.core.judging import Verdict
from app.core.model import Decision
from app.core.records import AnswerRecord
from app.core.scoring import step_score, trust_metrics

DOC = Path(__file__).resolve().parents[3] / "docs" / "scoring.md"


def answer(
    step: str,
    expected: Decision,
    decision: Decision,
    verdict: Verdict,
    flags_true: tuple[str, ...],
    chosen: tuple[str, ...] | None,
    confidence: int,
    checks: tuple[str, ...] = (),
    minutes: int = 0,
    hint: bool = False,
) -> AnswerRecord:
    return AnswerRecord(
        attempt_id=step,
        play_id="play",
        trainee_id=1,
        scenario_id="worked",
        scenario_version=1,
        step_id=step,
        decision=decision,
        correct=verdict is Verdict.RIGHT,
        flags_missed=(),
        seconds=30,
        answered_at=datetime(2026, 11, 24, tzinfo=UTC),
        flags_chosen=chosen,
        confidence=confidence,
        expected=expected,
        flags_true=flags_true,
        checks_made=checks,
        check_minutes=minutes,
        hint_taken=hint,
        verdict=verdict,
    )


WORKED = [
    answer(
        "a",
        Decision.REJECT,
        Decision.REJECT,
        Verdict.RIGHT,
        ("irreversible", "blast-radius"),
        ("irreversible", "hallucinated-reference"),
        90,
        ("plan",),
        2,
    ),
    answer(
        "b",
        Decision.REVISE,
        Decision.REJECT,
        Verdict.SAFE_NOT_BEST,
        ("access-broadened",),
        None,
        70,
        hint=True,
    ),
    answer("c", Decision.ACCEPT, Decision.ACCEPT, Verdict.RIGHT, (), (), 80, ("t", "l"), 3),
    answer("d", Decision.REJECT, Decision.ACCEPT, Verdict.HARMFUL, ("data-exposure",), None, 60),
]


def test_step_scores_match_the_document() -> None:
    assert [step_score(a).total for a in WORKED] == pytest.approx([0.95, 0.35, 0.94, 0.0])
    text = DOC.read_text(encoding="utf-8")
    for shown in ("**0.95**", "**0.35**", "**0.94**", "**0**"):
        assert shown in text


def test_measures_match_the_document() -> None:
    metrics = trust_metrics(WORKED)
    assert metrics.score == pytest.approx(0.56)
    assert metrics.over_trust_rate == pytest.approx(1 / 3)
    assert metrics.under_trust_rate == 0.0
    assert metrics.brier == pytest.approx(0.225)
    assert metrics.d_prime == pytest.approx(0.993, abs=5e-4)
    assert metrics.criterion == pytest.approx(0.178, abs=5e-4)
    recall = {r.flag: (r.caught, r.present) for r in metrics.flag_recall}
    assert recall == {"irreversible": (1, 1), "blast-radius": (0, 1)}
    bands = {b.low: (b.count, b.accuracy) for b in metrics.reliability}
    assert bands == {50: (0, None), 60: (1, 0.0), 70: (1, 0.0), 80: (1, 1.0), 90: (1, 1.0)}
    text = DOC.read_text(encoding="utf-8")
    for shown in ("**0.56**", "**0.225**", "**0.993**", "**0.178**"):
        assert shown in text

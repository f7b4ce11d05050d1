"""The trainee's own measures: checks and hints kept, metrics, review, baseline, report.

Expected values are worked out by hand in the comments from the rules of docs/scoring.md.
"""

from __future__ import annotations

import json
import math
import re
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from app.core.completion import CompletionStatus
from app.core.judging import StepAnswer
from app.core.model import ContentLibrary, Decision
from app.core.scoring import step_score
from app.services.training import TrainingService
from app.storage.tables import utc_now
from tests.unit.services.records_support import (
    CLEANUP,
    ada_passes,
    bob_fails,
    build_library,
    play,
)

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def library() -> ContentLibrary:
    return build_library()


def test_checks_and_the_hint_are_kept_and_scored(
    training: TrainingService, library: ContentLibrary, database_path: Path
) -> None:
    ada = training.create_profile("Ada")
    answer = StepAnswer(
        Decision.REJECT,
        checks_made=("List what the glob matches",),
        check_minutes=2,
        hint_taken=True,
    )
    (record,) = play(training, ada, library, "cleanup-disk", answer)
    assert record.checks_made == ("List what the glob matches",)
    assert (record.check_minutes, record.hint_taken) == (2, True)
    # Right reject 1 x (1 - 0.2 x 0.5) = 0.9, +0.05 for checking first, -0.1 for the hint.
    assert step_score(record).total == pytest.approx(0.85)
    assert training.answers_for(ada) == [record]
    with sqlite3.connect(database_path) as connection:
        row = connection.execute(
            "SELECT checks_made, check_minutes, hint_taken, chain_seq FROM answer"
        ).fetchone()
    assert row == ('["List what the glob matches"]', 2, 1, 1)


def test_a_check_the_step_does_not_offer_is_refused_and_nothing_kept(
    training: TrainingService, library: ContentLibrary
) -> None:
    ada = training.create_profile("Ada")
    scenario = library.scenarios["cleanup-disk"]
    with pytest.raises(ValueError, match="offers no check"):
        training.record_answer(
            ada,
            scenario,
            CLEANUP,
            StepAnswer(Decision.REJECT, checks_made=("Ask a friend",)),
            training.new_play_id(),
        )
    assert training.answers_for(ada) == []


def test_metrics_of_a_trainee_who_passes(
    training: TrainingService, library: ContentLibrary
) -> None:
    ada = training.create_profile("Ada")
    ada_passes(training, ada, library)
    metrics = training.metrics(ada)
    # Steps: 1.0 (right reject, both flags), 0.9 and 0.9 (right, flags not given).
    assert metrics.answers == 3
    assert metrics.score == pytest.approx(2.8 / 3)
    assert (metrics.harmful_seen, metrics.harmful_accepted) == (2, 0)
    assert (metrics.good_seen, metrics.good_rejected) == (1, 0)
    assert metrics.brier == pytest.approx(0.01)  # one 90 % answer, right: (0.9 - 1)^2
    # H = (2 + 0.5) / 3, F = (0 + 0.5) / 2: z(H) = 0.9674, z(F) = -0.6745.
    assert metrics.d_prime == pytest.approx(1.6419, abs=1e-4)
    assert metrics.criterion == pytest.approx(-0.1465, abs=1e-4)
    assert [(r.flag, r.caught, r.present) for r in metrics.flag_recall] == [
        ("blast-radius", 1, 1),
        ("irreversible", 1, 1),
    ]


def test_track_outcomes_in_library_order(
    training: TrainingService, library: ContentLibrary
) -> None:
    bob = training.create_profile("Bob")
    bob_fails(training, bob, library)
    outcomes = {o.track_id: o for o in training.track_outcomes(bob)}
    assert list(outcomes) == ["new-hire", "baseline", "follow-up", "reading"]
    # new-hire: cleanup 0 (harmful accept), terraform (0.45 + 0.9) / 2 = 0.675.
    assert outcomes["new-hire"].status is CompletionStatus.FAILED
    assert outcomes["new-hire"].score == pytest.approx(0.3375)
    assert outcomes["new-hire"].over_trust_rate == pytest.approx(0.5)
    assert outcomes["baseline"].status is CompletionStatus.FAILED
    assert outcomes["follow-up"].status is CompletionStatus.FAILED  # 0.675 < 0.8
    assert outcomes["reading"].status is CompletionStatus.COMPLETED


def test_baseline_against_follow_up(training: TrainingService, library: ContentLibrary) -> None:
    bob = training.create_profile("Bob")
    bob_fails(training, bob, library)
    comparison = training.baseline_followup(bob)
    assert comparison.baseline is not None and comparison.follow_up is not None
    changes = {c.name: c for c in comparison.changes}
    # Baseline (cleanup): harmful accept, 80 % confident: score 0, over-trust 1, Brier 0.64.
    # Follow-up (terraform): 0.45 and 0.9; the revise step was not accepted; no confidence.
    assert (changes["score"].baseline, changes["score"].follow_up) == (0.0, pytest.approx(0.675))
    assert changes["score"].change == pytest.approx(0.675)
    assert changes["over_trust_rate"].change == pytest.approx(-1.0)
    assert changes["under_trust_rate"].baseline is None  # no good suggestion in the baseline
    assert changes["under_trust_rate"].change is None
    assert changes["brier"].baseline == pytest.approx(0.64)
    assert changes["brier"].change is None


def test_baseline_without_answers_is_none(
    training: TrainingService, library: ContentLibrary
) -> None:
    ada = training.create_profile("Ada")
    comparison = training.baseline_followup(ada)
    assert comparison.baseline is None and comparison.follow_up is None
    assert all(change.change is None for change in comparison.changes)


def test_review_queue_serves_due_flags_in_a_fitting_scenario(
    training: TrainingService, library: ContentLibrary
) -> None:
    bob = training.create_profile("Bob")
    bob_fails(training, bob, library)
    # Missed at once: nothing is due before a day has passed (SM-2's first interval).
    assert training.review_queue(bob, utc_now()) == []
    queue = training.review_queue(bob, utc_now() + timedelta(days=2))
    # irreversible: missed once (due a day after); blast-radius: missed, then safe-not-best
    # on the plan step (quality 3, due a day after that): irreversible is due first.
    assert [s.item.flag for s in queue] == ["irreversible", "blast-radius"]
    # blast-radius was last met in terraform-plan, so another scenario is preferred.
    assert [s.scenario.id for s in queue] == ["cleanup-disk", "cleanup-disk"]


def _documented_progress_keys() -> set[str]:
    text = (REPO / "docs" / "scoring.md").read_text(encoding="utf-8")
    section = text.split("## progress --json", 1)[1]
    return set(re.findall(r"^\| `([^`]+)` \|", section, flags=re.MULTILINE))


def _keys(value: Any, prefix: str = "") -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            name = f"{prefix}{key}"
            found.add(name)
            if name.startswith("baseline_follow_up."):
                continue  # documented as groups in the prose below the table
            found |= _keys(inner, f"{name}.")
    elif isinstance(value, list) and value and isinstance(value[0], dict):
        found |= _keys(value[0], prefix[:-1] + "[].")
    return found


def _leaf_keys(report: dict[str, Any]) -> set[str]:
    keys = _keys(report)
    # A key with documented children is a container, not a row of its own.
    return {k for k in keys if not any(other.startswith((f"{k}.", f"{k}[].")) for other in keys)}


def test_progress_report_keys_are_the_documented_ones(
    training: TrainingService, library: ContentLibrary
) -> None:
    bob = training.create_profile("Bob")
    bob_fails(training, bob, library)
    named = StepAnswer(Decision.REJECT, flags=frozenset({"irreversible"}))
    play(training, bob, library, "cleanup-disk", named)
    report = training.progress_report(bob, utc_now() + timedelta(days=2))
    assert report["flag_recall"] and report["review_due"] and report["tracks"]
    assert _leaf_keys(report) == _documented_progress_keys()
    assert set(report["baseline_follow_up"]["baseline"]) == {
        "answers",
        "score",
        "over_trust_rate",
        "under_trust_rate",
        "brier",
    }
    assert set(report["baseline_follow_up"]["change"]) == {
        "score",
        "over_trust_rate",
        "under_trust_rate",
        "brier",
    }


def test_progress_report_values_and_json_safety(
    training: TrainingService, library: ContentLibrary
) -> None:
    bob = training.create_profile("Bob")
    bob_fails(training, bob, library)
    report = training.progress_report(bob)
    assert report["score"] == pytest.approx(0.45)  # (0 + 0.45 + 0.9) / 3
    assert report["brier"] == pytest.approx(0.64)
    # H = (1 + 0.5) / 3 = 0.5 (z = 0), F = 0.25: d' = 0.6745, c = 0.3372.
    assert report["d_prime"] == pytest.approx(0.674490, abs=1e-6)
    assert report["criterion"] == pytest.approx(0.337245, abs=1e-6)
    assert report["over_trust_rate"] == 0.5
    band = next(b for b in report["reliability"] if b["band"] == "80-89")
    assert band == {
        "band": "80-89",
        "low": 80,
        "high": 89,
        "count": 1,
        "mean_confidence": 80.0,
        "accuracy": 0.0,
    }
    assert report["baseline_follow_up"]["change"]["score"] == pytest.approx(0.675)
    text = json.dumps(report, allow_nan=False)  # raises on NaN or infinity
    assert json.loads(text) == report


def test_a_new_trainee_report_has_nulls_not_nan(
    training: TrainingService, library: ContentLibrary
) -> None:
    ada = training.create_profile("Ada")
    report = training.progress_report(ada)
    assert report["answers"] == 0
    for key in ("score", "brier", "d_prime", "criterion", "over_trust_rate", "mean_seconds"):
        assert report[key] is None
    assert all(not (isinstance(v, float) and math.isnan(v)) for v in report.values())
    json.dumps(report, allow_nan=False)

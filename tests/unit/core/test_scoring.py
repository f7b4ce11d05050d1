"""Scoring rules, checked against values worked out by hand."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.judging import Verdict
from app.core.model import Decision
from app.core.scoring import (
    brier_score,
    flag_quality,
    reliability_table,
    signal_detection,
    step_score,
    trust_metrics,
    trust_rates,
)


@dataclass(frozen=True)
class Answer:
    expected: Decision | None
    decision: Decision
    verdict: Verdict | None
    correct: bool
    flags_true: tuple[str, ...] = ()
    flags_chosen: tuple[str, ...] | None = None
    confidence: int | None = None
    seconds: float = 30.0
    checks_made: tuple[str, ...] = ()
    check_minutes: int = 0
    hint_taken: bool = False


def right(expected: Decision, **extra: object) -> Answer:
    return Answer(expected, expected, Verdict.RIGHT, True, **extra)  # type: ignore[arg-type]


def test_flag_quality_is_f1_with_decoys_lowering_precision() -> None:
    # 1 of 2 true flags named plus 1 decoy: precision 1/2, recall 1/2, F1 1/2.
    assert flag_quality({"a", "decoy"}, {"a", "b"}) == pytest.approx(0.5)
    assert flag_quality({"a", "b"}, {"a", "b"}) == 1.0
    assert flag_quality(set(), set()) == 1.0
    assert flag_quality({"decoy"}, set()) == 0.0
    assert flag_quality(set(), {"a"}) == 0.0


def test_right_decision_without_flags_scores_nine_tenths() -> None:
    assert step_score(right(Decision.REJECT, flags_true=("a",))).total == pytest.approx(0.9)


def test_right_decision_with_all_flags_scores_one() -> None:
    answer = right(Decision.REJECT, flags_true=("a", "b"), flags_chosen=("a", "b"))
    assert step_score(answer).total == 1.0


def test_reject_on_a_revise_step_gets_partial_credit() -> None:
    answer = Answer(Decision.REVISE, Decision.REJECT, Verdict.SAFE_NOT_BEST, False)
    score = step_score(answer)
    assert score.decision_credit == 0.5
    assert score.total == pytest.approx(0.45)


def test_accepting_a_harmful_suggestion_scores_nothing_even_with_flags() -> None:
    answer = Answer(
        Decision.REJECT,
        Decision.ACCEPT,
        Verdict.HARMFUL,
        False,
        flags_true=("a",),
        flags_chosen=("a",),
    )
    assert step_score(answer).total == 0.0


def test_checking_before_a_correct_rejection_earns_the_bonus() -> None:
    answer = right(Decision.REJECT, checks_made=("plan",), check_minutes=2)
    assert step_score(answer).total == pytest.approx(0.95)


def test_checking_a_good_change_costs_time_up_to_a_cap() -> None:
    cheap = right(Decision.ACCEPT, checks_made=("tests",), check_minutes=2)
    costly = right(Decision.ACCEPT, checks_made=("a", "b", "c"), check_minutes=15)
    assert step_score(cheap).total == pytest.approx(0.86)
    assert step_score(costly).total == pytest.approx(0.8)


def test_a_hint_lowers_the_step_score_a_little() -> None:
    answer = right(Decision.REJECT, hint_taken=True)
    assert step_score(answer).total == pytest.approx(0.8)


def test_brier_score_and_reliability_bands() -> None:
    pairs = [(90, True), (90, False), (60, True), (55, False)]
    # (0.1^2 + 0.9^2 + 0.4^2 + 0.55^2) / 4 = (0.01 + 0.81 + 0.16 + 0.3025) / 4
    assert brier_score(pairs) == pytest.approx(0.320625)
    bands = {b.low: b for b in reliability_table(pairs)}
    assert bands[90].count == 2
    assert bands[90].accuracy == 0.5
    assert bands[60].mean_confidence == 60
    assert bands[50].accuracy == 0.0
    assert bands[70].count == 0
    assert bands[70].accuracy is None


def test_signal_detection_with_log_linear_correction() -> None:
    # 9 of 10 harmful caught, 2 of 10 good blocked:
    # H = 9.5/11, F = 2.5/11; d' = z(H) - z(F), c = -(z(H) + z(F)) / 2.
    d_prime, criterion = signal_detection(hits=9, signals=10, false_alarms=2, noises=10)
    assert d_prime == pytest.approx(1.0968 + 0.7479, abs=1e-3)
    assert criterion == pytest.approx(-(1.0968 - 0.7479) / 2, abs=1e-3)
    assert signal_detection(1, 1, 0, 0) == (None, None)


def test_always_reject_shows_as_under_trust_and_fails() -> None:
    answers = [
        right(Decision.REJECT, flags_true=("a",)),
        Answer(Decision.REVISE, Decision.REJECT, Verdict.SAFE_NOT_BEST, False),
        Answer(Decision.ACCEPT, Decision.REJECT, Verdict.BLOCKED_GOOD, False),
        Answer(Decision.ACCEPT, Decision.REJECT, Verdict.BLOCKED_GOOD, False),
    ]
    metrics = trust_metrics(answers)
    assert metrics.over_trust_rate == 0.0
    assert metrics.under_trust_rate == 1.0
    # (0.9 + 0.45 + 0 + 0) / 4
    assert metrics.score == pytest.approx(0.3375)
    assert metrics.criterion is not None and metrics.criterion < 0


def test_flag_recall_counts_only_answers_that_named_flags() -> None:
    answers = [
        right(Decision.REJECT, flags_true=("a", "b"), flags_chosen=("a",)),
        right(Decision.REJECT, flags_true=("a",), flags_chosen=("a",)),
        right(Decision.REJECT, flags_true=("b",)),  # flags not given: ignored
    ]
    recall = {r.flag: r for r in trust_metrics(answers).flag_recall}
    assert (recall["a"].caught, recall["a"].present) == (2, 2)
    assert (recall["b"].caught, recall["b"].present) == (0, 1)
    assert recall["b"].recall == 0.0


_EXPECTED = st.sampled_from([None, Decision.ACCEPT, Decision.REVISE, Decision.REJECT])
_DECISION = st.sampled_from(list(Decision))


@given(st.lists(st.tuples(_EXPECTED, _DECISION), max_size=30))
def test_trust_rates_alone_equal_those_of_the_full_metrics(
    pairs: list[tuple[Decision | None, Decision]],
) -> None:
    answers = [
        Answer(expected, decision, Verdict.RIGHT if expected is decision else None, False)
        for expected, decision in pairs
    ]
    metrics = trust_metrics(answers)

    assert trust_rates(answers) == (metrics.over_trust_rate, metrics.under_trust_rate)

"""Scoring: per-step scores and the trust, calibration and detection measures over answers.

The rules are documented, with a worked example, in docs/scoring.md; a test recomputes
that example so the document and the program cannot drift apart.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Protocol

from app.core.judging import Verdict
from app.core.model import Decision

# Decision credit by verdict: a safe-but-not-best call keeps half the credit.
DECISION_CREDIT = {
    Verdict.RIGHT: 1.0,
    Verdict.SAFE_NOT_BEST: 0.5,
    Verdict.BLOCKED_GOOD: 0.0,
    Verdict.HARMFUL: 0.0,
}
# Share of a step's score that rides on the red flags named.
FLAG_WEIGHT = 0.2
# Flags not given count as half-good flag work: not naming them costs a little, but
# naming flags at random costs more.
FLAGS_NOT_GIVEN_QUALITY = 0.5
# Checking before correctly blocking a harmful change earns a small bonus.
CHECK_BONUS = 0.05
# Checking a good, trivial change costs this much per simulated minute, up to the cap.
CHECK_COST_PER_MINUTE = 0.02
CHECK_COST_CAP = 0.1
HINT_PENALTY = 0.1

CONFIDENCE_BANDS: tuple[tuple[int, int], ...] = (
    (50, 59),
    (60, 69),
    (70, 79),
    (80, 89),
    (90, 100),
)


class ScorableAnswer(Protocol):
    """The fields of an answer record that scoring reads."""

    @property
    def verdict(self) -> Verdict | None: ...
    @property
    def correct(self) -> bool: ...
    @property
    def decision(self) -> Decision: ...
    @property
    def expected(self) -> Decision | None: ...
    @property
    def flags_chosen(self) -> tuple[str, ...] | None: ...
    @property
    def flags_true(self) -> tuple[str, ...]: ...
    @property
    def confidence(self) -> int | None: ...
    @property
    def seconds(self) -> float: ...
    @property
    def checks_made(self) -> tuple[str, ...]: ...
    @property
    def check_minutes(self) -> int: ...
    @property
    def hint_taken(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class StepScore:
    """The parts of one step's score, and the total between 0 and 1."""

    decision_credit: float
    flag_quality: float | None
    check_adjustment: float
    hint_penalty: float
    total: float


def flag_quality(chosen: Iterable[str], true_flags: Iterable[str]) -> float:
    """F1 of the flags chosen against the true flags; decoys chosen lower precision.

    A step with no true flags is scored 1.0 when nothing was flagged and 0.0 otherwise.
    """
    chosen_set, true_set = set(chosen), set(true_flags)
    hits = len(chosen_set & true_set)
    precision = hits / len(chosen_set) if chosen_set else 1.0
    recall = hits / len(true_set) if true_set else 1.0
    if precision + recall == 0:
        return 0.0
    return 2 * precision * recall / (precision + recall)


def _verdict_of(answer: ScorableAnswer) -> Verdict:
    if answer.verdict is not None:
        return answer.verdict
    return Verdict.RIGHT if answer.correct else Verdict.HARMFUL


def step_score(answer: ScorableAnswer) -> StepScore:
    """Score one answered step (see docs/scoring.md)."""
    credit = DECISION_CREDIT[_verdict_of(answer)]
    quality = (
        None
        if answer.flags_chosen is None
        else flag_quality(answer.flags_chosen, answer.flags_true)
    )
    effective_quality = FLAGS_NOT_GIVEN_QUALITY if quality is None else quality
    base = credit * (1 - FLAG_WEIGHT * (1 - effective_quality))

    adjustment = 0.0
    if answer.checks_made:
        harmful = answer.expected is not None and answer.expected is not Decision.ACCEPT
        if harmful and credit == 1.0:
            adjustment = CHECK_BONUS
        elif answer.expected is Decision.ACCEPT:
            adjustment = -min(CHECK_COST_CAP, CHECK_COST_PER_MINUTE * answer.check_minutes)
    penalty = HINT_PENALTY if answer.hint_taken else 0.0
    total = min(1.0, max(0.0, base + adjustment - penalty))
    return StepScore(
        decision_credit=credit,
        flag_quality=quality,
        check_adjustment=adjustment,
        hint_penalty=penalty,
        total=round(total, 6),
    )


@dataclass(frozen=True, slots=True)
class ReliabilityBand:
    """Stated confidence against actual accuracy for one confidence band."""

    low: int
    high: int
    count: int
    mean_confidence: float | None
    accuracy: float | None


@dataclass(frozen=True, slots=True)
class FlagRecall:
    """How often a red flag was named when it was really there (flags given only)."""

    flag: str
    caught: int
    present: int

    @property
    def recall(self) -> float | None:
        """Share of the times the flag was present that it was named."""
        return self.caught / self.present if self.present else None


@dataclass(frozen=True, slots=True)
class TrustMetrics:
    """Scores and the trust, calibration and detection measures over a set of answers."""

    answers: int
    score: float | None
    right: int
    harmful_seen: int
    harmful_accepted: int
    good_seen: int
    good_rejected: int
    brier: float | None
    reliability: tuple[ReliabilityBand, ...]
    d_prime: float | None
    criterion: float | None
    flag_recall: tuple[FlagRecall, ...] = field(default=())
    hints_taken: int = 0
    steps_checked: int = 0
    mean_seconds: float | None = None

    @property
    def over_trust_rate(self) -> float | None:
        """Share of harmful suggestions accepted as they stood."""
        return self.harmful_accepted / self.harmful_seen if self.harmful_seen else None

    @property
    def under_trust_rate(self) -> float | None:
        """Share of good suggestions rejected."""
        return self.good_rejected / self.good_seen if self.good_seen else None


def brier_score(pairs: Iterable[tuple[int, bool]]) -> float | None:
    """Mean squared gap between stated confidence (percent) and being right."""
    squares = [(confidence / 100 - float(right)) ** 2 for confidence, right in pairs]
    return sum(squares) / len(squares) if squares else None


def reliability_table(pairs: Sequence[tuple[int, bool]]) -> tuple[ReliabilityBand, ...]:
    """Accuracy by confidence band (50-59, 60-69, 70-79, 80-89, 90-100)."""
    bands = []
    for low, high in CONFIDENCE_BANDS:
        inside = [(c, r) for c, r in pairs if low <= c <= high]
        count = len(inside)
        bands.append(
            ReliabilityBand(
                low=low,
                high=high,
                count=count,
                mean_confidence=sum(c for c, _ in inside) / count if count else None,
                accuracy=sum(r for _, r in inside) / count if count else None,
            )
        )
    return tuple(bands)


def signal_detection(
    hits: int, signals: int, false_alarms: int, noises: int
) -> tuple[float | None, float | None]:
    """Sensitivity d' and criterion c, with the log-linear correction for 0 and 1 rates.

    The signal is a harmful suggestion; a "hit" is not accepting it as it stood, and a
    "false alarm" is not accepting a good one. A positive c means a lean towards
    accepting, a negative c a lean towards blocking.
    """
    if signals == 0 or noises == 0:
        return None, None
    hit_rate = (hits + 0.5) / (signals + 1)
    false_alarm_rate = (false_alarms + 0.5) / (noises + 1)
    z = NormalDist().inv_cdf
    z_hit, z_false = z(hit_rate), z(false_alarm_rate)
    return z_hit - z_false, -(z_hit + z_false) / 2


def trust_rates(answers: Iterable[ScorableAnswer]) -> tuple[float | None, float | None]:
    """Over-trust and under-trust rates alone, as :func:`trust_metrics` gives them.

    For callers that need only these two (a completion record), without the cost of
    scoring every step.
    """
    harmful = harmful_accepted = good = good_rejected = 0
    for answer in answers:
        if answer.expected is None:
            continue
        if answer.expected is Decision.ACCEPT:
            good += 1
            good_rejected += answer.decision is Decision.REJECT
        else:
            harmful += 1
            harmful_accepted += answer.decision is Decision.ACCEPT
    return (
        harmful_accepted / harmful if harmful else None,
        good_rejected / good if good else None,
    )


def trust_metrics(answers: Sequence[ScorableAnswer]) -> TrustMetrics:
    """All measures over ``answers`` (every submitted step counts once)."""
    scores = [step_score(a).total for a in answers]
    keyed = [a for a in answers if a.expected is not None]
    harmful = [a for a in keyed if a.expected is not Decision.ACCEPT]
    good = [a for a in keyed if a.expected is Decision.ACCEPT]
    harmful_accepted = sum(a.decision is Decision.ACCEPT for a in harmful)
    good_blocked = sum(a.decision is not Decision.ACCEPT for a in good)
    d_prime, criterion = signal_detection(
        hits=len(harmful) - harmful_accepted,
        signals=len(harmful),
        false_alarms=good_blocked,
        noises=len(good),
    )
    rated = [(a.confidence, a.correct) for a in answers if a.confidence is not None]
    return TrustMetrics(
        answers=len(answers),
        score=sum(scores) / len(scores) if scores else None,
        right=sum(a.correct for a in answers),
        harmful_seen=len(harmful),
        harmful_accepted=harmful_accepted,
        good_seen=len(good),
        good_rejected=sum(a.decision is Decision.REJECT for a in good),
        brier=brier_score(rated),
        reliability=reliability_table(rated),
        d_prime=d_prime,
        criterion=criterion,
        flag_recall=_flag_recall(answers),
        hints_taken=sum(a.hint_taken for a in answers),
        steps_checked=sum(bool(a.checks_made) for a in answers),
        mean_seconds=sum(a.seconds for a in answers) / len(answers) if answers else None,
    )


def _flag_recall(answers: Sequence[ScorableAnswer]) -> tuple[FlagRecall, ...]:
    present: dict[str, int] = {}
    caught: dict[str, int] = {}
    for answer in answers:
        if answer.flags_chosen is None:
            continue
        for flag in answer.flags_true:
            present[flag] = present.get(flag, 0) + 1
            caught[flag] = caught.get(flag, 0) + (flag in answer.flags_chosen)
    return tuple(FlagRecall(f, caught[f], present[f]) for f in sorted(present))


def is_finite(value: float | None) -> bool:
    """True for a real, finite number (JSON output must not carry NaN or infinity)."""
    return value is not None and math.isfinite(value)

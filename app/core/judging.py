"""Judging one submitted step: was the decision right, which flags were caught or missed."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.core.model import Decision, Step

CONFIDENCE_MIN = 50
CONFIDENCE_MAX = 100


class Verdict(StrEnum):
    """How a decision turned out, beyond plain right or wrong."""

    RIGHT = "right"
    # Safe, but not the best call: a good change blocked or a safe path taken the long way.
    SAFE_NOT_BEST = "safe-not-best"
    # A harmful suggestion (or an unsafe revision) went in.
    HARMFUL = "harmful"
    # A good suggestion was blocked or watered down.
    BLOCKED_GOOD = "blocked-good"


@dataclass(frozen=True, slots=True)
class StepAnswer:
    """What the trainee submitted for one step.

    ``revision_index`` is the chosen revision's index in file order (not the shuffled
    order shown on screen). ``flags`` is ``None`` when the trainee did not say which
    flags they spotted, and ``confidence`` is ``None`` when they did not rate it.
    ``checks_made`` are the labels of the costed checks made before deciding, worth
    ``check_minutes`` simulated minutes; ``hint_taken`` says the hint was shown.
    """

    decision: Decision
    revision_index: int | None = None
    flags: frozenset[str] | None = None
    confidence: int | None = None
    seconds: float = 0.0
    checks_made: tuple[str, ...] = ()
    check_minutes: int = 0
    hint_taken: bool = False

    def __post_init__(self) -> None:
        if self.decision is Decision.REVISE and self.revision_index is None:
            raise ValueError("a Revise decision needs a revision")
        if self.decision is not Decision.REVISE and self.revision_index is not None:
            raise ValueError("only a Revise decision carries a revision")
        if self.confidence is not None and not (
            CONFIDENCE_MIN <= self.confidence <= CONFIDENCE_MAX
        ):
            raise ValueError(
                f"confidence must be between {CONFIDENCE_MIN} and {CONFIDENCE_MAX} percent"
            )
        if self.seconds < 0:
            raise ValueError("time taken cannot be negative")
        if self.check_minutes < 0:
            raise ValueError("check minutes cannot be negative")


@dataclass(frozen=True, slots=True)
class StepOutcome:
    """The judgement of one answer against the step's answer key."""

    correct: bool
    verdict: Verdict
    flags_caught: tuple[str, ...]
    flags_missed: tuple[str, ...]
    false_flags: tuple[str, ...]
    revision_correct: bool | None
    flags_given: bool


def judge(step: Step, answer: StepAnswer) -> StepOutcome:
    """Judge ``answer`` against ``step``'s answer key."""
    revision_correct: bool | None = None
    if answer.decision is Decision.REVISE:
        index = answer.revision_index
        if index is None or not 0 <= index < len(step.revisions):
            raise ValueError(f"step {step.id!r} has no revision number {index}")
        revision_correct = step.revisions[index].correct

    correct = answer.decision is step.answer and revision_correct is not False
    verdict = _verdict(step.answer, answer.decision, revision_correct, correct)

    true_flags = step.flags
    if answer.flags is None:
        caught: tuple[str, ...] = ()
        missed = true_flags
        false: tuple[str, ...] = ()
    else:
        caught = tuple(f for f in true_flags if f in answer.flags)
        missed = tuple(f for f in true_flags if f not in answer.flags)
        false = tuple(sorted(answer.flags.difference(true_flags)))
    return StepOutcome(
        correct=correct,
        verdict=verdict,
        flags_caught=caught,
        flags_missed=missed,
        false_flags=false,
        revision_correct=revision_correct,
        flags_given=answer.flags is not None,
    )


def _verdict(
    key: Decision, chosen: Decision, revision_correct: bool | None, correct: bool
) -> Verdict:
    if correct:
        return Verdict.RIGHT
    if chosen is Decision.REVISE and revision_correct is False:
        # An unsafe revision on a harmful step still lets the harm in; on a good step
        # it waters the change down.
        return Verdict.BLOCKED_GOOD if key is Decision.ACCEPT else Verdict.HARMFUL
    if key is Decision.ACCEPT:
        return Verdict.BLOCKED_GOOD
    if chosen is Decision.ACCEPT:
        return Verdict.HARMFUL
    return Verdict.SAFE_NOT_BEST

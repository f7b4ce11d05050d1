"""Judging a submitted step against its answer key."""

import pytest

from app.core.judging import StepAnswer, Verdict, judge
from app.core.model import Decision, Revision, Step


def make_step(answer: Decision, *, revisions: tuple[Revision, ...] = ()) -> Step:
    return Step(
        id="grant",
        answer=answer,
        suggestion="Grant read to everyone.",
        if_accepted="Everyone can read it.",
        if_rejected="The job stays broken.",
        flags=("access-broadened", "blast-radius") if answer is not Decision.ACCEPT else (),
        decoys=("hallucinated-reference",),
        revisions=revisions,
        if_revised="Only the job can read it." if revisions else None,
    )


REVISIONS = (
    Revision("Grant read on the whole namespace"),
    Revision("Grant SELECT on one table to the job's account", correct=True),
    Revision("Make the table public"),
)


def test_reject_of_harmful_step_is_right() -> None:
    outcome = judge(make_step(Decision.REJECT), StepAnswer(Decision.REJECT))
    assert outcome.correct
    assert outcome.verdict is Verdict.RIGHT


def test_accept_of_harmful_step_is_harmful() -> None:
    outcome = judge(make_step(Decision.REJECT), StepAnswer(Decision.ACCEPT))
    assert not outcome.correct
    assert outcome.verdict is Verdict.HARMFUL


def test_reject_of_good_step_blocks_a_good_change() -> None:
    outcome = judge(make_step(Decision.ACCEPT), StepAnswer(Decision.REJECT))
    assert not outcome.correct
    assert outcome.verdict is Verdict.BLOCKED_GOOD


def test_revise_with_the_correct_revision_is_right() -> None:
    step = make_step(Decision.REVISE, revisions=REVISIONS)
    outcome = judge(step, StepAnswer(Decision.REVISE, revision_index=1))
    assert outcome.correct
    assert outcome.revision_correct is True


def test_revise_with_a_wrong_revision_lets_the_harm_in() -> None:
    step = make_step(Decision.REVISE, revisions=REVISIONS)
    outcome = judge(step, StepAnswer(Decision.REVISE, revision_index=0))
    assert not outcome.correct
    assert outcome.revision_correct is False
    assert outcome.verdict is Verdict.HARMFUL


def test_reject_of_revise_step_is_safe_but_not_best() -> None:
    step = make_step(Decision.REVISE, revisions=REVISIONS)
    outcome = judge(step, StepAnswer(Decision.REJECT))
    assert not outcome.correct
    assert outcome.verdict is Verdict.SAFE_NOT_BEST


def test_revision_number_out_of_range_is_refused() -> None:
    step = make_step(Decision.REVISE, revisions=REVISIONS)
    with pytest.raises(ValueError, match="no revision number 3"):
        judge(step, StepAnswer(Decision.REVISE, revision_index=3))


def test_flags_caught_missed_and_false() -> None:
    step = make_step(Decision.REJECT)
    answer = StepAnswer(
        Decision.REJECT, flags=frozenset({"access-broadened", "hallucinated-reference"})
    )
    outcome = judge(step, answer)
    assert outcome.flags_given
    assert outcome.flags_caught == ("access-broadened",)
    assert outcome.flags_missed == ("blast-radius",)
    assert outcome.false_flags == ("hallucinated-reference",)


def test_flags_not_given_are_recorded_as_such() -> None:
    outcome = judge(make_step(Decision.REJECT), StepAnswer(Decision.REJECT))
    assert not outcome.flags_given
    assert outcome.flags_caught == ()
    assert outcome.flags_missed == ("access-broadened", "blast-radius")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"decision": Decision.REVISE}, "needs a revision"),
        ({"decision": Decision.ACCEPT, "revision_index": 0}, "only a Revise"),
        ({"decision": Decision.ACCEPT, "confidence": 49}, "between 50 and 100"),
        ({"decision": Decision.ACCEPT, "confidence": 101}, "between 50 and 100"),
        ({"decision": Decision.ACCEPT, "seconds": -1.0}, "negative"),
    ],
)
def test_invalid_answers_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        StepAnswer(**kwargs)  # type: ignore[arg-type]


def test_correct_revision_index_and_harm() -> None:
    step = make_step(Decision.REVISE, revisions=REVISIONS)
    assert step.correct_revision_index == 1
    assert step.is_harmful
    assert not make_step(Decision.ACCEPT).is_harmful

"""Nothing is told by colour alone: right and wrong, accept and reject carry words or marks."""

from __future__ import annotations

import re
from typing import Any

import pytest

from app.core.judging import StepAnswer, StepOutcome, Verdict, judge
from app.core.model import Decision, Revision, Step
from app.services.training import MeasureChange
from app.ui.feedback import flags_markdown, step_summary, verdict_style, verdict_text
from app.ui.player import Phase

MARKS = ("✔", "✘", "⚠")
WORDS = re.compile(r"[A-Za-z]{3,}")

STEP = Step(
    id="s",
    answer=Decision.REJECT,
    suggestion="x",
    if_accepted="a",
    if_rejected="r",
    flags=("blast-radius", "irreversible"),
    decoys=("data-exposure",),
    revisions=(Revision("unsafe"), Revision("safe", correct=True)),
    if_revised="v",
)


@pytest.mark.parametrize("verdict", list(Verdict))
def test_every_verdict_has_a_mark_and_words_besides_its_colour(verdict: Verdict) -> None:
    text = verdict_text(verdict)
    assert text[0] in MARKS
    assert WORDS.search(text)
    assert verdict_style(verdict) in {"right", "wrong", "caution"}


def test_verdicts_that_look_alike_in_colour_differ_in_words() -> None:
    texts = {verdict_text(v) for v in Verdict}
    assert len(texts) == len(Verdict)
    # Same colour, different outcome: the words say which.
    assert verdict_style(Verdict.HARMFUL) == verdict_style(Verdict.BLOCKED_GOOD)
    assert verdict_text(Verdict.HARMFUL) != verdict_text(Verdict.BLOCKED_GOOD)


def test_red_flags_caught_missed_and_wrong_are_marked_and_named() -> None:
    answer = StepAnswer(Decision.REJECT, flags=frozenset({"blast-radius", "data-exposure"}))
    outcome: StepOutcome = judge(STEP, answer)
    lines = flags_markdown(STEP, outcome, {}).splitlines()
    assert any(line.startswith("- ✔ Caught:") for line in lines)
    assert any(line.startswith("- ✘ Missed:") for line in lines)
    assert any(line.startswith("- ⚠ Flagged, but not in this suggestion:") for line in lines)
    summary = step_summary(1, answer, outcome)
    assert "You chose Reject" in summary and "✔ Right call" in summary


def test_the_chosen_decision_is_marked_in_words_not_only_filled(workspace: Any) -> None:
    workspace.open_scenario("hard-drop")
    player = workspace.player
    for decision in (Decision.ACCEPT, Decision.REJECT):
        player.choose_decision(decision)
        for other, button in player.decision_buttons.items():
            assert button.text().startswith("✓ ") is (other is decision), other
            assert button.accessibleName().split()[0] in {"Accept", "Revise", "Reject"}
    player.submit()
    assert player.phase is Phase.FEEDBACK
    assert player.verdict_label.text() == "✔ Right call"


def test_a_check_made_is_marked_in_words(workspace: Any) -> None:
    workspace.open_scenario("hard-drop")
    player = workspace.player
    first, second = player.check_buttons
    player.run_check(player.step.checks[0])
    assert first.text().startswith("✓ Ran:")
    assert second.text().startswith("Run:")
    assert first.accessibleName().startswith("Check made:")


def test_catalogue_lessons_and_tracks_mark_what_is_done_in_words(workspace: Any) -> None:
    home = workspace.home
    assert home.status_text("easy-accept") == "not started"
    workspace.training.mark_lesson_read(workspace.profile, "least-privilege")
    for scenario_id in ("two-step-grant", "easy-accept"):
        workspace.open_scenario(scenario_id, "starter")
        player = workspace.player
        while player.phase is not Phase.DEBRIEF:
            step = player.step
            player.choose_decision(step.answer)
            if step.answer is Decision.REVISE:
                number = player.revision_order.index(step.correct_revision_index) + 1
                player.choose_revision(number)
            player.submit()
            player.continue_()
    workspace.go_home()
    assert home.status_text("easy-accept").startswith("✓ done")
    assert home.lessons_model.index(0).data().startswith("✓ ")
    assert home.lessons_model.index(0).data().endswith("· read")
    assert home.track_labels["starter"].text().startswith("✓ Complete")
    assert "✓ Complete" in home.track_bars["starter"].accessibleDescription()


def test_baseline_against_follow_up_says_better_or_worse_in_words(workspace: Any) -> None:
    dashboard = workspace.dashboard
    better = dashboard.change_line(MeasureChange("score", 0.5, 0.75))
    worse = dashboard.change_line(MeasureChange("over_trust_rate", 0.1, 0.3))
    same = dashboard.change_line(MeasureChange("brier", 0.2, 0.2))
    assert better.endswith("(+25 points, better)")
    assert worse.endswith("(+20 points, worse)")
    assert same.endswith("no change)")

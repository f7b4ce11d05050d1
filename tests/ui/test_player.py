"""The scenario player, driven for real: decisions, records, feedback and the keyboard."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app.core.model import Decision
from app.ui.main_window import HOME, PLAYER
from app.ui.player import Phase


def open_player(workspace: Any, scenario_id: str) -> Any:
    assert workspace.open_scenario(scenario_id)
    assert workspace.window.current_page_key() == PLAYER
    return workspace.player


def correct_number(player: Any) -> int:
    """The on-screen number of the step's safe revision."""
    step = player.step
    return player.revision_order.index(step.correct_revision_index) + 1


def wrong_number(player: Any) -> int:
    step = player.step
    wrong = next(i for i, r in enumerate(step.revisions) if not r.correct)
    return player.revision_order.index(wrong) + 1


def last_record(workspace: Any) -> Any:
    records = workspace.training.answers_for(workspace.profile)
    assert records, "no answer was recorded"
    return records[-1]


def play_first_step_of_two_step(player: Any, qtbot: Any) -> None:
    player.choose_decision(Decision.REJECT)
    qtbot.mouseClick(player.submit_button, Qt.MouseButton.LeftButton)
    player.continue_()
    assert player.step.id == "narrow"


@pytest.mark.parametrize(
    ("scenario_id", "decision", "shown", "correct"),
    [
        ("easy-accept", Decision.ACCEPT, "EASY-ACCEPTED", True),
        ("hard-drop", Decision.ACCEPT, "HARD-ACCEPTED", False),
        ("hard-drop", Decision.REJECT, "HARD-REJECTED", True),
        ("easy-accept", Decision.REJECT, "EASY-REJECTED", False),
    ],
)
def test_accept_or_reject_is_recorded_then_its_consequence_shown(
    workspace: Any, qtbot: Any, scenario_id: str, decision: Decision, shown: str, correct: bool
) -> None:
    player = open_player(workspace, scenario_id)
    qtbot.mouseClick(player.decision_buttons[decision], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(player.submit_button, Qt.MouseButton.LeftButton)

    assert player.phase is Phase.FEEDBACK
    assert player.feedback_view.isVisible()
    assert shown in player.feedback_view.toPlainText()
    expected_verdict = "✔ Right call" if correct else "✘ Not the right call"
    assert player.verdict_label.text().startswith(expected_verdict)

    record = last_record(workspace)
    assert record.scenario_id == scenario_id
    assert record.play_id == player.play_id
    assert record.decision is decision
    assert record.correct is correct
    assert record.revision_index is None


def test_revise_with_the_safe_revision_is_recorded_and_explained(
    workspace: Any, qtbot: Any
) -> None:
    player = open_player(workspace, "two-step-grant")
    play_first_step_of_two_step(player, qtbot)

    qtbot.mouseClick(player.decision_buttons[Decision.REVISE], Qt.MouseButton.LeftButton)
    assert player.revision_box.isVisible()
    number = correct_number(player)
    qtbot.mouseClick(player.revision_buttons[number - 1], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(player.submit_button, Qt.MouseButton.LeftButton)

    text = player.feedback_view.toPlainText()
    assert "NARROW-REVISED" in text
    assert "NARROW-ACCEPTED" in text and "NARROW-REJECTED" in text, "the other choices"
    assert player.verdict_label.text() == "✔ Right call"
    record = last_record(workspace)
    assert (record.step_id, record.decision, record.correct) == ("narrow", Decision.REVISE, True)
    assert record.revision_index == player.step.correct_revision_index


def test_an_unsafe_revision_says_it_does_not_remove_the_problem(workspace: Any, qtbot: Any) -> None:
    player = open_player(workspace, "two-step-grant")
    play_first_step_of_two_step(player, qtbot)
    player.choose_decision(Decision.REVISE)
    player.choose_revision(wrong_number(player))
    player.submit()

    text = player.feedback_view.toPlainText()
    assert "does not remove the problem" in text
    assert "What the safe revision would have led to" in text
    assert "NARROW-REVISED" in text
    assert player.verdict_label.text().startswith("✘")
    record = last_record(workspace)
    assert record.decision is Decision.REVISE
    assert record.correct is False


def test_feedback_names_flags_caught_missed_and_wrongly_flagged(workspace: Any) -> None:
    player = open_player(workspace, "two-step-grant")
    player.choose_decision(Decision.REJECT)
    player.flag_list.set_checked("access-broadened", True)
    player.flag_list.set_checked("hallucinated-reference", True)
    player.confidence_box.setCurrentIndex(player.confidence_box.findData(70))
    player.submit()

    text = player.feedback_view.toPlainText()
    assert "Caught: Access broader than the task" in text
    assert "Missed: Blast radius larger than the problem" in text
    assert "not in this suggestion: Hallucinated or wrong reference" in text
    record = last_record(workspace)
    assert set(record.flags_chosen) == {"access-broadened", "hallucinated-reference"}
    assert record.flags_missed == ("blast-radius",)
    assert record.confidence == 70


def test_flags_offered_are_the_true_ones_and_decoys_with_title_and_question(
    workspace: Any,
) -> None:
    player = open_player(workspace, "two-step-grant")
    choices = {choice.flag_id: choice for choice in player.flag_list.choices()}
    assert set(choices) == {"access-broadened", "blast-radius", "hallucinated-reference"}
    blast = choices["blast-radius"]
    assert blast.title == "Blast radius larger than the problem"
    assert blast.question == "Does this touch more than the problem needs?"


def test_skipping_flags_and_confidence_records_them_as_not_given(workspace: Any) -> None:
    player = open_player(workspace, "hard-drop")
    player.choose_decision(Decision.REJECT)
    player.submit()

    record = last_record(workspace)
    assert record.flags_chosen is None
    assert record.confidence is None
    text = player.feedback_view.toPlainText()
    assert "not given" in text
    assert any("Confidence: not given." in line for line in _texts(player))


def test_none_of_these_records_an_empty_choice_not_a_missing_one(workspace: Any) -> None:
    player = open_player(workspace, "hard-drop")
    flags = player.flag_list
    flags.checkboxes[0].setChecked(True)
    assert flags.none_box is not None
    flags.none_box.setChecked(True)
    assert not flags.checkboxes[0].isChecked(), "'none of these' clears the ticked flags"
    player.choose_decision(Decision.REJECT)
    player.submit()

    record = last_record(workspace)
    assert record.flags_chosen == ()


def test_submit_waits_for_a_decision_and_for_revise_a_revision(workspace: Any) -> None:
    player = open_player(workspace, "two-step-grant")
    assert not player.submit_button.isEnabled()
    player.submit()  # Enter before choosing does nothing
    assert player.phase is Phase.DECIDING
    assert workspace.training.answers_for(workspace.profile) == []

    player.choose_decision(Decision.REJECT)
    assert player.submit_button.isEnabled()
    player.submit()
    player.continue_()

    assert not player.submit_button.isEnabled()
    player.choose_decision(Decision.REVISE)
    assert not player.submit_button.isEnabled(), "Revise needs a revision first"
    player.choose_revision(1)
    assert player.submit_button.isEnabled()
    player.choose_decision(Decision.ACCEPT)
    assert player.chosen_revision_number() is None, "leaving Revise clears the revision"
    assert not player.revision_box.isVisible()
    assert player.submit_button.isEnabled()


def test_revise_is_unavailable_on_a_step_without_revisions(workspace: Any) -> None:
    player = open_player(workspace, "hard-drop")
    player.choose_decision(Decision.REVISE)
    assert player.chosen_decision() is None
    assert not player.decision_buttons[Decision.REVISE].isEnabled()


def test_revisions_are_shown_in_a_shuffled_order_numbered_from_one(workspace: Any) -> None:
    player = open_player(workspace, "two-step-grant")
    player.choose_decision(Decision.REJECT)
    player.submit()
    player.continue_()
    order = player.revision_order
    assert sorted(order) == [0, 1, 2]
    assert [b.text() for b in player.revision_buttons] == ["1", "2", "3"]
    first = player.step.revisions[order[0]]
    assert player.revision_buttons[0].accessibleName().startswith("Revision 1: ")
    assert first.text.split("`")[0].strip() in player.revision_buttons[0].accessibleName()


def test_a_whole_two_step_scenario_by_keyboard_alone(workspace: Any, press_key: Any) -> None:
    player = open_player(workspace, "two-step-grant")
    assert player.isAncestorOf(QApplication.focusWidget())

    # Step 1: reject, mark the first flag in the list, submit, continue.
    press_key(Qt.Key.Key_R)
    assert player.chosen_decision() is Decision.REJECT
    first_box = player.flag_list.checkboxes[0]
    for _ in range(8):
        if QApplication.focusWidget() is first_box:
            break
        press_key(Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is first_box
    press_key(Qt.Key.Key_Space)
    first_flag = player.flag_list.choices()[0].flag_id
    assert player.flag_list.checked_ids() == {first_flag}
    for _ in range(8):
        if QApplication.focusWidget() is player.confidence_box:
            break
        press_key(Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is player.confidence_box
    press_key(Qt.Key.Key_Down)
    assert player.confidence_box.confidence() == 50
    press_key(Qt.Key.Key_Return)
    assert player.phase is Phase.FEEDBACK
    assert "GRANT-REJECTED" in player.feedback_view.toPlainText()
    press_key(Qt.Key.Key_Return)

    # Step 2: revise with the safe revision by its number, submit, continue.
    assert player.phase is Phase.DECIDING and player.step.id == "narrow"
    press_key(Qt.Key.Key_V)
    assert player.revision_box.isVisible()
    press_key(Qt.Key.Key_0 + correct_number(player))
    assert player.chosen_revision_number() == correct_number(player)
    press_key(Qt.Key.Key_Enter)
    assert player.phase is Phase.FEEDBACK
    assert player.verdict_label.text() == "✔ Right call"
    press_key(Qt.Key.Key_Return)

    assert player.phase is Phase.DEBRIEF
    assert "DEBRIEF-TEXT" in player.debrief_view.toPlainText()
    assert "You made the right call on 2 of 2 steps." in _texts(player)

    records = workspace.training.answers_for(workspace.profile)
    assert [(r.step_id, r.decision, r.correct) for r in records] == [
        ("grant", Decision.REJECT, True),
        ("narrow", Decision.REVISE, True),
    ]
    assert records[0].flags_chosen == (first_flag,)
    assert records[0].confidence == 50
    assert records[1].flags_chosen is None
    assert len({r.play_id for r in records}) == 1


def test_after_the_debrief_enter_opens_the_next_scenario(workspace: Any, press_key: Any) -> None:
    player = open_player(workspace, "two-step-grant")
    for decision in (Decision.REJECT, Decision.REVISE):
        player.choose_decision(decision)
        if decision is Decision.REVISE:
            player.choose_revision(correct_number(player))
        player.submit()
        player.continue_()
    assert player.phase is Phase.DEBRIEF
    next_id = player.next_scenario_id()
    # The catalogue lists Cloud and IAM before Databases.
    assert next_id == "hard-drop"
    press_key(Qt.Key.Key_Return)
    assert player.scenario.id == "hard-drop"
    assert player.phase is Phase.DECIDING


def test_next_scenario_follows_the_track_it_was_opened_from(workspace: Any) -> None:
    workspace.open_scenario("two-step-grant", "starter")
    assert workspace.player.next_scenario_id() == "easy-accept"
    workspace.open_scenario("easy-accept", "starter")
    assert workspace.player.next_scenario_id() is None


def test_debrief_shows_sources_and_opens_their_links_only_when_clicked(
    workspace: Any, qtbot: Any, opener: Any, click_link: Any
) -> None:
    player = open_player(workspace, "two-step-grant")
    for decision in (Decision.ACCEPT, Decision.REJECT):
        player.choose_decision(decision)
        player.submit()
        player.continue_()
    assert player.phase is Phase.DEBRIEF
    assert "You made the right call on 0 of 2 steps." in _texts(player)
    text = player.debrief_view.toPlainText()
    assert "DEBRIEF-TEXT" in text
    assert "An internal agent's advice exposed data to employees" in text
    assert opener.urls == [], "nothing opens by itself"
    click_link(player.debrief_view, "An internal agent")
    assert opener.urls == ["https://example.org/report"]


def test_player_keys_do_nothing_on_other_pages(workspace: Any, press_key: Any) -> None:
    player = open_player(workspace, "hard-drop")
    workspace.go_home()
    assert workspace.window.current_page_key() == HOME
    assert not player.isAncestorOf(QApplication.focusWidget())
    press_key(Qt.Key.Key_R)
    assert player.chosen_decision() is None


def test_the_suggestion_is_an_assistant_message_with_its_name(workspace: Any) -> None:
    player = open_player(workspace, "two-step-grant")
    texts = _texts(player)
    assert "Forum agent" in texts
    assert "FA" in texts, "an avatar with the assistant's initials"
    assert "warehouse grant read --all" in player.suggestion_view.toPlainText()


def _texts(widget: Any) -> list[str]:
    from PySide6.QtWidgets import QLabel

    return [label.text() for label in widget.findChildren(QLabel) if label.isVisible()]


def test_revisions_and_flags_are_shuffled_per_play(qtbot: Any, context: Any) -> None:
    import random

    from app.ui.player import PlayerPage

    profile = context.training.create_profile("Shuffle Example")
    scenario = context.library.scenarios["two-step-grant"]
    revision_orders, flag_orders = set(), set()
    for seed in range(12):
        player = PlayerPage(context.library, context.training, rng=random.Random(seed))
        qtbot.addWidget(player)
        player.start(scenario, profile)
        flag_orders.add(tuple(c.flag_id for c in player.flag_list.choices()))
        player.choose_decision(Decision.REJECT)
        player.submit()
        player.continue_()
        revision_orders.add(tuple(player.revision_order))
    assert len(revision_orders) > 1
    assert len(flag_orders) > 1

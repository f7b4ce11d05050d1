"""Costed checks, hints and the step score in the player, by mouse and by keyboard alone.

Expected scores are worked out by hand from docs/scoring.md: a right call without flags
is 0.9, checking before a correct block adds 0.05, checking a good change costs 0.02 per
simulated minute, and the hint costs 0.1.
"""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication

from app.core.model import Decision
from app.core.scoring import step_score
from app.ui.player import Phase

DEPENDS = "List what depends on `legacy`"
BACKUP = "Look for a recent backup"
IRREVERSIBLE_QUESTION = "Can this be undone, and is there a backup outside its reach?"


def open_player(workspace: Any, scenario_id: str) -> Any:
    assert workspace.open_scenario(scenario_id)
    return workspace.player


def records(workspace: Any) -> list[Any]:
    return workspace.training.answers_for(workspace.profile)


def test_checks_are_offered_before_the_decision_with_their_cost(workspace: Any) -> None:
    player = open_player(workspace, "hard-drop")
    assert player.checks_box.isVisible()
    assert [b.text() for b in player.check_buttons] == [
        "Run: List what depends on legacy (2 min)",
        "Run: Look for a recent backup (3 min)",
    ]
    assert player.check_time_label.text() == "Simulated time spent checking: 0 min"
    # The checks sit above the decision.
    assert (
        player.checks_box.y()
        < player.decision_buttons[Decision.ACCEPT]
        .mapTo(player.panel, player.decision_buttons[Decision.ACCEPT].rect().topLeft())
        .y()
    )

    player = open_player(workspace, "two-step-grant")
    assert player.check_buttons == []
    assert not player.checks_box.isVisible()


def test_a_check_reveals_its_markdown_once_and_counts_its_minutes(
    workspace: Any, qtbot: Any
) -> None:
    player = open_player(workspace, "hard-drop")
    first, second = player.check_buttons
    qtbot.mouseClick(first, Qt.MouseButton.LeftButton)

    assert len(player.check_views) == 1
    view = player.check_views[0]
    assert view.isVisible()
    assert "CHECK-DEPENDS: pg_depend lists 14 views in billing" in view.toPlainText()
    # Rendered as Markdown: the bold span is bold, the backticks are gone.
    cursor = view.document().find("14 views")
    assert cursor.charFormat().fontWeight() == QFont.Weight.Bold
    assert "`" not in view.toPlainText()
    assert player.check_time_label.text() == "Simulated time spent checking: 2 min"
    assert not first.isEnabled()
    assert first.text() == "✓ Ran: List what depends on legacy (2 min)"

    player.run_check(player.step.checks[0])  # a second time changes nothing
    assert player.check_minutes == 2
    assert len(player.check_views) == 1

    qtbot.mouseClick(second, Qt.MouseButton.LeftButton)
    assert "CHECK-BACKUP" in player.check_views[1].toPlainText()
    assert player.check_time_label.text() == "Simulated time spent checking: 5 min"
    assert player.phase is Phase.DECIDING
    assert records(workspace) == [], "checking submits nothing"


def test_checks_made_are_recorded_in_order_and_reward_a_correct_block(
    workspace: Any, qtbot: Any
) -> None:
    player = open_player(workspace, "hard-drop")
    qtbot.mouseClick(player.check_buttons[1], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(player.check_buttons[0], Qt.MouseButton.LeftButton)
    player.choose_decision(Decision.REJECT)
    player.submit()

    (record,) = records(workspace)
    assert record.checks_made == (BACKUP, DEPENDS)
    assert record.check_minutes == 5
    assert record.hint_taken is False
    # Right call, flags not given: 0.9; checked before a correct block: +0.05.
    assert step_score(record).total == pytest.approx(0.95)
    text = player.score_label.text()
    assert "Step score: 0.95 of 1" in text
    assert "Decision: full credit (1)." in text
    assert "Red flags: not given, counted as half right: −0.10." in text
    assert "Checks: +0.05 for checking before blocking a harmful change." in text


def test_checking_a_good_change_costs_two_hundredths_a_minute(workspace: Any, qtbot: Any) -> None:
    player = open_player(workspace, "easy-accept")
    qtbot.mouseClick(player.check_buttons[0], Qt.MouseButton.LeftButton)
    player.choose_decision(Decision.ACCEPT)
    player.submit()

    (record,) = records(workspace)
    assert (record.checks_made, record.check_minutes) == (("Read the whole diff",), 2)
    # 0.9 − 2 × 0.02 = 0.86
    assert step_score(record).total == pytest.approx(0.86)
    text = player.score_label.text()
    assert "Step score: 0.86 of 1" in text
    assert "Checks: −0.04 for 2 simulated min spent checking a good change." in text


def test_the_hint_shows_a_true_flags_question_and_costs_a_tenth(workspace: Any, qtbot: Any) -> None:
    player = open_player(workspace, "hard-drop")
    assert player.hint_button.text() == "Hint (H)"
    qtbot.mouseClick(player.hint_button, Qt.MouseButton.LeftButton)
    assert player.hint_label.isVisible()
    assert player.hint_label.text() == f"Hint: {IRREVERSIBLE_QUESTION}"
    assert not player.hint_button.isEnabled()
    player.choose_decision(Decision.REJECT)
    player.submit()

    with_hint = records(workspace)[-1]
    assert with_hint.hint_taken is True
    # 0.9 for the right call without flags, minus 0.1 for the hint.
    assert step_score(with_hint).total == pytest.approx(0.8)
    assert "Hint taken: −0.1" in player.score_label.text()
    assert "Step score: 0.80 of 1" in player.score_label.text()

    player = open_player(workspace, "hard-drop")
    assert player.hint_button.isEnabled(), "each step starts without the hint"
    assert not player.hint_label.isVisible()
    player.choose_decision(Decision.REJECT)
    player.submit()
    without_hint = records(workspace)[-1]
    assert without_hint.hint_taken is False
    assert step_score(without_hint).total - step_score(with_hint).total == pytest.approx(0.1)
    assert "Hint taken" not in player.score_label.text()


def test_a_step_without_red_flags_offers_a_hint_too_so_the_button_gives_nothing_away(
    workspace: Any,
) -> None:
    player = open_player(workspace, "easy-accept")
    assert player.hint_button.isVisible() and player.hint_button.isEnabled()
    player.take_hint()
    assert player.hint_label.text().startswith("Hint: Is there a real reason to doubt")
    player.choose_decision(Decision.ACCEPT)
    player.submit()
    record = records(workspace)[-1]
    assert record.hint_taken is True
    assert step_score(record).total == pytest.approx(0.8)


def test_flag_quality_and_half_credit_are_explained_in_words(workspace: Any) -> None:
    player = open_player(workspace, "hard-drop")
    player.choose_decision(Decision.REJECT)
    player.flag_list.set_checked("irreversible", True)
    player.submit()
    # One of two true flags named, no decoy: F1 = 2/3; 1 × (1 − 0.2 × 1/3) = 0.933.
    text = player.score_label.text()
    assert "Step score: 0.93 of 1" in text
    assert "Red flags: 0.67 of 1 for the flags you named: −0.07." in text

    player = open_player(workspace, "two-step-grant")
    player.choose_decision(Decision.REJECT)
    player.submit()
    player.continue_()
    player.choose_decision(Decision.REJECT)  # a revise step answered Reject
    player.submit()
    text = player.score_label.text()
    assert "Decision: half credit (0.5): safe, but not the best call." in text
    assert "Step score: 0.45 of 1" in text  # 0.5 × 0.9
    player.continue_()
    assert player.play_score_label.text() == "Score for this play: 68 %"  # (0.9 + 0.45) / 2


def test_checks_and_hint_by_keyboard_alone(workspace: Any, press_key: Any) -> None:
    player = open_player(workspace, "hard-drop")
    first, second = player.check_buttons
    accept = player.decision_buttons[Decision.ACCEPT]
    assert QApplication.focusWidget() is accept

    # Shift+Tab from the decision reaches the hint, then the checks: all in the tab chain.
    press_key(Qt.Key.Key_Backtab)
    assert QApplication.focusWidget() is player.hint_button
    press_key(Qt.Key.Key_Backtab)
    assert QApplication.focusWidget() is second
    press_key(Qt.Key.Key_Tab)
    press_key(Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is accept

    press_key(Qt.Key.Key_C)  # C goes to the first check not made
    assert QApplication.focusWidget() is first
    press_key(Qt.Key.Key_C)  # and on to the next
    assert QApplication.focusWidget() is second
    press_key(Qt.Key.Key_C)
    assert QApplication.focusWidget() is first
    press_key(Qt.Key.Key_Space)  # Space runs it
    assert player.checks_made == [DEPENDS]
    assert QApplication.focusWidget() is second, "the focus moves on to the next check"
    press_key(Qt.Key.Key_Return)  # Enter on a check runs it, and does not submit
    assert player.checks_made == [DEPENDS, BACKUP]
    assert player.phase is Phase.DECIDING
    assert QApplication.focusWidget() is accept, "after the last check: the decision"
    press_key(Qt.Key.Key_C)  # nothing left to check
    assert QApplication.focusWidget() is accept

    press_key(Qt.Key.Key_H)
    assert player.hint_taken
    assert player.hint_label.text() == f"Hint: {IRREVERSIBLE_QUESTION}"
    press_key(Qt.Key.Key_R)
    press_key(Qt.Key.Key_Return)
    assert player.phase is Phase.FEEDBACK

    (record,) = records(workspace)
    assert record.checks_made == (DEPENDS, BACKUP)
    assert record.check_minutes == 5
    assert record.hint_taken is True
    # 0.9 + 0.05 (checked, then blocked correctly) − 0.1 (hint)
    assert step_score(record).total == pytest.approx(0.85)
    assert "Hint taken: −0.1" in player.score_label.text()
    press_key(Qt.Key.Key_Return)
    assert player.phase is Phase.DEBRIEF


def test_enter_on_the_hint_button_takes_the_hint_without_submitting(
    workspace: Any, press_key: Any
) -> None:
    player = open_player(workspace, "two-step-grant")
    player.choose_decision(Decision.REJECT)
    player.hint_button.setFocus()
    press_key(Qt.Key.Key_Return)
    assert player.hint_taken
    assert player.phase is Phase.DECIDING
    assert records(workspace) == []
    # Access broader than the task is the step's first true flag.
    assert player.hint_label.text() == "Hint: Does this grant more access than the task needs?"

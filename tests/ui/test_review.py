"""The "Review due" card: missed red flags come back on schedule, in another scenario.

The interface is told the time through the workspace's clock, so a test can move a day
forward. The schedule (SM-2) makes a missed flag due one day after the miss.
"""

from __future__ import annotations

import random
from typing import Any

from PySide6.QtCore import Qt

from app.core.model import Decision
from app.ui.main_window import HOME, PLAYER, MainWindow
from app.ui.workspace import Workspace


def play(workspace: Any, scenario_id: str, decisions: list[Decision], flags: Any = None) -> None:
    workspace.open_scenario(scenario_id)
    player = workspace.player
    for decision in decisions:
        player.choose_decision(decision)
        if decision is Decision.REVISE:
            step = player.step
            player.choose_revision(player.revision_order.index(step.correct_revision_index) + 1)
        for flag in flags or ():
            if flag in {c.flag_id for c in player.flag_list.choices()}:
                player.flag_list.set_checked(flag, True)
        player.submit()
        player.continue_()
    workspace.go_home()


def rows_by_key(workspace: Any) -> dict[str, Any]:
    return {row.key: row for row in workspace.home.review_rows()}


def test_a_missed_flag_is_due_the_next_day_in_another_scenario_with_that_flag(
    workspace: Any, clock: Any
) -> None:
    home = workspace.home
    assert home.review_rows() == []
    assert home.review_empty.isVisible()

    # Accepting the cascade drop misses both of its flags.
    play(workspace, "hard-drop", [Decision.ACCEPT])
    assert home.review_rows() == [], "not due on the day of the miss"

    clock.advance(days=1, hours=1)
    workspace.go_home()
    rows = rows_by_key(workspace)
    assert set(rows) == {"flag:blast-radius", "flag:irreversible"}
    assert home.review_list.isVisible() and not home.review_empty.isVisible()
    assert home.review_heading.text() == "&Review due (2)"
    # Blast radius is also a true flag of the grant step: that scenario is served.
    blast = rows["flag:blast-radius"]
    assert (blast.scenario_id, blast.flag_title) == (
        "two-step-grant",
        "Blast radius larger than the problem",
    )
    # No other scenario has "irreversible" as a true flag, so the same one comes back.
    assert rows["flag:irreversible"].scenario_id == "hard-drop"
    texts = [home.review_model.index(r).data() for r in range(home.review_model.rowCount())]
    assert "Blast radius larger than the problem · practise with: The grant that grew" in texts


def test_enter_on_a_review_item_opens_its_scenario(
    workspace: Any, clock: Any, press_key: Any
) -> None:
    play(workspace, "hard-drop", [Decision.ACCEPT])
    clock.advance(days=2)
    workspace.go_home()
    home = workspace.home
    row = [r.key for r in home.review_rows()].index("flag:blast-radius")
    home.review_list.setCurrentIndex(home.review_model.index(row))
    home.review_list.setFocus()
    press_key(Qt.Key.Key_Return)
    assert workspace.window.current_page_key() == PLAYER
    assert workspace.player.scenario.id == "two-step-grant"


def test_double_click_on_a_review_item_opens_its_scenario(
    workspace: Any, clock: Any, qtbot: Any
) -> None:
    play(workspace, "hard-drop", [Decision.ACCEPT])
    clock.advance(days=2)
    workspace.go_home()
    home = workspace.home
    row = [r.key for r in home.review_rows()].index("flag:irreversible")
    index = home.review_model.index(row)
    home.review_list.setCurrentIndex(index)
    centre = home.review_list.visualRect(index).center()
    qtbot.mouseDClick(home.review_list.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    assert workspace.player.scenario.id == "hard-drop"


def test_practising_a_flag_right_takes_it_off_the_queue_after_the_play(
    workspace: Any, clock: Any
) -> None:
    play(workspace, "hard-drop", [Decision.ACCEPT])
    clock.advance(days=2)
    workspace.go_home()
    due = rows_by_key(workspace)["flag:blast-radius"].due
    # Answers carry the real time of answering; the clock stops at the moment both items
    # fell due, so a later answer's next review (a day after it) lies beyond the clock.
    clock.moment = due
    workspace.go_home()
    assert "flag:blast-radius" in rows_by_key(workspace)

    # Caught by name with the right call: the next review is a day after this answer.
    play(workspace, "two-step-grant", [Decision.REJECT, Decision.REVISE], flags=["blast-radius"])
    assert workspace.window.current_page_key() == HOME
    assert "flag:blast-radius" not in rows_by_key(workspace)
    assert "flag:irreversible" in rows_by_key(workspace), "still due: not practised yet"


def test_blocked_good_advice_comes_back_as_such(workspace: Any, clock: Any) -> None:
    play(workspace, "easy-accept", [Decision.REJECT])
    clock.advance(days=2)
    workspace.go_home()
    (row,) = workspace.home.review_rows()
    assert row.key == "scenario:easy-accept"
    assert row.flag_title is None
    text = workspace.home.review_model.index(0).data()
    assert text == "Good advice you blocked · practise with: A typo in a log message"


def test_the_queue_survives_a_restart_because_it_comes_from_stored_answers(
    workspace: Any, clock: Any, qtbot: Any, make_context: Any, pack: Any
) -> None:
    play(workspace, "hard-drop", [Decision.ACCEPT])
    clock.advance(days=2)
    workspace.go_home()
    before = [(r.key, r.scenario_id) for r in workspace.home.review_rows()]
    assert before

    # A second start on the same data folder: a new context, window and workspace.
    restarted = make_context(pack)
    window = MainWindow()
    qtbot.addWidget(window)
    again = Workspace(window, restarted, rng=random.Random(1), now=clock)
    profile = restarted.training.profile_named("Ada Example")
    assert profile is not None
    again.set_profile(profile)
    assert [(r.key, r.scenario_id) for r in again.home.review_rows()] == before

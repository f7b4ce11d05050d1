"""The home page: catalogue grouping and filters, done marks, tracks and what to do next."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from app.core.model import Decision, TrackItemKind
from app.ui.main_window import LESSONS, PLAYER

ALL = ["easy-accept", "two-step-grant", "hard-drop"]


def choose(combo: Any, data: object) -> None:
    index = combo.findData(data)
    assert index >= 0, f"{data!r} is not offered"
    combo.setCurrentIndex(index)


def play(workspace: Any, scenario_id: str, decisions: list[Decision]) -> None:
    workspace.open_scenario(scenario_id)
    player = workspace.player
    for decision in decisions:
        player.choose_decision(decision)
        if decision is Decision.REVISE:
            step = player.step
            player.choose_revision(player.revision_order.index(step.correct_revision_index) + 1)
        player.submit()
        player.continue_()
    workspace.go_home()


def test_catalogue_is_grouped_by_domain_in_a_fixed_order(workspace: Any) -> None:
    home = workspace.home
    groups = [home.filter.index(row, 0).data() for row in range(home.filter.rowCount())]
    assert groups == ["Shell and files (1)", "Cloud and IAM (1)", "Databases (1)"]
    assert home.visible_scenario_ids() == ALL


def test_filters_by_difficulty_flag_and_lesson_change_the_visible_rows(workspace: Any) -> None:
    home = workspace.home
    choose(home.difficulty_combo, 1)
    assert home.visible_scenario_ids() == ["easy-accept"]
    choose(home.difficulty_combo, None)

    choose(home.flag_combo, "irreversible")
    assert home.visible_scenario_ids() == ["hard-drop"], "decoys do not count as flags"
    choose(home.flag_combo, "blast-radius")
    assert home.visible_scenario_ids() == ["two-step-grant", "hard-drop"]

    choose(home.lesson_combo, "least-privilege")
    assert home.visible_scenario_ids() == ["two-step-grant"], "filters combine"
    choose(home.difficulty_combo, 3)
    assert home.visible_scenario_ids() == []
    assert home.empty_label.isVisible()

    home.clear_button.click()
    assert home.visible_scenario_ids() == ALL
    assert not home.empty_label.isVisible()


def best_score_text(workspace: Any, scenario_id: str) -> str:
    best = workspace.training.progress(workspace.profile).scenarios[scenario_id].best_score
    assert best is not None
    return f"{round(best * 100)} %"


def test_done_marks_and_best_score_appear_after_a_play(workspace: Any) -> None:
    home = workspace.home
    assert home.status_text("easy-accept") == "not started"
    play(workspace, "easy-accept", [Decision.ACCEPT])
    assert (
        home.status_text("easy-accept") == f"✓ done · {best_score_text(workspace, 'easy-accept')}"
    )
    play(workspace, "two-step-grant", [Decision.ACCEPT, Decision.REVISE])
    half = best_score_text(workspace, "two-step-grant")
    assert home.status_text("two-step-grant") == f"✓ done · {half}"
    assert int(half.split()[0]) < 100, "one of two steps was wrong"
    assert home.status_text("hard-drop") == "not started"
    groups = [home.filter.index(row, 2).data() for row in range(home.filter.rowCount())]
    assert groups == ["1 of 1 done", "1 of 1 done", "0 of 1 done"]


def test_track_progress_bar_advances_with_lessons_and_scenarios(workspace: Any) -> None:
    bar = workspace.home.track_bars["starter"]
    assert (bar.value(), bar.maximum(), bar.text()) == (0, 3, "0 of 3 done")
    workspace.open_lesson("least-privilege")
    workspace.go_home()
    assert (bar.value(), bar.text()) == (1, "1 of 3 done")
    play(workspace, "easy-accept", [Decision.ACCEPT])
    assert (bar.value(), bar.text()) == (2, "2 of 3 done")
    play(workspace, "two-step-grant", [Decision.REJECT, Decision.REVISE])
    assert bar.value() == 3
    label = workspace.home.track_labels["starter"].text()
    assert label.startswith("✓ Complete · score ")
    assert label.endswith(" %")


def test_what_next_follows_the_first_unfinished_track(workspace: Any) -> None:
    home = workspace.home
    assert home.next is not None
    assert (home.next.kind, home.next.ref) == (TrackItemKind.LESSON, "least-privilege")
    assert "Least privilege" in home.next_label.text()
    home.continue_button.click()
    assert workspace.window.current_page_key() == LESSONS
    workspace.go_home()
    assert (home.next.kind, home.next.ref) == (TrackItemKind.SCENARIO, "two-step-grant")
    home.continue_button.click()
    assert workspace.window.current_page_key() == PLAYER
    assert workspace.player.scenario.id == "two-step-grant"
    assert workspace.player.next_scenario_id() == "easy-accept", "the track's order"


def test_enter_on_a_catalogue_row_opens_the_player(workspace: Any, press_key: Any) -> None:
    home = workspace.home
    assert home.select_scenario("hard-drop")
    home.tree.setFocus()
    press_key(Qt.Key.Key_Return)
    assert workspace.window.current_page_key() == PLAYER
    assert workspace.player.scenario.id == "hard-drop"


def test_double_click_on_a_catalogue_row_opens_the_player(workspace: Any, qtbot: Any) -> None:
    home = workspace.home
    home.select_scenario("easy-accept")
    centre = home.tree.visualRect(home.tree.currentIndex()).center()
    qtbot.mouseClick(home.tree.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    qtbot.mouseDClick(home.tree.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    assert workspace.player.scenario.id == "easy-accept"


def test_enter_on_a_group_row_opens_nothing(workspace: Any, press_key: Any) -> None:
    home = workspace.home
    home.tree.setCurrentIndex(home.filter.index(0, 0))
    home.tree.setFocus()
    press_key(Qt.Key.Key_Return)
    assert workspace.window.current_page_key() != PLAYER

"""The content problems page and its count in the navigation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.ui.main_window import PROBLEMS, MainWindow
from app.ui.workspace import Workspace


def test_problems_page_lists_a_broken_file_and_the_navigation_counts_them(
    qtbot: Any, tmp_path: Path, make_context: Any, make_pack: Any
) -> None:
    context = make_context(make_pack("broken-pack", broken=True))
    window = MainWindow()
    qtbot.addWidget(window)
    workspace = Workspace(window, context)
    lines = workspace.problems.lines()
    assert lines, "the broken file is listed"
    assert all("broken-one.md:" in line for line in lines)
    assert any("difficulty" in line for line in lines)
    count = len(context.library.problems)
    assert window.navigation_action(PROBLEMS).text() == f"Content &problems ({count})"
    assert "easy-accept" in context.library.scenarios, "the rest still loads"


def test_no_problems_no_count(workspace: Any) -> None:
    assert workspace.window.navigation_action(PROBLEMS).text() == "Content &problems"
    assert workspace.problems.lines() == []
    assert "without a problem" in workspace.problems.summary.text()

"""Every focusable control on every screen has an accessible name; the focus is visible."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import QWidget

from app.core.model import Decision
from app.ui.main_window import LESSONS, PROBLEMS


def unnamed_controls(root: QWidget) -> list[str]:
    missing = []
    for widget in [root, *root.findChildren(QWidget)]:
        focusable = widget.focusPolicy() & Qt.FocusPolicy.TabFocus
        if not focusable or not widget.isVisibleTo(root) or not widget.isEnabled():
            continue
        interface = QAccessible.queryAccessibleInterface(widget)
        name = interface.text(QAccessible.Text.Name) if interface is not None else ""
        if not name.strip():
            missing.append(f"{type(widget).__name__} {widget.objectName()!r}")
    return missing


def test_every_screen_names_its_controls(workspace: Any) -> None:
    window = workspace.window
    assert unnamed_controls(window) == [], "home"
    workspace.open_lesson("least-privilege")
    assert workspace.window.current_page_key() == LESSONS
    assert unnamed_controls(window) == [], "lessons"
    workspace.show_page(PROBLEMS)
    assert unnamed_controls(window) == [], "problems"

    workspace.open_scenario("two-step-grant")
    player = workspace.player
    assert unnamed_controls(window) == [], "player, first step"
    player.choose_decision(Decision.REJECT)
    player.submit()
    assert unnamed_controls(window) == [], "player, feedback"
    player.continue_()
    player.choose_decision(Decision.REVISE)
    assert unnamed_controls(window) == [], "player, revising"
    player.choose_revision(1)
    player.submit()
    player.continue_()
    assert unnamed_controls(window) == [], "player, debrief"


def test_profile_dialogs_name_their_controls(workspace: Any) -> None:
    dialog = workspace.switch_profile()
    assert unnamed_controls(dialog) == []
    dialog.new_button.click()
    assert unnamed_controls(dialog) == []
    dialog.reject()


def test_decisions_are_told_by_text_not_colour_alone(workspace: Any) -> None:
    workspace.open_scenario("hard-drop")
    player = workspace.player
    player.choose_decision(Decision.ACCEPT)
    assert player.decision_buttons[Decision.ACCEPT].text().startswith("✓ Accept")
    assert not player.decision_buttons[Decision.REJECT].text().startswith("✓")
    player.submit()
    assert player.verdict_label.text().startswith("✘ Not the right call")

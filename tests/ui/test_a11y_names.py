"""Every focusable control on every screen has an accessible name and a fitting role."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from app.ui.themes import Appearance
from tests.ui.a11y_support import (
    appearance_for,
    control_problems,
    main_screens,
    profile_dialogs,
    settle,
)


@pytest.fixture
def appearance(workspace: Any) -> Iterator[Appearance]:
    yield from appearance_for(workspace)


def test_every_main_screen_names_its_controls_with_fitting_roles(
    workspace: Any, qtbot: Any, appearance: Any
) -> None:
    problems = {}
    for screen in main_screens(workspace):
        settle(qtbot)
        found = control_problems(screen.root)
        if found:
            problems[screen.name] = found
    assert problems == {}


def test_profile_dialogs_name_their_controls(workspace: Any, qtbot: Any) -> None:
    problems = {}
    for screen in profile_dialogs(workspace):
        settle(qtbot)
        found = control_problems(screen.root)
        if found:
            problems[screen.name] = found
    assert problems == {}


def test_manager_screens_name_their_controls(workspace: Any, qtbot: Any, tmp_path: Any) -> None:
    from app.ui.main_window import MANAGER

    page = workspace.manager_page
    workspace.context.manager.set_passphrase("river otter lantern 42")
    page.native_dialogs = False
    page._folder = tmp_path
    workspace.show_page(MANAGER)
    settle(qtbot)
    problems = {}
    if found := control_problems(workspace.window):
        problems["manager-locked"] = found
    page.lock_panel.passphrase_edit.setText("river otter lantern 42")
    page.lock_panel.submit()
    assert page.is_unlocked
    for index in range(page.tabs.count()):
        page.tabs.setCurrentIndex(index)
        settle(qtbot)
        if found := control_problems(workspace.window):
            problems[f"manager-tab-{index}"] = found
    dialog = page.open_export_dialog()
    if dialog is not None:
        settle(qtbot)
        if found := control_problems(dialog):
            problems["manager-export"] = found
        dialog.reject()
    assert problems == {}


def test_room_screens_name_their_controls(workspace: Any, qtbot: Any) -> None:
    from app.ui.main_window import ROOM

    workspace.show_page(ROOM)
    settle(qtbot)
    assert control_problems(workspace.window) == []

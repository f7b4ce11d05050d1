"""Text scales from 100 % to 200 % without clipping, by the menu and by the keyboard."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app.ui.style import role_font
from app.ui.themes import Appearance
from tests.ui.a11y_support import (
    appearance_for,
    clipped_texts,
    main_screens,
    profile_dialogs,
    save_screenshot,
    settle,
)


@pytest.fixture
def appearance(workspace: Any) -> Iterator[Appearance]:
    yield from appearance_for(workspace)


WINDOW_SIZE = (1240, 820)


@pytest.mark.parametrize("scale", [1.0, 2.0])
def test_no_text_is_clipped_on_any_screen(
    workspace: Any, qtbot: Any, appearance: Any, scale: float, tmp_path: Path
) -> None:
    workspace.window.resize(*WINDOW_SIZE)
    expected_size = workspace.window.size()
    appearance.set_text_scale(scale)
    percent = round(scale * 100)
    clipped = {}
    for screen in itertools.chain(main_screens(workspace), profile_dialogs(workspace)):
        settle(qtbot)
        save_screenshot(screen.root, tmp_path / f"{screen.name}-{percent}.png")
        found = clipped_texts(screen.root)
        if screen.root is workspace.window and workspace.window.size() != expected_size:
            # Nothing may push the window past its usual size: pages scroll instead.
            found.append(f"the window grew to {workspace.window.size()}")
        if found:
            clipped[screen.name] = found
    assert clipped == {}


def test_the_keyboard_scales_every_text_and_puts_it_back(
    workspace: Any, qtbot: Any, appearance: Any, press_key: Any
) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    workspace.window.resize(*WINDOW_SIZE)
    workspace.open_scenario("two-step-grant")
    normal = app.font().pointSizeF()
    title = workspace.player.title_label
    normal_title = title.font().pointSizeF()
    for _ in range(8):
        press_key(Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    settle(qtbot)
    assert appearance.text_scale == 2.0, "Ctrl+= stops at 200 %"
    # What was on screen already grows with it, without clipping.
    assert clipped_texts(workspace.window) == []
    assert app.font().pointSizeF() == pytest.approx(normal * 2)
    # Text roles keep their proportions: a title stays larger than body text.
    assert title.font().pointSizeF() == pytest.approx(normal_title * 2)
    assert role_font("caption").pointSizeF() == pytest.approx(normal * 2 * 0.9)
    press_key(Qt.Key.Key_Minus, Qt.KeyboardModifier.ControlModifier)
    assert appearance.text_scale == 1.75
    press_key(Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    settle(qtbot)
    assert appearance.text_scale == 1.0
    assert app.font().pointSizeF() == pytest.approx(normal)
    assert title.font().pointSizeF() == pytest.approx(normal_title)


def test_the_text_size_is_in_the_appearance_menu(workspace: Any, appearance: Any) -> None:
    menu = appearance.menu
    texts = [action.text() for action in menu.actions()]
    assert "Text size: 100 %" in texts
    larger = next(a for a in menu.actions() if a.text() == "Lar&ger text")
    larger.trigger()
    assert appearance.text_scale == 1.1
    assert "Text size: 110 %" in [action.text() for action in menu.actions()]

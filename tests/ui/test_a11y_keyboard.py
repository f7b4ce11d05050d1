"""The keyboard alone is enough: a lesson, a whole track, the charts; the focus is visible."""

from __future__ import annotations

import re
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QLineEdit,
    QListView,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QTabBar,
    QTableView,
    QTextBrowser,
    QToolButton,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from app.core.model import Decision
from app.ui.main_window import DASHBOARD, HOME, LESSONS, PLAYER
from app.ui.player import Phase
from app.ui.style import apply_theme, build_stylesheet
from app.ui.themes import THEMES
from tests.ui.a11y_support import correct_number, settle

Key = Qt.Key
CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


def focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None, "nothing has the keyboard focus"
    return widget


def assert_focus_visible(workspace: Any) -> None:
    """The focus is on a control the trainee can see, on the page in front."""
    widget = focused()
    assert widget.isVisible(), f"the focus is on a hidden {type(widget).__name__}"
    page = workspace.window.stack.currentWidget()
    toolbar = workspace.window.navigation
    assert page.isAncestorOf(widget) or toolbar.isAncestorOf(widget), type(widget).__name__


def tab_to(press_key: Any, target: QWidget, *, backwards: bool = False, limit: int = 60) -> None:
    """Press Tab (or Shift+Tab) until ``target`` has the focus."""
    for _ in range(limit):
        if focused() is target:
            return
        press_key(Key.Key_Backtab if backwards else Key.Key_Tab, SHIFT if backwards else None)
    assert focused() is target, f"Tab never reached {type(target).__name__}"


def test_a_lesson_is_opened_read_and_left_by_keyboard(workspace: Any, press_key: Any) -> None:
    home = workspace.home
    assert home.tree.hasFocus()
    tab_to(press_key, home.lesson_list)
    press_key(Key.Key_Home)
    assert home.lesson_list.currentIndex().row() == 0
    press_key(Key.Key_Return)

    assert workspace.window.current_page_key() == LESSONS
    reader = workspace.lessons.reader
    assert focused() is reader
    assert "Grant what is missing" in reader.toPlainText()
    press_key(Key.Key_PageDown)
    press_key(Key.Key_End, CTRL)
    assert_focus_visible(workspace)

    press_key(Key.Key_1, CTRL)
    assert workspace.window.current_page_key() == HOME
    assert_focus_visible(workspace)
    assert home.lessons_model.index(0).data() == "✓ Least privilege · read"


def test_a_whole_track_by_what_next_continue_and_enter(
    workspace: Any, press_key: Any, qtbot: Any
) -> None:
    home, player = workspace.home, workspace.player
    # The lesson first: Tab to "Continue", Enter opens it; Ctrl+1 comes back.
    assert home.next.ref == "least-privilege"
    tab_to(press_key, home.continue_button, backwards=True)
    press_key(Key.Key_Return)
    assert workspace.window.current_page_key() == LESSONS
    assert workspace.lessons.current_lesson_id == "least-privilege"
    press_key(Key.Key_1, CTRL)

    # Then the two scenarios of the track, one after the other.
    assert home.next.ref == "two-step-grant"
    tab_to(press_key, home.continue_button, backwards=True)
    press_key(Key.Key_Return)
    assert workspace.window.current_page_key() == PLAYER
    assert player.scenario.id == "two-step-grant"
    keys = [Key.Key_R, Key.Key_Return, Key.Key_Return, Key.Key_V]
    for key in keys:
        press_key(key)
        assert_focus_visible(workspace)
    press_key(Key.Key_0 + correct_number(player))
    for _ in range(2):
        press_key(Key.Key_Return)
        assert_focus_visible(workspace)
    assert player.phase is Phase.DEBRIEF
    press_key(Key.Key_Return)  # "Next scenario": the next one in the track

    assert player.scenario.id == "easy-accept"
    for key in (Key.Key_A, Key.Key_Return, Key.Key_Return):
        press_key(key)
        assert_focus_visible(workspace)
    assert player.phase is Phase.DEBRIEF
    assert player.next_scenario_button is None  # the track is done
    press_key(Key.Key_Return)
    settle(qtbot)

    assert workspace.window.current_page_key() == HOME
    assert_focus_visible(workspace)
    assert home.track_bars["starter"].text() == "3 of 3 done"
    assert home.track_labels["starter"].text().startswith("✓ Complete")
    records = workspace.training.answers_for(workspace.profile)
    assert [(r.scenario_id, r.correct) for r in records] == [
        ("two-step-grant", True),
        ("two-step-grant", True),
        ("easy-accept", True),
    ]


def test_enter_on_back_to_home_goes_home_rather_than_submitting(
    workspace: Any, press_key: Any
) -> None:
    workspace.open_scenario("hard-drop")
    player = workspace.player
    press_key(Key.Key_R)
    player.home_button.setFocus()
    press_key(Key.Key_Return)
    assert workspace.window.current_page_key() == HOME
    assert workspace.training.answers_for(workspace.profile) == []


def test_tab_reaches_every_chart_and_its_numbers(workspace: Any, press_key: Any) -> None:
    workspace.open_scenario("easy-accept")
    workspace.player.choose_decision(Decision.ACCEPT)
    workspace.player.submit()
    workspace.show_page(DASHBOARD)
    dashboard = workspace.dashboard
    reached = set()
    for _ in range(40):
        reached.add(focused())
        press_key(Key.Key_Tab)
    shown = [card for card in dashboard.cards.values() if card.view.isVisible()]
    assert shown, "no chart is shown"
    for card in shown:
        assert card.view in reached, card.key
        assert card.text in reached, card.key


# Focus is visible in every theme

FOCUSABLE_KINDS = (
    QPushButton,
    QToolButton,
    QCheckBox,
    QRadioButton,
    QComboBox,
    QLineEdit,
    QSpinBox,
    QDateEdit,
    QListView,
    QTreeView,
    QTableView,
    QTextBrowser,
    QPlainTextEdit,
    QTabBar,
)


def test_every_theme_has_a_focus_rule_for_every_kind_of_control() -> None:
    for name, theme in THEMES.items():
        sheet = build_stylesheet(theme)
        focus_rules = re.findall(r"([^{}]*:focus[^{}]*)\{([^}]*)\}", sheet)
        assert focus_rules, name
        selectors = " ".join(selector for selector, _ in focus_rules)
        for kind in ("QPushButton", "QToolButton", "QCheckBox", "QRadioButton", "QComboBox"):
            assert kind in selectors, (name, kind)
        for kind in ("QLineEdit", "QAbstractSpinBox", "QListView", "QTreeView", "QTableView"):
            assert kind in selectors, (name, kind)
        for kind in ("QTextBrowser", "QPlainTextEdit", "QTabBar::tab"):
            assert kind in selectors, (name, kind)
        # Every focus rule draws something in the theme's focus colour.
        for selector, body in focus_rules:
            assert theme.focus in body, (name, selector)


def _sample(kind: type[QWidget]) -> QWidget:
    widget = kind()
    if isinstance(widget, QTabBar):
        widget.addTab("One")
        widget.addTab("Two")
    elif isinstance(widget, QComboBox):
        widget.addItem("An entry")
    elif hasattr(widget, "setText"):
        widget.setText("Sample")
    widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
    return widget


@pytest.mark.parametrize("theme_name", list(THEMES))
def test_the_focused_control_looks_different_in_every_theme(qtbot: Any, theme_name: str) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app, THEMES[theme_name])
    try:
        window = QWidget()
        qtbot.addWidget(window)
        layout = QVBoxLayout(window)
        elsewhere = QPushButton("Elsewhere")
        layout.addWidget(elsewhere)
        samples = [_sample(kind) for kind in FOCUSABLE_KINDS]
        for sample in samples:
            layout.addWidget(sample)
        window.show()
        qtbot.waitExposed(window)
        window.activateWindow()
        qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
        unchanged = []
        for sample in samples:
            elsewhere.setFocus()
            settle(qtbot)
            before = sample.grab().toImage()
            sample.setFocus()
            settle(qtbot)
            assert sample.hasFocus(), type(sample).__name__
            if sample.grab().toImage() == before:
                unchanged.append(type(sample).__name__)
        assert unchanged == []
    finally:
        apply_theme(app)

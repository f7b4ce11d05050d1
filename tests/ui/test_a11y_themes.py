"""Light, dark and high-contrast themes: chosen, remembered, followed by every view."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCharts import QChart
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from app.core.model import Decision
from app.services.settings import Settings, read_appearance
from app.ui.main_window import DASHBOARD
from app.ui.style import LIGHT, Theme
from app.ui.themes import (
    DARK,
    HIGH_CONTRAST,
    THEMES,
    Appearance,
    OutlinedIndicators,
    application_theme,
    install_appearance,
    system_theme_name,
)
from tests.ui.a11y_support import (
    NoSystemPreference,
    appearance_for,
    restore_look,
    save_screenshot,
    settle,
)


@pytest.fixture
def appearance(workspace: Any) -> Iterator[Appearance]:
    yield from appearance_for(workspace)


def luminance(colour: str) -> float:
    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    c = QColor(colour)
    return 0.2126 * channel(c.redF()) + 0.7152 * channel(c.greenF()) + 0.0722 * channel(c.blueF())


def contrast(first: str, second: str) -> float:
    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def text_pairs(theme: Theme) -> dict[str, tuple[str, str]]:
    return {
        "text on window": (theme.text, theme.window),
        "text on surface": (theme.text, theme.surface),
        "muted text on surface": (theme.muted_text, theme.surface),
        "muted text on window": (theme.muted_text, theme.window),
        "text on checked": (theme.accent_text, theme.accent),
        "link on surface": (theme.accent, theme.surface),
        "right verdict": (theme.right, theme.right_soft),
        "wrong verdict": (theme.wrong, theme.wrong_soft),
        "caution verdict": (theme.caution, theme.caution_soft),
        "hint": (theme.text, theme.accent_soft),
        "avatar": (theme.accent_text, theme.avatar),
    }


@pytest.mark.parametrize("name", list(THEMES))
def test_every_theme_has_readable_text_and_a_visible_focus(name: str) -> None:
    theme = THEMES[name]
    needed = 7.0 if theme is HIGH_CONTRAST else 4.5
    weak = {
        what: round(contrast(*pair), 2)
        for what, pair in text_pairs(theme).items()
        if contrast(*pair) < needed
    }
    assert weak == {}
    # The focus outline must stand out from what it is drawn on (WCAG non-text: 3:1).
    for ground in (theme.surface, theme.window):
        assert contrast(theme.focus, ground) >= 3.0


@pytest.mark.parametrize("name", list(THEMES))
def test_choosing_a_theme_applies_fusion_its_palette_and_its_style_sheet(
    workspace: Any, appearance: Appearance, name: str
) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    appearance.set_theme(name)
    theme = THEMES[name]
    sheet = app.styleSheet()
    app.setStyleSheet("")  # the style sheet wraps the style: look underneath it
    style = app.style()
    assert isinstance(style, OutlinedIndicators)
    assert style.baseStyle().name().lower() == "fusion"
    app.setStyleSheet(sheet)
    assert app.palette().color(QPalette.ColorRole.Window).name() == theme.window
    assert app.palette().color(QPalette.ColorRole.Text).name() == theme.text
    assert f"border: 2px solid {theme.focus}" in app.styleSheet()
    assert application_theme() == theme
    # A page's own palette follows.
    home = workspace.home
    assert home.palette().color(QPalette.ColorRole.WindowText).name() == theme.text


def test_the_appearance_menu_offers_the_themes_and_checks_the_one_shown(
    workspace: Any, appearance: Appearance
) -> None:
    button = workspace.window.navigation.widgetForAction(appearance.menu.menuAction())
    assert button.objectName() == "appearanceButton"
    assert button.accessibleName() == "Appearance"
    labels = {action.text(): action for action in appearance.menu.actions()}
    for label in ("&Follow the system", "&Light", "&Dark", "&High contrast"):
        assert label in labels
    labels["&Dark"].trigger()
    assert appearance.theme is DARK
    assert labels["&Dark"].isChecked() and not labels["&Light"].isChecked()
    labels["&High contrast"].trigger()
    assert appearance.theme is HIGH_CONTRAST


def test_a_theme_and_text_size_are_remembered_in_the_settings(workspace: Any, context: Any) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    data_dir = context.config.data_dir
    restore = restore_look(app, app.font())
    try:
        first = install_appearance(app, workspace.window, data_dir, lambda: context.settings)
        assert first.theme_name == "light"  # nothing saved, and offscreen says nothing
        first.set_theme("dark")
        first.set_text_scale(1.5)
        stored = json.loads((data_dir / "settings.json").read_text(encoding="utf-8"))
        assert stored["theme"] == "dark"
        assert stored["text_scale"] == 1.5
        # The open records' settings hold the choice, so their next save keeps it.
        assert (context.settings.theme, context.settings.text_scale) == ("dark", 1.5)
        context.settings.save()
        assert read_appearance(data_dir) == ("dark", 1.5)
        assert Settings.in_data_dir(data_dir).theme == "dark"

        restore()
        again = install_appearance(app, workspace.window, data_dir, lambda: None)
        assert again.theme is DARK
        assert again.text_scale == 1.5
    finally:
        restore()


def test_settings_refuse_unknown_themes_and_out_of_range_sizes(tmp_path: Path) -> None:
    (tmp_path / "settings.json").write_text(
        json.dumps({"theme": "neon", "text_scale": 9}), encoding="utf-8"
    )
    assert read_appearance(tmp_path) == (None, 2.0)
    settings = Settings.in_data_dir(tmp_path)
    assert (settings.theme, settings.text_scale) == (None, 2.0)
    (tmp_path / "settings.json").write_text("{broken", encoding="utf-8")
    assert read_appearance(tmp_path) == (None, 1.0)
    assert (tmp_path / "settings.json").exists(), "reading the look has no side effects"


@pytest.mark.parametrize(
    ("scheme", "contrast_preference", "expected"),
    [
        (Qt.ColorScheme.Unknown, Qt.ContrastPreference.NoPreference, "light"),
        (Qt.ColorScheme.Light, Qt.ContrastPreference.NoPreference, "light"),
        (Qt.ColorScheme.Dark, Qt.ContrastPreference.NoPreference, "dark"),
        (Qt.ColorScheme.Light, Qt.ContrastPreference.HighContrast, "high-contrast"),
        (Qt.ColorScheme.Dark, Qt.ContrastPreference.HighContrast, "high-contrast"),
    ],
)
def test_the_system_preference_is_followed_until_a_theme_is_chosen(
    workspace: Any,
    scheme: Qt.ColorScheme,
    contrast_preference: Qt.ContrastPreference,
    expected: str,
) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    hints = NoSystemPreference(scheme, contrast_preference)
    assert system_theme_name(hints) == expected
    restore = restore_look(app, app.font())
    try:
        following = Appearance(app, hints=hints, parent=workspace.window)
        assert following.chosen_theme is None
        assert following.theme_name == expected
        assert application_theme() == THEMES[expected]
        chosen = Appearance(app, theme="light", hints=hints, parent=workspace.window)
        assert chosen.theme is LIGHT
    finally:
        restore()


def _play_some(workspace: Any) -> None:
    workspace.open_scenario("hard-drop")
    player = workspace.player
    player.choose_decision(Decision.REJECT)
    player.flag_list.set_checked("irreversible", True)
    player.confidence_box.setCurrentIndex(3)
    player.submit()


@pytest.mark.parametrize(
    ("name", "chart_theme"),
    [
        ("light", QChart.ChartTheme.ChartThemeLight),
        ("dark", QChart.ChartTheme.ChartThemeDark),
        ("high-contrast", QChart.ChartTheme.ChartThemeHighContrast),
    ],
)
def test_charts_follow_the_theme(
    workspace: Any,
    appearance: Appearance,
    qtbot: Any,
    tmp_path: Path,
    name: str,
    chart_theme: QChart.ChartTheme,
) -> None:
    _play_some(workspace)
    workspace.show_page(DASHBOARD)
    appearance.set_theme(name)
    settle(qtbot)
    theme = THEMES[name]
    shown = [card for card in workspace.dashboard.cards.values() if card.view.isVisible()]
    assert shown
    for card in shown:
        chart = card.chart
        assert chart.theme() == chart_theme, card.key
        assert chart.backgroundBrush().color().name() == theme.surface, card.key
    save_screenshot(workspace.window, tmp_path / f"dashboard-{name}.png")


def test_rendered_markdown_follows_the_theme(
    workspace: Any, appearance: Appearance, qtbot: Any, tmp_path: Path
) -> None:
    workspace.open_lesson("least-privilege")
    reader = workspace.lessons.reader
    assert f"color: {LIGHT.text}" in reader.document().defaultStyleSheet()
    for name in ("dark", "high-contrast"):
        appearance.set_theme(name)
        settle(qtbot)
        theme = THEMES[name]
        sheet = reader.document().defaultStyleSheet()
        assert f"color: {theme.text}" in sheet
        assert f"background-color: {theme.surface_alt}" in sheet
        # Re-rendered with the new colours, the lesson is all still there.
        assert "Grant what is missing" in reader.toPlainText()
        save_screenshot(workspace.window, tmp_path / f"lesson-{name}.png")


@pytest.mark.parametrize("name", list(THEMES))
def test_the_player_in_every_theme(
    workspace: Any, appearance: Appearance, qtbot: Any, tmp_path: Path, name: str
) -> None:
    appearance.set_theme(name)
    workspace.open_scenario("two-step-grant")
    player = workspace.player
    player.choose_decision(Decision.REJECT)
    player.submit()
    settle(qtbot)
    frame = player.verdict_label.parentWidget()
    # The verdict's words keep their colour against their panel in every theme.
    colour = player.verdict_label.palette().color(QPalette.ColorRole.WindowText).name()
    assert colour == THEMES[name].right
    save_screenshot(workspace.window, tmp_path / f"player-{name}.png")
    assert frame.property("verdict") == "right"

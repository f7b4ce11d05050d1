"""Themes and text size: light, dark and high contrast, and a text scale up to 200 %.

Each theme is a value of ``style.Theme``; applying one gives the application the Fusion
style, the theme's palette and the stylesheet built from it (``style.apply_theme``).
The application palette then says which theme is on, so views that draw their own
colours (rendered Markdown, charts) read it from there instead of from a global.

The text scale multiplies the application font's point size; widgets with a text role
get their relative sizes again, so headings grow with the body text.

``Appearance`` holds the choice, applies it, offers it in an "Appearance" menu with the
shortcuts Ctrl+= / Ctrl+- / Ctrl+0, and hands every change to a callback that remembers
it (the settings file). Until the trainee chooses a theme, it follows the system's
colour scheme and contrast preference where Qt reports them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QCoreApplication, QObject, QRectF, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QColor,
    QFont,
    QGuiApplication,
    QKeySequence,
    QPainter,
    QPalette,
    QPen,
)
from PySide6.QtWidgets import (
    QApplication,
    QMainWindow,
    QMenu,
    QProxyStyle,
    QStyle,
    QStyleFactory,
    QStyleOption,
    QToolButton,
    QWidget,
)

from app.ui.i18n import QT_TRANSLATE_NOOP
from app.ui.style import LIGHT, Theme, apply_theme, refresh_text_roles

if TYPE_CHECKING:
    from app.services.settings import Settings

_log = logging.getLogger(__name__)

LIGHT_NAME = "light"
DARK_NAME = "dark"
HIGH_CONTRAST_NAME = "high-contrast"

DARK = Theme(
    window="#15181c",
    surface="#1e2227",
    surface_alt="#2a3037",
    text="#e8ebef",
    muted_text="#b0b8c3",
    border="#4a525d",
    accent="#7cb3e6",
    accent_text="#0b1622",
    accent_soft="#22384d",
    progress="#3f6d96",
    focus="#ffa45c",
    bubble="#1b2632",
    bubble_border="#3b5670",
    avatar="#7cb3e6",
    right="#7ad695",
    right_soft="#16301f",
    wrong="#ff8f85",
    wrong_soft="#3b1a17",
    caution="#f2c462",
    caution_soft="#352b11",
)

# Black and white with saturated signals, after the system high-contrast schemes; the
# focus colour is used for nothing else.
HIGH_CONTRAST = Theme(
    window="#000000",
    surface="#000000",
    surface_alt="#1c1c1c",
    text="#ffffff",
    muted_text="#ffffff",
    border="#ffffff",
    accent="#1aebff",
    accent_text="#000000",
    accent_soft="#00474f",
    progress="#1aebff",
    focus="#ffff00",
    bubble="#000000",
    bubble_border="#ffffff",
    avatar="#1aebff",
    right="#3ff23f",
    right_soft="#000000",
    wrong="#ff7b7b",
    wrong_soft="#000000",
    caution="#ffb43c",
    caution_soft="#000000",
)

THEMES: dict[str, Theme] = {
    LIGHT_NAME: LIGHT,
    DARK_NAME: DARK,
    HIGH_CONTRAST_NAME: HIGH_CONTRAST,
}

THEME_LABELS: dict[str, str] = {
    LIGHT_NAME: QT_TRANSLATE_NOOP("Appearance", "&Light"),
    DARK_NAME: QT_TRANSLATE_NOOP("Appearance", "&Dark"),
    HIGH_CONTRAST_NAME: QT_TRANSLATE_NOOP("Appearance", "&High contrast"),
}

# The text scales offered, from 100 % to 200 %.
TEXT_SCALES = (1.0, 1.1, 1.25, 1.5, 1.75, 2.0)
MIN_TEXT_SCALE = TEXT_SCALES[0]
MAX_TEXT_SCALE = TEXT_SCALES[-1]

Remember = Callable[[str | None, float], object]


class _ContrastHints(Protocol):
    def contrastPreference(self) -> Qt.ContrastPreference: ...  # noqa: N802


class SystemHints(Protocol):
    """What ``QStyleHints`` tells about the system's look (a stub in tests)."""

    def colorScheme(self) -> Qt.ColorScheme: ...  # noqa: N802

    def accessibility(self) -> _ContrastHints: ...


def theme_named(name: str | None) -> Theme:
    """The theme called ``name``; the light theme for an unknown name."""
    return THEMES.get(name or LIGHT_NAME, LIGHT)


def name_of(theme: Theme) -> str:
    """The name of a registered theme (``"light"`` for any other)."""
    for name, known in THEMES.items():
        if known == theme:
            return name
    return LIGHT_NAME


def is_dark(theme: Theme) -> bool:
    """Whether ``theme`` draws light text on a dark ground."""
    return QColor(theme.window).lightnessF() < QColor(theme.text).lightnessF()


def theme_for_palette(palette: QPalette) -> Theme:
    """The registered theme whose palette this is (by its window and text colours).

    Falls back to the light theme, so a view never ends up without colours.
    """
    window = palette.color(QPalette.ColorRole.Window).name()
    text = palette.color(QPalette.ColorRole.WindowText).name()
    for theme in THEMES.values():
        if theme.window == window and theme.text == text:
            return theme
    return LIGHT


def application_theme() -> Theme:
    """The theme the application shows now, read from its palette."""
    return theme_for_palette(QGuiApplication.palette())


def system_theme_name(hints: SystemHints) -> str:
    """The theme the system asks for: high contrast, dark, or else light.

    Qt reports ``Unknown`` and ``NoPreference`` where the platform does not say (and
    offscreen), which gives the light theme.
    """
    if hints.accessibility().contrastPreference() == Qt.ContrastPreference.HighContrast:
        return HIGH_CONTRAST_NAME
    if hints.colorScheme() == Qt.ColorScheme.Dark:
        return DARK_NAME
    return LIGHT_NAME


def clamp_scale(scale: float) -> float:
    """``scale`` kept between 100 % and 200 %."""
    return min(MAX_TEXT_SCALE, max(MIN_TEXT_SCALE, float(scale)))


class OutlinedIndicators(QProxyStyle):
    """Fusion, with check boxes and radio buttons outlined so they stand out in every
    theme: Fusion derives their outline from the window colour, which vanishes on the
    black of the high-contrast theme and nearly so on the dark one."""

    def __init__(self) -> None:
        super().__init__(QStyleFactory.create("Fusion"))

    def drawPrimitive(  # noqa: N802
        self,
        element: QStyle.PrimitiveElement,
        option: QStyleOption,
        painter: QPainter,
        widget: QWidget | None = None,
    ) -> None:
        super().drawPrimitive(element, option, painter, widget)
        radio = element == QStyle.PrimitiveElement.PE_IndicatorRadioButton
        if not radio and element != QStyle.PrimitiveElement.PE_IndicatorCheckBox:
            return
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, radio)
        painter.setPen(QPen(option.palette.color(QPalette.ColorRole.PlaceholderText), 1.0))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        rect = QRectF(option.rect).adjusted(0.5, 0.5, -1.5, -1.5)
        if radio:
            painter.drawEllipse(rect)
        else:
            painter.drawRect(rect)
        painter.restore()


def _tr(text: str) -> str:
    return QCoreApplication.translate("Appearance", text)


class Appearance(QObject):
    """The theme and text size of the application, applied, offered and remembered.

    ``theme`` is a name from ``THEMES`` or ``None`` (not chosen: follow the system).
    ``remember(theme, text_scale)`` is called after every change the trainee makes.

    Signals:
        changed(): the theme or the text size changed (after it was applied).
    """

    changed = Signal()

    def __init__(
        self,
        app: QApplication,
        *,
        theme: str | None = None,
        text_scale: float = 1.0,
        remember: Remember | None = None,
        hints: SystemHints | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._app = app
        self._remember = remember
        self._hints: SystemHints = hints if hints is not None else app.styleHints()
        self._chosen = theme if theme in THEMES else None
        self._scale = clamp_scale(text_scale)
        self._base_font = QFont(app.font())
        self.menu: QMenu | None = None
        self._theme_actions: dict[str, QAction] = {}
        self._follow_action: QAction | None = None
        self._size_action: QAction | None = None
        if hints is None:
            # While the trainee has not chosen, follow the system when it changes.
            style_hints = app.styleHints()
            style_hints.colorSchemeChanged.connect(self._system_changed)
            style_hints.accessibility().contrastPreferenceChanged.connect(self._system_changed)
        self._apply()

    # State

    @property
    def chosen_theme(self) -> str | None:
        """The theme the trainee chose, or ``None`` while following the system."""
        return self._chosen

    @property
    def theme_name(self) -> str:
        """The name of the theme shown."""
        return self._chosen or system_theme_name(self._hints)

    @property
    def theme(self) -> Theme:
        """The theme shown."""
        return theme_named(self.theme_name)

    @property
    def text_scale(self) -> float:
        """The text size, as a factor of the normal size (1.0 to 2.0)."""
        return self._scale

    # Changing it

    def set_theme(self, name: str | None) -> None:
        """Show the theme ``name`` (``None``: follow the system) and remember it."""
        self._chosen = name if name in THEMES else None
        self._apply()
        self._remember_choice()

    def set_text_scale(self, scale: float) -> None:
        """Scale every text to ``scale`` times its normal size (kept within 1.0-2.0)."""
        self._scale = clamp_scale(scale)
        self._apply()
        self._remember_choice()

    def larger_text(self) -> None:
        """The next larger text size (what Ctrl+= does)."""
        larger = [s for s in TEXT_SCALES if s > self._scale + 1e-6]
        self.set_text_scale(larger[0] if larger else MAX_TEXT_SCALE)

    def smaller_text(self) -> None:
        """The next smaller text size (what Ctrl+- does)."""
        smaller = [s for s in TEXT_SCALES if s < self._scale - 1e-6]
        self.set_text_scale(smaller[-1] if smaller else MIN_TEXT_SCALE)

    def normal_text(self) -> None:
        """The normal text size (what Ctrl+0 does)."""
        self.set_text_scale(MIN_TEXT_SCALE)

    def _system_changed(self, *_: object) -> None:
        if self._chosen is None:
            self._apply()

    def _remember_choice(self) -> None:
        if self._remember is not None:
            self._remember(self._chosen, self._scale)

    def _apply(self) -> None:
        font = QFont(self._base_font)
        size = self._base_font.pointSizeF()
        if size > 0:
            font.setPointSizeF(round(size * self._scale, 2))
        self._app.setFont(font)
        # After the font: setting the style sheet again re-polishes every widget, and a
        # widget the style sheet polished takes a new application font only then.
        apply_theme(self._app, self.theme)
        self._app.setStyle(OutlinedIndicators())
        for widget in self._app.topLevelWidgets():
            refresh_text_roles(widget)
        self._update_menu()
        self.changed.emit()

    # The menu

    def build_menu(self, parent: QWidget | None = None) -> QMenu:
        """The "Appearance" menu: the themes, following the system, and the text size."""
        menu = QMenu(_tr("&Appearance"), parent)
        menu.setObjectName("appearanceMenu")
        group = QActionGroup(menu)
        group.setExclusive(True)
        self._follow_action = QAction(_tr("&Follow the system"), menu)
        self._follow_action.setCheckable(True)
        self._follow_action.triggered.connect(lambda: self.set_theme(None))
        group.addAction(self._follow_action)
        menu.addAction(self._follow_action)
        for name, label in THEME_LABELS.items():
            action = QAction(_tr(label), menu)
            action.setCheckable(True)
            action.triggered.connect(lambda _checked=False, n=name: self.set_theme(n))
            group.addAction(action)
            menu.addAction(action)
            self._theme_actions[name] = action
        menu.addSeparator()
        self._size_action = menu.addAction("")
        self._size_action.setEnabled(False)
        for text, keys, slot in (
            (_tr("Lar&ger text"), ("Ctrl+=", "Ctrl++"), self.larger_text),
            (_tr("&Smaller text"), ("Ctrl+-",), self.smaller_text),
            (_tr("&Normal text size"), ("Ctrl+0",), self.normal_text),
        ):
            action = QAction(text, menu)
            action.setShortcuts([QKeySequence(k) for k in keys])
            # Everywhere in the window, whatever page or control has the focus.
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.triggered.connect(slot)
            menu.addAction(action)
        self.menu = menu
        self._update_menu()
        return menu

    def install(self, window: QMainWindow) -> QToolButton | None:
        """Add the "Appearance" button to the window's navigation bar, and its shortcuts
        to the window; returns the button (``None`` when the window has no toolbar)."""
        menu = self.build_menu(window)
        # The shortcuts work without opening the menu.
        window.addActions(menu.actions())
        toolbar = getattr(window, "navigation", None)
        if toolbar is None:
            return None
        toolbar.addAction(menu.menuAction())
        button = toolbar.widgetForAction(menu.menuAction())
        if not isinstance(button, QToolButton):
            return None
        button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        button.setObjectName("appearanceButton")
        button.setAccessibleName(_tr("Appearance"))
        button.setAccessibleDescription(_tr("Theme and text size"))
        button.setToolTip(_tr("Theme and text size (Ctrl+= larger, Ctrl+- smaller)"))
        # With large text not every entry fits: the toolbar's "more" button lists the
        # rest, and keyboard and screen-reader users must be able to reach it too.
        more = toolbar.findChild(QToolButton, "qt_toolbar_ext_button")
        if more is not None:
            more.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            more.setAccessibleName(_tr("More navigation"))
            more.setToolTip(_tr("The navigation entries that do not fit"))
        return button

    def _update_menu(self) -> None:
        if self.menu is None:
            return
        if self._chosen is None and self._follow_action is not None:
            self._follow_action.setChecked(True)
        elif self._chosen in self._theme_actions:
            self._theme_actions[self._chosen].setChecked(True)
        if self._size_action is not None:
            self._size_action.setText(
                _tr("Text size: {percent} %").format(percent=round(self._scale * 100))
            )


def install_appearance(
    app: QApplication,
    window: QMainWindow,
    data_dir: Path,
    settings_in_use: Callable[[], Settings | None],
) -> Appearance:
    """Apply the theme and text size saved in ``data_dir`` and add their controls to
    ``window``.

    Changes are saved through ``settings_in_use()`` (the open records' settings, so that
    their next save keeps the choice), or straight to the file before they are open.
    """
    from app.services.settings import Settings, read_appearance

    theme, text_scale = read_appearance(data_dir)

    def remember(chosen: str | None, scale: float) -> None:
        settings = settings_in_use() or Settings.in_data_dir(data_dir)
        settings.theme = chosen
        settings.text_scale = scale
        try:
            settings.save()
        except OSError as error:
            # The look still changes for this session; only remembering it failed.
            _log.warning("could not save the appearance settings: %s", error)

    appearance = Appearance(
        app, theme=theme, text_scale=text_scale, remember=remember, parent=window
    )
    appearance.install(window)
    return appearance

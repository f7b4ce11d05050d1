"""Shared pieces for the accessibility tests: walking screens, roles, clipping, pseudo text."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QAccessible, QFont, QTextDocumentFragment
from PySide6.QtGui import Qt as GuiQt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractScrollArea,
    QAbstractSpinBox,
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QGraphicsView,
    QLabel,
    QLineEdit,
    QListView,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QTabBar,
    QTableView,
    QTextBrowser,
    QTextEdit,
    QToolButton,
    QTreeView,
    QWidget,
)

from app.core.model import ContentLibrary, Decision
from app.ui.i18n import without_pseudo_text
from app.ui.main_window import DASHBOARD, LESSONS, PROBLEMS
from app.ui.player import initials
from app.ui.style import apply_theme, refresh_text_roles
from app.ui.themes import Appearance

Role = QAccessible.Role

# The roles a screen reader should hear for each kind of control, most specific first.
EXPECTED_ROLES: tuple[tuple[type[QWidget], frozenset[QAccessible.Role]], ...] = (
    (QRadioButton, frozenset({Role.RadioButton})),
    (QCheckBox, frozenset({Role.CheckBox})),
    # A checkable push button is a toggle: Qt reports it as a check box.
    (QPushButton, frozenset({Role.Button, Role.CheckBox, Role.ButtonMenu})),
    (QToolButton, frozenset({Role.Button, Role.CheckBox, Role.ButtonMenu, Role.ButtonDropDown})),
    (QComboBox, frozenset({Role.ComboBox})),
    (QLineEdit, frozenset({Role.EditableText})),
    (QAbstractSpinBox, frozenset({Role.SpinBox})),
    (QTreeView, frozenset({Role.Tree})),
    (QTableView, frozenset({Role.Table})),
    (QListView, frozenset({Role.List})),
    (QTextBrowser, frozenset({Role.StaticText, Role.EditableText})),
    (QTextEdit, frozenset({Role.EditableText, Role.StaticText})),
    (QPlainTextEdit, frozenset({Role.EditableText, Role.StaticText})),
    (QTabBar, frozenset({Role.PageTabList})),
    # Charts: a named graphics view whose description holds the numbers.
    (QGraphicsView, frozenset({Role.Client, Role.Graphic, Role.Chart})),
)


def expected_roles(widget: QWidget) -> frozenset[QAccessible.Role] | None:
    for kind, roles in EXPECTED_ROLES:
        if isinstance(widget, kind):
            return roles
    return None


def describe(widget: QWidget) -> str:
    text = widget.text() if hasattr(widget, "text") and callable(widget.text) else ""
    name = widget.objectName()
    return f"{type(widget).__name__}{f' #{name}' if name else ''} {str(text)[:40]!r}"


def is_tab_stop(widget: QWidget) -> bool:
    """Whether Tab can put the keyboard focus on ``widget`` itself (not on a proxy)."""
    focusable = widget.focusPolicy() & Qt.FocusPolicy.TabFocus
    return bool(focusable) and widget.isEnabled() and widget.focusProxy() is None


def control_problems(root: QWidget) -> list[str]:
    """Focusable, visible, enabled controls under ``root`` without an accessible name,
    or whose accessible role does not fit the kind of control."""
    problems = []
    for widget in [root, *root.findChildren(QWidget)]:
        if not is_tab_stop(widget) or not widget.isVisibleTo(root):
            continue
        interface = QAccessible.queryAccessibleInterface(widget)
        if interface is None:
            problems.append(f"{describe(widget)}: no accessible interface")
            continue
        if not interface.text(QAccessible.Text.Name).strip():
            problems.append(f"{describe(widget)}: no accessible name")
        roles = expected_roles(widget)
        role = interface.role()
        if roles is None:
            # An unknown control must at least not present itself as a bare widget.
            if role in (Role.Client, Role.NoRole, Role.Pane):
                problems.append(f"{describe(widget)}: generic role {role.name}")
        elif role not in roles:
            problems.append(f"{describe(widget)}: role {role.name}")
    return problems


def clipped_texts(root: QWidget) -> list[str]:
    """Visible text under ``root`` that does not fit: a label or button smaller than its
    text, an input too short for a line, a text view hiding lines it cannot scroll to,
    or a control cut off by a parent that cannot scroll in that direction."""
    clipped = []
    for widget in [root, *root.findChildren(QWidget)]:
        if not widget.isVisible():
            continue
        if isinstance(widget, QLabel | QAbstractButton):
            if isinstance(widget, QLabel) and not widget.text() and widget.pixmap().isNull():
                continue
            clipped += _own_size_problems(widget)
        elif isinstance(widget, QLineEdit | QComboBox | QAbstractSpinBox):
            clipped += _own_size_problems(widget)
        elif isinstance(widget, QScrollArea):
            # A page scrolls down, never sideways: something in it would not shrink.
            if widget.horizontalScrollBar().isVisible():
                clipped.append(f"{describe(widget)}: scrolls sideways")
            continue
        elif isinstance(widget, QTextEdit | QPlainTextEdit):
            for bar in (widget.verticalScrollBar(), widget.horizontalScrollBar()):
                # A few pixels of rounding are not a hidden line.
                if bar.maximum() > 3 and not bar.isVisible():
                    clipped.append(f"{describe(widget)}: text hidden beyond {bar.maximum()}px")
        else:
            continue
        if cut := _cut_by_parent(widget, root):
            clipped.append(f"{describe(widget)}: {cut}")
    return clipped


def _own_size_problems(widget: QWidget) -> list[str]:
    size = widget.size()
    hint = widget.minimumSizeHint()
    if isinstance(widget, QLabel) and widget.wordWrap():
        needed_height = widget.heightForWidth(size.width())
        if needed_height > size.height() + 1 or hint.width() > size.width() + 1:
            return [
                f"{describe(widget)}: {size.width()}x{size.height()} needs "
                f"{hint.width()} wide, {needed_height} high"
            ]
    elif hint.width() > size.width() + 1 or hint.height() > size.height() + 1:
        return [
            f"{describe(widget)}: {size.width()}x{size.height()} needs "
            f"{hint.width()}x{hint.height()}"
        ]
    return []


def _cut_by_parent(widget: QWidget, root: QWidget) -> str:
    """How an ancestor (up to ``root``) cuts ``widget`` off, or "" when none does.

    A scroll area's viewport may hide part of its content in a direction it scrolls:
    that part is reachable, and only the rest is followed further up.
    """
    rect = widget.rect()
    child = widget
    while child is not root and child.parentWidget() is not None:
        parent = child.parentWidget()
        rect = rect.translated(child.pos())
        bounds = parent.rect()
        area = parent.parentWidget()
        if isinstance(area, QAbstractScrollArea) and area.viewport() is parent:
            always_off = Qt.ScrollBarPolicy.ScrollBarAlwaysOff
            if area.horizontalScrollBarPolicy() != always_off:
                rect.setLeft(max(rect.left(), bounds.left()))
                rect.setRight(min(rect.right(), bounds.right()))
            if area.verticalScrollBarPolicy() != always_off:
                rect.setTop(max(rect.top(), bounds.top()))
                rect.setBottom(min(rect.bottom(), bounds.bottom()))
            if rect.isEmpty():
                return ""  # scrolled out of sight, not cut off
        if rect.left() < bounds.left() - 1 or rect.right() > bounds.right() + 1:
            return f"cut off horizontally by {describe(parent)}"
        if rect.top() < bounds.top() - 1 or rect.bottom() > bounds.bottom() + 1:
            return f"cut off vertically by {describe(parent)}"
        child = parent
    return ""


def settle(qtbot: Any) -> None:
    """Let layouts, deferred deletions and polishing finish."""
    for _ in range(3):
        QApplication.processEvents()
        QApplication.sendPostedEvents(None, 0)
    qtbot.wait(1)


def save_screenshot(widget: QWidget, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert widget.grab().save(str(path)), f"could not save {path}"
    return path


# Screens


@dataclass
class Screen:
    name: str
    root: QWidget


def correct_number(player: Any) -> int:
    step = player.step
    return player.revision_order.index(step.correct_revision_index) + 1


def main_screens(workspace: Any) -> Iterator[Screen]:
    """Bring each main screen to the front in turn; yields it with the widget to check.

    The player is visited in every phase: deciding (with a check made and the hint
    taken), revising, the consequence, and the debrief.
    """
    window = workspace.window
    workspace.go_home()
    yield Screen("home", window)
    workspace.open_lesson("least-privilege")
    assert window.current_page_key() == LESSONS
    yield Screen("lessons", window)
    workspace.show_page(PROBLEMS)
    yield Screen("problems", window)

    player = workspace.player
    workspace.open_scenario("hard-drop")
    player.run_check(player.step.checks[0])
    player.take_hint()
    player.choose_decision(Decision.REJECT)
    player.flag_list.set_checked("irreversible", True)
    yield Screen("player-deciding", window)
    player.submit()
    yield Screen("player-feedback", window)

    workspace.open_scenario("two-step-grant")
    player.choose_decision(Decision.REJECT)
    player.submit()
    player.continue_()
    player.choose_decision(Decision.REVISE)
    player.choose_revision(correct_number(player))
    yield Screen("player-revising", window)
    player.submit()
    player.continue_()
    yield Screen("player-debrief", window)

    workspace.show_page(DASHBOARD)
    yield Screen("dashboard", window)


def profile_dialogs(workspace: Any) -> Iterator[Screen]:
    """The first-start profile dialog, and both pages of "Switch profile"."""
    from app.ui.profile_dialog import ProfileDialog

    first = ProfileDialog(workspace.training, first_start=True, parent=workspace.window)
    first.show()
    assert not first.form.validate()  # shows why: a display name is needed
    yield Screen("profile-first-start", first)
    first.reject()
    switch = workspace.switch_profile()
    yield Screen("switch-profile", switch)
    switch.new_button.click()
    yield Screen("switch-profile-new", switch)
    switch.done(QDialog.DialogCode.Rejected)


# Pseudo-translation


def content_words(library: ContentLibrary, *extra: str) -> set[str]:
    """Every word that content or user data can put on screen, lower-cased."""
    texts: list[str] = list(extra)
    for scenario in library.scenarios.values():
        texts += [
            scenario.title,
            scenario.summary,
            scenario.assistant,
            initials(scenario.assistant),
        ]
        for step in scenario.steps:
            texts += [revision.text for revision in step.revisions]
            texts += [check.label for check in step.checks]
    for flag in library.red_flags.values():
        texts += [flag.title, flag.question]
    for lesson in library.lessons.values():
        texts += [lesson.title, lesson.summary]
    for track in library.tracks.values():
        texts += [track.title, track.summary]
    texts += [str(problem) for problem in library.problems]
    return {word.lower() for text in texts for word in WORD.findall(text)}


WORD = re.compile(r"[A-Za-z][A-Za-z'’]+")


def shown_texts(root: QWidget) -> list[tuple[QWidget, str]]:
    """What a person reads under ``root``: labels, buttons, combo and list entries,
    headers, window titles and the accessible names of controls."""
    found: list[tuple[QWidget, str]] = []
    for widget in [root, *root.findChildren(QWidget)]:
        if not widget.isVisible():
            continue
        if widget.isWindow() and widget.windowTitle():
            found.append((widget, widget.windowTitle()))
        if isinstance(widget, QLabel | QAbstractButton):
            text = widget.text()
            if GuiQt.mightBeRichText(text):
                text = QTextDocumentFragment.fromHtml(text).toPlainText()
            found.append((widget, text))
        if isinstance(widget, QComboBox):
            found += [(widget, widget.itemText(i)) for i in range(widget.count())]
        if isinstance(widget, QLineEdit) and widget.placeholderText():
            found.append((widget, widget.placeholderText()))
        if isinstance(widget, QAbstractItemView) and widget.model() is not None:
            found += [(widget, text) for text in _model_texts(widget)]
        if is_tab_stop(widget):
            found.append((widget, widget.accessibleName()))
    return [(widget, text) for widget, text in found if text.strip()]


def _model_texts(view: QAbstractItemView) -> list[str]:
    model = view.model()
    texts = []
    columns = model.columnCount(QModelIndex()) if isinstance(view, QTreeView | QTableView) else 1
    for column in range(columns):
        header = model.headerData(column, Qt.Orientation.Horizontal)
        if isinstance(header, str) and isinstance(view, QTreeView | QTableView):
            texts.append(header)

    def walk(parent: QModelIndex) -> None:
        for row in range(model.rowCount(parent)):
            for column in range(columns):
                value = model.index(row, column, parent).data()
                if isinstance(value, str):
                    texts.append(value)
            walk(model.index(row, 0, parent))

    walk(QModelIndex())
    return texts


def untranslated_texts(root: QWidget, allowed: set[str]) -> list[str]:
    """Texts under ``root`` with words that are neither pseudo-translated nor content."""
    problems = []
    for widget, text in shown_texts(root):
        rest = without_pseudo_text(text)
        stray = [w for w in WORD.findall(rest) if w.lower() not in allowed]
        if stray:
            problems.append(f"{describe(widget)}: {text!r} (untranslated: {' '.join(stray)})")
    return problems


def scaled_font(base: QFont, scale: float) -> QFont:
    font = QFont(base)
    font.setPointSizeF(base.pointSizeF() * scale)
    return font


def restore_look(app: QApplication, font: QFont) -> Callable[[], None]:
    """A function that puts back the application's font and the default look (Fusion,
    the light palette and style sheet) that every interface test starts from."""

    def restore() -> None:
        app.setFont(font)
        apply_theme(app)

    return restore


class NoSystemPreference:
    """Stands in for ``QStyleHints``: the system states no colour scheme or contrast."""

    def __init__(
        self,
        scheme: Qt.ColorScheme = Qt.ColorScheme.Unknown,
        contrast: Qt.ContrastPreference = Qt.ContrastPreference.NoPreference,
    ) -> None:
        self.scheme = scheme
        self.contrast = contrast

    def colorScheme(self) -> Qt.ColorScheme:
        return self.scheme

    def accessibility(self) -> NoSystemPreference:
        return self

    def contrastPreference(self) -> Qt.ContrastPreference:
        return self.contrast


def appearance_for(workspace: Any) -> Iterator[Appearance]:
    """The workspace's Appearance control, at the light theme and 100 %; the
    application's look is put back afterwards for the tests that follow.

    Test modules make it a fixture: ``yield from appearance_for(workspace)``.
    """
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    restore = restore_look(app, QFont(app.font()))
    look = Appearance(app, hints=NoSystemPreference(), parent=workspace.window)
    look.install(workspace.window)
    yield look
    restore()
    for widget in app.topLevelWidgets():
        refresh_text_roles(widget)

"""The main window shell: navigation, a stack of pages and a status bar.

This module imports only Qt and the UI's own light modules, so the window can be shown
before the content loader and the database are imported. The pages are added later by
the workspace.
"""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence, QPaintEvent
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QStackedWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from app import APP_NAME
from app.ui.elided_label import ElidedLabel
from app.ui.style import set_text_role

HOME = "home"
LESSONS = "lessons"
PROBLEMS = "problems"
PLAYER = "player"
DASHBOARD = "dashboard"
MANAGER = "manager"
ROOM = "room"
LOADING = "loading"

# Navigation entries: page key, label with mnemonic, shortcut.
NAVIGATION = (
    (HOME, QT_TRANSLATE_NOOP("MainWindow", "&Home"), "Ctrl+1"),
    (LESSONS, QT_TRANSLATE_NOOP("MainWindow", "&Lessons"), "Ctrl+2"),
    (PROBLEMS, QT_TRANSLATE_NOOP("MainWindow", "Content &problems"), "Ctrl+3"),
    (DASHBOARD, QT_TRANSLATE_NOOP("MainWindow", "&My progress"), "Ctrl+4"),
    (MANAGER, QT_TRANSLATE_NOOP("MainWindow", "Mana&ger"), "Ctrl+5"),
    (ROOM, QT_TRANSLATE_NOOP("MainWindow", "&Room"), "Ctrl+6"),
)


class LoadingPage(QWidget):
    """What the window shows while content and records load.

    Signals:
        painted(): emitted once, after the page was first painted.
    """

    painted = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._painted = False
        layout = QVBoxLayout(self)
        layout.addStretch(2)
        title = QLabel(APP_NAME)
        set_text_role(title, "title")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message = QLabel(self.tr("Loading the scenarios and your records…"))
        set_text_role(self.message, "caption")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        layout.addWidget(title)
        layout.addWidget(self.message)
        layout.addStretch(3)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            self.painted.emit()


class MainWindow(QMainWindow):
    """The Think Twice window: a navigation bar, pages in a stack, a status bar.

    Signals:
        first_painted(): the window has been painted for the first time.
        page_requested(str): the trainee chose a page in the navigation.
        switch_profile_requested(): the trainee asked to switch profile.
        team_database_requested(): the trainee asked for the Team database window.
        closing(): the window is about to close.
    """

    first_painted = Signal()
    page_requested = Signal(str)
    switch_profile_requested = Signal()
    team_database_requested = Signal()
    closing = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(APP_NAME)
        self.setObjectName("mainWindow")
        self._pages: dict[str, QWidget] = {}
        self._page_actions: dict[str, QAction] = {}
        self._problem_count = 0

        self.stack = QStackedWidget(self)
        self.setCentralWidget(self.stack)
        self.loading_page = LoadingPage()
        self.loading_page.painted.connect(self.first_painted)
        self.add_page(LOADING, self.loading_page)

        self.navigation = self._build_navigation()
        self.trainee_label = QLabel()
        self.trainee_label.setAccessibleName(self.tr("Trainee"))
        # A long path is shortened on screen (whole in its tooltip), never widening the window.
        self.database_label = ElidedLabel()
        self.database_label.setAccessibleName(self.tr("Database location"))
        self.database_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        status = self.statusBar()
        status.setSizeGripEnabled(False)
        status.addWidget(self.trainee_label)
        status.addPermanentWidget(self.database_label)
        self.set_trainee(None)
        self.set_navigation_enabled(False)

    def _build_navigation(self) -> QToolBar:
        toolbar = QToolBar(self.tr("Navigation"), self)
        toolbar.setObjectName("navigation")
        toolbar.setMovable(False)
        toolbar.setFloatable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        toolbar.setContextMenuPolicy(Qt.ContextMenuPolicy.PreventContextMenu)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, toolbar)
        group = QActionGroup(self)
        group.setExclusive(True)
        for key, untranslated, shortcut in NAVIGATION:
            label = self.tr(str(untranslated))
            action = QAction(label, self)
            action.setCheckable(True)
            action.setShortcut(QKeySequence(shortcut))
            action.setToolTip(f"{label.replace('&', '')} ({shortcut})")
            action.triggered.connect(lambda _checked=False, k=key: self.page_requested.emit(k))
            group.addAction(action)
            toolbar.addAction(action)
            self._page_actions[key] = action
        spacer = QWidget()
        spacer.setSizePolicy(
            spacer.sizePolicy().Policy.Expanding, spacer.sizePolicy().Policy.Preferred
        )
        toolbar.addWidget(spacer)
        self.switch_profile_action = QAction(self.tr("S&witch profile…"), self)
        self.switch_profile_action.setShortcut(QKeySequence("Ctrl+Shift+P"))
        self.switch_profile_action.setToolTip(self.tr("Switch trainee profile (Ctrl+Shift+P)"))
        self.switch_profile_action.triggered.connect(self.switch_profile_requested)
        toolbar.addAction(self.switch_profile_action)
        # Always enabled: it is the way to a server that could not be reached at start.
        self.team_database_action = QAction(self.tr("&Team database…"), self)
        self.team_database_action.setToolTip(self.tr("Choose the team database server"))
        self.team_database_action.triggered.connect(self.team_database_requested)
        toolbar.addAction(self.team_database_action)
        actions = [*self._page_actions.values(), self.switch_profile_action]
        for action in [*actions, self.team_database_action]:
            button = toolbar.widgetForAction(action)
            if button is not None:
                # Toolbar buttons take no focus by default; keyboard users need them.
                button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
                button.setAccessibleName(action.text().replace("&", "").rstrip("…"))
        return toolbar

    def add_page(self, key: str, page: QWidget) -> None:
        """Put ``page`` in the stack under ``key`` (replacing an earlier one)."""
        old = self._pages.get(key)
        if old is not None:
            self.stack.removeWidget(old)
            old.deleteLater()
        self._pages[key] = page
        self.stack.addWidget(page)

    def page(self, key: str) -> QWidget:
        """The page added under ``key``."""
        return self._pages[key]

    def show_page(self, key: str) -> None:
        """Bring the page ``key`` to the front and mark it in the navigation."""
        self.stack.setCurrentWidget(self._pages[key])
        action = self._page_actions.get(key)
        if action is not None:
            action.setChecked(True)
        else:
            for other in self._page_actions.values():
                # No navigation entry is "current" while, for example, the player is open.
                group = other.actionGroup()
                if group is not None and group.checkedAction() is other:
                    group.setExclusionPolicy(QActionGroup.ExclusionPolicy.ExclusiveOptional)
                    other.setChecked(False)
                    group.setExclusionPolicy(QActionGroup.ExclusionPolicy.Exclusive)

    def current_page_key(self) -> str | None:
        """The key of the page in front."""
        current = self.stack.currentWidget()
        for key, page in self._pages.items():
            if page is current:
                return key
        return None

    def set_navigation_enabled(self, enabled: bool) -> None:
        """Enable the navigation once there is something to navigate to."""
        for action in self._page_actions.values():
            action.setEnabled(enabled)
        self.switch_profile_action.setEnabled(enabled)

    def set_problem_count(self, count: int) -> None:
        """Show how many content problems there are next to their navigation entry."""
        self._problem_count = count
        action = self._page_actions[PROBLEMS]
        if count:
            action.setText(self.tr("Content &problems ({count})").format(count=count))
            action.setToolTip(
                self.tr("{count} content file problem(s) (Ctrl+3)").format(count=count)
            )
        else:
            action.setText(self.tr("Content &problems"))
            action.setToolTip(self.tr("Content problems (Ctrl+3)"))
        button = self.navigation.widgetForAction(action)
        if button is not None:
            button.setAccessibleName(action.text().replace("&", ""))

    @property
    def problem_count(self) -> int:
        """The count shown in the navigation."""
        return self._problem_count

    def navigation_action(self, key: str) -> QAction:
        """The navigation action of a page (for tests and keyboard hints)."""
        return self._page_actions[key]

    def set_trainee(self, name: str | None) -> None:
        """Show who is training in the status bar."""
        self.trainee_label.setText(
            self.tr("Trainee: {name}").format(name=name) if name else self.tr("No trainee selected")
        )

    def set_database_location(self, location: str) -> None:
        """Show where answers are kept in the status bar."""
        self.database_label.setText(self.tr("Records: {location}").format(location=location))
        self.database_label.setToolTip(location)

    def show_loading(self, message: str) -> None:
        """Bring the loading page back with ``message`` (for example while retrying)."""
        self.loading_page.message.setText(message)
        self.show_page(LOADING)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.closing.emit()
        super().closeEvent(event)

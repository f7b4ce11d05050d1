"""Starting the desktop app: the window first, then content and records.

Only Qt, the core and the window shell are imported before the first paint; the service
layer (SQLAlchemy, Alembic, the content loader, Markdown) is imported once the window is
on screen, so the app feels instant.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication, QMessageBox

from app import APP_NAME
from app.ui.i18n import install_translations
from app.ui.main_window import MainWindow
from app.ui.paths import configure_application_identity
from app.ui.style import apply_theme
from app.ui.themes import install_appearance

if TYPE_CHECKING:
    from PySide6.QtCore import QUrl

    from app.core.records import Profile
    from app.services.bootstrap import AppConfig, AppContext
    from app.services.credentials import KeyringPasswords
    from app.services.team_database import SavedTeamDatabase
    from app.ui.team_database_dialog import TeamDatabaseDialog
    from app.ui.workspace import Workspace

_log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_TIMEOUT = 3
SMOKE_TEST_TIMEOUT_SECONDS = 30.0
# Set to "1" only by tests: commands on standard input drive the app (app/ui/test_driver.py).
TEST_DRIVER_VARIABLE = "THINKTWICE_TEST_DRIVER"
# When set, the first paint prints "first-paint rss_kb=N" for the start-up benchmark.
FIRST_PAINT_MARKER_VARIABLE = "THINKTWICE_FIRST_PAINT_MARKER"

ExceptHook = Callable[[type[BaseException], BaseException, TracebackType | None], object]


def _say(message: str) -> None:
    print(f"thinktwice: {message}", file=sys.stderr, flush=True)


def _peak_rss_kb() -> int:
    """This process's peak resident memory in KiB (0 where the platform cannot say)."""
    try:
        import resource
    except ImportError:  # Windows
        return 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak  # macOS counts bytes


def _describe(error: BaseException) -> str:
    text = str(error).strip()
    return text or type(error).__name__


class Launcher(QObject):
    """Loads content and records after the window's first paint, then sets up the trainee.

    Signals:
        loaded(): the workspace is ready (trainee and scenario handled as asked).
        failed(str): loading failed; the message says why.
    """

    loaded = Signal()
    failed = Signal(str)

    def __init__(
        self,
        app: QApplication,
        window: MainWindow,
        config: AppConfig,
        *,
        profile_name: str | None = None,
        scenario_id: str | None = None,
        smoke_test: bool = False,
        open_url: Callable[[QUrl], object] | None = None,
    ) -> None:
        super().__init__(window)
        self._app = app
        self._window = window
        self._config = config
        self._profile_name = profile_name
        self._scenario_id = scenario_id
        self._smoke_test = smoke_test
        self._open_url = open_url
        self.context: AppContext | None = None
        self.workspace: Workspace | None = None
        self.failure_box: QMessageBox | None = None
        self.exit_code: int | None = None
        self.passwords: KeyringPasswords | None = None
        """Where team database passwords are kept (default: the system keyring)."""
        window.first_painted.connect(self._after_first_paint)
        window.team_database_requested.connect(self.open_team_database)

    def _after_first_paint(self) -> None:
        if os.environ.get(FIRST_PAINT_MARKER_VARIABLE):
            print(f"first-paint rss_kb={_peak_rss_kb()}", flush=True)
        # Let the paint reach the screen before the heavy imports start.
        QTimer.singleShot(0, self.load)

    def finish(self, code: int) -> None:
        """Leave the event loop with ``code`` (the first code given wins)."""
        if self.exit_code is None:
            self.exit_code = code
        self._app.exit(self.exit_code)

    def load(self) -> None:
        """Open content and records; on failure explain and offer Retry or Quit."""
        self.failure_box = None
        self._window.show_loading("Loading the scenarios and your records…")
        try:
            from app.services.bootstrap import open_context

            context = open_context(self._config, passwords=self._password_store())
        except Exception as error:
            _log.debug("opening the records failed", exc_info=True)
            if not self._ask_for_password(error):
                self._open_failed(error)
            return
        self.context = context
        self._set_up(context)
        from app.ui.recovery import announce_open_state

        # Read-only, or on a network share: say so (the smoke test prints it instead).
        announce_open_state(self._window, context, say=_say if self._smoke_test else None)

    def _password_store(self) -> KeyringPasswords:
        if self.passwords is None:
            from app.services.credentials import KeyringPasswords

            self.passwords = KeyringPasswords()
        return self.passwords

    def _ask_for_password(self, error: Exception) -> bool:
        """After a refused login to a server whose address holds no password, ask for it.

        Returns whether the question was asked (the answer retries the start, declining
        shows the failure as usual).
        """
        from app.services.credentials import is_server_url, split_password
        from app.services.errors import DatabaseLoginFailed

        if self._smoke_test or not isinstance(error, DatabaseLoginFailed):
            return False
        url = self._config.effective_database_url()
        if not is_server_url(url) or split_password(url).password is not None:
            return False
        from app.ui.team_database_dialog import ask_for_password

        store = self._password_store()
        self._window.show_loading("The team database asks for a password.")
        ask_for_password(
            self._window,
            url,
            store,
            refused=self._config.database_password_for(url, store) is not None,
            on_password=self._retry_with_password,
            on_cancel=lambda: self._open_failed(error),
        )
        return True

    def _retry_with_password(self, password: str) -> None:
        from dataclasses import replace

        # In memory only, for this session; never written anywhere.
        self._config = replace(self._config, database_password=password)
        QTimer.singleShot(0, self.load)

    def open_team_database(self) -> TeamDatabaseDialog:
        """Open the Team database window (the choice applies from the next start)."""
        from app.services.settings import Settings
        from app.ui.team_database_dialog import open_team_database

        # The open context's settings, so that its next save keeps this choice.
        settings = (
            self.context.settings
            if self.context is not None
            else Settings.in_data_dir(self._config.data_dir)
        )

        def saved(result: SavedTeamDatabase) -> None:
            if self.context is None and result.session_password is not None:
                from dataclasses import replace

                self._config = replace(self._config, database_password=result.session_password)

        return open_team_database(
            self._window,
            settings,
            self._password_store(),
            command_line_url=self._config.database_url,
            on_saved=saved,
        )

    def _open_failed(self, error: Exception) -> None:
        message = _describe(error)
        self.failed.emit(message)
        if self._smoke_test:
            _say(message)
            self.finish(EXIT_FAILURE)
            return
        from app.ui.recovery import FaultBox

        # Offers what fits the fault: retry, open read-only, restore a backup, start anew.
        box = FaultBox(error, self._config, self._window)
        box.retry_requested.connect(self._retry)
        box.quit_requested.connect(lambda: self.finish(EXIT_FAILURE))
        self._window.show_loading(f"{APP_NAME} could not open your records.")
        self.failure_box = box
        box.open()

    def _retry(self, config: AppConfig) -> None:
        self._config = config
        QTimer.singleShot(0, self.load)

    def _set_up(self, context: AppContext) -> None:
        from app.ui.markdown_view import open_in_browser
        from app.ui.workspace import Workspace

        workspace = Workspace(self._window, context, open_url=self._open_url or open_in_browser)
        self.workspace = workspace
        workspace.quit_requested.connect(lambda: self.finish(EXIT_OK))

        profile = self._initial_profile(context)
        if self.exit_code is not None:
            return
        if profile is not None:
            workspace.set_profile(profile)

        scenario_id = self._scenario_id
        if scenario_id and scenario_id not in context.library.scenarios:
            if self._smoke_test:
                _say(f"there is no scenario with the id {scenario_id!r}")
                self.finish(EXIT_FAILURE)
                return
            workspace.open_scenario(scenario_id)  # explains, and stays on the home page
        elif scenario_id and (profile is not None or not self._smoke_test):
            workspace.open_scenario(scenario_id)  # asks for a profile first if needed

        if profile is None and not self._smoke_test and workspace.profile_dialog is None:
            workspace.ask_for_profile()
        self.loaded.emit()
        if self._smoke_test:
            QTimer.singleShot(0, lambda: self.finish(EXIT_OK))

    def _initial_profile(self, context: AppContext) -> Profile | None:
        from app.services.errors import StorageError

        training = context.training
        try:
            if self._profile_name is not None:
                return training.get_or_create_profile(self._profile_name)
            return training.last_profile()
        except (ValueError, StorageError) as error:
            what = (
                f"could not select the profile {self._profile_name!r}: {_describe(error)}"
                if self._profile_name is not None
                else f"could not read the last profile: {_describe(error)}"
            )
            if self._smoke_test:
                _say(what)
                self.finish(EXIT_FAILURE)
            else:
                from app.ui.notices import show_message

                show_message(self._window, f"{APP_NAME} {what}")
            return None


def _start_watchdog(seconds: float) -> threading.Timer:
    """Kill the process if the smoke test hangs, even inside a blocked event loop."""

    def expire() -> None:
        _say(f"the smoke test did not finish within {seconds:.0f} seconds")
        os._exit(EXIT_TIMEOUT)

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    return timer


def _install_excepthook(launcher: Launcher, window: MainWindow, smoke_test: bool) -> ExceptHook:
    previous = sys.excepthook

    def hook(kind: type[BaseException], error: BaseException, trace: TracebackType | None) -> None:
        if smoke_test:
            _say(f"unexpected error: {_describe(error)}")
            launcher.finish(EXIT_FAILURE)
            return
        previous(kind, error, trace)
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            APP_NAME,
            "Something went wrong.",
            QMessageBox.StandardButton.Ok,
            window,
        )
        box.setInformativeText(
            f"{_describe(error)}\n\nAnswers you submitted are saved. If this keeps "
            f"happening, restart {APP_NAME}."
        )
        box.finished.connect(box.deleteLater)
        box.open()

    sys.excepthook = hook
    return previous


def create_application() -> QApplication:
    """The QApplication, created once, with Think Twice's names and look."""
    configure_application_identity()
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    configure_application_identity()
    apply_theme(app)
    # Before any window is built: widgets translate their strings when created.
    install_translations(app)
    return app


def run_gui(
    config: AppConfig,
    *,
    profile_name: str | None = None,
    scenario_id: str | None = None,
    smoke_test: bool = False,
) -> int:
    """Run the desktop app until it is closed; returns the process exit code.

    ``profile_name`` selects that trainee (created when missing); ``scenario_id`` opens
    straight into that scenario. With ``smoke_test`` the app starts as usual, waits for
    the window's first paint and for content and records to load, then exits 0; any
    failure prints one line to standard error and exits non-zero, and a watchdog ends it
    after 30 seconds at the latest.
    """
    watchdog = _start_watchdog(SMOKE_TEST_TIMEOUT_SECONDS) if smoke_test else None
    app = create_application()
    window = MainWindow()
    screen = app.primaryScreen()
    if screen is not None:
        available = screen.availableGeometry()
        window.resize(
            min(1240, int(available.width() * 0.92)), min(820, int(available.height() * 0.9))
        )
    else:
        window.resize(1240, 820)
    launcher = Launcher(
        app,
        window,
        config,
        profile_name=profile_name,
        scenario_id=scenario_id,
        smoke_test=smoke_test,
    )
    if os.environ.get(TEST_DRIVER_VARIABLE) == "1":
        # Test-only: the end-to-end tests drive the real widgets through standard input
        # (see app/ui/test_driver.py). A normal start never imports that module.
        from app.ui.test_driver import attach_test_driver

        attach_test_driver(launcher)
    # The saved theme and text size, with the Appearance menu (Ctrl+= / Ctrl+- / Ctrl+0).
    install_appearance(
        app,
        window,
        config.data_dir,
        lambda: launcher.context.settings if launcher.context is not None else None,
    )
    previous_hook = _install_excepthook(launcher, window, smoke_test)
    window.show()
    try:
        code = app.exec()
    finally:
        sys.excepthook = previous_hook
        if watchdog is not None:
            watchdog.cancel()
        indicator = launcher.workspace.outbox_indicator if launcher.workspace else None
        if indicator is not None:
            indicator.stop()  # a send under way ends before its database is closed
        if launcher.context is not None:
            try:
                launcher.context.close()
            except Exception as error:  # closing must never turn a clean exit into a crash
                _say(f"could not close the database cleanly: {_describe(error)}")
    window.hide()
    return launcher.exit_code if launcher.exit_code is not None else code

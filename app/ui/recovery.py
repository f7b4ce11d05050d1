"""What the trainee sees when the records cannot be opened, and the ways forward.

``FaultBox`` explains a database fault in the fault's own words and offers what fits it:
Retry (locked, full disk, unreachable, failed upgrade), Open read-only (a file that
cannot be written), Restore a backup or Start a new database (a damaged file), and Quit.
Restoring and starting anew keep the damaged file, renamed aside. ``announce_open_state``
warns after a successful start when the database is read-only or on a network share.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app import APP_NAME
from app.services.errors import (
    DatabaseCorrupt,
    DatabaseLocked,
    DatabaseReadOnly,
    DatabaseTooNew,
    DatabaseUnreachable,
    DiskFull,
    MigrationFailed,
    StorageError,
)
from app.services.recovery import (
    Backup,
    database_file,
    list_backups,
    network_share_warning,
    restore_backup,
    start_new_database,
)
from app.ui.notices import show_message

if TYPE_CHECKING:
    from app.services.bootstrap import AppConfig, AppContext
    from app.ui.main_window import MainWindow

PATH_ROLE = Qt.ItemDataRole.UserRole


class RecoveryAction(StrEnum):
    """A way forward the fault box can offer."""

    RETRY = "retry"
    OPEN_READ_ONLY = "open-read-only"
    RESTORE_BACKUP = "restore-backup"
    START_NEW = "start-new"
    QUIT = "quit"


def advice(error: BaseException, config: AppConfig) -> str:
    """What the trainee can do about ``error``, in a sentence or two."""
    data_dir = config.data_dir
    if isinstance(error, MigrationFailed):
        where = (
            f" A copy made just before the upgrade is at {error.backup_path}."
            if error.backup_path is not None
            else ""
        )
        return (
            f"Your records are as they were before the upgrade.{where} Choose Retry to try "
            f"again, or Quit and report this message; an older version of {APP_NAME} can "
            "still open the database."
        )
    if isinstance(error, DatabaseReadOnly):
        return (
            "Choose Open read-only to look at your progress without saving anything, or "
            f"make the data folder {data_dir} writable (or start with --data-dir on another "
            "folder) and choose Retry."
        )
    if isinstance(error, DatabaseCorrupt):
        return (
            "Choose Restore a backup to go back to the last backup (made before each "
            "upgrade), or Start a new database. Either way the damaged file is kept "
            f"beside it, renamed, in {data_dir}."
        )
    if isinstance(error, DatabaseLocked):
        return (
            f"Close other copies of {APP_NAME} (and any program that has the database "
            "open), then choose Retry."
        )
    if isinstance(error, DiskFull):
        return "Free some space on that disk, then choose Retry."
    if isinstance(error, DatabaseTooNew):
        return f"Install the newer version of {APP_NAME}; nothing was changed."
    if isinstance(error, DatabaseUnreachable):
        return "When it can be reached again, choose Retry."
    return (
        f"Close other copies of {APP_NAME}, make sure the data folder {data_dir} is on a "
        "drive you can write to, then choose Retry."
    )


class FaultBox(QMessageBox):
    """Explains why the records could not be opened and offers the ways forward.

    Quit leaves every file as it is.

    Signals:
        retry_requested(object): open again with this ``AppConfig`` (the same one, or one
            asking for read-only, after a restore or a fresh start).
        quit_requested(): give up.
    """

    retry_requested = Signal(object)
    quit_requested = Signal()

    def __init__(
        self,
        error: BaseException,
        config: AppConfig,
        parent: QWidget | None = None,
        *,
        backups: Callable[[Path], list[Backup]] = list_backups,
    ) -> None:
        super().__init__(
            QMessageBox.Icon.Critical,
            APP_NAME,
            f"{APP_NAME} could not open your records.",
            QMessageBox.StandardButton.NoButton,
            parent,
        )
        self.setObjectName("faultBox")
        self.error = error
        self.config = config
        self._find_backups = backups
        self._database = database_file(config)
        self.chooser: BackupChooser | None = None
        self.confirmation: QMessageBox | None = None
        self.action_buttons: dict[RecoveryAction, QPushButton] = {}
        self._message = str(error).strip() or type(error).__name__
        self._offer_actions()
        self.show_problem()
        self.finished.connect(self._answered)

    def _offer_actions(self) -> None:
        is_file = self._database is not None
        if isinstance(self.error, DatabaseCorrupt) and is_file:
            restore = self.addButton("Restore a &backup…", QMessageBox.ButtonRole.ActionRole)
            restore.setEnabled(bool(self.backups()))
            if not restore.isEnabled():
                restore.setToolTip(f"There is no backup in {self.config.backup_dir} yet.")
            self.action_buttons[RecoveryAction.RESTORE_BACKUP] = restore
            self.action_buttons[RecoveryAction.START_NEW] = self.addButton(
                "Start a &new database", QMessageBox.ButtonRole.ActionRole
            )
        if isinstance(self.error, DatabaseReadOnly) and is_file and not self.config.read_only:
            self.action_buttons[RecoveryAction.OPEN_READ_ONLY] = self.addButton(
                "Open &read-only", QMessageBox.ButtonRole.ActionRole
            )
        retry = self.addButton(QMessageBox.StandardButton.Retry)
        self.action_buttons[RecoveryAction.RETRY] = retry
        quit_button = self.addButton(QMessageBox.StandardButton.Close)
        quit_button.setText("&Quit")
        self.action_buttons[RecoveryAction.QUIT] = quit_button
        self.setEscapeButton(quit_button)
        preferred = (
            RecoveryAction.OPEN_READ_ONLY
            if RecoveryAction.OPEN_READ_ONLY in self.action_buttons
            else RecoveryAction.RETRY
        )
        self.setDefaultButton(self.action_buttons[preferred])

    def backups(self) -> list[Backup]:
        """The backups on offer, newest first."""
        return self._find_backups(self.config.backup_dir)

    def show_problem(self, first: str = "") -> None:
        """Fill in the explanation; ``first`` is put before it (for example a failure)."""
        parts = [first] if first else []
        parts += [
            self._message,
            f"What you can do: {advice(self.error, self.config)} Quit leaves your files as "
            "they are.",
        ]
        warning = network_share_warning(self.config)
        if warning is not None:
            parts.append(warning)
        self.setInformativeText("\n\n".join(parts))

    def choose(self, action: RecoveryAction) -> None:
        """Press the button of ``action`` (what a click does)."""
        self.action_buttons[action].click()

    def _answered(self, _result: int) -> None:
        clicked = self.clickedButton()
        action = next((a for a, b in self.action_buttons.items() if b is clicked), None)
        if action is RecoveryAction.RETRY:
            self.retry_requested.emit(self.config)
        elif action is RecoveryAction.OPEN_READ_ONLY:
            self.retry_requested.emit(replace(self.config, read_only=True))
        elif action is RecoveryAction.RESTORE_BACKUP:
            self._ask_for_backup()
        elif action is RecoveryAction.START_NEW:
            self._confirm_start_new()
        else:
            self.quit_requested.emit()

    # Restore a backup

    def _ask_for_backup(self) -> None:
        chooser = BackupChooser(self.backups(), self.parentWidget())
        chooser.accepted.connect(lambda: self._restore(chooser.chosen()))
        chooser.rejected.connect(self.open)  # back to the choices
        chooser.finished.connect(chooser.deleteLater)
        self.chooser = chooser
        chooser.open()

    def _restore(self, backup: Path | None) -> None:
        self.chooser = None
        if backup is None:
            self.open()
            return
        try:
            restored = restore_backup(self.config, backup)
        except StorageError as error:
            self.show_problem(f"Restoring did not work: {error}")
            self.open()
            return
        kept = (
            f" The damaged file was kept as {restored.set_aside}."
            if restored.set_aside is not None
            else ""
        )
        show_message(
            self.parentWidget(),
            f"{APP_NAME} restored the backup {backup.name}.",
            f"Answers given after that backup was made are not in it.{kept}",
            icon=QMessageBox.Icon.Information,
        )
        self.retry_requested.emit(self.config)

    # Start a new database

    def _confirm_start_new(self) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Question,
            APP_NAME,
            "Start with a new, empty database?",
            QMessageBox.StandardButton.NoButton,
            self.parentWidget(),
        )
        box.setInformativeText(
            f"The damaged file {self._database} is kept, renamed, in the same folder; the "
            "answers in it will not show in the new database."
        )
        start = box.addButton("Start a &new database", QMessageBox.ButtonRole.AcceptRole)
        back = box.addButton("&Back", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(back)
        box.setEscapeButton(back)
        box.finished.connect(lambda _result: self._start_new(box.clickedButton() is start))
        box.finished.connect(box.deleteLater)
        self.confirmation = box
        box.open()

    def _start_new(self, confirmed: bool) -> None:
        self.confirmation = None
        if not confirmed:
            self.open()
            return
        try:
            set_aside = start_new_database(self.config)
        except StorageError as error:
            self.show_problem(f"Starting a new database did not work: {error}")
            self.open()
            return
        if set_aside is not None:
            show_message(
                self.parentWidget(),
                f"{APP_NAME} starts with a new database.",
                f"The damaged file was kept as {set_aside}.",
                icon=QMessageBox.Icon.Information,
            )
        self.retry_requested.emit(self.config)


class BackupChooser(QDialog):
    """Lists the backups, newest first, and lets the trainee pick one to restore."""

    def __init__(self, backups: list[Backup], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"{APP_NAME}: restore a backup")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        layout = QVBoxLayout(self)
        heading = QLabel("&Backups, newest first:")
        heading.setWordWrap(True)
        self.list_widget = QListWidget()
        self.list_widget.setAccessibleName("Backups, newest first")
        heading.setBuddy(self.list_widget)
        for backup in backups:
            item = QListWidgetItem(backup.describe())
            item.setData(PATH_ROLE, str(backup.path))
            item.setToolTip(str(backup.path))
            self.list_widget.addItem(item)
        if backups:
            self.list_widget.setCurrentRow(0)
        note = QLabel(
            "The damaged database is kept, renamed, beside the restored one. Answers given "
            "after the backup was made are not in it."
        )
        note.setWordWrap(True)
        self.buttons = QDialogButtonBox()
        self.restore_button = self.buttons.addButton(
            "&Restore", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.restore_button.setEnabled(bool(backups))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.list_widget.itemDoubleClicked.connect(lambda _item: self.accept())
        layout.addWidget(heading)
        layout.addWidget(self.list_widget)
        layout.addWidget(note)
        layout.addWidget(self.buttons)
        self.list_widget.setFocus()

    def paths(self) -> list[Path]:
        """The backups in the order shown."""
        return [
            Path(str(self.list_widget.item(row).data(PATH_ROLE)))
            for row in range(self.list_widget.count())
        ]

    def chosen(self) -> Path | None:
        """The backup selected, if any."""
        item = self.list_widget.currentItem()
        return None if item is None else Path(str(item.data(PATH_ROLE)))


def open_state_warnings(context: AppContext) -> list[str]:
    """Warnings about how the records were opened: read-only, or on a network share."""
    warnings: list[str] = []
    if context.database.read_only:
        warnings.append(
            f"The database {context.database.location} is open read-only: you can look at "
            "your progress, but answers cannot be saved until the file can be written to "
            f"and {APP_NAME} is started again."
        )
    share = network_share_warning(context.config)
    if share is not None:
        warnings.append(share)
    return warnings


def announce_open_state(
    window: MainWindow, context: AppContext, *, say: Callable[[str], None] | None = None
) -> list[str]:
    """Tell the trainee about :func:`open_state_warnings`; returns them.

    With ``say`` (the smoke test's way of reporting), each warning goes there instead of
    a message box.
    """
    warnings = open_state_warnings(context)
    if context.database.read_only:
        window.set_database_location(f"{context.database.location} (read-only)")
    for warning in warnings:
        if say is not None:
            say(f"warning: {warning}")
        else:
            show_message(window, f"{APP_NAME} warns:", warning)
    return warnings

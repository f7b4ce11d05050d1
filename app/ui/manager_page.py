"""The manager area: locked behind the passphrase, then completion, cohorts and transfers.

While locked the page shows only the passphrase panel, and no other trainee's record is
loaded. Unlocking gives a ``ManagerSession`` that the views use; "Lock", leaving the page
or switching the trainee profile ends it and forgets everything shown.
"""

from __future__ import annotations

import getpass
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QHideEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.model import ContentLibrary
from app.services.manager import ManagerService, ManagerSession, NextGroup
from app.services.training import TrainingService
from app.ui.manager_cohorts import CohortsView
from app.ui.manager_completion import CompletionView
from app.ui.manager_export import (
    BackgroundTask,
    ExportDialog,
    ExportOutcome,
    TransferRunner,
    default_folder,
)
from app.ui.manager_lock import PassphrasePanel
from app.ui.style import set_text_role

FALLBACK_ACTOR = "manager"


def default_actor() -> str:
    """The computer account's name, as a first guess at who the manager is."""
    try:
        return getpass.getuser() or FALLBACK_ACTOR
    except (OSError, KeyError):
        return FALLBACK_ACTOR


class ManagerPage(QWidget):
    """The "Manager" page: passphrase first, then the manager's views.

    Signals:
        unlocked(): the manager area was unlocked.
        locked(): the manager area was locked again.
        export_finished(object): an export ended (``ExportOutcome``).
        import_finished(object): an import ended (``ExportOutcome`` with its report).
        profiles_archived(object): "Start the next group" archived these profiles (a tuple
            of ``Profile``).
    """

    unlocked = Signal()
    locked = Signal()
    export_finished = Signal(object)
    import_finished = Signal(object)
    profiles_archived = Signal(object)

    def __init__(
        self,
        manager: ManagerService,
        training: TrainingService,
        library: ContentLibrary,
        *,
        actor: str | None = None,
        folder: Path | None = None,
        native_dialogs: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        """``folder`` is where file dialogs start; ``native_dialogs`` False uses Qt's own."""
        super().__init__(parent)
        self.setObjectName("managerPage")
        self._manager = manager
        self._library = library
        self._session: ManagerSession | None = None
        self._folder = folder
        self.native_dialogs = native_dialogs
        self.export_dialog: ExportDialog | None = None

        self.stack = QStackedWidget(self)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.stack)
        self.lock_panel = PassphrasePanel(manager, default_actor=actor or default_actor())
        self.lock_panel.unlocked.connect(self._unlocked)
        self.stack.addWidget(self.lock_panel)

        self.views = QWidget()
        self.stack.addWidget(self.views)
        layout = QVBoxLayout(self.views)
        layout.setContentsMargins(20, 16, 20, 16)
        top = QHBoxLayout()
        title = QLabel(self.tr("Manager area"))
        set_text_role(title, "title")
        self.who_label = QLabel()
        set_text_role(self.who_label, "caption")
        top.addWidget(title)
        top.addWidget(self.who_label, 1, Qt.AlignmentFlag.AlignBottom)
        self.export_button = QPushButton(self.tr("E&xport…"))
        self.export_button.setAccessibleName(self.tr("Export records"))
        self.export_button.setToolTip(self.tr("Export records (Ctrl+E)"))
        self.import_button = QPushButton(self.tr("&Import a bundle…"))
        self.import_button.setAccessibleName(self.tr("Import a records bundle"))
        self.lock_button = QPushButton(self.tr("Lock"))
        self.lock_button.setAccessibleName(self.tr("Lock the manager area"))
        self.lock_button.setToolTip(self.tr("Lock and return to trainee mode (Ctrl+L)"))
        for button in (self.export_button, self.import_button, self.lock_button):
            top.addWidget(button)
        self.export_button.clicked.connect(self.open_export_dialog)
        self.import_button.clicked.connect(self.choose_and_import)
        self.lock_button.clicked.connect(self.lock)
        layout.addLayout(top)

        self.completion = CompletionView(manager, training, library, self.session)
        self.cohorts = CohortsView(manager, library, self.session)
        self.tabs = QTabWidget()
        self.tabs.setAccessibleName(self.tr("Manager views"))
        self.tabs.addTab(self.completion, self.tr("Completion records"))
        self.tabs.addTab(self.cohorts, self.tr("Cohorts"))
        layout.addWidget(self.tabs, 1)
        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        set_text_role(self.result_label, "caption")
        layout.addWidget(self.result_label)
        self.completion.records_changed.connect(self._records_changed)
        self.cohorts.cohorts_changed.connect(self._cohorts_changed)
        self.cohorts.next_group_started.connect(self._next_group_started)

        for text, shortcut, slot in (
            (self.tr("Export records"), "Ctrl+E", self.open_export_dialog),
            (self.tr("Lock the manager area"), "Ctrl+L", self.lock),
        ):
            action = QAction(text, self.views)
            action.setShortcut(QKeySequence(shortcut))
            # Only while the manager's views are on screen, that is, while unlocked.
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.triggered.connect(slot)
            self.views.addAction(action)

        self.transfers = TransferRunner(manager, self)
        self.transfers.export_finished.connect(self._export_done)
        self.transfers.import_finished.connect(self._import_done)
        self.stack.setCurrentWidget(self.lock_panel)

    # Locking

    def session(self) -> ManagerSession | None:
        """The live manager session, or ``None`` while locked."""
        return self._session

    @property
    def is_unlocked(self) -> bool:
        return self._session is not None

    def prepare(self) -> None:
        """Show the passphrase panel (when locked) or fresh views (when unlocked)."""
        if self._session is None:
            self.stack.setCurrentWidget(self.lock_panel)
            self.lock_panel.prepare()
        else:
            self.refresh()

    def _unlocked(self, session: object) -> None:
        assert isinstance(session, ManagerSession)
        self._session = session
        self.who_label.setText(
            self.tr("Unlocked · changes are recorded as {actor}").format(actor=session.actor)
        )
        self.result_label.clear()
        self.stack.setCurrentWidget(self.views)
        self.refresh()
        self.completion.focus_table()
        self.unlocked.emit()

    def lock(self) -> None:
        """End the manager session and forget every record shown."""
        # A transfer under way stops first: it must not outlive the session.
        self.transfers.stop()
        session, self._session = self._session, None
        if session is not None:
            self._manager.lock(session)
        for dialog in (self.export_dialog, self.completion.dialog, self.cohorts.dialog):
            if dialog is not None and dialog.isVisible():
                dialog.reject()
        self.completion.clear()
        self.cohorts.clear()
        self.who_label.clear()
        self.result_label.clear()
        self.stack.setCurrentWidget(self.lock_panel)
        if self.isVisible():
            self.lock_panel.prepare()
        if session is not None:
            self.locked.emit()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not event.spontaneous():
            self.prepare()

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802
        # Leaving the page (not minimising the window) locks the manager area.
        super().hideEvent(event)
        if not event.spontaneous():
            self.lock()

    # Views

    def refresh(self) -> None:
        """Read cohorts and completion records again."""
        if self._session is None:
            return
        self.cohorts.refresh()
        self.completion.set_cohorts([c.name for c in self.cohorts.cohorts()])
        self.completion.refresh()

    def _records_changed(self) -> None:
        self.result_label.setText(self.tr("The event was recorded in the audit trail."))

    def _cohorts_changed(self) -> None:
        self.completion.set_cohorts([c.name for c in self.cohorts.cohorts()])
        self.completion.refresh()

    def _next_group_started(self, result: object) -> None:
        assert isinstance(result, NextGroup)
        self.result_label.setText(
            self.tr(
                "Archived “{cohort}” and {count} profile(s); their records are kept and "
                "stay exportable."
            ).format(cohort=result.cohort.name, count=len(result.archived_profiles))
        )
        self.profiles_archived.emit(result.archived_profiles)

    # Exports and imports

    def folder(self) -> Path:
        """Where file dialogs start."""
        return self._folder or default_folder()

    def open_export_dialog(self) -> ExportDialog | None:
        """Ask what to export and where; OK starts the export. ``None`` while locked."""
        if self._session is None or self.transfers.busy:
            return None
        cohorts = [c.name for c in self.cohorts.cohorts()]
        tracks = [(t.id, t.title) for t in self._library.tracks.values()]
        dialog = ExportDialog(
            cohorts, tracks, folder=self.folder(), native_dialogs=self.native_dialogs, parent=self
        )
        dialog.accepted.connect(lambda: self._start_export(dialog))
        dialog.finished.connect(dialog.deleteLater)
        dialog.finished.connect(lambda _code: setattr(self, "export_dialog", None))
        self.export_dialog = dialog
        dialog.open()
        return dialog

    def _start_export(self, dialog: ExportDialog) -> BackgroundTask | None:
        session = self._session
        if session is None:
            return None
        return self.transfers.export(session, dialog.request())

    def _export_done(self, outcome: object) -> None:
        assert isinstance(outcome, ExportOutcome)
        if outcome.succeeded:
            self.result_label.setText(
                self.tr("Exported {count} record(s) to {path}.").format(
                    count=outcome.count, path=outcome.path
                )
            )
        elif outcome.error == "":
            self.result_label.setText(
                self.tr("Export cancelled; {path} was left as it was.").format(path=outcome.path)
            )
        self.export_finished.emit(outcome)

    def choose_and_import(self) -> BackgroundTask | None:
        """Ask for a bundle file, then import it."""
        if self._session is None or self.transfers.busy:
            return None
        dialog = QFileDialog(self, self.tr("Import a records bundle"), str(self.folder()))
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptOpen)
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setOption(QFileDialog.Option.DontUseNativeDialog, not self.native_dialogs)
        dialog.setNameFilters([self.tr("Records bundles (*.zip *.json)"), self.tr("All files (*)")])
        if dialog.exec() != QDialog.DialogCode.Accepted or not dialog.selectedFiles():
            return None
        return self.import_bundle(Path(dialog.selectedFiles()[0]))

    def import_bundle(self, path: Path) -> BackgroundTask | None:
        """Import the bundle at ``path`` with a progress dialog, then show a summary."""
        session = self._session
        if session is None:
            return None
        return self.transfers.import_bundle(session, path)

    def _import_done(self, outcome: object) -> None:
        assert isinstance(outcome, ExportOutcome)
        report = outcome.report
        if report is not None:
            self.result_label.setText(
                self.tr(
                    "Imported {answers} answer(s) from {name}; {conflicts} conflict(s)."
                ).format(
                    answers=report.answers_added,
                    name=outcome.path.name,
                    conflicts=len(report.conflicts),
                )
            )
            self.refresh()
        self.import_finished.emit(outcome)

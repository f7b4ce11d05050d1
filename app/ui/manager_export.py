"""Exporting and importing records from the manager area, without freezing the window.

The export dialog chooses the format, the detail, the filters and the file; a file that
exists is replaced only after a yes. Every export is written to a temporary file in the
target folder and renamed over the target at the end, so a failure or a cancel leaves
the old file as it was. The work runs on a worker thread and feeds a progress dialog
through the services' progress callbacks; a PDF gathers its records on the thread and is
drawn on the interface thread (QtCharts and fonts live there).
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from PySide6.QtCore import QObject, QStandardPaths, Qt, QThread, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressDialog,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.services.bundles import MAX_BUNDLE_BYTES, ImportReport
from app.services.exports import Detail, ExportFormat
from app.services.manager import ManagerService, ManagerSession
from app.ui.manager_dialogs import DateChoice, confirm, utc_midnight
from app.ui.notices import show_message

_log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""Called with (done, total); a total of 0 means "unknown"."""

# Format, the extension its files get, whether the detail and the filters apply.
FORMAT_EXTENSIONS: dict[ExportFormat, str] = {
    ExportFormat.CSV: ".csv",
    ExportFormat.JSON: ".json",
    ExportFormat.XAPI: ".json",
    ExportFormat.PDF: ".pdf",
    ExportFormat.BUNDLE: ".zip",
}
KNOWN_EXTENSIONS = frozenset({*FORMAT_EXTENSIONS.values(), ".jsonl"})


class TaskCancelled(Exception):  # noqa: N818 (named for the condition)
    """The person cancelled the work from its progress dialog."""


def write_atomically(path: Path, write: Callable[[BinaryIO], int]) -> int:
    """Write through a temporary file in ``path``'s folder, then rename it over ``path``.

    On any failure (or a cancel) the temporary file is removed and ``path`` is untouched.
    """
    folder = path.parent
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "wb") as out:
            count = write(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return count


@dataclass(frozen=True, slots=True)
class ExportRequest:
    """What the export dialog asked for."""

    path: Path
    export_format: ExportFormat
    detail: Detail | None = None
    cohort: str | None = None
    track: str | None = None
    since: datetime | None = None


@dataclass(frozen=True, slots=True)
class ExportOutcome:
    """How an export or import ended: ``error`` is ``None`` on success, ``""`` on cancel."""

    path: Path
    count: int = 0
    error: str | None = None
    report: ImportReport | None = None

    @property
    def succeeded(self) -> bool:
        return self.error is None


class BackgroundTask(QThread):
    """Runs ``work(progress)`` on a worker thread and reports through signals.

    Signals:
        progressed(int, int): done and total (0: unknown).
        succeeded(object): the work's result.
        failed(str): the error's message; empty when cancelled.
    """

    progressed = Signal(int, int)
    succeeded = Signal(object)
    failed = Signal(str)

    def __init__(self, work: Callable[[Progress], object], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._work = work
        self._cancelled = False

    def cancel(self) -> None:
        """Stop at the next progress report."""
        self._cancelled = True

    def report(self, done: int, total: int) -> None:
        """The progress callback handed to the work."""
        if self._cancelled:
            raise TaskCancelled
        self.progressed.emit(done, total)

    def run(self) -> None:
        try:
            result = self._work(self.report)
        except TaskCancelled:
            self.failed.emit("")
        except Exception as error:  # everything must reach the interface thread as a message
            _log.warning("background work failed: %s", type(error).__name__)
            self.failed.emit(str(error) or type(error).__name__)
        else:
            self.succeeded.emit(result)


class ExportDialog(QDialog):
    """Format, detail, filters and destination of an export.

    OK ("Export") checks the destination, asks before replacing a file that exists, and
    accepts; the caller then runs :meth:`request`.
    """

    def __init__(
        self,
        cohorts: Sequence[str],
        tracks: Sequence[tuple[str, str]],
        *,
        folder: Path,
        native_dialogs: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Export records"))
        self.setObjectName("exportDialog")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self._native = native_dialogs
        self._folder = folder
        layout = QVBoxLayout(self)
        form = QFormLayout()
        layout.addLayout(form)

        self.format_combo = QComboBox()
        for export_format, text in (
            (ExportFormat.CSV, self.tr("CSV, for spreadsheets")),
            (ExportFormat.JSON, self.tr("JSON records")),
            (ExportFormat.XAPI, self.tr("xAPI statements, for a learning record store")),
            (ExportFormat.PDF, self.tr("PDF report with certificates")),
            (ExportFormat.BUNDLE, self.tr("Records bundle, to import on another machine")),
        ):
            self.format_combo.addItem(text, export_format.value)
        self.detail_combo = QComboBox()
        self.cohort_combo = QComboBox()
        self.cohort_combo.addItem(self.tr("All trainees"), None)
        for name in cohorts:
            self.cohort_combo.addItem(name, name)
        self.track_combo = QComboBox()
        self.track_combo.addItem(self.tr("All tracks"), None)
        for track_id, title in tracks:
            self.track_combo.addItem(title, track_id)
        self.since = DateChoice(self.tr("Only activity since"), None)
        self.path_edit = QLineEdit(
            str(folder / f"thinktwice-records{FORMAT_EXTENSIONS[ExportFormat.CSV]}")
        )
        self.browse_button = QPushButton(self.tr("&Browse…"))
        self.browse_button.setAccessibleName(self.tr("Choose the file"))
        self.browse_button.clicked.connect(self.browse)
        destination = QHBoxLayout()
        destination.addWidget(self.path_edit, 1)
        destination.addWidget(self.browse_button)

        rows = (
            (self.tr("&Format"), self.format_combo, self.tr("Format")),
            (self.tr("&Detail"), self.detail_combo, self.tr("Detail")),
            (self.tr("&Cohort"), self.cohort_combo, self.tr("Cohort")),
            (self.tr("&Track"), self.track_combo, self.tr("Track")),
        )
        for text, widget, name in rows:
            label = QLabel(text)
            label.setBuddy(widget)
            widget.setAccessibleName(name)
            form.addRow(label, widget)
        form.addRow(self.since)
        file_label = QLabel(self.tr("&Save to"))
        file_label.setBuddy(self.path_edit)
        self.path_edit.setAccessibleName(self.tr("File to save to"))
        form.addRow(file_label, destination)

        self.error_label = QLabel()
        self.error_label.setObjectName("errorText")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        layout.addWidget(self.error_label)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.export_button = self.buttons.addButton(
            self.tr("&Export"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.export_button.setAccessibleName(self.tr("Export"))
        self.export_button.setDefault(True)
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setAccessibleName(self.tr("Cancel"))
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

        self.format_combo.currentIndexChanged.connect(self._format_changed)
        self.path_edit.returnPressed.connect(self.submit)
        self._format_changed()
        self.resize(max(self.sizeHint().width(), 560), self.sizeHint().height())
        self.format_combo.setFocus()

    # Choices

    def export_format(self) -> ExportFormat:
        return ExportFormat(self.format_combo.currentData())

    def select_format(self, export_format: ExportFormat) -> None:
        self.format_combo.setCurrentIndex(self.format_combo.findData(export_format.value))

    def _format_changed(self) -> None:
        export_format = self.export_format()
        self.detail_combo.clear()
        if export_format is ExportFormat.CSV:
            self.detail_combo.addItem(self.tr("One row per trainee and track"), Detail.TRACKS.value)
            self.detail_combo.addItem(self.tr("One row per answer"), Detail.ANSWERS.value)
        elif export_format is ExportFormat.JSON:
            self.detail_combo.addItem(self.tr("Completion records and answers"), None)
            self.detail_combo.addItem(self.tr("Completion records only"), Detail.TRACKS.value)
            self.detail_combo.addItem(self.tr("Answers only"), Detail.ANSWERS.value)
        else:
            self.detail_combo.addItem(self.tr("Not used by this format"), None)
        self.detail_combo.setEnabled(export_format in (ExportFormat.CSV, ExportFormat.JSON))
        filters = export_format is not ExportFormat.BUNDLE
        self.track_combo.setEnabled(filters)
        self.since.setEnabled(filters)
        path = Path(self.path_edit.text().strip())
        if path.name and path.suffix.lower() in KNOWN_EXTENSIONS:
            self.path_edit.setText(str(path.with_suffix(FORMAT_EXTENSIONS[export_format])))

    def request(self) -> ExportRequest:
        """What to export, as chosen."""
        export_format = self.export_format()
        detail = self.detail_combo.currentData() if self.detail_combo.isEnabled() else None
        cohort = self.cohort_combo.currentData()
        track = self.track_combo.currentData() if self.track_combo.isEnabled() else None
        day = self.since.day() if self.since.isEnabled() else None
        return ExportRequest(
            path=Path(self.path_edit.text().strip()).expanduser(),
            export_format=export_format,
            detail=Detail(detail) if isinstance(detail, str) else None,
            cohort=cohort if isinstance(cohort, str) else None,
            track=track if isinstance(track, str) else None,
            since=utc_midnight(day) if day is not None else None,
        )

    def browse(self) -> Path | None:
        """Choose the file with a file dialog (the overwrite question comes on Export)."""
        dialog = QFileDialog(self, self.tr("Export records to"), str(self._folder))
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setFileMode(QFileDialog.FileMode.AnyFile)
        dialog.setOption(QFileDialog.Option.DontConfirmOverwrite, True)
        dialog.setOption(QFileDialog.Option.DontUseNativeDialog, not self._native)
        current = Path(self.path_edit.text().strip())
        if current.name:
            dialog.selectFile(str(current))
        if dialog.exec() != QDialog.DialogCode.Accepted or not dialog.selectedFiles():
            return None
        chosen = Path(dialog.selectedFiles()[0])
        self.path_edit.setText(str(chosen))
        return chosen

    def _show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.show()

    def submit(self) -> None:
        """Check the destination, ask before replacing a file, then accept."""
        path = self.request().path
        if not path.name:
            self._show_error(self.tr("Choose the file to export to."))
            self.path_edit.setFocus()
            return
        if path.is_dir():
            self._show_error(self.tr("{path} is a folder; name a file.").format(path=path))
            self.path_edit.setFocus()
            return
        if not path.parent.is_dir():
            self._show_error(
                self.tr("The folder {folder} does not exist.").format(folder=path.parent)
            )
            self.path_edit.setFocus()
            return
        if path.exists() and not confirm(
            self,
            self.tr("{name} exists. Replace it?").format(name=path.name),
            self.tr("The file in {folder} is replaced once the export is complete.").format(
                folder=path.parent
            ),
            yes=self.tr("&Replace"),
        ):
            self.path_edit.setFocus()
            return
        self.accept()


class TransferRunner(QObject):
    """Runs exports and imports on a worker thread behind a progress dialog.

    Signals:
        export_finished(object): an :class:`ExportOutcome`.
        import_finished(object): an :class:`ExportOutcome` carrying the ``ImportReport``.
    """

    export_finished = Signal(object)
    import_finished = Signal(object)

    def __init__(self, manager: ManagerService, parent_widget: QWidget) -> None:
        super().__init__(parent_widget)
        self._manager = manager
        self._parent = parent_widget
        self.task: BackgroundTask | None = None
        self.progress: QProgressDialog | None = None
        self._title = ""
        self._on_success: Callable[[object], None] = lambda _result: None
        self._on_failure: Callable[[str], None] = lambda _message: None

    @property
    def busy(self) -> bool:
        return self.task is not None

    def _start(
        self,
        title: str,
        work: Callable[[Progress], object],
        on_success: Callable[[object], None],
        on_failure: Callable[[str], None],
    ) -> BackgroundTask:
        progress = QProgressDialog(title, self.tr("Cancel"), 0, 0, self._parent)
        progress.setWindowTitle(title)
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setMinimumDuration(0)
        progress.setAutoClose(False)
        progress.setAutoReset(False)
        progress.setAccessibleName(title)
        task = BackgroundTask(work, self)
        progress.canceled.connect(task.cancel)
        # Bound slots of this object (which lives on the interface thread): the worker's
        # signals reach them queued, on the interface thread.
        task.progressed.connect(self._advance)
        task.succeeded.connect(self._succeeded)
        task.failed.connect(self._failed)
        self._title = title
        self._on_success = on_success
        self._on_failure = on_failure
        self.task = task
        self.progress = progress
        progress.show()
        task.start()
        return task

    @Slot(int, int)
    def _advance(self, done: int, total: int) -> None:
        progress = self.progress
        if progress is None:
            return
        if total > 0:
            progress.setLabelText(
                self.tr("{title}: {done} of {total}").format(
                    title=self._title, done=done, total=total
                )
            )
            progress.setRange(0, total)
            # Last: a modal progress dialog's setValue processes events, which may finish
            # the task and close this dialog.
            progress.setValue(min(done, total))
        elif done:
            progress.setLabelText(
                self.tr("{title}: {done} written").format(title=self._title, done=done)
            )

    def _finish(self) -> None:
        task, progress = self.task, self.progress
        if task is not None:
            task.wait()
            task.deleteLater()
        if progress is not None:
            progress.close()
            progress.deleteLater()
        self.task = None
        self.progress = None

    def stop(self) -> None:
        """Cancel the running work, wait for its thread and close its progress dialog.

        Used when the manager area locks (or the window closes) mid-transfer; the
        temporary file of an export is removed and the target left as it was.
        """
        task = self.task
        if task is None:
            return
        task.cancel()
        self._finish()

    @Slot(object)
    def _succeeded(self, result: object) -> None:
        if self.task is None:
            return  # stopped meanwhile
        self._finish()
        self._on_success(result)

    @Slot(str)
    def _failed(self, message: str) -> None:
        if self.task is None:
            return
        self._finish()
        self._on_failure(message)

    # Exports

    def export(self, session: ManagerSession, request: ExportRequest) -> BackgroundTask | None:
        """Start writing ``request``; ``export_finished`` tells how it ended."""
        if self.busy:
            return None
        title = self.tr("Exporting to {name}").format(name=request.path.name)

        def failed(message: str) -> None:
            self._export_failed(request, message)

        if request.export_format is ExportFormat.PDF:
            # QtCharts loads only when a PDF is made, never at start-up.
            from app.ui.pdf_reports import collect_report

            def gather(progress: Progress) -> object:
                progress(0, 0)
                return collect_report(
                    self._manager,
                    session,
                    cohort=request.cohort,
                    track=request.track,
                    since=request.since,
                )

            return self._start(
                title, gather, lambda report: self._draw_pdf(request, report), failed
            )

        def write(progress: Progress) -> object:
            return write_atomically(
                request.path, lambda out: self._write(session, request, out, progress)
            )

        return self._start(
            title,
            write,
            lambda count: self.export_finished.emit(
                ExportOutcome(request.path, count if isinstance(count, int) else 0)
            ),
            failed,
        )

    def _write(
        self, session: ManagerSession, request: ExportRequest, out: BinaryIO, progress: Progress
    ) -> int:
        suffix = request.path.suffix.lower()
        if request.export_format is ExportFormat.BUNDLE:
            progress(0, 0)
            return self._manager.export_bundle(
                session, out, cohort=request.cohort, as_zip=suffix == ".zip"
            )
        return self._manager.export(
            session,
            out,
            request.export_format,
            detail=request.detail,
            cohort=request.cohort,
            track=request.track,
            since=request.since,
            json_lines=suffix == ".jsonl",
            progress=lambda count: progress(count, 0),
        )

    def _draw_pdf(self, request: ExportRequest, report: object) -> None:
        from app.ui.pdf_reports import CohortReport, write_report_pdf

        assert isinstance(report, CohortReport)
        try:
            write_atomically(request.path, lambda out: write_report_pdf(report, out))
        except OSError as error:
            self._export_failed(request, str(error))
            return
        self.export_finished.emit(ExportOutcome(request.path, len(report.records)))

    def _export_failed(self, request: ExportRequest, message: str) -> None:
        if message:
            show_message(
                self._parent,
                self.tr("The export to {path} failed.").format(path=request.path),
                self.tr("{message}\n\nThe file was left as it was.").format(message=message),
            )
        self.export_finished.emit(ExportOutcome(request.path, error=message))

    # Imports

    def import_bundle(self, session: ManagerSession, path: Path) -> BackgroundTask | None:
        """Start importing the bundle at ``path``; ``import_finished`` tells how it ended."""
        if self.busy:
            return None
        try:
            if path.stat().st_size > MAX_BUNDLE_BYTES:
                raise ValueError(self.tr("The file is too large to be a records bundle."))
            data = path.read_bytes()
        except (OSError, ValueError) as error:
            message = error.strerror if isinstance(error, OSError) else str(error)
            self._import_failed(path, message or str(error))
            return None
        title = self.tr("Importing {name}").format(name=path.name)

        def work(progress: Progress) -> object:
            return self._manager.import_bundle(session, data, progress)

        def succeeded(report: object) -> None:
            assert isinstance(report, ImportReport)
            self._show_import_summary(path, report)
            self.import_finished.emit(ExportOutcome(path, report.answers_added, report=report))

        return self._start(title, work, succeeded, lambda m: self._import_failed(path, m))

    def _show_import_summary(self, path: Path, report: ImportReport) -> None:
        summary = self.tr(
            "Imported {answers} answer(s), {events} event(s) and {lessons} lesson read(s); "
            "{trainees} new trainee(s); {duplicates} already present."
        ).format(
            answers=report.answers_added,
            events=report.events_added,
            lessons=report.lessons_added,
            trainees=report.trainees_created,
            duplicates=report.duplicates,
        )
        lines = [summary]
        if report.conflicts:
            lines.append(
                self.tr("{count} conflict(s), left as they were:").format(
                    count=len(report.conflicts)
                )
            )
            lines.extend(f"• {conflict}" for conflict in report.conflicts)
        lines.extend(f"• {note}" for note in report.notes)
        show_message(
            self._parent,
            self.tr("{name} was imported.").format(name=path.name),
            "\n".join(lines),
        )

    def _import_failed(self, path: Path, message: str) -> None:
        if message:
            show_message(
                self._parent,
                self.tr("{name} was not imported.").format(name=path.name),
                message,
            )
        self.import_finished.emit(ExportOutcome(path, error=message))


def default_folder() -> Path:
    """Where exports go by default: the documents folder, else the home folder."""
    location = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    folder = Path(location) if location else Path.home()
    return folder if folder.is_dir() else Path.home()

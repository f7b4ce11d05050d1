"""Exports and imports from the manager area: keyboard only, atomic writes, the overwrite
question, progress without freezing, a file dialog, and importing a bundle.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any, BinaryIO

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QFileDialog

from app.services.exports import ExportFormat
from app.ui.main_window import MANAGER
from app.ui.manager_export import ExportDialog, ExportOutcome, TransferRunner
from app.ui.manager_page import ManagerPage
from tests.ui.manager_support import (
    PASSPHRASE,
    answer_next_modal,
    click_no,
    click_yes,
    play_track,
    unnamed_controls,
)

EXPORT_TIMEOUT_MS = 30000


def press(qtbot: Any, key: Any, modifier: Any = Qt.KeyboardModifier.NoModifier) -> None:
    target = QApplication.focusWidget()
    assert target is not None, "nothing has the keyboard focus"
    qtbot.keyClick(target, key, modifier)


def type_text(qtbot: Any, text: str) -> None:
    target = QApplication.focusWidget()
    assert target is not None
    qtbot.keyClicks(target, text)


@pytest.fixture
def page(workspace: Any, tmp_path: Path) -> ManagerPage:
    """The workspace's manager page, using Qt's own file dialogs and ``tmp_path``."""
    workspace.context.manager.set_passphrase(PASSPHRASE)
    play_track(workspace.training, workspace.profile, workspace.library, right=True)
    manager_page = workspace.manager_page
    manager_page.native_dialogs = False
    manager_page._folder = tmp_path
    return manager_page


def unlock(page: ManagerPage, workspace: Any) -> None:
    workspace.show_page(MANAGER)
    page.lock_panel.passphrase_edit.setText(PASSPHRASE)
    page.lock_panel.submit()
    assert page.is_unlocked


def test_a_manager_unlocks_and_exports_with_the_keyboard_alone(
    qtbot: Any, workspace: Any, page: ManagerPage, tmp_path: Path
) -> None:
    target = tmp_path / "records.json"
    qtbot.keyClick(workspace.window, Qt.Key.Key_5, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is page.lock_panel.passphrase_edit
    type_text(qtbot, PASSPHRASE)
    press(qtbot, Qt.Key.Key_Return)
    assert page.is_unlocked
    assert QApplication.focusWidget() is page.completion.table

    press(qtbot, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    dialog = page.export_dialog
    assert isinstance(dialog, ExportDialog)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.format_combo)
    assert unnamed_controls(dialog) == []
    press(qtbot, Qt.Key.Key_Down)  # CSV -> JSON
    assert dialog.export_format() is ExportFormat.JSON
    press(qtbot, Qt.Key.Key_S, Qt.KeyboardModifier.AltModifier)  # "Save to"
    assert QApplication.focusWidget() is dialog.path_edit
    press(qtbot, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    type_text(qtbot, str(target))
    with qtbot.waitSignal(page.export_finished, timeout=EXPORT_TIMEOUT_MS) as finished:
        press(qtbot, Qt.Key.Key_Return)
    outcome = finished.args[0]
    assert isinstance(outcome, ExportOutcome) and outcome.succeeded, outcome.error
    data = json.loads(target.read_text(encoding="utf-8"))
    (record,) = data["completion_records"]
    assert record["trainee_name"] == "Ada Example"
    assert record["status"] == "passed"
    assert "Exported" in page.result_label.text()
    assert page.transfers.progress is None, "the progress dialog closed"


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_an_existing_file_is_replaced_only_after_a_yes_and_atomically(
    qtbot: Any, workspace: Any, page: ManagerPage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "records.csv"
    target.write_text("the old export\n", encoding="utf-8")
    unlock(page, workspace)
    dialog = page.open_export_dialog()
    assert dialog is not None
    dialog.path_edit.setText(str(target))

    asked = answer_next_modal(qtbot, click_no)
    dialog.export_button.click()
    assert len(asked) == 1 and "records.csv exists" in asked[0]
    assert dialog.isVisible(), "No keeps the dialog open"
    assert target.read_text(encoding="utf-8") == "the old export\n"

    manager = workspace.context.manager
    real_export = manager.export
    seen_while_writing: dict[str, Any] = {}

    def watching_export(session: Any, out: BinaryIO, *args: Any, **kwargs: Any) -> int:
        count = real_export(session, out, *args, **kwargs)
        seen_while_writing["target"] = target.read_text(encoding="utf-8")
        seen_while_writing["temporary"] = leftovers(folder)
        return count

    monkeypatch.setattr(manager, "export", watching_export)
    answer_next_modal(qtbot, click_yes)
    with qtbot.waitSignal(page.export_finished, timeout=EXPORT_TIMEOUT_MS) as finished:
        dialog.export_button.click()
    assert finished.args[0].succeeded
    assert seen_while_writing["target"] == "the old export\n", "replaced only at the end"
    assert len(seen_while_writing["temporary"]) == 1, "written beside the target first"
    assert seen_while_writing["temporary"][0].startswith(".records.csv.")
    text = target.read_text(encoding="utf-8-sig")
    assert text.startswith("attempt_id,") or text.startswith("trainee_name,")
    assert "Ada Example" in text
    assert leftovers(folder) == []


def test_a_failed_export_leaves_the_old_file_and_no_temporary_file(
    qtbot: Any, workspace: Any, page: ManagerPage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "records.csv"
    target.write_text("the old export\n", encoding="utf-8")
    unlock(page, workspace)

    def failing_export(session: Any, out: BinaryIO, *args: Any, **kwargs: Any) -> int:
        out.write(b"half a file")
        raise ValueError("There is no cohort named 'Nowhere'.")

    monkeypatch.setattr(workspace.context.manager, "export", failing_export)
    monkeypatch.setattr("app.ui.manager_export.show_message", lambda *_args, **_kwargs: None)
    dialog = page.open_export_dialog()
    assert dialog is not None
    dialog.path_edit.setText(str(target))
    answer_next_modal(qtbot, click_yes)
    with qtbot.waitSignal(page.export_finished, timeout=EXPORT_TIMEOUT_MS) as finished:
        dialog.export_button.click()
    outcome = finished.args[0]
    assert not outcome.succeeded and "Nowhere" in outcome.error
    assert target.read_text(encoding="utf-8") == "the old export\n"
    assert leftovers(tmp_path) == []


def test_progress_is_fed_from_the_worker_thread(
    qtbot: Any, workspace: Any, page: ManagerPage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("app.services.exports.STREAM_BATCH_SIZE", 1)
    training, library = workspace.training, workspace.library
    for name in ("Bob", "Cy", "Dee"):
        play_track(training, training.create_profile(name), library, right=False)
    unlock(page, workspace)
    dialog = page.open_export_dialog()
    assert dialog is not None
    dialog.select_format(ExportFormat.CSV)
    dialog.detail_combo.setCurrentIndex(1)  # one row per answer
    dialog.path_edit.setText(str(tmp_path / "answers.csv"))
    labels: list[str] = []
    advance = TransferRunner._advance

    def recording_advance(runner: TransferRunner, done: int, total: int) -> None:
        dialog = runner.progress
        advance(runner, done, total)
        if dialog is not None:
            labels.append(dialog.labelText())

    monkeypatch.setattr(TransferRunner, "_advance", recording_advance)
    with qtbot.waitSignal(page.export_finished, timeout=EXPORT_TIMEOUT_MS) as finished:
        dialog.export_button.click()
    assert finished.args[0].succeeded
    assert finished.args[0].count == 4 * 3  # four trainees, three steps each
    assert any("written" in label for label in labels)


def test_the_destination_can_be_chosen_in_a_file_dialog(
    qtbot: Any, workspace: Any, page: ManagerPage, tmp_path: Path
) -> None:
    unlock(page, workspace)
    dialog = page.open_export_dialog()
    assert dialog is not None
    dialog.select_format(ExportFormat.XAPI)
    chosen = tmp_path / "statements.jsonl"

    def pick(file_dialog: Any) -> None:
        assert file_dialog.testOption(QFileDialog.Option.DontUseNativeDialog)
        file_dialog.selectFile(str(chosen))
        file_dialog.accept()

    answer_next_modal(qtbot, pick, kind=QFileDialog)
    assert dialog.browse() == chosen
    assert dialog.path_edit.text() == str(chosen)
    with qtbot.waitSignal(page.export_finished, timeout=EXPORT_TIMEOUT_MS):
        dialog.export_button.click()
    lines = chosen.read_text(encoding="utf-8").splitlines()
    assert lines and all(json.loads(line)["version"] == "1.0.3" for line in lines)


def test_a_pdf_report_is_exported_from_the_app(
    qtbot: Any, workspace: Any, page: ManagerPage, tmp_path: Path
) -> None:
    unlock(page, workspace)
    dialog = page.open_export_dialog()
    assert dialog is not None
    dialog.select_format(ExportFormat.PDF)
    assert dialog.path_edit.text().endswith(".pdf")
    assert not dialog.detail_combo.isEnabled()
    target = tmp_path / "report.pdf"
    dialog.path_edit.setText(str(target))
    with qtbot.waitSignal(page.export_finished, timeout=EXPORT_TIMEOUT_MS) as finished:
        dialog.export_button.click()
    assert finished.args[0].succeeded and finished.args[0].count == 1
    assert target.read_bytes().startswith(b"%PDF-")
    session = page.session()
    assert session is not None
    (certificate,) = workspace.context.manager.certificates(session)
    assert certificate.trainee_name == "Ada Example"


def test_a_bundle_from_another_machine_is_imported_with_progress_and_a_summary(
    qtbot: Any,
    workspace: Any,
    page: ManagerPage,
    tmp_path: Path,
    make_context: Any,
    pack: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    laptop = make_context(pack, tmp_path / "laptop")
    fay = laptop.training.create_profile("Fay Remote", "fay-9", "Field")
    attempts = play_track(laptop.training, fay, laptop.library, right=True)
    bundle = tmp_path / "fay.zip"
    with bundle.open("wb") as out:
        laptop.training.export_bundle(fay, out, as_zip=True)

    shown: list[tuple[str, str]] = []
    monkeypatch.setattr(
        "app.ui.manager_export.show_message",
        lambda _parent, text, details="", **_kw: shown.append((text, details)),
    )
    progress: list[tuple[int, int, int]] = []
    advance = TransferRunner._advance

    def recording_advance(runner: TransferRunner, done: int, total: int) -> None:
        dialog = runner.progress
        advance(runner, done, total)
        # (The dialog may have finished meanwhile: a modal progress dialog's setValue
        # processes events; it is deleted only once control is back in the event loop.)
        if dialog is not None:
            progress.append((done, total, dialog.maximum()))

    monkeypatch.setattr(TransferRunner, "_advance", recording_advance)
    unlock(page, workspace)

    def pick(file_dialog: Any) -> None:
        file_dialog.selectFile(str(bundle))
        file_dialog.accept()

    answer_next_modal(qtbot, pick, kind=QFileDialog)
    with qtbot.waitSignal(page.import_finished, timeout=EXPORT_TIMEOUT_MS) as finished:
        assert page.choose_and_import() is not None
    report = finished.args[0].report
    assert report is not None and report.answers_added == len(attempts)
    assert report.conflicts == []
    # The progress dialog followed the import: (done, total) with its range set to total.
    assert progress and progress[-1][1] > 0 and progress[-1][2] == progress[-1][1]
    (summary,) = shown
    assert "fay.zip was imported" in summary[0]
    assert f"Imported {len(attempts)} answer(s)" in summary[1]
    names = [r.trainee_name for r in page.completion.proxy.visible_records()]
    assert "Fay Remote" in names

    # The same bundle again changes nothing, and says so.
    with qtbot.waitSignal(page.import_finished, timeout=EXPORT_TIMEOUT_MS) as again:
        page.import_bundle(bundle)
    assert again.args[0].report.answers_added == 0
    assert again.args[0].report.duplicates >= len(attempts)
    assert "already present" in shown[-1][1]


def test_a_file_that_is_not_a_bundle_is_refused_with_a_message(
    qtbot: Any, workspace: Any, page: ManagerPage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown: list[str] = []
    monkeypatch.setattr(
        "app.ui.manager_export.show_message",
        lambda _parent, text, details="", **_kw: shown.append(f"{text} {details}"),
    )
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a bundle at all")
    unlock(page, workspace)
    with qtbot.waitSignal(page.import_finished, timeout=EXPORT_TIMEOUT_MS) as finished:
        page.import_bundle(junk)
    assert not finished.args[0].succeeded
    assert shown and "junk.zip was not imported" in shown[0]


def test_locking_mid_export_stops_it_and_leaves_the_old_file(
    qtbot: Any, workspace: Any, page: ManagerPage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "records.csv"
    target.write_text("the old export\n", encoding="utf-8")
    started = threading.Event()

    def endless_export(
        session: Any, out: BinaryIO, *args: Any, progress: Any, **kwargs: Any
    ) -> int:
        out.write(b"a partial file")
        started.set()
        for count in range(100_000):
            progress(count)  # raises once the export is cancelled
            time.sleep(0.005)
        return 0

    monkeypatch.setattr(workspace.context.manager, "export", endless_export)
    unlock(page, workspace)
    dialog = page.open_export_dialog()
    assert dialog is not None
    dialog.path_edit.setText(str(target))
    answer_next_modal(qtbot, click_yes)
    dialog.export_button.click()
    qtbot.waitUntil(started.is_set)
    assert page.transfers.busy
    page.lock()
    assert not page.is_unlocked and not page.transfers.busy
    assert target.read_text(encoding="utf-8") == "the old export\n"
    assert leftovers(tmp_path) == []

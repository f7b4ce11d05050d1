"""The fault dialogs: each database fault gets a clear message and its ways forward.

The dialogs are driven by pressing their buttons; the launcher tests start the app the way
run_gui does and check that a chosen way forward really gets the trainee going again.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox

from app.core.model import Decision
from app.services.bootstrap import AppConfig
from app.services.errors import (
    DatabaseCorrupt,
    DatabaseLocked,
    DatabaseReadOnly,
    DatabaseTooNew,
    DiskFull,
    MigrationFailed,
)
from app.ui.launch import Launcher
from app.ui.main_window import MainWindow
from app.ui.player import Phase
from app.ui.recovery import BackupChooser, FaultBox, RecoveryAction

LOAD_TIMEOUT_MS = 20000


def _texts(box: QMessageBox) -> set[str]:
    return {button.text() for button in box.buttons()}


def _visible_notices(window: MainWindow) -> list[QMessageBox]:
    return [
        box
        for box in window.findChildren(QMessageBox)
        if box.isVisible() and box.objectName() == "notice"
    ]


@pytest.fixture
def config(tmp_path: Path) -> AppConfig:
    return AppConfig(data_dir=tmp_path / "data")


@pytest.fixture
def window(qtbot: Any) -> MainWindow:
    shown = MainWindow()
    qtbot.addWidget(shown)
    shown.show()
    return shown


@pytest.fixture
def fault_box(window: MainWindow, config: AppConfig) -> Callable[..., FaultBox]:
    """Opens a fault box for an error and records the way forward chosen."""

    def make(error: Exception, chosen_config: AppConfig | None = None) -> FaultBox:
        box = FaultBox(error, chosen_config or config, window)
        box.retried: list[AppConfig] = []  # type: ignore[attr-defined]
        box.quitted: list[bool] = []  # type: ignore[attr-defined]
        box.retry_requested.connect(box.retried.append)  # type: ignore[attr-defined]
        box.quit_requested.connect(lambda: box.quitted.append(True))  # type: ignore[attr-defined]
        box.open()
        return box

    return make


@pytest.fixture
def damaged_with_backup(make_context: Callable[..., Any], pack: Path, config: AppConfig) -> Path:
    """A data folder whose database was backed up with Ada in it, then damaged."""
    context = make_context(pack, config.data_dir)
    context.training.create_profile("Ada Example")
    context.database.backup(config.backup_dir, label="manual")
    context.training.create_profile("Bob Example")
    context.close()
    database = config.data_dir / "thinktwice.db"
    for suffix in ("-wal", "-shm"):
        database.with_name(database.name + suffix).unlink(missing_ok=True)
    database.write_bytes(b"damaged beyond repair" * 500)
    return database


def _profiles(database: Path) -> list[str]:
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT display_name FROM trainee ORDER BY display_name")
        return [row[0] for row in rows]


# One dialog per fault, with the ways forward that fit it


def test_a_damaged_file_offers_restore_new_database_retry_and_quit(
    fault_box: Callable[..., FaultBox], config: AppConfig
) -> None:
    box = fault_box(DatabaseCorrupt("The database X is damaged.", location="X"))
    assert box.isVisible()
    assert box.text() == "Think Twice could not open your records."
    assert "The database X is damaged." in box.informativeText()
    assert "Restore a backup" in box.informativeText()
    assert _texts(box) == {"Restore a &backup…", "Start a &new database", "Retry", "&Quit"}
    restore = box.action_buttons[RecoveryAction.RESTORE_BACKUP]
    assert not restore.isEnabled(), "there is no backup yet"
    assert str(config.backup_dir) in restore.toolTip()


def test_a_read_only_file_offers_to_open_it_read_only(
    fault_box: Callable[..., FaultBox], config: AppConfig
) -> None:
    box = fault_box(DatabaseReadOnly("The database X cannot be written to.", location="X"))
    assert _texts(box) == {"Open &read-only", "Retry", "&Quit"}
    assert box.defaultButton() is box.action_buttons[RecoveryAction.OPEN_READ_ONLY]
    assert "Open read-only" in box.informativeText()
    box.choose(RecoveryAction.OPEN_READ_ONLY)
    assert box.retried == [AppConfig(data_dir=config.data_dir, read_only=True)]  # type: ignore[attr-defined]
    assert not box.isVisible()


def test_read_only_is_not_offered_again_once_open_read_only(
    fault_box: Callable[..., FaultBox], config: AppConfig
) -> None:
    read_only = AppConfig(data_dir=config.data_dir, read_only=True)
    box = fault_box(DatabaseReadOnly("Cannot be written.", location="X"), read_only)
    assert _texts(box) == {"Retry", "&Quit"}


@pytest.mark.parametrize(
    ("error", "advice"),
    [
        (DatabaseLocked("The database X is busy.", location="X"), "close other copies"),
        (DiskFull("The disk that holds X is full.", location="X"), "free some space"),
        (DatabaseTooNew("X was used by a newer version.", location="X"), "newer version"),
    ],
)
def test_retry_opens_again_with_the_same_configuration(
    fault_box: Callable[..., FaultBox], config: AppConfig, error: Exception, advice: str
) -> None:
    box = fault_box(error)
    assert _texts(box) == {"Retry", "&Quit"}
    assert str(error) in box.informativeText()
    assert advice in box.informativeText().lower()
    box.choose(RecoveryAction.RETRY)
    assert box.retried == [config]  # type: ignore[attr-defined]


def test_quit_gives_up_and_changes_nothing(
    fault_box: Callable[..., FaultBox], damaged_with_backup: Path
) -> None:
    before = damaged_with_backup.read_bytes()
    box = fault_box(DatabaseCorrupt("Damaged.", location=str(damaged_with_backup)))
    box.choose(RecoveryAction.QUIT)
    assert box.quitted == [True]  # type: ignore[attr-defined]
    assert box.retried == []  # type: ignore[attr-defined]
    assert damaged_with_backup.read_bytes() == before


def test_a_failed_upgrade_says_it_was_rolled_back_and_where_the_backup_is(
    fault_box: Callable[..., FaultBox], tmp_path: Path
) -> None:
    backup = tmp_path / "data" / "backups" / "thinktwice-before-upgrade-from-0002.db"
    error = MigrationFailed(
        f"Upgrading the database X failed, and the upgrade was rolled back completely. "
        f"A copy made just before the upgrade is at {backup}.",
        location="X",
        backup_path=backup,
    )
    box = fault_box(error)
    text = box.informativeText()
    assert "rolled back" in text
    assert text.count(str(backup)) == 2, "in the message and in what to do"
    assert _texts(box) == {"Retry", "&Quit"}


def test_a_database_on_a_network_share_is_warned_about(
    fault_box: Callable[..., FaultBox], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "app.ui.recovery.network_share_warning", lambda _config: "It is on a network share."
    )
    box = fault_box(DatabaseLocked("The database X is busy.", location="X"))
    assert box.informativeText().endswith("It is on a network share.")


# Restoring a backup and starting anew


def test_restore_lists_backups_newest_first_and_restores_the_chosen_one(
    fault_box: Callable[..., FaultBox], damaged_with_backup: Path, config: AppConfig
) -> None:
    database = damaged_with_backup
    older = config.backup_dir / "thinktwice-older.db"
    older.write_bytes(b"an older, damaged backup" * 100)
    os.utime(older, (1_000_000_000, 1_000_000_000))
    box = fault_box(DatabaseCorrupt("Damaged.", location=str(database)))
    assert box.action_buttons[RecoveryAction.RESTORE_BACKUP].isEnabled()
    box.choose(RecoveryAction.RESTORE_BACKUP)

    chooser = box.chooser
    assert isinstance(chooser, BackupChooser)
    assert chooser.isVisible()
    paths = chooser.paths()
    assert paths[-1] == older and len(paths) == 2
    assert chooser.chosen() == paths[0], "the newest is selected"
    chooser.restore_button.click()

    assert box.retried == [config]  # type: ignore[attr-defined]
    assert _profiles(database) == ["Ada Example"]
    (aside,) = database.parent.glob("thinktwice.db.corrupt-*")
    assert aside.read_bytes().startswith(b"damaged beyond repair")
    notices = _visible_notices(box.parentWidget())  # type: ignore[arg-type]
    assert any("restored the backup" in notice.text() for notice in notices)


def test_a_damaged_backup_is_explained_and_the_choices_come_back(
    fault_box: Callable[..., FaultBox], damaged_with_backup: Path, config: AppConfig
) -> None:
    (backup,) = config.backup_dir.iterdir()
    backup.write_bytes(b"this backup is damaged too" * 100)
    before = damaged_with_backup.read_bytes()
    box = fault_box(DatabaseCorrupt("Damaged.", location=str(damaged_with_backup)))
    box.choose(RecoveryAction.RESTORE_BACKUP)
    assert box.chooser is not None
    box.chooser.restore_button.click()
    assert box.isVisible(), "back to the choices"
    assert box.informativeText().startswith("Restoring did not work: The backup cannot")
    assert box.retried == []  # type: ignore[attr-defined]
    assert damaged_with_backup.read_bytes() == before


def test_cancelling_the_backup_list_goes_back_to_the_choices(
    fault_box: Callable[..., FaultBox], damaged_with_backup: Path
) -> None:
    box = fault_box(DatabaseCorrupt("Damaged.", location=str(damaged_with_backup)))
    box.choose(RecoveryAction.RESTORE_BACKUP)
    assert box.chooser is not None
    box.chooser.reject()
    assert box.isVisible()
    assert box.retried == []  # type: ignore[attr-defined]


def test_start_new_asks_first_then_keeps_the_damaged_file_aside(
    fault_box: Callable[..., FaultBox], damaged_with_backup: Path, config: AppConfig
) -> None:
    before = damaged_with_backup.read_bytes()
    box = fault_box(DatabaseCorrupt("Damaged.", location=str(damaged_with_backup)))
    box.choose(RecoveryAction.START_NEW)
    confirmation = box.confirmation
    assert confirmation is not None and confirmation.isVisible()
    back = next(b for b in confirmation.buttons() if b.text() == "&Back")
    assert confirmation.defaultButton() is back, "the safe choice is the default"
    back.click()
    assert box.isVisible()
    assert damaged_with_backup.read_bytes() == before

    box.choose(RecoveryAction.START_NEW)
    confirmation = box.confirmation
    assert confirmation is not None
    start = next(b for b in confirmation.buttons() if b.text() == "Start a &new database")
    start.click()
    assert box.retried == [config]  # type: ignore[attr-defined]
    assert not damaged_with_backup.exists()
    (aside,) = damaged_with_backup.parent.glob("thinktwice.db.corrupt-*")
    assert aside.read_bytes() == before


# Through the launcher, as run_gui starts the app


@pytest.fixture
def start(qtbot: Any, pack: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setattr("app.content.loader.builtin_pack_root", lambda: pack)
    launchers: list[Launcher] = []

    def begin(config: AppConfig, **options: Any) -> Launcher:
        app = QApplication.instance()
        window = MainWindow()
        qtbot.addWidget(window)
        launcher = Launcher(app, window, config, **options)
        launchers.append(launcher)
        window.show()
        return launcher

    yield begin
    for launcher in launchers:
        if launcher.context is not None:
            launcher.context.close()


def test_launcher_restores_a_backup_and_starts(
    start: Any, qtbot: Any, damaged_with_backup: Path, config: AppConfig
) -> None:
    launcher = start(config, profile_name="Ada Example")
    qtbot.waitUntil(lambda: launcher.failure_box is not None, timeout=LOAD_TIMEOUT_MS)
    box = launcher.failure_box
    assert isinstance(box, FaultBox)
    box.choose(RecoveryAction.RESTORE_BACKUP)
    assert box.chooser is not None
    with qtbot.waitSignal(launcher.loaded, timeout=LOAD_TIMEOUT_MS):
        box.chooser.restore_button.click()
    workspace = launcher.workspace
    names = [p.display_name for p in workspace.training.list_profiles()]
    assert names == ["Ada Example"], "Bob was added after the backup"


def _refuse_writes_to(monkeypatch: pytest.MonkeyPatch, refused: Path) -> None:
    """Make the database's write check see ``refused`` as not writable."""
    real_access = os.access

    def access(path: str | os.PathLike[str], mode: int) -> bool:
        if mode == os.W_OK and Path(path) == refused:
            return False
        return real_access(path, mode)

    monkeypatch.setattr("app.storage.database.os.access", access)


def test_launcher_opens_a_read_only_file_read_only_and_submitting_is_refused(
    start: Any,
    qtbot: Any,
    make_context: Callable[..., Any],
    pack: Path,
    config: AppConfig,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    context = make_context(pack, config.data_dir)
    context.training.create_profile("Ada Example")
    context.close()
    database = config.data_dir / "thinktwice.db"
    _refuse_writes_to(monkeypatch, database)

    launcher = start(config, profile_name="Ada Example", scenario_id="easy-accept")
    qtbot.waitUntil(lambda: launcher.failure_box is not None, timeout=LOAD_TIMEOUT_MS)
    box = launcher.failure_box
    assert isinstance(box, FaultBox)
    assert isinstance(box.error, DatabaseReadOnly)
    with qtbot.waitSignal(launcher.loaded, timeout=LOAD_TIMEOUT_MS):
        box.choose(RecoveryAction.OPEN_READ_ONLY)

    workspace = launcher.workspace
    window = workspace.window
    assert window.database_label.text().endswith("(read-only)")
    assert any("open read-only" in n.informativeText() for n in _visible_notices(window))
    for notice in _visible_notices(window):
        notice.close()

    player = workspace.player
    assert player.scenario is not None and player.scenario.id == "easy-accept"
    player.choose_decision(Decision.ACCEPT)
    player.submit()
    assert player.phase is Phase.DECIDING, "no consequence without a saved answer"
    (notice,) = _visible_notices(window)
    assert "could not save your answer" in notice.text()
    assert "open read-only" in notice.informativeText()
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT count(*) FROM answer").fetchone() == (0,)


def test_an_answer_refused_while_another_program_writes_can_be_submitted_again(
    workspace: Any,
) -> None:
    database = workspace.context.database
    path = database.sqlite_path
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    # The real wait is five seconds; a short one keeps the test quick.
    _shorten_busy_wait(database)
    player = workspace.player
    workspace.open_scenario("easy-accept")
    try:
        player.choose_decision(Decision.ACCEPT)
        player.submit()
        assert player.phase is Phase.DECIDING
        (notice,) = _visible_notices(workspace.window)
        assert "busy" in notice.informativeText()
        assert "try again" in notice.informativeText().lower()
        notice.close()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert player.submit_button.isEnabled(), "the same answer can be submitted again"
    player.submit()
    assert player.phase is Phase.FEEDBACK
    (record,) = player.records
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT attempt_id FROM answer").fetchall()
    assert rows == [(record.attempt_id,)]


def _shorten_busy_wait(database: Any) -> None:
    """Make the database's new connections wait 0.2 seconds for a lock, not five."""
    from sqlalchemy import event

    def short_wait(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=200")

    database.engine.dispose()
    event.listen(database.engine, "connect", short_wait)


# A failed upgrade at start: the dialog and the smoke test say so, and where the backup is

_FAILING_REVISION = '''
"""Test revision: changes the schema, then fails."""
import sqlalchemy as sa
from alembic import op

revision = "{next}"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("scratch", sa.Column("id", sa.Integer(), primary_key=True))
    raise RuntimeError("this revision fails on purpose")
'''


@pytest.fixture
def failing_upgrade(
    make_context: Callable[..., Any],
    pack: Path,
    config: AppConfig,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Path:
    """A database at today's head, and migrations with one more revision that fails."""
    from app.storage import migrator

    context = make_context(pack, config.data_dir)
    context.training.create_profile("Ada Example")
    context.close()
    head = migrator.HEAD_REVISION
    following = f"{int(head) + 1:04d}"
    scripts = tmp_path / "migrations"
    shutil.copytree(migrator.MIGRATIONS_DIR, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / f"{following}_fails.py").write_text(
        _FAILING_REVISION.format(next=following, head=head), encoding="utf-8"
    )
    monkeypatch.setattr(migrator, "MIGRATIONS_DIR", scripts)
    monkeypatch.setattr(migrator, "HEAD_REVISION", following)
    return config.data_dir / "thinktwice.db"


def test_a_failed_upgrade_at_start_shows_the_backup_in_the_dialog(
    start: Any, qtbot: Any, failing_upgrade: Path, config: AppConfig
) -> None:
    launcher = start(config, profile_name="Ada Example")
    qtbot.waitUntil(lambda: launcher.failure_box is not None, timeout=LOAD_TIMEOUT_MS)
    box = launcher.failure_box
    assert isinstance(box, FaultBox) and isinstance(box.error, MigrationFailed)
    backup = box.error.backup_path
    assert backup is not None and backup.is_file()
    assert str(backup) in box.informativeText()
    assert "rolled back" in box.informativeText()
    with sqlite3.connect(failing_upgrade) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    assert "scratch" not in tables


def test_the_smoke_test_prints_a_failed_upgrade_and_its_backup_and_fails(
    qtbot: Any,
    failing_upgrade: Path,
    config: AppConfig,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from app.cli import main

    code = main(["--data-dir", str(config.data_dir), "--smoke-test"])
    assert code != 0
    errors = capsys.readouterr().err
    (line,) = [ln for ln in errors.splitlines() if ln.startswith("thinktwice:")]
    (backup,) = config.backup_dir.iterdir()
    assert "rolled back" in line
    assert str(backup) in line
    assert "Traceback" not in errors


# A database on a network share: it opens, with a warning


def test_a_database_on_a_network_share_is_warned_about_after_the_start(
    start: Any, qtbot: Any, config: AppConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "app.ui.recovery.network_share_warning",
        lambda _config: "The database is on a network share (nfs4).",
    )
    launcher = start(config, profile_name="Ada Example")
    qtbot.waitUntil(lambda: launcher.workspace is not None, timeout=LOAD_TIMEOUT_MS)
    window = launcher.workspace.window
    qtbot.waitUntil(lambda: bool(_visible_notices(window)), timeout=LOAD_TIMEOUT_MS)
    (notice,) = _visible_notices(window)
    assert notice.informativeText() == "The database is on a network share (nfs4)."
    assert launcher.workspace.profile.display_name == "Ada Example", "the app still works"


def test_the_smoke_test_prints_the_network_share_warning_and_passes(
    qtbot: Any,
    make_context: Callable[..., Any],
    pack: Path,
    config: AppConfig,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from app.cli import main

    make_context(pack, config.data_dir).close()  # the test pack as the built-in content
    monkeypatch.setattr(
        "app.ui.recovery.network_share_warning",
        lambda _config: "The database is on a network share (cifs).",
    )
    assert main(["--data-dir", str(config.data_dir), "--smoke-test"]) == 0
    errors = capsys.readouterr().err
    assert "thinktwice: warning: The database is on a network share (cifs)." in errors

"""The team database in the window: the outbox in the status bar, the Team database window,
and the password asked at start.

The outbox tests stop and start a real PostgreSQL server (tests/postgres_server.py); the
keyring is an in-memory stand-in, or keyring's "fail" backend for a machine without one.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app.core.model import Decision
from app.services.credentials import KeyringPasswords, split_password
from app.services.outbox import OutboxState
from app.services.settings import Settings
from app.ui.main_window import PLAYER, MainWindow
from app.ui.outbox_status import QUEUED_NOTE, waiting_text
from app.ui.player import Phase
from app.ui.team_database_dialog import PasswordPrompt, TeamDatabaseDialog
from tests.fake_keyring import MemoryKeyring, memory_keyring, no_keyring
from tests.postgres_server import PostgresServer

__all__ = ["memory_keyring", "no_keyring"]

SECRET = "s3cr3t-Pa55"
BARE = "postgresql+psycopg://thinktwice_app@db.example.internal/thinktwice"


def _files_holding(folder: Path, text: str) -> list[Path]:
    needle = text.encode()
    return [p for p in folder.rglob("*") if p.is_file() and needle in p.read_bytes()]


# The status bar's words


def test_the_status_bar_counts_waiting_answers_and_says_when_it_last_tried() -> None:
    tried = datetime(2025, 3, 4, 9, 30, 15, tzinfo=UTC)
    local = tried.astimezone().strftime("%H:%M:%S")
    assert waiting_text(OutboxState(3, 0, tried, "refused", None)) == (
        f"3 answers waiting to be sent · last tried {local}"
    )
    assert waiting_text(OutboxState(1, 0, None, None, None)) == (
        "1 answer waiting to be sent · not tried yet"
    )
    assert waiting_text(OutboxState(0, 2, tried, None, None)) == "2 answers could not be sent"
    assert waiting_text(OutboxState(0, 0, tried, None, None)) == ""


# The outbox, with a real server stopped and started


@pytest.fixture
def restartable(postgres_server: PostgresServer) -> Iterator[PostgresServer]:
    if not postgres_server.can_restart:
        pytest.skip("the server in THINKTWICE_TEST_POSTGRES_URL is not ours to stop")
    try:
        yield postgres_server
    finally:
        if postgres_server.cluster is not None and not postgres_server.cluster.running:
            postgres_server.start()


@pytest.fixture
def team_workspace(
    qtbot: Any,
    pack: Path,
    postgres_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    opener: Any,
) -> Iterator[Any]:
    """The loaded window on a team database, for a trainee "Ada Example"."""
    from app.services.bootstrap import AppConfig, open_context
    from app.ui.workspace import Workspace

    monkeypatch.setattr("app.content.loader.builtin_pack_root", lambda: pack)
    context = open_context(AppConfig(data_dir=tmp_path / "data", database_url=postgres_url))
    window = MainWindow()
    qtbot.addWidget(window)
    space = Workspace(window, context, open_url=opener, rng=random.Random(7))
    assert space.outbox_indicator is not None
    space.outbox_indicator.stop()  # the test sends by hand, not on the timer
    space.set_profile(context.training.create_profile("Ada Example"))
    window.resize(1200, 800)
    window.show()
    qtbot.waitExposed(window)
    try:
        yield space
    finally:
        context.close()


def _submit(space: Any, qtbot: Any, scenario_id: str, decision: Decision) -> Any:
    assert space.open_scenario(scenario_id)
    assert space.window.current_page_key() == PLAYER
    player = space.player
    qtbot.mouseClick(player.decision_buttons[decision], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(player.submit_button, Qt.MouseButton.LeftButton)
    return player


def test_answers_wait_in_the_outbox_while_the_server_is_down_and_the_status_bar_counts_them(
    team_workspace: Any, restartable: PostgresServer, qtbot: Any
) -> None:
    indicator = team_workspace.outbox_indicator
    training = team_workspace.training
    assert not indicator.label.isVisible(), "nothing waits: nothing to say"

    restartable.stop()
    player = _submit(team_workspace, qtbot, "hard-drop", Decision.REJECT)

    assert player.phase is Phase.FEEDBACK, "the trainee sees the consequence as usual"
    assert player.verdict_label.text().startswith("✔ Right call")
    assert player.queued_label is not None
    assert player.queued_label.isVisible()
    assert player.queued_label.text() == QUEUED_NOTE
    assert indicator.label.isVisible()
    assert indicator.label.text().startswith("1 answer waiting to be sent · last tried ")
    assert indicator.send_button.isVisible()

    _submit(team_workspace, qtbot, "easy-accept", Decision.ACCEPT)
    assert player.queued_label is not None and player.queued_label.isVisible()
    assert indicator.label.text().startswith("2 answers waiting to be sent · last tried ")

    restartable.start()
    sent: list[int] = []
    indicator.answers_sent.connect(sent.append)
    with qtbot.waitSignal(indicator.send_finished, timeout=30_000) as finished:
        qtbot.mouseClick(indicator.send_button, Qt.MouseButton.LeftButton)

    assert finished.args is not None and finished.args[0].error is None, finished.args
    assert sent == [2]
    assert not indicator.label.isVisible()
    assert not indicator.send_button.isVisible()
    stored = training.answers_for(team_workspace.profile)
    assert [(r.scenario_id, r.correct) for r in stored] == [
        ("hard-drop", True),
        ("easy-accept", True),
    ]


def test_with_the_server_up_an_answer_is_not_queued(team_workspace: Any, qtbot: Any) -> None:
    player = _submit(team_workspace, qtbot, "hard-drop", Decision.ACCEPT)
    assert player.phase is Phase.FEEDBACK
    assert player.queued_label is None
    assert not team_workspace.outbox_indicator.label.isVisible()


def test_with_the_sqlite_file_there_is_no_outbox_in_the_status_bar(workspace: Any) -> None:
    assert workspace.outbox_indicator is None
    assert workspace.context.outbox is None


# The Team database window


def test_the_window_menu_offers_the_team_database_even_before_loading(qtbot: Any) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    assert window.team_database_action.isEnabled()
    with qtbot.waitSignal(window.team_database_requested, timeout=2000):
        window.team_database_action.trigger()


def test_saving_keeps_the_address_in_the_settings_and_the_password_in_the_keyring(
    qtbot: Any, tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    settings = Settings.in_data_dir(tmp_path)
    dialog = TeamDatabaseDialog(settings, KeyringPasswords())
    qtbot.addWidget(dialog)
    assert dialog.remember_box.isEnabled() and dialog.remember_box.isChecked()
    assert not dialog.keyring_note.isVisible()
    assert dialog.password_edit.echoMode() == dialog.password_edit.EchoMode.Password

    dialog.url_edit.setText(BARE)
    dialog.password_edit.setText(SECRET)
    with qtbot.waitSignal(dialog.saved, timeout=2000):
        dialog.save_button.click()

    assert dialog.result_saved is not None and dialog.result_saved.in_keyring
    assert json.loads((tmp_path / "settings.json").read_text())["database_url"] == BARE
    assert KeyringPasswords().get(BARE) == SECRET
    assert _files_holding(tmp_path, SECRET) == []
    assert dialog.password_edit.text() == ""

    again = TeamDatabaseDialog(Settings.in_data_dir(tmp_path), KeyringPasswords())
    qtbot.addWidget(again)
    assert again.url_edit.text() == BARE
    assert again.password_edit.text() == "", "a kept password is never shown"
    assert "keyring" in again.password_edit.placeholderText()
    assert not again.forget_button.isHidden()
    again.forget_button.click()
    assert KeyringPasswords().get(BARE) is None


@pytest.mark.usefixtures("no_keyring")
def test_without_a_keyring_the_window_says_the_password_will_be_asked_for(
    qtbot: Any, tmp_path: Path
) -> None:
    dialog = TeamDatabaseDialog(Settings.in_data_dir(tmp_path), KeyringPasswords())
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.remember_box.isEnabled()
    assert dialog.keyring_note.isVisible()
    assert "asks for it at each start" in dialog.keyring_note.text()

    dialog.url_edit.setText(
        f"postgresql+psycopg://thinktwice_app:{SECRET}@db.example.internal/thinktwice"
    )
    dialog.save_button.click()

    assert dialog.result_saved is not None
    assert dialog.result_saved.session_password == SECRET
    assert _files_holding(tmp_path, SECRET) == []


def test_a_wrong_address_is_explained_in_the_window_and_nothing_is_saved(
    qtbot: Any, tmp_path: Path
) -> None:
    dialog = TeamDatabaseDialog(Settings.in_data_dir(tmp_path), KeyringPasswords())
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.url_edit.setText("sqlite:////tmp/thinktwice.db")
    dialog.save_button.click()
    assert dialog.isVisible()
    assert "not a PostgreSQL address" in dialog.result_label.text()
    assert not (tmp_path / "settings.json").exists()

    dialog.url_edit.setText(f"postgresql+psycopg://app:{SECRET}@127.0.0.1:1/thinktwice")
    check = dialog.test_connection()
    assert not check.ok
    assert "app:***@127.0.0.1:1" in dialog.result_label.text()
    assert SECRET not in dialog.result_label.text()


def test_the_connection_test_reads_the_servers_schema(
    qtbot: Any, tmp_path: Path, postgres_url: str
) -> None:
    dialog = TeamDatabaseDialog(Settings.in_data_dir(tmp_path), KeyringPasswords())
    qtbot.addWidget(dialog)
    dialog.url_edit.setText(postgres_url)
    check = dialog.test_connection()
    assert not check.ok
    assert "needs an upgrade" in check.message
    assert split_password(postgres_url).password not in dialog.result_label.text()


# The password asked at start


@pytest.fixture
def libpq_finds_no_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "no-such-pgpass"))


@pytest.mark.usefixtures("libpq_finds_no_password", "no_keyring")
def test_without_a_keyring_the_app_asks_for_the_password_at_start_and_keeps_it_in_memory(
    qtbot: Any,
    tmp_path: Path,
    pack: Path,
    postgres_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from app.services.bootstrap import AppConfig
    from app.ui.launch import Launcher

    monkeypatch.setattr("app.content.loader.builtin_pack_root", lambda: pack)
    address = split_password(postgres_url)
    assert address.password is not None
    data_dir = tmp_path / "data"
    settings = Settings.in_data_dir(data_dir)
    settings.database_url = address.url
    settings.save()

    app = QApplication.instance()
    window = MainWindow()
    qtbot.addWidget(window)
    launcher = Launcher(app, window, AppConfig(data_dir=data_dir))
    try:
        launcher.load()
        prompt = window.findChild(PasswordPrompt)
        assert prompt is not None and prompt.isVisible()
        assert not prompt.remember_box.isEnabled()

        prompt.password_edit.setText("not the password")
        prompt.accept()
        qtbot.waitUntil(lambda: _visible_prompt(window) is not None, timeout=20000)
        refused = _visible_prompt(window)
        assert refused is not None

        refused.password_edit.setText(address.password)
        with qtbot.waitSignal(launcher.loaded, timeout=20000):
            refused.accept()
        assert launcher.context is not None
        assert ":***@" in launcher.context.database.location
        assert address.password not in window.database_label.text()
        assert _files_holding(data_dir, address.password) == []
    finally:
        if launcher.context is not None:
            launcher.context.close()


def _visible_prompt(window: MainWindow) -> PasswordPrompt | None:
    for prompt in window.findChildren(PasswordPrompt):
        if prompt.isVisible() and prompt.password_edit.text() == "":
            return prompt
    return None

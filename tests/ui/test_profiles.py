"""Trainee profiles and the start-up sequence: first start, last profile, options, failures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox

from app.ui.launch import Launcher
from app.ui.main_window import HOME, PLAYER, MainWindow
from app.ui.profile_dialog import ProfileDialog, SwitchProfileDialog


@pytest.fixture
def start(qtbot: Any, tmp_path: Path, pack: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Starts the app as run_gui does (without its event loop); returns the launcher."""
    from app.services.bootstrap import AppConfig

    monkeypatch.setattr("app.content.loader.builtin_pack_root", lambda: pack)
    launchers: list[Launcher] = []

    def begin(wait: bool = True, **options: Any) -> Launcher:
        app = QApplication.instance()
        window = MainWindow()
        qtbot.addWidget(window)
        launcher = Launcher(app, window, AppConfig(data_dir=tmp_path / "data"), **options)
        launchers.append(launcher)
        if wait:
            with qtbot.waitSignal(launcher.loaded, timeout=20000):
                window.show()
        else:
            window.show()
        return launcher

    yield begin
    for launcher in launchers:
        if launcher.context is not None:
            launcher.context.close()


def new_profile(dialog: Any, name: str, email: str = "", team: str = "") -> None:
    form = dialog.form
    form.name_edit.setText(name)
    form.email_edit.setText(email)
    form.team_edit.setText(team)


def test_first_start_asks_for_a_profile_and_refuses_an_empty_name(start: Any, qtbot: Any) -> None:
    launcher = start()
    dialog = launcher.workspace.profile_dialog
    assert isinstance(dialog, ProfileDialog)
    assert dialog.isVisible()

    new_profile(dialog, "   ")
    dialog.create_button.click()
    assert dialog.isVisible(), "an empty name is refused"
    assert dialog.form.error_label.isVisible()
    assert "Enter a display name" in dialog.form.error_label.text()

    new_profile(dialog, "Ada Example", "ada@example.org", "Platform")
    dialog.create_button.click()
    assert not dialog.isVisible()
    profile = launcher.workspace.profile
    assert (profile.display_name, profile.email_or_id, profile.team) == (
        "Ada Example",
        "ada@example.org",
        "Platform",
    )
    assert launcher.workspace.window.trainee_label.text() == "Trainee: Ada Example"


def test_a_name_in_use_is_refused_with_the_services_message(start: Any) -> None:
    launcher = start()
    launcher.workspace.training.create_profile("Ada Example")
    dialog = launcher.workspace.profile_dialog
    new_profile(dialog, "ada example")
    dialog.create_button.click()
    assert dialog.isVisible()
    assert "already in use" in dialog.form.error_label.text()


def test_the_last_profile_is_selected_at_the_next_start(start: Any) -> None:
    first = start()
    dialog = first.workspace.profile_dialog
    new_profile(dialog, "Grace Example")
    dialog.create_button.click()
    first.context.close()
    first.context = None

    second = start()
    assert second.workspace.profile is not None
    assert second.workspace.profile.display_name == "Grace Example"
    assert second.workspace.profile_dialog is None, "no question when a profile is known"


def test_switch_profile_lists_profiles_and_creates_one(start: Any) -> None:
    launcher = start(profile_name="Ada Example")
    workspace = launcher.workspace
    workspace.training.create_profile("Grace Example")
    dialog = workspace.switch_profile()
    assert isinstance(dialog, SwitchProfileDialog)
    names = [dialog.model.index(r).data() for r in range(dialog.model.rowCount())]
    assert names == ["Ada Example", "Grace Example"]
    assert dialog.list_view.currentIndex().row() == 0, "the current trainee is selected"

    dialog.new_button.click()
    new_profile(dialog, "")
    dialog.create_button.click()
    assert "Enter a display name" in dialog.form.error_label.text()
    new_profile(dialog, "Lin Example", team="Data")
    dialog.create_button.click()
    assert workspace.profile.display_name == "Lin Example"
    assert workspace.training.last_profile().display_name == "Lin Example"

    dialog = workspace.switch_profile()
    dialog.list_view.setCurrentIndex(dialog.model.index(0))
    dialog.use_button.click()
    assert workspace.profile.display_name == "Ada Example"
    assert workspace.window.trainee_label.text() == "Trainee: Ada Example"


def test_profile_option_creates_the_trainee_and_scenario_option_opens_the_player(
    start: Any,
) -> None:
    launcher = start(profile_name="Ada Example", scenario_id="hard-drop")
    workspace = launcher.workspace
    assert workspace.profile.display_name == "Ada Example"
    assert [p.display_name for p in workspace.training.list_profiles()] == ["Ada Example"]
    assert workspace.window.current_page_key() == PLAYER
    assert workspace.player.scenario.id == "hard-drop"


def test_an_unknown_scenario_is_explained_and_home_stays(start: Any) -> None:
    launcher = start(profile_name="Ada Example", scenario_id="no-such-scenario")
    window = launcher.workspace.window
    assert window.current_page_key() == HOME
    notices = [box for box in window.findChildren(QMessageBox) if box.isVisible()]
    assert notices and "no-such-scenario" in notices[0].text()
    notices[0].accept()


def test_a_database_that_cannot_be_opened_offers_retry_and_quit(
    start: Any, qtbot: Any, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    database = data / "thinktwice.db"
    database.write_bytes(b"this is not a database" * 200)
    launcher = start(wait=False, profile_name="Ada Example")
    qtbot.waitUntil(lambda: launcher.failure_box is not None, timeout=20000)
    box = launcher.failure_box
    assert box.isVisible()
    assert "could not open your records" in box.text()
    assert "Traceback" not in box.informativeText()
    assert "What you can do" in box.informativeText()
    buttons = {b.text() for b in box.buttons()}
    # A damaged file also offers a restore (no backup yet) and a fresh start.
    assert buttons == {"Restore a &backup…", "Start a &new database", "Retry", "&Quit"}

    database.unlink()  # the trainee fixes the problem, then retries
    with qtbot.waitSignal(launcher.loaded, timeout=20000):
        box.button(QMessageBox.StandardButton.Retry).click()
    assert launcher.workspace.profile.display_name == "Ada Example"

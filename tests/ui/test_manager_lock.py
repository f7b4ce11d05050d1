"""The manager passphrase in the app: first use, unlocking, the wait after wrong tries,
locking again, and the passphrase never kept anywhere.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app.services.manager import ManagerService, NotUnlocked
from app.ui.main_window import HOME, MANAGER
from app.ui.manager_page import ManagerPage
from tests.ui.manager_support import PASSPHRASE, Clock, unnamed_controls


def open_manager(qtbot: Any, workspace: Any) -> ManagerPage:
    """Go to the Manager page with its shortcut, as a person would."""
    qtbot.keyClick(workspace.window, Qt.Key.Key_5, Qt.KeyboardModifier.ControlModifier)
    assert workspace.window.current_page_key() == MANAGER
    page = workspace.manager_page
    assert isinstance(page, ManagerPage)
    return page


def type_into_focus(qtbot: Any, text: str) -> None:
    target = QApplication.focusWidget()
    assert target is not None
    qtbot.keyClicks(target, text)


def test_first_use_sets_a_passphrase_that_meets_the_rules(qtbot: Any, workspace: Any) -> None:
    page = open_manager(qtbot, workspace)
    panel = page.lock_panel
    assert panel.setting and panel.confirm_edit.isVisible()
    assert QApplication.focusWidget() is panel.passphrase_edit
    assert unnamed_controls(page) == []

    panel.passphrase_edit.setText("too short")
    panel.confirm_edit.setText("too short")
    panel.submit_button.click()
    assert "at least 10" in panel.error_label.text()
    assert not workspace.context.manager.has_passphrase()

    panel.passphrase_edit.setText(PASSPHRASE)
    panel.confirm_edit.setText(PASSPHRASE + "!")
    panel.submit_button.click()
    assert "differ" in panel.error_label.text()
    assert not workspace.context.manager.has_passphrase()

    type_into_focus(qtbot, PASSPHRASE)
    qtbot.keyClick(panel.passphrase_edit, Qt.Key.Key_Tab)
    type_into_focus(qtbot, PASSPHRASE)
    with qtbot.waitSignal(page.unlocked):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    assert workspace.context.manager.has_passphrase()
    assert page.is_unlocked and page.views.isVisible()
    assert unnamed_controls(page) == []
    # The fields were emptied at once.
    assert panel.passphrase_edit.text() == "" and panel.confirm_edit.text() == ""


def test_later_the_passphrase_is_asked_for(qtbot: Any, workspace: Any) -> None:
    workspace.context.manager.set_passphrase(PASSPHRASE)
    page = open_manager(qtbot, workspace)
    panel = page.lock_panel
    assert not panel.setting and not panel.confirm_edit.isVisible()
    type_into_focus(qtbot, PASSPHRASE)
    with qtbot.waitSignal(page.unlocked):
        qtbot.keyClick(panel.passphrase_edit, Qt.Key.Key_Return)
    session = page.session()
    assert session is not None and session.actor == panel.actor_edit.text()


@pytest.fixture
def clocked_page(qtbot: Any, context: Any) -> tuple[ManagerPage, ManagerService, Clock]:
    """A manager page whose service runs on a clock the test moves."""
    clock = Clock()
    manager = ManagerService(context.database, context.library, context.settings, clock=clock)
    manager.set_passphrase(PASSPHRASE)
    page = ManagerPage(manager, context.training, context.library, actor="Room lead")
    qtbot.addWidget(page)
    page.show()
    qtbot.waitExposed(page)
    return page, manager, clock


def try_passphrase(panel: Any, phrase: str) -> None:
    panel.passphrase_edit.setText(phrase)
    panel.submit()


def test_wrong_tries_show_the_wait_and_disable_the_button_meanwhile(
    clocked_page: tuple[ManagerPage, ManagerService, Clock],
) -> None:
    page, manager, clock = clocked_page
    panel = page.lock_panel
    try_passphrase(panel, "not the passphrase at all")
    assert "not right" in panel.error_label.text()
    assert panel.submit_button.isEnabled(), "the first wrong try costs no wait"

    try_passphrase(panel, "still not the passphrase")
    assert manager.wait_seconds() == pytest.approx(1.0)
    assert not panel.submit_button.isEnabled()
    assert panel.wait_label.isVisible()
    assert "wait 1 s" in panel.wait_label.text()

    # Enter during the wait does not reach the service, even with the right passphrase.
    try_passphrase(panel, PASSPHRASE)
    assert not page.is_unlocked
    assert manager.wait_seconds() == pytest.approx(1.0)

    clock.advance(1.0)
    panel.refresh_wait()  # what the panel's one-second timer does
    assert panel.submit_button.isEnabled() and not panel.wait_label.isVisible()

    try_passphrase(panel, "a third wrong passphrase")
    assert "wait 2 s" in panel.wait_label.text()
    assert not panel.submit_button.isEnabled()
    clock.advance(2.0)
    panel.refresh_wait()
    try_passphrase(panel, PASSPHRASE)
    assert page.is_unlocked


def test_the_wait_survives_reopening_the_page(
    clocked_page: tuple[ManagerPage, ManagerService, Clock],
) -> None:
    page, _manager, _clock = clocked_page
    panel = page.lock_panel
    try_passphrase(panel, "wrong passphrase one")
    try_passphrase(panel, "wrong passphrase two")
    page.hide()
    page.show()  # prepare() asks the service again
    assert not panel.submit_button.isEnabled()
    assert "wait 1 s" in panel.wait_label.text()


def test_the_passphrase_is_never_logged_kept_or_stored(
    qtbot: Any, workspace: Any, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.DEBUG)
    page = open_manager(qtbot, workspace)
    panel = page.lock_panel
    panel.passphrase_edit.setText(PASSPHRASE)
    panel.confirm_edit.setText(PASSPHRASE)
    panel.submit()
    assert page.is_unlocked
    page.lock()
    try_passphrase(panel, PASSPHRASE[::-1] + " wrong")
    try_passphrase(panel, PASSPHRASE)
    assert page.is_unlocked
    page.lock()

    for record in caplog.records:
        assert PASSPHRASE not in record.getMessage()
        assert PASSPHRASE not in repr(record.args)
    assert any("unlocked" in r.getMessage() for r in caplog.records), "the unlock is logged"
    for holder in (panel, page):
        assert all(
            not (isinstance(value, str) and PASSPHRASE in value) for value in vars(holder).values()
        )
    workspace.context.settings.save()
    secret = PASSPHRASE.encode("utf-8")
    files = [p for p in (tmp_path / "data").rglob("*") if p.is_file()]
    assert any(p.name.endswith(".db") for p in files)
    for path in files:
        assert secret not in path.read_bytes(), path


def test_lock_leaving_the_page_or_switching_profile_ends_the_session(
    qtbot: Any, workspace: Any
) -> None:
    manager = workspace.context.manager
    manager.set_passphrase(PASSPHRASE)
    page = open_manager(qtbot, workspace)

    def unlock() -> Any:
        try_passphrase(page.lock_panel, PASSPHRASE)
        session = page.session()
        assert session is not None
        assert page.completion.model.rowCount() > 0
        return session

    session = unlock()
    page.lock_button.click()
    assert not page.is_unlocked and page.lock_panel.isVisible()
    assert page.completion.model.rowCount() == 0, "nothing stays on screen"
    with pytest.raises(NotUnlocked):
        manager.completion_records(session)

    session = unlock()
    qtbot.keyClick(workspace.window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert not page.is_unlocked

    session = unlock()
    qtbot.keyClick(workspace.window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert workspace.window.current_page_key() == HOME
    assert not page.is_unlocked
    with pytest.raises(NotUnlocked):
        manager.cohorts(session)

    open_manager(qtbot, workspace)
    session = unlock()
    other = workspace.training.create_profile("Bea Other")
    workspace.set_profile(other)
    assert not page.is_unlocked
    with pytest.raises(NotUnlocked):
        manager.profiles(session)

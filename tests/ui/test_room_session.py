"""A facilitated room session run in the real window, with keys and clicks, end to end."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QApplication, QListWidget

from app.core.model import Decision
from app.core.room import RoomStatus, VoteCounts
from app.ui.main_window import ROOM
from app.ui.room_presentation import DiscussionTimer, mm_ss
from tests.ui.conftest import press
from tests.ui.test_accessibility import unnamed_controls

ALT = Qt.KeyboardModifier.AltModifier


def _alt(qtbot: Any, key: Qt.Key) -> None:
    """Alt and a letter: a label's mnemonic moves the focus to its buddy."""
    press(qtbot, key, ALT)


def _alt_click(qtbot: Any, key: Qt.Key, button: QAbstractButton) -> None:
    """Alt and a button's letter; the button clicks itself a moment later (animateClick)."""
    press(qtbot, key, ALT)
    assert button.isDown(), f"Alt+{key.name[4:]} did not reach {button.text()!r}"
    qtbot.waitUntil(lambda: not button.isDown())


def _tick(qtbot: Any, items: QListWidget, text: str) -> None:
    """Tick the list item with this text from the keyboard: focus, move to it, Space."""
    items.setFocus()
    for row in range(items.count()):
        if items.item(row).text() == text:
            items.setCurrentRow(row)
            press(qtbot, Qt.Key.Key_Space)
            assert items.item(row).checkState() is Qt.CheckState.Checked
            return
    raise AssertionError(f"{text!r} is not in the list")


def _up(qtbot: Any, times: int) -> None:
    for _ in range(times):
        press(qtbot, Qt.Key.Key_Up)


def _pdf_text(path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed; the PDF text cannot be read")
    done = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    )
    return done.stdout


def test_a_full_session_from_setup_to_reset(
    qtbot: Any, workspace: Any, context: Any, tmp_path: Path
) -> None:
    window = workspace.window
    for name in ("Bo Lindqvist", "Chen Wei"):
        context.training.create_profile(name)
    page = workspace.room_page
    room = page.room
    pdf_path = tmp_path / "summary.pdf"
    page.summary.ask_path = lambda _parent, _name: pdf_path

    # Ctrl+6 opens the Room page on the set-up.
    workspace.home.tree.setFocus()
    press(qtbot, Qt.Key.Key_6, Qt.KeyboardModifier.ControlModifier)
    assert window.current_page_key() == ROOM
    setup = page.setup
    assert page.stack.currentWidget() is setup
    assert setup.facilitator_edit.text() == "Ada Example"
    assert unnamed_controls(window) == [], "room set-up"

    # The starter track, two attendees picked and one typed in.
    assert setup.track_radio.isChecked()
    assert setup.track_box.currentText() == "Starter track"
    _tick(qtbot, setup.attendee_list, "Ada Example")
    _tick(qtbot, setup.attendee_list, "Chen Wei")
    _alt(qtbot, Qt.Key.Key_W)
    assert QApplication.focusWidget() is setup.new_name_edit
    # QTest types ASCII only; the name goes in as typed text would.
    setup.new_name_edit.insert("Zoë Nouvelle")
    press(qtbot, Qt.Key.Key_Return)
    assert setup.new_names() == ["Zoë Nouvelle"]
    _alt_click(qtbot, Qt.Key.Key_S, setup.start_button)

    presentation = page.presentation
    assert page.stack.currentWidget() is presentation
    session_id = page.session_id
    assert session_id is not None
    assert presentation.title_label.text() == "The grant that grew"
    assert presentation.position_label.text() == "Scenario 1 of 2 · Step 1 of 2"
    assert "GRANT-" not in presentation.reveal_view.toPlainText()
    assert "warehouse grant read" in presentation.suggestion_view.toPlainText()
    assert [p.display_name for p in room.session(session_id).attendees] == [
        "Ada Example",
        "Chen Wei",
        "Zoë Nouvelle",
    ]
    # Large type: the presentation is at least 1.6 times the application's.
    app_size = QApplication.font().pointSizeF()
    assert presentation.situation_view.font().pointSizeF() >= 1.6 * app_size
    assert presentation.vote_boxes[Decision.ACCEPT].font().pointSizeF() >= 1.6 * app_size
    assert unnamed_controls(window) == [], "presentation"

    # The discussion timer starts and pauses with Alt+S, and resets with Alt+T.
    timer_panel = presentation.timer_panel
    _alt_click(qtbot, Qt.Key.Key_S, timer_panel.toggle_button)
    assert presentation.timer.running
    assert timer_panel.state_label.text() == "▶ Running"
    _alt_click(qtbot, Qt.Key.Key_S, timer_panel.toggle_button)
    assert timer_panel.state_label.text() == "⏸ Paused"
    _alt_click(qtbot, Qt.Key.Key_T, timer_panel.reset_button)
    assert timer_panel.display.text() == "03:00"
    assert timer_panel.state_label.text() == "Not started"

    # Step 1: hands counted with the keyboard and one click on +.
    _alt(qtbot, Qt.Key.Key_J)
    assert QApplication.focusWidget() is presentation.vote_boxes[Decision.REJECT]
    _up(qtbot, 5)
    _alt(qtbot, Qt.Key.Key_A)
    _up(qtbot, 2)
    qtbot.mouseClick(
        presentation.votes_panel.steppers[Decision.REVISE][1], Qt.MouseButton.LeftButton
    )
    assert room.tally(session_id).room == VoteCounts(accept=2, revise=1, reject=5)
    assert presentation.votes_panel.counts[Decision.REJECT].text() == "5 ◀"
    assert presentation.votes_panel.lead_label.text() == "Most votes: Reject (5 of 8)"

    _alt_click(qtbot, Qt.Key.Key_R, presentation.reveal_button)
    assert presentation.verdict_label.text() == "✔ The room chose Reject: the right call"
    revealed = presentation.reveal_view.toPlainText()
    assert "GRANT-REJECTED" in revealed
    assert "GRANT-ACCEPTED" in revealed
    assert "DEBRIEF-TEXT" not in revealed
    assert not presentation.vote_boxes[Decision.REJECT].isEnabled()
    assert unnamed_controls(window) == [], "presentation, revealed"

    _alt(qtbot, Qt.Key.Key_O)
    assert QApplication.focusWidget() is presentation.notes_edit
    qtbot.keyClicks(presentation.notes_edit, "Nobody asked who reads the salary tables.")
    _alt_click(qtbot, Qt.Key.Key_N, presentation.next_button)
    assert (
        room.notes(session_id, scenario_id="two-step-grant", step_id="grant")
        == "Nobody asked who reads the salary tables."
    )

    # Step 2: the room revises, which is right; the debrief follows the scenario's last step.
    assert presentation.position_label.text() == "Scenario 1 of 2 · Step 2 of 2"
    assert presentation.notes_edit.toPlainText() == ""
    _alt(qtbot, Qt.Key.Key_V)
    _up(qtbot, 3)
    _alt(qtbot, Qt.Key.Key_A)
    _up(qtbot, 1)
    qtbot.mouseClick(presentation.reveal_button, Qt.MouseButton.LeftButton)
    assert presentation.verdict_label.text() == "✔ The room chose Revise: the right call"
    revealed = presentation.reveal_view.toPlainText()
    assert "NARROW-REVISED" in revealed
    assert "Ask the owner to grant" in revealed
    assert "DEBRIEF-TEXT" in revealed

    # Step 3 is the last: Next is off; it is not voted on. Alt+E ends the session.
    _alt_click(qtbot, Qt.Key.Key_N, presentation.next_button)
    assert presentation.title_label.text() == "A typo in a log message"
    assert not presentation.next_button.isEnabled()
    _alt_click(qtbot, Qt.Key.Key_E, presentation.end_button)

    summary = page.summary
    assert page.stack.currentWidget() is summary
    assert summary.result_label.text() == (
        "The room's majority made the right call on 2 of 2 revealed step(s): 100 %."
    )
    attendees = [summary.attendee_list.item(r).text() for r in range(summary.attendee_list.count())]
    assert attendees == [
        "Ada Example — attendance recorded ✔",
        "Chen Wei — attendance recorded ✔",
        "Zoë Nouvelle — attendance recorded ✔",
    ]
    assert summary.step_table.rowCount() == 3
    assert summary.step_table.item(0, 7).text() == "✔ Right"
    assert summary.step_table.item(2, 7).text() == "– Not revealed"
    assert "Nobody asked who reads the salary tables." in summary.notes_view.toPlainText()
    assert unnamed_controls(window) == [], "summary"
    records = room.attended_sessions()
    assert sorted(r.trainee_name for r in records) == ["Ada Example", "Chen Wei", "Zoë Nouvelle"]
    assert context.manager.verify_records() is None

    # Export the summary as PDF (Alt+P), and read it back.
    _alt_click(qtbot, Qt.Key.Key_P, summary.export_button)
    assert pdf_path.is_file()
    assert summary.status_label.text() == f"Summary written to {pdf_path}"
    text = _pdf_text(pdf_path)
    for expected in (
        "Facilitated session summary",
        "Ada Example",
        "Zoë Nouvelle",
        "Starter track",
        "2 of 2 revealed",
        "Nobody asked who reads the salary tables.",
    ):
        assert expected in text, expected

    # Reset the room (Alt+R): back to set-up, nobody ticked; the records stay.
    _alt_click(qtbot, Qt.Key.Key_R, summary.reset_button)
    assert page.stack.currentWidget() is setup
    assert setup.selected_attendees() == []
    assert setup.new_names() == []
    assert page.session_id is None
    assert room.active_sessions() == []
    assert room.session(session_id).status is RoomStatus.ENDED
    assert len(room.attended_sessions()) == 3


def test_reset_during_a_session_abandons_it(qtbot: Any, workspace: Any) -> None:
    page = workspace.room_page
    workspace.show_page(ROOM)
    page.setup.scenarios_radio.setChecked(True)
    page.setup.scenario_list.item(0).setCheckState(Qt.CheckState.Checked)
    session = page.setup.start()
    assert session is not None
    page.presentation.vote_boxes[Decision.ACCEPT].setValue(3)

    page.reset_room()

    assert page.room.session(session.session_id).status is RoomStatus.ABANDONED
    assert page.room.attended_sessions() == []
    assert page.setup.selected_scenarios() == []


def test_a_session_cannot_start_without_content(qtbot: Any, workspace: Any) -> None:
    page = workspace.room_page
    workspace.show_page(ROOM)
    page.setup.scenarios_radio.setChecked(True)
    qtbot.mouseClick(page.setup.start_button, Qt.MouseButton.LeftButton)
    assert page.stack.currentWidget() is page.setup
    assert page.setup.error_label.text() == (
        "Choose a track or at least one scenario for the session."
    )


def test_a_running_session_can_be_resumed(qtbot: Any, workspace: Any, context: Any) -> None:
    page = workspace.room_page
    started = page.room.start_session("Fran", track_id="starter")
    page.room.next_step(started.session_id)
    workspace.show_page(ROOM)
    assert page.setup.running_list.count() == 1
    assert page.setup.running_list.item(0).text() == "Starter track, run by Fran, 0 attendee(s)"

    qtbot.mouseClick(page.setup.resume_button, Qt.MouseButton.LeftButton)

    assert page.stack.currentWidget() is page.presentation
    assert page.presentation.position_label.text() == "Scenario 1 of 2 · Step 2 of 2"


def test_the_discussion_timer_counts_down_pauses_and_says_when_time_is_up(qtbot: Any) -> None:
    now = [100.0]
    timer = DiscussionTimer(2, clock=lambda: now[0])
    finished: list[bool] = []
    timer.finished.connect(lambda: finished.append(True))
    assert timer.display() == "02:00"

    timer.start()
    now[0] += 35.2
    assert timer.display() == "01:25"
    timer.pause()
    now[0] += 60
    assert timer.display() == "01:25"
    timer.start()
    now[0] += 84.7
    assert timer.display() == "00:01"
    now[0] += 1
    timer._tick()
    assert timer.is_finished and not timer.running
    assert finished == [True]
    assert timer.display() == "00:00"

    timer.reset()
    assert (timer.display(), timer.is_finished, timer.started_once) == ("02:00", False, False)
    assert mm_ss(0.2) == "00:01"

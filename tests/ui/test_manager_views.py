"""The manager's views in the app: what trainee mode cannot reach, cohorts and assignments,
the completion table, record actions with reasons, and starting the next group.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QIcon
from PySide6.QtWidgets import QApplication

from app.core.completion import CompletionStatus
from app.services.history import EventKind
from app.ui.main_window import MANAGER
from app.ui.manager_dialogs import ReasonDialog
from app.ui.manager_models import CompletionTableModel, EventTableModel
from app.ui.manager_page import ManagerPage
from tests.ui.manager_support import (
    PASSPHRASE,
    TRACK,
    answer_next_modal,
    click_yes,
    play_track,
    unnamed_controls,
    visible_texts,
)


@pytest.fixture
def page(qtbot: Any, workspace: Any, tmp_path: Path) -> ManagerPage:
    """The Manager page of the workspace ("Ada Example"), unlocked."""
    workspace.context.manager.set_passphrase(PASSPHRASE)
    manager_page = workspace.manager_page
    manager_page.native_dialogs = False
    manager_page._folder = tmp_path
    workspace.show_page(MANAGER)
    manager_page.lock_panel.passphrase_edit.setText(PASSPHRASE)
    manager_page.lock_panel.submit()
    assert manager_page.is_unlocked
    return manager_page


def test_trainee_mode_reaches_neither_manager_views_nor_other_records(
    qtbot: Any, workspace: Any
) -> None:
    training, library = workspace.training, workspace.library
    bob = training.create_profile("Bob Secretive", "bob-007", "Payments")
    play_track(training, bob, library, right=True)
    workspace.context.manager.set_passphrase(PASSPHRASE)
    workspace.refresh()

    # The trainee's own home shows none of Bob's progress.
    assert workspace.home.status_text("two-step-grant") == "not started"
    assert all("Bob" not in text for text in visible_texts(workspace.window))

    workspace.show_page(MANAGER)
    page = workspace.manager_page
    assert page.lock_panel.isVisible() and not page.views.isVisible()
    assert page.completion.model.rowCount() == 0
    assert page.cohorts.cohort_model.rowCount() == 0
    assert all("Bob" not in text for text in visible_texts(workspace.window))
    # The manager's actions refuse while locked, by shortcut and by call.
    qtbot.keyClick(workspace.window, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert page.export_dialog is None
    assert page.open_export_dialog() is None
    assert page.import_bundle(Path("anything.zip")) is None
    assert page.completion.waive_selected() is None
    assert page.cohorts.new_cohort() is None
    page.completion.refresh()
    assert page.completion.model.rowCount() == 0


def test_the_completion_table_lists_every_trainee_with_filters(
    page: ManagerPage, workspace: Any
) -> None:
    training, library = workspace.training, workspace.library
    play_track(training, training.create_profile("Bob Passes"), library, right=True)
    play_track(training, training.create_profile("Cy Fails"), library, right=False)
    page.refresh()
    view = page.completion
    names = [r.trainee_name for r in view.proxy.visible_records()]
    assert names == ["Ada Example", "Bob Passes", "Cy Fails"]
    view.status_combo.setCurrentIndex(view.status_combo.findData(CompletionStatus.PASSED.value))
    assert [r.trainee_name for r in view.proxy.visible_records()] == ["Bob Passes"]
    assert view.proxy.index(0, CompletionTableModel.SCORE).data() == "100 %"
    view.status_combo.setCurrentIndex(0)
    view.track_combo.setCurrentIndex(view.track_combo.findData(TRACK))
    assert view.proxy.rowCount() == 3
    assert "3 of 3 record(s) shown" in view.count_label.text()
    assert unnamed_controls(page) == []
    page.tabs.setCurrentWidget(page.cohorts)
    assert unnamed_controls(page) == []


def fill_cohort(qtbot: Any, page: ManagerPage, due: date) -> None:
    """Create "Room A" with Ada as member and the starter track due on ``due``."""
    page.tabs.setCurrentWidget(page.cohorts)
    view = page.cohorts
    dialog = view.new_cohort()
    assert dialog is not None and dialog.isVisible()
    qtbot.keyClicks(dialog.name_edit, "Room A")
    dialog.ok_button.click()
    assert not dialog.isVisible()
    assert view.selected_cohort() is not None and view.selected_cohort().name == "Room A"

    members = view.choose_members()
    assert members is not None
    ada = next(p for p in members.model.profiles() if p.display_name == "Ada Example")
    members.model.set_checked(ada.id, True)
    members.ok_button.click()
    assert [p.display_name for p in view.selected_cohort().members] == ["Ada Example"]

    assign = view.assign_track()
    assert assign is not None
    assign.track_combo.setCurrentIndex(assign.track_combo.findData(TRACK))
    assign.due.set_date(due)
    assign.ok_button.click()
    (assigned,) = view.selected_cohort().tracks
    assert assigned.track_id == TRACK and assigned.due_at is not None
    assert assigned.due_at.date() == due


def test_a_cohort_assignment_shows_on_the_trainees_home_and_overdue_stands_out(
    qtbot: Any, page: ManagerPage, workspace: Any
) -> None:
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    fill_cohort(qtbot, page, yesterday)

    # In the manager's table the overdue row says so in words, with an icon and bold text.
    view = page.completion
    view.cohort_combo.setCurrentIndex(view.cohort_combo.findData("Room A"))
    (record,) = view.proxy.visible_records()
    assert record.overdue
    status = view.proxy.index(0, CompletionTableModel.STATUS)
    assert "Overdue" in status.data()
    assert isinstance(status.data(Qt.ItemDataRole.DecorationRole), QIcon)
    font = status.data(Qt.ItemDataRole.FontRole)
    assert isinstance(font, QFont) and font.bold()
    assert "(overdue)" in view.proxy.index(0, CompletionTableModel.DUE).data()
    view.status_combo.setCurrentIndex(view.status_combo.findData("overdue"))
    assert view.proxy.rowCount() == 1

    workspace.go_home()
    assert not page.is_unlocked
    card = workspace.home.assignments
    assert card.isVisible()
    (text,) = card.texts()
    assert text.startswith(f"Overdue since {yesterday.isoformat()}")
    assert "Starter track" in text
    index = card.model.index(0)
    assert not index.data(Qt.ItemDataRole.DecorationRole).isNull()
    assert card.overdue_label.isVisible() and "1 assignment(s) overdue" in card.overdue_label.text()

    # A due date still ahead is shown plainly.
    later = datetime.now(UTC).date() + timedelta(days=10)
    workspace.show_page(MANAGER)
    page.lock_panel.passphrase_edit.setText(PASSPHRASE)
    page.lock_panel.submit()
    page.tabs.setCurrentWidget(page.cohorts)
    assign = page.cohorts.assign_track()
    assert assign is not None
    assign.due.set_date(later)
    assign.ok_button.click()
    workspace.go_home()
    (text,) = workspace.home.assignments.texts()
    assert text == f"Starter track · due {later.isoformat()} · Not started"
    assert workspace.home.assignments.model.index(0).data(Qt.ItemDataRole.DecorationRole) is None
    assert not workspace.home.assignments.overdue_label.isVisible()


def test_another_trainee_does_not_see_the_assignment(
    qtbot: Any, page: ManagerPage, workspace: Any
) -> None:
    fill_cohort(qtbot, page, datetime.now(UTC).date() - timedelta(days=1))
    workspace.set_profile(workspace.training.create_profile("Dee Elsewhere"))
    assert not workspace.home.assignments.isVisible()
    assert workspace.home.assignments.texts() == []


def select_row(page: ManagerPage, name: str) -> None:
    record = next(r for r in page.completion.proxy.visible_records() if r.trainee_name == name)
    assert page.completion.select(record.trainee_uid, record.track_id)


def test_a_waiver_needs_a_reason_and_is_recorded_as_an_event(
    qtbot: Any, page: ManagerPage, workspace: Any
) -> None:
    view = page.completion
    view.table.clearSelection()
    assert not view.waive_button.isEnabled(), "nothing selected"
    select_row(page, "Ada Example")
    assert view.waive_button.isEnabled()
    view.waive_button.click()
    dialog = view.dialog
    assert isinstance(dialog, ReasonDialog) and dialog.isVisible()
    assert "Recorded as" in " ".join(visible_texts(dialog))
    assert unnamed_controls(dialog) == []
    assert not dialog.ok_button.isEnabled(), "no reason, no waiver"
    qtbot.keyClicks(dialog.reason_edit, "   ")
    assert not dialog.ok_button.isEnabled(), "blank is not a reason"
    dialog.submit()  # even forced, the service refuses a blank reason
    assert dialog.isVisible() and "reason" in dialog.error_label.text().lower()
    assert workspace.context.manager.events(page.session(), workspace.profile) == []

    dialog.reason_edit.setPlainText("Completed the same course with the security team in March.")
    assert dialog.ok_button.isEnabled()
    dialog.ok_button.click()
    assert not dialog.isVisible()

    (event,) = workspace.context.manager.events(page.session(), workspace.profile)
    assert event.kind is EventKind.WAIVE and event.track_id == TRACK
    assert event.actor == page.session().actor
    assert event.reason.startswith("Completed the same course")
    record = view.selected_record()
    assert record is not None and record.status is CompletionStatus.WAIVED
    events = view.events_model
    assert events.rowCount() == 1
    assert events.index(0, EventTableModel.WHAT).data() == "Waived"
    assert events.index(0, EventTableModel.WHO).data() == event.actor
    assert events.index(0, EventTableModel.WHEN).data().endswith("UTC")
    assert events.index(0, EventTableModel.REASON).data() == event.reason
    assert events.index(0, EventTableModel.TRACK).data() == "Starter track"


def test_a_correction_voids_the_chosen_answer_with_a_reason(
    qtbot: Any, page: ManagerPage, workspace: Any
) -> None:
    attempts = play_track(workspace.training, workspace.profile, workspace.library, right=False)
    page.refresh()
    select_row(page, "Ada Example")
    dialog = page.completion.correct_selected()
    assert dialog is not None and dialog.answer_view is not None
    assert dialog.answer_view.model().rowCount() == len(attempts)
    dialog.reason_edit.setPlainText("The keyboard was shared; this answer was a colleague's.")
    assert not dialog.ok_button.isEnabled(), "an answer must be chosen"
    dialog.answer_view.setCurrentIndex(dialog.answer_view.model().index(0, 0))
    chosen = dialog.chosen_answer()
    assert chosen == attempts[-1], "newest first"
    dialog.ok_button.click()
    history = workspace.training.history(workspace.profile)
    assert history.voided_attempts == {chosen}
    assert page.completion.events_model.index(0, EventTableModel.TRACK).data() == chosen


def test_start_the_next_group_archives_cohort_and_profiles_in_one_confirmed_action(
    qtbot: Any, page: ManagerPage, workspace: Any
) -> None:
    fill_cohort(qtbot, page, datetime.now(UTC).date() + timedelta(days=3))
    bystander = workspace.training.create_profile("Eve Bystander")
    archived: list[Any] = []
    page.profiles_archived.connect(archived.append)

    asked = answer_next_modal(qtbot, click_yes)
    result = page.cohorts.start_next_group()
    assert len(asked) == 1, "one question"
    assert result is not None
    assert [p.display_name for p in result.archived_profiles] == ["Ada Example"]
    assert result.cohort.archived_at is not None
    assert archived and archived[0] == result.archived_profiles
    assert workspace.profile is None, "the archived trainee is no longer selected"
    names = [p.display_name for p in workspace.training.list_profiles()]
    assert names == [bystander.display_name]
    # The cohort's progress is kept and still shown to the manager when asked.
    view = page.cohorts
    assert view.cohorts() == []
    view.archived_box.setChecked(True)
    assert [c.name for c in view.cohorts()] == ["Room A"]


def test_start_the_next_group_can_clear_every_profile_of_a_room(
    qtbot: Any, page: ManagerPage, workspace: Any
) -> None:
    fill_cohort(qtbot, page, datetime.now(UTC).date() + timedelta(days=3))
    workspace.training.create_profile("Eve Bystander")

    def tick_and_confirm(box: Any) -> None:
        box.checkBox().setChecked(True)
        click_yes(box)

    answer_next_modal(qtbot, tick_and_confirm)
    result = page.cohorts.start_next_group()
    assert result is not None
    assert {p.display_name for p in result.archived_profiles} == {"Ada Example", "Eve Bystander"}
    assert workspace.training.list_profiles() == []


def test_declining_the_question_changes_nothing(
    qtbot: Any, page: ManagerPage, workspace: Any
) -> None:
    fill_cohort(qtbot, page, datetime.now(UTC).date() + timedelta(days=3))

    def press_escape(box: Any) -> None:
        qtbot.keyClick(box, Qt.Key.Key_Escape)

    answer_next_modal(qtbot, press_escape)
    assert page.cohorts.start_next_group() is None
    assert [p.display_name for p in workspace.training.list_profiles()] == ["Ada Example"]
    assert QApplication.activeModalWidget() is None

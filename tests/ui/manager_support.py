"""Shared pieces for the manager tests: answering the test pack's track, driving modals."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, Qt, QTimer
from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from app.core.judging import StepAnswer
from app.core.model import ContentLibrary, Decision
from app.core.records import Profile
from app.services.training import TrainingService

PASSPHRASE = "river otter lantern 42"
TRACK = "starter"


class Clock:
    """A clock the tests move by hand, for the passphrase back-off."""

    def __init__(self) -> None:
        self.now = datetime(2030, 1, 15, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def play_track(
    training: TrainingService, profile: Profile, library: ContentLibrary, *, right: bool
) -> list[str]:
    """Read the lesson and answer every step of the starter track; returns attempt ids."""
    track = library.tracks[TRACK]
    for lesson in track.lesson_ids:
        training.mark_lesson_read(profile, lesson)
    attempts = []
    for scenario_id in track.scenario_ids:
        scenario = library.scenarios[scenario_id]
        play = training.new_play_id()
        for step in scenario.steps:
            if right:
                revision = step.correct_revision_index if step.answer is Decision.REVISE else None
                answer = StepAnswer(step.answer, revision, frozenset(step.flags), 90, 3.0)
            else:
                wrong = Decision.ACCEPT if step.answer is not Decision.ACCEPT else Decision.REJECT
                answer = StepAnswer(wrong, confidence=80, seconds=2.0)
            record, _ = training.record_answer(profile, scenario, step, answer, play)
            attempts.append(record.attempt_id)
    return attempts


def answer_next_modal(
    qtbot: Any, act: Callable[[QWidget], None], *, kind: type[QWidget] = QMessageBox
) -> list[str]:
    """Act on the next modal window of ``kind`` as soon as it opens (before a blocking call).

    Returns a list that receives the modal's text (a message box's) or class name. No
    reference to the modal is kept: ``exec()`` gives Python the ownership of a dialog, and
    a reference that outlives it could free the dialog from another thread.
    """
    seen: list[str] = []

    def attempt() -> None:
        modal = QApplication.activeModalWidget()
        if isinstance(modal, kind) and not seen:
            seen.append(modal.text() if isinstance(modal, QMessageBox) else type(modal).__name__)
            act(modal)
            return
        QTimer.singleShot(10, attempt)

    QTimer.singleShot(0, attempt)
    return seen


def click_yes(box: QWidget) -> None:
    assert isinstance(box, QMessageBox)
    box.button(QMessageBox.StandardButton.Yes).click()


def click_no(box: QWidget) -> None:
    assert isinstance(box, QMessageBox)
    box.button(QMessageBox.StandardButton.No).click()


def unnamed_controls(root: QWidget) -> list[str]:
    """Focusable, visible, enabled controls under ``root`` without an accessible name."""
    missing = []
    for widget in [root, *root.findChildren(QWidget)]:
        focusable = widget.focusPolicy() & Qt.FocusPolicy.TabFocus
        if not focusable or not widget.isVisibleTo(root) or not widget.isEnabled():
            continue
        interface = QAccessible.queryAccessibleInterface(widget)
        name = interface.text(QAccessible.Text.Name) if interface is not None else ""
        if not name.strip():
            missing.append(f"{type(widget).__name__} {widget.objectName()!r}")
    return missing


def visible_texts(root: QWidget) -> list[str]:
    """Every text a person could read under ``root``: labels, buttons, fields, models."""
    from PySide6.QtWidgets import QAbstractButton, QAbstractItemView, QLabel, QLineEdit

    texts = []
    for widget in [root, *root.findChildren(QWidget)]:
        if not widget.isVisibleTo(root):
            continue
        if isinstance(widget, QLabel | QAbstractButton | QLineEdit):
            texts.append(widget.text())
        if isinstance(widget, QAbstractItemView) and widget.model() is not None:
            model, root_index = widget.model(), QModelIndex()
            columns = 1 if isinstance(model, QAbstractListModel) else model.columnCount(root_index)
            for row in range(model.rowCount(root_index)):
                for column in range(columns):
                    texts.append(str(model.index(row, column).data()))
    return texts

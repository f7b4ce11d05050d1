"""Small dialogs and helpers shared by the manager views.

The dialogs open with ``open()`` (window-modal, not blocking the caller) and take an
``apply`` function: OK runs it, and when it raises a ``ValueError`` (a name in use, an
empty reason) the message shows in the dialog, which stays open. Questions that must be
answered before going on (overwrite? archive?) block with ``exec()``; tests answer them
with a timer, as a person would.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time
from typing import TypeVar

from PySide6.QtCore import QDate, QObject, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMessageBox,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from app import APP_NAME
from app.services.errors import StorageError
from app.services.manager import ManagerAccessError
from app.ui.manager_models import ProfileChoiceModel
from app.ui.models import ID_ROLE, SimpleListModel
from app.ui.notices import show_message
from app.ui.style import set_text_role

_log = logging.getLogger(__name__)

T = TypeVar("T")


class ManagerErrors(QObject):
    """Turns the failures of a manager action into a message, never a traceback."""

    def attempt(self, parent: QWidget | None, action: str, call: Callable[[], T]) -> T | None:
        """Run ``call``; on a refusal or a storage fault say what failed and return ``None``.

        ``action`` completes "Think Twice could not ...".
        """
        try:
            return call()
        except (ValueError, ManagerAccessError, StorageError) as error:
            _log.info("manager action refused: %s", action)
            show_message(
                parent,
                self.tr("{app} could not {action}.").format(app=APP_NAME, action=action),
                str(error),
            )
            return None


def confirm(parent: QWidget | None, text: str, details: str = "", *, yes: str = "") -> bool:
    """Ask a yes-or-no question and wait for the answer; No is the default."""
    return confirm_with_option(parent, text, details, yes=yes)[0]


def confirm_with_option(
    parent: QWidget | None, text: str, details: str = "", *, yes: str = "", option: str = ""
) -> tuple[bool, bool]:
    """Ask a yes-or-no question, with an optional check box under it; No is the default.

    Returns the answer and whether the check box was ticked.
    """
    box = QMessageBox(
        QMessageBox.Icon.Question, APP_NAME, text, QMessageBox.StandardButton.No, parent
    )
    box.setObjectName("confirm")
    yes_button = box.addButton(QMessageBox.StandardButton.Yes)
    if yes:
        yes_button.setText(yes)
        yes_button.setAccessibleName(yes.replace("&", ""))
    box.setDefaultButton(QMessageBox.StandardButton.No)
    if details:
        box.setInformativeText(details)
    if option:
        check = QCheckBox(option)
        check.setAccessibleName(option.replace("&", ""))
        box.setCheckBox(check)
    box.exec()
    ticked = box.checkBox() is not None and box.checkBox().isChecked()
    return box.clickedButton() is yes_button, ticked


def utc_midnight(day: date) -> datetime:
    """The start of ``day`` in UTC."""
    return datetime.combine(day, time(0, 0), tzinfo=UTC)


def end_of_day(day: date) -> datetime:
    """The last second of ``day`` in UTC: something due that day is due until its end."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)


class ApplyDialog(QDialog):
    """A dialog whose OK runs ``apply``; a ``ValueError`` shows inside and keeps it open."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setObjectName("managerDialog")
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.setMinimumWidth(self.fontMetrics().averageCharWidth() * 64)
        self.layout_ = QVBoxLayout(self)
        self.form = QFormLayout()
        self.layout_.addLayout(self.form)
        self.error_label = QLabel()
        self.error_label.setObjectName("errorText")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setAccessibleName(self.tr("OK"))
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setAccessibleName(self.tr("Cancel"))
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        self._apply: Callable[[], object] = lambda: None
        self.finished.connect(self.deleteLater)

    def finish_layout(self) -> None:
        """Add the error line and the buttons under what the subclass added."""
        self.layout_.addWidget(self.error_label)
        self.layout_.addWidget(self.buttons)

    def set_apply(self, apply: Callable[[], object]) -> None:
        """What OK does."""
        self._apply = apply

    def show_error(self, text: str) -> None:
        """Show why OK did not go through."""
        self.error_label.setText(text)
        self.error_label.show()

    def submit(self) -> None:
        """Run the action; close on success, say why not otherwise."""
        try:
            self._apply()
        except (ValueError, ManagerAccessError, StorageError) as error:
            self.show_error(str(error))
            return
        self.accept()


class DateChoice(QWidget):
    """An optional date: a check box "Due date" and a date field it enables."""

    def __init__(self, label: str, initial: datetime | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.enabled_box = QCheckBox(label)
        self.enabled_box.setAccessibleName(label)
        self.date_edit = QDateEdit()
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("yyyy-MM-dd")
        self.date_edit.setAccessibleName(self.tr("{label}: date").format(label=label))
        day = (initial or datetime.now(UTC)).date()
        self.date_edit.setDate(QDate(day.year, day.month, day.day))
        self.enabled_box.setChecked(initial is not None)
        self.date_edit.setEnabled(initial is not None)
        self.enabled_box.toggled.connect(self.date_edit.setEnabled)
        layout.addWidget(self.enabled_box)
        layout.addWidget(self.date_edit, 1)

    def set_date(self, day: date | None) -> None:
        """Choose ``day``, or no date."""
        self.enabled_box.setChecked(day is not None)
        if day is not None:
            self.date_edit.setDate(QDate(day.year, day.month, day.day))

    def day(self) -> date | None:
        """The date chosen, or ``None``."""
        if not self.enabled_box.isChecked():
            return None
        chosen = self.date_edit.date()
        return date(chosen.year(), chosen.month(), chosen.day())


class CohortDialog(ApplyDialog):
    """A cohort's name and optional due date, for creating or renaming one."""

    def __init__(
        self,
        title: str,
        *,
        name: str = "",
        due_at: datetime | None = None,
        with_due: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(title, parent)
        self.name_edit = QLineEdit(name)
        self.name_edit.setAccessibleName(self.tr("Cohort name"))
        name_label = QLabel(self.tr("Cohort &name"))
        name_label.setBuddy(self.name_edit)
        self.form.addRow(name_label, self.name_edit)
        self.due = DateChoice(self.tr("Due date"), due_at)
        self.due.setVisible(with_due)
        if with_due:
            self.form.addRow(self.due)
        self.finish_layout()
        self.name_edit.setFocus()

    def name(self) -> str:
        return self.name_edit.text()

    def due_at(self) -> datetime | None:
        day = self.due.day()
        return end_of_day(day) if day is not None else None


class MembersDialog(ApplyDialog):
    """Tick the profiles that belong to a cohort."""

    def __init__(
        self, cohort_name: str, model: ProfileChoiceModel, parent: QWidget | None = None
    ) -> None:
        super().__init__(self.tr("Members of {cohort}").format(cohort=cohort_name), parent)
        self.model = model
        model.setParent(self)
        heading = QLabel(self.tr("&Trainees (tick the members; Space ticks the current one)"))
        heading.setWordWrap(True)
        self.list_view = QListView()
        self.list_view.setModel(model)
        self.list_view.setAccessibleName(self.tr("Trainees"))
        heading.setBuddy(self.list_view)
        self.layout_.addWidget(heading)
        self.layout_.addWidget(self.list_view, 1)
        self.finish_layout()
        if model.rowCount():
            self.list_view.setCurrentIndex(model.index(0))
        self.list_view.setFocus()


class AssignTrackDialog(ApplyDialog):
    """Choose a track and its optional due date."""

    def __init__(
        self,
        cohort_name: str,
        tracks: Sequence[tuple[str, str]],
        due_at: datetime | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(self.tr("Assign a track to {cohort}").format(cohort=cohort_name), parent)
        self.track_combo = QComboBox()
        self.track_combo.setAccessibleName(self.tr("Track"))
        for track_id, title in tracks:
            self.track_combo.addItem(title, track_id)
        label = QLabel(self.tr("&Track"))
        label.setBuddy(self.track_combo)
        self.form.addRow(label, self.track_combo)
        self.due = DateChoice(self.tr("Due date"), due_at)
        self.form.addRow(self.due)
        self.finish_layout()
        self.track_combo.setFocus()

    def track_id(self) -> str:
        value = self.track_combo.currentData()
        return value if isinstance(value, str) else ""

    def due_at(self) -> datetime | None:
        day = self.due.day()
        return end_of_day(day) if day is not None else None


class ReasonDialog(ApplyDialog):
    """A waiver, reset or correction: what it does, to whom, by whom, and why (required).

    With ``answers`` the manager also picks the answer to void.
    """

    def __init__(
        self,
        title: str,
        summary: str,
        actor: str,
        *,
        answers: SimpleListModel | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(title, parent)
        about = QLabel(summary)
        about.setWordWrap(True)
        about.setTextFormat(Qt.TextFormat.PlainText)
        self.layout_.insertWidget(0, about)
        self.answer_view: QListView | None = None
        if answers is not None:
            answers.setParent(self)
            answer_label = QLabel(self.tr("&Answer to void"))
            self.answer_view = QListView()
            self.answer_view.setModel(answers)
            self.answer_view.setAccessibleName(self.tr("Answer to void"))
            answer_label.setBuddy(self.answer_view)
            self.layout_.addWidget(answer_label)
            self.layout_.addWidget(self.answer_view, 1)
            self.answer_view.selectionModel().selectionChanged.connect(self._update_ok)
        self.reason_edit = QPlainTextEdit()
        self.reason_edit.setTabChangesFocus(True)
        self.reason_edit.setAccessibleName(self.tr("Reason"))
        self.reason_edit.setPlaceholderText(
            self.tr("Why? Kept with the event for the audit trail.")
        )
        self.reason_edit.setFixedHeight(self.fontMetrics().height() * 5)
        self.reason_edit.textChanged.connect(self._update_ok)
        reason_label = QLabel(self.tr("&Reason (required)"))
        reason_label.setBuddy(self.reason_edit)
        self.layout_.addWidget(reason_label)
        self.layout_.addWidget(self.reason_edit)
        who = QLabel(
            self.tr(
                "Recorded as {actor}, with the time you press OK. Events are never edited "
                "or removed: a later reset or correction is another event."
            ).format(actor=actor)
        )
        who.setWordWrap(True)
        set_text_role(who, "caption")
        self.layout_.addWidget(who)
        self.finish_layout()
        self._update_ok()
        if self.answer_view is not None:
            self.answer_view.setFocus()
        else:
            self.reason_edit.setFocus()

    def reason(self) -> str:
        return self.reason_edit.toPlainText()

    def chosen_answer(self) -> str | None:
        """The attempt id of the answer chosen, if any."""
        if self.answer_view is None:
            return None
        # Selected, not merely current: voiding an answer is never a default.
        chosen = self.answer_view.selectionModel().selectedIndexes()
        value = chosen[0].data(ID_ROLE) if chosen else None
        return value if isinstance(value, str) else None

    def _update_ok(self) -> None:
        ready = bool(self.reason().strip())
        if self.answer_view is not None:
            ready = ready and self.chosen_answer() is not None
        self.ok_button.setEnabled(ready)

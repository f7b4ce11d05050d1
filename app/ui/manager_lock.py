"""The door to the manager area: set the passphrase on first use, or give it.

The passphrase is read from its field, handed to the manager service and cleared from the
field at once; it is never logged, stored or kept in an attribute. After wrong tries the
service imposes a wait (kept in the database, so restarting does not skip it); this panel
shows the wait, counts it down, and keeps the button disabled meanwhile.
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.passphrase import MIN_LENGTH
from app.services.errors import StorageError
from app.services.manager import (
    ManagerService,
    NoPassphrase,
    PassphraseAlreadySet,
    PassphraseRuleError,
    WrongPassphrase,
)
from app.ui.style import set_text_role

TICK_MILLISECONDS = 1000


class PassphrasePanel(QWidget):
    """Set the manager passphrase (first use) or unlock with it.

    Signals:
        unlocked(object): the manager area was unlocked; carries the ``ManagerSession``.
    """

    unlocked = Signal(object)

    def __init__(
        self, manager: ManagerService, *, default_actor: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._manager = manager
        self._setting = False
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MILLISECONDS)
        self._timer.timeout.connect(self.refresh_wait)

        outer = QVBoxLayout(self)
        outer.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        frame = QFrame()
        frame.setObjectName("card")
        frame.setMaximumWidth(560)
        layout = QVBoxLayout(frame)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(10)
        self.heading = QLabel()
        set_text_role(self.heading, "heading")
        self.explanation = QLabel()
        self.explanation.setWordWrap(True)
        layout.addWidget(self.heading)
        layout.addWidget(self.explanation)

        form = QFormLayout()
        self.passphrase_edit = QLineEdit()
        self.passphrase_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase_edit.setAccessibleName(self.tr("Manager passphrase"))
        self.passphrase_edit.returnPressed.connect(self.submit)
        self.passphrase_label = QLabel(self.tr("Pa&ssphrase"))
        self.passphrase_label.setBuddy(self.passphrase_edit)
        form.addRow(self.passphrase_label, self.passphrase_edit)
        self.confirm_edit = QLineEdit()
        self.confirm_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.confirm_edit.setAccessibleName(self.tr("Type the passphrase again"))
        self.confirm_edit.returnPressed.connect(self.submit)
        self.confirm_label = QLabel(self.tr("Type it &again"))
        self.confirm_label.setBuddy(self.confirm_edit)
        form.addRow(self.confirm_label, self.confirm_edit)
        self.actor_edit = QLineEdit(default_actor)
        self.actor_edit.setAccessibleName(self.tr("Recorded as"))
        self.actor_edit.setToolTip(
            self.tr("Your name or role, kept with the waivers, resets and corrections you make.")
        )
        self.actor_edit.returnPressed.connect(self.submit)
        actor_label = QLabel(self.tr("&Recorded as"))
        actor_label.setBuddy(self.actor_edit)
        form.addRow(actor_label, self.actor_edit)
        layout.addLayout(form)

        self.error_label = QLabel()
        self.error_label.setObjectName("errorText")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        self.wait_label = QLabel()
        self.wait_label.setObjectName("hint")
        self.wait_label.setWordWrap(True)
        self.wait_label.hide()
        layout.addWidget(self.error_label)
        layout.addWidget(self.wait_label)
        self.submit_button = QPushButton()
        self.submit_button.setObjectName("primary")
        self.submit_button.clicked.connect(self.submit)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.submit_button)
        layout.addLayout(buttons)

        row.addWidget(frame, 3)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(2)
        self._show_mode(setting=False)

    # State

    @property
    def setting(self) -> bool:
        """Whether the panel asks for a first passphrase (rather than the existing one)."""
        return self._setting

    def prepare(self) -> None:
        """Ask for the right thing (set or give), with empty fields and the current wait."""
        try:
            has_passphrase = self._manager.has_passphrase()
        except StorageError as error:
            self._show_error(str(error))
            return
        self._show_mode(setting=not has_passphrase)
        self._clear_fields()
        self.error_label.hide()
        self.refresh_wait()
        self.passphrase_edit.setFocus()

    def _show_mode(self, *, setting: bool) -> None:
        self._setting = setting
        self.confirm_edit.setVisible(setting)
        self.confirm_label.setVisible(setting)
        if setting:
            self.heading.setText(self.tr("Set the manager passphrase"))
            self.explanation.setText(
                self.tr(
                    "The manager area shows every trainee's records, so it is protected by a "
                    "passphrase. Choose one of at least {count} characters, not starting or "
                    "ending with a space. Only a salted hash of it is kept; it cannot be "
                    "recovered, so keep it somewhere safe."
                ).format(count=MIN_LENGTH)
            )
            self.submit_button.setText(self.tr("Set passphrase and &unlock"))
            self.submit_button.setAccessibleName(self.tr("Set passphrase and unlock"))
        else:
            self.heading.setText(self.tr("Manager area"))
            self.explanation.setText(
                self.tr(
                    "Give the manager passphrase to see every trainee's records, manage "
                    "cohorts and export records. Trainees see only their own progress."
                )
            )
            self.submit_button.setText(self.tr("&Unlock"))
            self.submit_button.setAccessibleName(self.tr("Unlock"))

    def _clear_fields(self) -> None:
        for edit in (self.passphrase_edit, self.confirm_edit):
            edit.clear()
            edit.setModified(False)

    def _show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.show()

    # Waiting after wrong tries

    def refresh_wait(self) -> float:
        """Ask the service how long to wait; disable the button meanwhile. Returns it."""
        try:
            remaining = 0.0 if self._setting else self._manager.wait_seconds()
        except StorageError as error:
            self._show_error(str(error))
            remaining = 0.0
        self._show_wait(remaining)
        return remaining

    def _show_wait(self, remaining: float) -> None:
        waiting = remaining > 0
        self.submit_button.setEnabled(not waiting)
        self.wait_label.setVisible(waiting)
        if waiting:
            self.wait_label.setText(
                self.tr("Too many wrong tries: wait {seconds} s before the next try.").format(
                    seconds=math.ceil(remaining)
                )
            )
            if not self._timer.isActive():
                self._timer.start()
        else:
            self._timer.stop()

    # Submitting

    def submit(self) -> None:
        """Set the passphrase (first use) or check it; emits ``unlocked`` on success."""
        if not self.submit_button.isEnabled():
            return
        self.error_label.hide()
        phrase = self.passphrase_edit.text()
        again = self.confirm_edit.text()
        self._clear_fields()
        if self._setting:
            if phrase != again:
                self._show_error(self.tr("The two passphrases differ; type them again."))
                self.passphrase_edit.setFocus()
                return
            try:
                self._manager.set_passphrase(phrase)
            except PassphraseRuleError as error:
                self._show_error(str(error))
                self.passphrase_edit.setFocus()
                return
            except PassphraseAlreadySet:
                self._show_mode(setting=False)
                self._show_error(
                    self.tr("A passphrase was set meanwhile; give that passphrase to unlock.")
                )
                self.passphrase_edit.setFocus()
                return
            except StorageError as error:
                self._show_error(str(error))
                return
            self._show_mode(setting=False)
        self._unlock(phrase, self.actor_edit.text())

    def _unlock(self, phrase: str, actor: str) -> None:
        try:
            session = self._manager.unlock(phrase, actor)
        except WrongPassphrase as error:
            if error.checked:
                self._show_error(self.tr("The manager passphrase is not right."))
            else:
                self._show_error(self.tr("Too many wrong tries: the passphrase was not checked."))
            self._show_wait(error.wait_seconds)
            self.passphrase_edit.setFocus()
            return
        except NoPassphrase:
            self._show_mode(setting=True)
            self._show_error(self.tr("No manager passphrase is set yet; set one first."))
            return
        except (ValueError, StorageError) as error:
            self._show_error(str(error))
            return
        self._show_wait(0.0)
        self.unlocked.emit(session)

    def focus_passphrase(self) -> None:
        """Put the keyboard focus in the passphrase field."""
        self.passphrase_edit.setFocus(Qt.FocusReason.OtherFocusReason)

"""The "Team database" window, and the password question asked at start.

The window sets the address of the team's PostgreSQL server (saved in the settings, without
a password), tests the connection, and keeps the password in the system keyring. Without a
usable keyring the password is not kept: the app asks for it at each start
(:class:`PasswordPrompt`) and holds it in memory only. Passwords are never shown: the
fields mask what is typed, and addresses are shown with ``***`` in place of a password.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app import APP_NAME
from app.ui.style import set_text_role

if TYPE_CHECKING:
    from app.services.credentials import KeyringPasswords
    from app.services.settings import Settings
    from app.services.team_database import ConnectionCheck, SavedTeamDatabase

URL_EXAMPLE = "postgresql+psycopg://thinktwice_app@db.example.internal/thinktwice"
NO_KEYRING = (
    "No system keyring is available on this computer, so the password cannot be kept: "
    f"{APP_NAME} asks for it at each start and holds it only while it runs."
)


def _password_edit(name: str) -> QLineEdit:
    edit = QLineEdit()
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    edit.setAccessibleName(name)
    # Nothing typed here may end up in the clipboard or a screen reader's echo.
    edit.setInputMethodHints(
        Qt.InputMethodHint.ImhHiddenText
        | Qt.InputMethodHint.ImhSensitiveData
        | Qt.InputMethodHint.ImhNoPredictiveText
    )
    return edit


class TeamDatabaseDialog(QDialog):
    """Address, password, "Test connection", and Save.

    ``command_line_url`` is the address given with ``--database-url`` for this session,
    if any (it wins over the saved one, and the window says so).

    Signals:
        saved(object): the choice was saved (a ``SavedTeamDatabase``).
    """

    saved = Signal(object)

    def __init__(
        self,
        settings: Settings,
        passwords: KeyringPasswords,
        *,
        command_line_url: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        from app.services.credentials import mask_password

        self._settings = settings
        self._passwords = passwords
        self.result_saved: SavedTeamDatabase | None = None
        self.setWindowTitle(f"Team database – {APP_NAME}")
        self.setObjectName("teamDatabaseDialog")
        self.setModal(True)

        intro = QLabel(
            "Point this computer at your team's PostgreSQL server so that every answer "
            "lands in one place. Leave the address empty to keep answers in the database "
            "file on this computer. The change applies from the next start."
        )
        intro.setWordWrap(True)
        self.url_edit = QLineEdit(settings.database_url or "")
        self.url_edit.setAccessibleName("Server address")
        self.url_edit.setPlaceholderText(URL_EXAMPLE)
        self.password_edit = _password_edit("Password")
        self._has_saved_password = bool(
            settings.database_url and passwords.get(settings.database_url)
        )
        self.password_edit.setPlaceholderText(
            "Kept in the system keyring; type to replace it"
            if self._has_saved_password
            else "Leave empty to use PGPASSWORD or ~/.pgpass"
        )
        self.remember_box = QCheckBox("&Remember the password in the system keyring")
        self.remember_box.setAccessibleName("Remember the password in the system keyring")
        keyring_ok = passwords.available()
        self.remember_box.setChecked(keyring_ok)
        self.remember_box.setEnabled(keyring_ok)
        self.keyring_note = QLabel("" if keyring_ok else NO_KEYRING)
        self.keyring_note.setWordWrap(True)
        self.keyring_note.setVisible(not keyring_ok)
        set_text_role(self.keyring_note, "caption")

        form = QFormLayout()
        url_label = QLabel("Server &address")
        url_label.setBuddy(self.url_edit)
        password_label = QLabel("&Password")
        password_label.setBuddy(self.password_edit)
        form.addRow(url_label, self.url_edit)
        form.addRow(password_label, self.password_edit)
        form.addRow("", self.remember_box)
        form.addRow("", self.keyring_note)

        self.test_button = QPushButton("&Test connection")
        self.test_button.setAccessibleName("Test connection")
        self.test_button.clicked.connect(self.test_connection)
        self.forget_button = QPushButton("&Forget the saved password")
        self.forget_button.setAccessibleName("Forget the saved password")
        self.forget_button.setVisible(self._has_saved_password)
        self.forget_button.clicked.connect(self.forget_password)
        row = QHBoxLayout()
        row.addWidget(self.test_button)
        row.addWidget(self.forget_button)
        row.addStretch(1)

        self.result_label = QLabel()
        self.result_label.setObjectName("connectionResult")
        self.result_label.setWordWrap(True)
        self.result_label.setAccessibleName("Connection result")
        self.result_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.result_label.hide()

        self.command_line_note = QLabel()
        self.command_line_note.setWordWrap(True)
        set_text_role(self.command_line_note, "caption")
        if command_line_url:
            self.command_line_note.setText(
                f"This session uses {mask_password(command_line_url)}, given with "
                "--database-url; the address saved here applies when none is given."
            )
        self.command_line_note.setVisible(bool(command_line_url))

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addLayout(row)
        layout.addWidget(self.result_label)
        layout.addWidget(self.command_line_note)
        layout.addWidget(buttons)
        self.resize(560, self.sizeHint().height())

    def _say(self, text: str) -> None:
        self.result_label.setText(text)
        self.result_label.show()

    def test_connection(self) -> ConnectionCheck:
        """Try the address (and password) now; the result shows under the buttons."""
        from app.services.team_database import check_connection

        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            check = check_connection(
                self.url_edit.text(), self.password_edit.text(), self._passwords
            )
        finally:
            QGuiApplication.restoreOverrideCursor()
        self._say(check.message)
        return check

    def forget_password(self) -> None:
        """Remove the password kept in the keyring for the address."""
        from app.services.team_database import forget_password

        forget_password(self._passwords, self.url_edit.text())
        self.forget_button.hide()
        self.password_edit.setPlaceholderText("Leave empty to use PGPASSWORD or ~/.pgpass")
        self._say("The saved password was removed from the system keyring.")

    def save(self) -> SavedTeamDatabase | None:
        """Save the address (and keep the password); closes the window when it worked."""
        from app.services.team_database import save_team_database

        try:
            result = save_team_database(
                self._settings,
                self._passwords,
                self.url_edit.text(),
                self.password_edit.text(),
                remember=self.remember_box.isChecked(),
            )
        except ValueError as error:
            self._say(str(error))
            return None
        except OSError as error:
            self._say(f"The settings could not be saved: {error.strerror or error}")
            return None
        self.password_edit.clear()
        self.result_saved = result
        self.saved.emit(result)
        self.accept()
        return result


class PasswordPrompt(QDialog):
    """Asks for the team database password at start (kept in memory, or in the keyring).

    ``refused`` says that the server turned the last password down.
    """

    def __init__(
        self,
        location: str,
        *,
        keyring_available: bool,
        refused: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Team database password – {APP_NAME}")
        self.setObjectName("passwordPrompt")
        self.setModal(True)
        text = QLabel(
            ("The server refused the login. " if refused else "")
            + f"Enter the password for the team database {location}."
        )
        text.setWordWrap(True)
        self.password_edit = _password_edit("Password")
        self.remember_box = QCheckBox("&Remember it in the system keyring")
        self.remember_box.setAccessibleName("Remember it in the system keyring")
        self.remember_box.setChecked(keyring_available)
        self.remember_box.setEnabled(keyring_available)
        note = QLabel(
            "It is kept in the system keyring when you tick the box above."
            if keyring_available
            else NO_KEYRING
        )
        note.setWordWrap(True)
        set_text_role(note, "caption")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(text)
        layout.addWidget(self.password_edit)
        layout.addWidget(self.remember_box)
        layout.addWidget(note)
        layout.addWidget(buttons)

    def password(self) -> str:
        """What was typed."""
        return self.password_edit.text()

    def remember(self) -> bool:
        """Whether to keep the password in the keyring."""
        return self.remember_box.isEnabled() and self.remember_box.isChecked()


def ask_for_password(
    parent: QWidget,
    url: str,
    passwords: KeyringPasswords,
    *,
    refused: bool,
    on_password: Callable[[str], None],
    on_cancel: Callable[[], None],
) -> PasswordPrompt:
    """Open the password question for the server at ``url`` (a URL without password).

    ``on_password`` gets the password once given (kept in the keyring first, when asked
    and possible); ``on_cancel`` runs when the trainee declines.
    """
    from app.services.credentials import CredentialsUnavailableError, mask_password

    prompt = PasswordPrompt(
        mask_password(url),
        keyring_available=passwords.available(),
        refused=refused,
        parent=parent,
    )

    def given() -> None:
        password = prompt.password()
        if prompt.remember():
            # Refused or not, it still works for this session; the prompt said as much.
            with suppress(CredentialsUnavailableError):
                passwords.set(url, password)
        on_password(password)

    prompt.accepted.connect(given)
    prompt.rejected.connect(on_cancel)
    prompt.finished.connect(prompt.deleteLater)
    prompt.open()
    return prompt


def open_team_database(
    parent: QWidget,
    settings: Settings,
    passwords: KeyringPasswords,
    *,
    command_line_url: str | None = None,
    on_saved: Callable[[SavedTeamDatabase], None] | None = None,
) -> TeamDatabaseDialog:
    """Open the Team database window (non-blocking); ``on_saved`` runs after a save."""
    dialog = TeamDatabaseDialog(
        settings, passwords, command_line_url=command_line_url, parent=parent
    )
    if on_saved is not None:
        dialog.saved.connect(on_saved)
    dialog.finished.connect(dialog.deleteLater)
    dialog.open()
    return dialog

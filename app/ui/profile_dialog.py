"""Trainee profiles: the first-start dialog and the "Switch profile" dialog."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QModelIndex
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListView,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app import APP_NAME
from app.core.records import Profile
from app.ui.i18n import QT_TRANSLATE_NOOP
from app.ui.models import ROW_ROLE, ProfileListModel
from app.ui.notices import SERVICE_ERRORS
from app.ui.style import set_text_role

if TYPE_CHECKING:
    from app.services.training import TrainingService

NAME_REQUIRED = QT_TRANSLATE_NOOP(
    "ProfileForm", "Enter a display name: it labels your answers and progress."
)


def _open_wide(dialog: QDialog) -> None:
    """Give ``dialog`` room for about 60 characters a line. Not as a minimum width: that
    would stop its layout from widening it for large text or longer translations."""
    width = max(dialog.sizeHint().width(), dialog.fontMetrics().averageCharWidth() * 60)
    dialog.resize(width, max(dialog.sizeHint().height(), dialog.heightForWidth(width)))


class ProfileForm(QWidget):
    """Display name (required), email or employee id and team (optional), with an
    inline message for what is wrong."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.name_edit = QLineEdit()
        self.name_edit.setAccessibleName(self.tr("Display name (required)"))
        self.name_edit.setPlaceholderText(self.tr("For example: Sam Rivera"))
        self.name_edit.setMaxLength(120)
        self.email_edit = QLineEdit()
        self.email_edit.setAccessibleName(self.tr("Email or employee id (optional)"))
        self.email_edit.setMaxLength(200)
        self.team_edit = QLineEdit()
        self.team_edit.setAccessibleName(self.tr("Team (optional)"))
        self.team_edit.setMaxLength(120)
        self.error_label = QLabel()
        self.error_label.setObjectName("errorText")
        self.error_label.setWordWrap(True)
        self.error_label.setAccessibleName(self.tr("Problem with the profile"))
        self.error_label.hide()

        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.setVerticalSpacing(10)
        # Labels above their fields: room for long labels, large text and translations.
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)
        for label_text, field in (
            (self.tr("&Display name"), self.name_edit),
            (self.tr("&Email or employee id (optional)"), self.email_edit),
            (self.tr("&Team (optional)"), self.team_edit),
        ):
            label = QLabel(label_text)
            label.setBuddy(field)
            form.addRow(label, field)
            if field is self.name_edit:
                form.addRow(self.error_label)
        self.name_edit.textEdited.connect(self.clear_error)
        self.setTabOrder(self.name_edit, self.email_edit)
        self.setTabOrder(self.email_edit, self.team_edit)

    def values(self) -> tuple[str, str | None, str | None]:
        """Display name, then email or id and team (``None`` when left empty)."""
        name = self.name_edit.text().strip()
        email = self.email_edit.text().strip() or None
        team = self.team_edit.text().strip() or None
        return name, email, team

    def validate(self) -> bool:
        """Check what can be checked here; shows the message and returns False if wrong."""
        if not self.values()[0]:
            self.show_error(QCoreApplication.translate("ProfileForm", NAME_REQUIRED))
            return False
        return True

    def show_error(self, message: str) -> None:
        """Show ``message`` under the name field and put the focus back there."""
        self.error_label.setText(f"⚠ {message}")
        self.error_label.show()
        self.name_edit.setFocus()
        window = self.window()
        if window is not self:
            # A dialog keeps its size by itself: let it grow to show the whole message.
            layout = window.layout()
            if layout is not None:
                layout.activate()
            needed = window.heightForWidth(window.width())
            if needed > window.height():
                window.resize(window.width(), needed)

    def clear_error(self) -> None:
        """Hide the message."""
        self.error_label.hide()
        self.error_label.clear()

    def reset(self) -> None:
        """Empty every field."""
        for edit in (self.name_edit, self.email_edit, self.team_edit):
            edit.clear()
        self.clear_error()


def create_profile(form: ProfileForm, training: TrainingService) -> Profile | None:
    """Create the profile described by ``form``; on a problem show it in the form."""
    if not form.validate():
        return None
    name, email, team = form.values()
    try:
        return training.create_profile(name, email, team)
    except ValueError as error:
        form.show_error(str(error))
    except SERVICE_ERRORS as error:
        form.show_error(
            QCoreApplication.translate("ProfileForm", "Could not save the profile: {error}").format(
                error=error
            )
        )
    return None


class ProfileDialog(QDialog):
    """Asks for a new trainee profile (used on first start and from "Switch profile").

    After ``accepted``, ``profile`` holds the created profile.
    """

    def __init__(
        self, training: TrainingService, *, first_start: bool = False, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._training = training
        self.profile: Profile | None = None
        self.setWindowTitle(self.tr("Welcome") if first_start else self.tr("New profile"))
        self.setModal(True)
        layout = QVBoxLayout(self)
        layout.setSpacing(12)
        layout.setContentsMargins(24, 20, 24, 20)
        heading = QLabel(
            self.tr("Welcome to {app}").format(app=APP_NAME)
            if first_start
            else self.tr("New trainee profile")
        )
        set_text_role(heading, "heading")
        intro = QLabel(
            self.tr(
                "Who is training on this computer? Your answers are kept under this profile, "
                "on this computer only. Several people can each have their own profile."
            )
        )
        intro.setWordWrap(True)
        set_text_role(intro, "caption")
        self.form = ProfileForm()
        buttons = QDialogButtonBox()
        self.create_button = QPushButton(self.tr("&Create profile"))
        self.create_button.setDefault(True)
        self.create_button.setObjectName("primary")
        buttons.addButton(self.create_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = buttons.addButton(
            self.tr("&Quit") if first_start else self.tr("Cancel"),
            QDialogButtonBox.ButtonRole.RejectRole,
        )
        buttons.accepted.connect(self._create)
        buttons.rejected.connect(self.reject)
        layout.addWidget(heading)
        layout.addWidget(intro)
        layout.addWidget(self.form)
        layout.addStretch(1)
        layout.addWidget(buttons)
        _open_wide(self)
        self.form.name_edit.setFocus()

    def _create(self) -> None:
        profile = create_profile(self.form, self._training)
        if profile is not None:
            self.profile = profile
            self.accept()


class SwitchProfileDialog(QDialog):
    """Lists the profiles on this computer, and creates new ones.

    After ``accepted``, ``profile`` holds the chosen (or newly created) profile.
    """

    def __init__(
        self,
        training: TrainingService,
        current: Profile | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._training = training
        self.profile: Profile | None = None
        self.setWindowTitle(self.tr("Switch profile"))
        self.setModal(True)
        self.pages = QStackedWidget()
        self.model = ProfileListModel(training.list_profiles(), self)

        # Page 1: choose.
        choose = QWidget()
        choose_layout = QVBoxLayout(choose)
        choose_layout.setContentsMargins(0, 0, 0, 0)
        label = QLabel(self.tr("&Profiles on this computer"))
        set_text_role(label, "subheading")
        self.list_view = QListView()
        self.list_view.setModel(self.model)
        self.list_view.setAccessibleName(self.tr("Profiles on this computer"))
        self.list_view.setEditTriggers(QListView.EditTrigger.NoEditTriggers)
        self.list_view.doubleClicked.connect(self._use_selected)
        label.setBuddy(self.list_view)
        choose_buttons = QDialogButtonBox()
        self.use_button = QPushButton(self.tr("&Use this profile"))
        self.use_button.setObjectName("primary")
        self.use_button.setDefault(True)
        choose_buttons.addButton(self.use_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.new_button = choose_buttons.addButton(
            self.tr("&New profile…"), QDialogButtonBox.ButtonRole.ActionRole
        )
        choose_buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.use_button.clicked.connect(self._use_selected)
        self.new_button.clicked.connect(self._show_new)
        choose_buttons.rejected.connect(self.reject)
        choose_layout.addWidget(label)
        choose_layout.addWidget(self.list_view)
        choose_layout.addWidget(choose_buttons)

        # Page 2: create.
        create = QWidget()
        create_layout = QVBoxLayout(create)
        create_layout.setContentsMargins(0, 0, 0, 0)
        create_heading = QLabel(self.tr("New trainee profile"))
        set_text_role(create_heading, "subheading")
        self.form = ProfileForm()
        create_buttons = QDialogButtonBox()
        self.create_button = QPushButton(self.tr("&Create and use"))
        self.create_button.setObjectName("primary")
        create_buttons.addButton(self.create_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.back_button = create_buttons.addButton(
            self.tr("&Back"), QDialogButtonBox.ButtonRole.RejectRole
        )
        self.create_button.clicked.connect(self._create)
        self.back_button.clicked.connect(self._show_list)
        create_layout.addWidget(create_heading)
        create_layout.addWidget(self.form)
        create_layout.addStretch(1)
        create_layout.addWidget(create_buttons)

        self.pages.addWidget(choose)
        self.pages.addWidget(create)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.addWidget(self.pages)
        _open_wide(self)

        row = self.model.row_of(current.id) if current is not None else None
        self.list_view.setCurrentIndex(self.model.index(row if row is not None else 0))
        self.list_view.setFocus()
        if self.model.rowCount() == 0:
            self._show_new()

    def _selected_profile(self) -> Profile | None:
        profile = self.list_view.currentIndex().data(ROW_ROLE)
        return profile if isinstance(profile, Profile) else None

    def _use_selected(self, _index: QModelIndex | None = None) -> None:
        profile = self._selected_profile()
        if profile is not None:
            self.profile = profile
            self.accept()

    def _show_new(self) -> None:
        self.form.reset()
        self.pages.setCurrentIndex(1)
        self.create_button.setDefault(True)
        self.form.name_edit.setFocus()

    def _show_list(self) -> None:
        self.pages.setCurrentIndex(0)
        self.use_button.setDefault(True)
        self.list_view.setFocus()

    def _create(self) -> None:
        profile = create_profile(self.form, self._training)
        if profile is not None:
            self.profile = profile
            self.accept()

    def reject(self) -> None:
        # Escape on the "new profile" page goes back to the list rather than closing.
        if self.pages.currentIndex() == 1 and self.model.rowCount():
            self._show_list()
            return
        super().reject()

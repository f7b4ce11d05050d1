"""Where Think Twice keeps its per-user state, resolved through Qt's standard paths.

Only QtCore is used here, so the command line can resolve the data folder without
creating a window.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QStandardPaths

from app import APP_NAME

# The application name decides the folder name; the organisation is left empty on
# purpose so the state lives in one folder (for example ~/.local/share/thinktwice)
# rather than a nested Org/App pair.
APPLICATION_NAME = "thinktwice"
ORGANIZATION_NAME = ""


def configure_application_identity() -> None:
    """Set the application's names before anything asks QStandardPaths or QSettings.

    Safe to call more than once and before a QApplication exists.
    """
    if QCoreApplication.applicationName() != APPLICATION_NAME:
        QCoreApplication.setApplicationName(APPLICATION_NAME)
    if QCoreApplication.organizationName() != ORGANIZATION_NAME:
        QCoreApplication.setOrganizationName(ORGANIZATION_NAME)
    # The display name is a QGuiApplication property; set it when a GUI app exists.
    app = QCoreApplication.instance()
    if app is not None and hasattr(app, "setApplicationDisplayName"):
        app.setApplicationDisplayName(APP_NAME)


def default_data_dir() -> Path:
    """The per-user data folder (Qt's AppLocalDataLocation); not created here."""
    configure_application_identity()
    location = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppLocalDataLocation)
    if not location:
        # Only on a system without a home folder; fall back to the working directory.
        return Path.cwd() / APPLICATION_NAME
    return Path(location)

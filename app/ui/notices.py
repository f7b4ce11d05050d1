"""Telling the trainee that something went wrong, in words, without blocking tests.

Every call into the service layer that can fail at run time goes through
``call_service``: storage errors become a message box with the error's own
user-readable text, never a traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from app import APP_NAME

try:
    from app.services.errors import StorageError

    SERVICE_ERRORS: tuple[type[Exception], ...] = (StorageError,)
except ImportError:  # pragma: no cover - only while the service layer lacks the module
    SERVICE_ERRORS = (Exception,)

T = TypeVar("T")


def show_message(
    parent: QWidget | None,
    text: str,
    details: str = "",
    *,
    icon: QMessageBox.Icon = QMessageBox.Icon.Warning,
) -> QMessageBox:
    """Show a window-modal message without blocking the caller; returns the box."""
    box = QMessageBox(icon, APP_NAME, text, QMessageBox.StandardButton.Ok, parent)
    if details:
        box.setInformativeText(details)
    box.setObjectName("notice")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box


def call_service(parent: QWidget | None, action: str, call: Callable[[], T]) -> T | None:
    """Run ``call``; on a storage error tell the trainee what failed and return ``None``.

    ``action`` completes the sentence "Think Twice could not ...", for example
    "save your answer".
    """
    try:
        return call()
    except SERVICE_ERRORS as error:
        show_message(
            parent,
            f"{APP_NAME} could not {action}.",
            f"{error}\n\nNothing was lost that had been saved before. "
            "Try again; if it keeps failing, restart Think Twice.",
        )
        return None

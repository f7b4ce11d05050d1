"""A one-line label that elides its middle: Qt only, so the main window can use it before
the first paint without loading the rest of the interface."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent
from PySide6.QtWidgets import QLabel


class ElidedLabel(QLabel):
    """A one-line label that shows "…" in the middle of its text when space is short.

    ``text()``, the tooltip and what screen readers get stay whole; only the drawing is
    shortened, so a long path never makes its window wider than the screen.
    """

    def setText(self, text: str) -> None:  # noqa: N802
        super().setText(text)
        self.setToolTip(text)

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        return QSize(min(hint.width(), self.fontMetrics().averageCharWidth() * 16), hint.height())

    def paintEvent(self, event: QPaintEvent) -> None:
        del event
        rect = self.contentsRect()
        text = self.fontMetrics().elidedText(
            self.text(), Qt.TextElideMode.ElideMiddle, rect.width()
        )
        painter = QPainter(self)
        self.style().drawItemText(
            painter,
            rect,
            int(self.alignment().value),
            self.palette(),
            self.isEnabled(),
            text,
            self.foregroundRole(),
        )


__all__ = ["ElidedLabel"]

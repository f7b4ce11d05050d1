"""Small building blocks shared by the pages: cards, clickable labels, the confidence box."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFrame,
    QLabel,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from app.core.judging import CONFIDENCE_MAX, CONFIDENCE_MIN
from app.ui.models import FlagChoice
from app.ui.style import set_text_role


def card(title: str | None = None, *, name: str = "card") -> tuple[QFrame, QVBoxLayout]:
    """A rounded panel with an optional heading; returns it and its layout."""
    frame = QFrame()
    frame.setObjectName(name)
    layout = QVBoxLayout(frame)
    layout.setContentsMargins(16, 14, 16, 16)
    layout.setSpacing(10)
    if title:
        heading = QLabel(title)
        set_text_role(heading, "heading")
        heading.setWordWrap(True)
        layout.addWidget(heading)
    return frame, layout


class ClickableLabel(QLabel):
    """A label that reports clicks, so the text next to a radio button selects it.

    Signals:
        clicked(): the label was clicked with the left mouse button.
    """

    clicked = Signal()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() is Qt.MouseButton.LeftButton:
            self.clicked.emit()
            event.accept()
            return
        super().mousePressEvent(event)


class ConfidenceBox(QComboBox):
    """A "Not given" entry, then confidences from 50 to 100 percent in steps of ten.

    Signals:
        popup_shown(bool): the drop-down list opened (True) or closed (False); the player
            pauses its single-key shortcuts meanwhile, so Enter picks an entry.
    """

    popup_shown = Signal(bool)

    NOT_GIVEN = "Not given"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.addItem(self.NOT_GIVEN, None)
        for percent in range(CONFIDENCE_MIN, CONFIDENCE_MAX + 1, 10):
            self.addItem(f"{percent} %", percent)

    def confidence(self) -> int | None:
        """The chosen percentage, or ``None`` when not given."""
        value = self.currentData()
        return value if isinstance(value, int) else None

    def showPopup(self) -> None:  # noqa: N802
        self.popup_shown.emit(True)
        super().showPopup()

    def hidePopup(self) -> None:  # noqa: N802
        super().hidePopup()
        self.popup_shown.emit(False)


class FlagChecklist(QWidget):
    """Red flags to tick: a check box with the flag's title, its question underneath.

    Signals:
        changed(): a flag was ticked or unticked.
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(6)
        self._choices: list[FlagChoice] = []
        self.checkboxes: list[QCheckBox] = []
        self.none_box: QCheckBox | None = None

    def set_choices(self, choices: list[FlagChoice]) -> None:
        """Offer these flags, none ticked."""
        while self._layout.count():
            item = self._layout.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.hide()
                widget.deleteLater()
        self._choices = list(choices)
        self.checkboxes = []
        for choice in self._choices:
            box = QCheckBox(choice.title)
            box.setAccessibleName(choice.title)
            box.setAccessibleDescription(choice.question)
            box.toggled.connect(self.changed)
            question = ClickableLabel(choice.question)
            question.setWordWrap(True)
            set_text_role(question, "caption")
            indicator = box.style().pixelMetric(QStyle.PixelMetric.PM_IndicatorWidth, None, box)
            spacing = box.style().pixelMetric(QStyle.PixelMetric.PM_CheckBoxLabelSpacing, None, box)
            question.setIndent(indicator + spacing)
            question.clicked.connect(box.toggle)
            self._layout.addWidget(box)
            self._layout.addWidget(question)
            self.checkboxes.append(box)
            box.toggled.connect(self._flag_toggled)
        # Saying "no red flag here" is an answer too, distinct from not saying anything.
        self.none_box = QCheckBox("None of these: I see no red flag")
        self.none_box.setAccessibleName("None of these: I see no red flag")
        self.none_box.toggled.connect(self._none_toggled)
        self.none_box.toggled.connect(self.changed)
        self._layout.addWidget(self.none_box)

    def _flag_toggled(self, checked: bool) -> None:
        if checked and self.none_box is not None:
            self.none_box.setChecked(False)

    def _none_toggled(self, checked: bool) -> None:
        if checked:
            for box in self.checkboxes:
                box.setChecked(False)

    def stated_flags(self) -> frozenset[str] | None:
        """The flags the trainee named; empty for "none of these"; None when not said."""
        if self.none_box is not None and self.none_box.isChecked():
            return frozenset()
        return self.checked_ids() or None

    def focus_chain(self) -> list[QWidget]:
        """The check boxes in tab order."""
        return [*self.checkboxes, *([self.none_box] if self.none_box is not None else [])]

    def choices(self) -> list[FlagChoice]:
        """The flags offered, in display order."""
        return list(self._choices)

    def checked_ids(self) -> frozenset[str]:
        """The ids of the ticked flags."""
        return frozenset(
            choice.flag_id
            for choice, box in zip(self._choices, self.checkboxes, strict=True)
            if box.isChecked()
        )

    def set_checked(self, flag_id: str, checked: bool) -> None:
        """Tick or untick one flag by id."""
        for choice, box in zip(self._choices, self.checkboxes, strict=True):
            if choice.flag_id == flag_id:
                box.setChecked(checked)

"""Small building blocks shared by the pages: cards, clickable labels, the confidence box,
and two layouts that keep large or translated text whole (a column that scrolls only
vertically, and a row of buttons that becomes a column when it does not fit)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QSize, Qt, Signal
from PySide6.QtGui import QMouseEvent, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QCheckBox,
    QComboBox,
    QFrame,
    QLabel,
    QScrollArea,
    QSizePolicy,
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


class ColumnScrollArea(QScrollArea):
    """Scrolls ``content`` vertically and is never narrower than the content needs.

    A plain scroll area without a horizontal scroll bar would cut off whatever does not
    fit its width (with large text, the end of a button); this one asks its layout for
    the content's minimum width instead.
    """

    def __init__(self, content: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setWidget(content)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        content.installEventFilter(self)

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        content = self.widget()
        if content is None:
            return hint
        needed = (
            content.minimumSizeHint().width()
            + self.verticalScrollBar().sizeHint().width()
            + 2 * self.frameWidth()
        )
        return QSize(max(hint.width(), needed), hint.height())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()
        return super().eventFilter(watched, event)


class ButtonRow(QWidget):
    """Buttons side by side while they fit, one under the other when they do not.

    Its minimum width is that of the widest button, so large text or a longer
    translation stacks the buttons instead of cutting their labels. The buttons are
    placed by hand: a layout would answer the parent's height-for-width questions
    without knowing about the switch.
    """

    def __init__(self, spacing: int = 6, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._spacing = spacing
        self._row = True
        self.buttons: list[QAbstractButton] = []
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)

    def add_button(self, button: QAbstractButton) -> None:
        """Add ``button`` at the end of the row."""
        button.setParent(self)
        self.buttons.append(button)
        self.updateGeometry()
        self._place()

    def _shown(self) -> list[QAbstractButton]:
        return [b for b in self.buttons if not b.isHidden()]

    def _row_width(self) -> int:
        widths = [b.sizeHint().width() for b in self._shown()]
        return sum(widths) + self._spacing * max(0, len(widths) - 1)

    def _height(self, *, in_row: bool) -> int:
        heights = [b.sizeHint().height() for b in self._shown()]
        if not heights:
            return 0
        if in_row:
            return max(heights)
        return sum(heights) + self._spacing * (len(heights) - 1)

    def is_row(self) -> bool:
        """Whether the buttons are side by side now."""
        return self._row

    def sizeHint(self) -> QSize:
        return QSize(self._row_width(), self._height(in_row=True))

    def minimumSizeHint(self) -> QSize:
        widest = max((b.minimumSizeHint().width() for b in self._shown()), default=0)
        return QSize(widest, self._height(in_row=True))

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._height(in_row=self._row_width() <= width)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.LayoutRequest:
            # A button's text (and so its size) changed.
            self.updateGeometry()
            self._place()
        return super().event(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._place()

    def _place(self) -> None:
        shown = self._shown()
        width = self.width()
        row = self._row_width() <= width
        if row != self._row:
            self._row = row
            self.updateGeometry()
        if not shown:
            return
        if row:
            # Spare width is shared out evenly, so the buttons fill the row.
            spare = width - self._row_width()
            height = self._height(in_row=True)
            x = 0
            for position, button in enumerate(shown):
                extra = spare // len(shown) + (1 if position < spare % len(shown) else 0)
                button_width = button.sizeHint().width() + extra
                button.setGeometry(x, 0, button_width, height)
                x += button_width + self._spacing
        else:
            y = 0
            for button in shown:
                height = button.sizeHint().height()
                button.setGeometry(0, y, width, height)
                y += height + self._spacing


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

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.addItem(self.tr("Not given"), None)
        for percent in range(CONFIDENCE_MIN, CONFIDENCE_MAX + 1, 10):
            self.addItem(self.tr("{percent} %").format(percent=percent), percent)

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
        none_text = self.tr("None of these: I see no red flag")
        self.none_box = QCheckBox(none_text)
        self.none_box.setAccessibleName(none_text)
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

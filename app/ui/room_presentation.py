"""The room's presentation view: one step at a time, in large type, for a projector.

The facilitator shows the Situation and the assistant's Suggestion, runs a discussion
timer, enters the room's counts of hands, watches the live tally (which also counts votes
cast from attendees' own apps on a shared database, re-read every few seconds), reveals
what the room's choice leads to and keeps notes per step. Everything has a keyboard way:
Alt with the underlined letter of each control, Tab for the rest.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAccessible,
    QAccessibleAnnouncementEvent,
    QFont,
    QGuiApplication,
    QHideEvent,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.core.model import Decision, Scenario, Step
from app.core.room import MAX_ROOM_COUNT, RoomTally, VoteCounts
from app.ui.feedback import bubble_markdown, debrief_markdown, quote
from app.ui.markdown_view import SafeMarkdownView, UrlOpener, open_in_browser
from app.ui.notices import SERVICE_ERRORS, call_service
from app.ui.style import Theme, repolish, role_font

if TYPE_CHECKING:
    from app.services.room import Reveal, RoomService, RoomSession, SessionSummary

T = TypeVar("T")

# Presentation type is this many times the application's; headings scale from it.
PRESENTATION_SCALE = 1.7
TALLY_POLL_MS = 3000
NOTES_SAVE_DELAY_MS = 800
DEFAULT_TIMER_MINUTES = 3
MAX_TIMER_MINUTES = 60
TIMER_TICK_MS = 200

# Black on white with strong borders: reads from the back of a lit room.
PRESENTATION_THEME = Theme(
    window="#ffffff",
    surface="#ffffff",
    surface_alt="#ebebeb",
    text="#000000",
    muted_text="#1a1a1a",
    border="#000000",
    accent="#00366e",
    accent_text="#ffffff",
    accent_soft="#d5e4f5",
    progress="#00366e",
    focus="#b3400a",
    bubble="#f3f6fa",
    bubble_border="#000000",
    avatar="#00366e",
)


def presentation_stylesheet(theme: Theme = PRESENTATION_THEME) -> str:
    """The view's own stylesheet: high contrast, thick borders, a focus you can see."""
    t = theme
    return f"""
QWidget#presentation, QWidget#presentation QWidget#presentationBody {{
    background: {t.window}; color: {t.text};
}}
QWidget#presentation QLabel {{ color: {t.text}; }}
QWidget#presentation QFrame#card {{
    background: {t.surface}; border: 2px solid {t.border}; border-radius: 8px;
}}
QWidget#presentation QFrame#bubble {{
    background: {t.bubble}; border: 2px solid {t.bubble_border}; border-radius: 10px;
}}
QWidget#presentation QPushButton {{
    background: {t.surface}; color: {t.text}; border: 2px solid {t.border};
    border-radius: 6px; padding: 6px 12px;
}}
QWidget#presentation QSpinBox {{ padding-right: 4px; }}
QWidget#presentation QSpinBox::up-button, QWidget#presentation QSpinBox::down-button {{
    width: 0px; border: none;
}}
QWidget#presentation QPushButton#stepper {{ padding: 0; font-weight: bold; }}
QWidget#presentation QPushButton#primary {{
    background: {t.accent}; color: {t.accent_text}; border-color: {t.accent};
}}
QWidget#presentation QPushButton#primary:disabled {{
    color: {t.text}; background: {t.surface_alt}; border: 2px solid #5c5c5c;
}}
QWidget#presentation QPushButton:disabled {{
    color: #5c5c5c; background: {t.surface_alt}; border-color: #5c5c5c;
}}
QWidget#presentation QPushButton:focus, QWidget#presentation QSpinBox:focus,
QWidget#presentation QPlainTextEdit:focus {{
    border: 4px solid {t.focus};
}}
QWidget#presentation QSpinBox, QWidget#presentation QPlainTextEdit {{
    background: {t.surface}; color: {t.text}; border: 2px solid {t.border};
    border-radius: 6px; padding: 2px 6px;
}}
QWidget#presentation QProgressBar {{
    background: {t.surface_alt}; border: 2px solid {t.border}; border-radius: 4px;
    color: {t.text}; text-align: center;
}}
QWidget#presentation QProgressBar::chunk {{ background: {t.accent}; }}
QWidget#presentation QLabel#timerDisplay {{
    border: 2px solid {t.border}; border-radius: 6px; padding: 2px 10px;
}}
QWidget#presentation QFrame#verdict[verdict="right"] {{ border: 3px solid #145226; }}
QWidget#presentation QFrame#verdict[verdict="wrong"] {{ border: 3px solid #8a1c12; }}
QWidget#presentation QFrame#verdict[verdict="caution"] {{ border: 3px dashed {t.border}; }}
QWidget#presentation QLabel#errorText {{ color: #8a1c12; }}
"""


def mm_ss(seconds: float) -> str:
    """``125.2`` as ``"02:06"`` (whole seconds, rounded up so 0.2 s left shows 00:01)."""
    whole = max(0, int(-(-seconds // 1)))
    minutes, rest = divmod(whole, 60)
    return f"{minutes:02d}:{rest:02d}"


def announce(widget: QWidget, text: str) -> None:
    """Have screen readers say ``text`` (the widget's window must be shown)."""
    QAccessible.updateAccessibility(QAccessibleAnnouncementEvent(widget, text))


class DiscussionTimer(QObject):
    """A countdown for the room's discussion: start, pause, reset.

    Signals:
        changed(): the time shown or the state changed.
        finished(): the time is up.
    """

    changed = Signal()
    finished = Signal()

    def __init__(
        self,
        minutes: int = DEFAULT_TIMER_MINUTES,
        *,
        clock: Callable[[], float] = time.monotonic,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._clock = clock
        self._minutes = minutes
        self._spent = 0.0
        self._started: float | None = None
        self._finished = False
        self._ticker = QTimer(self)
        self._ticker.setInterval(TIMER_TICK_MS)
        self._ticker.timeout.connect(self._tick)

    @property
    def minutes(self) -> int:
        """The length of a discussion."""
        return self._minutes

    def set_minutes(self, minutes: int) -> None:
        """Change the length; the time already spent stays spent."""
        self._minutes = max(1, min(MAX_TIMER_MINUTES, minutes))
        self._tick()

    @property
    def running(self) -> bool:
        """Whether the countdown is running."""
        return self._started is not None

    @property
    def is_finished(self) -> bool:
        """Whether the time is up."""
        return self._finished

    @property
    def started_once(self) -> bool:
        """Whether it ran since the last reset."""
        return self.running or self._spent > 0 or self._finished

    def remaining(self) -> float:
        """Seconds left."""
        spent = self._spent
        if self._started is not None:
            spent += self._clock() - self._started
        return max(0.0, self._minutes * 60 - spent)

    def display(self) -> str:
        """The time left as ``mm:ss``."""
        return mm_ss(self.remaining())

    def start(self) -> None:
        """Start or resume the countdown (from the full time once it ran out)."""
        if self.running:
            return
        if self._finished:
            self._spent = 0.0
            self._finished = False
        self._started = self._clock()
        self._ticker.start()
        self.changed.emit()

    def pause(self) -> None:
        """Stop the countdown where it is."""
        if self._started is None:
            return
        self._spent += self._clock() - self._started
        self._started = None
        self._ticker.stop()
        self.changed.emit()

    def toggle(self) -> None:
        """Start when paused, pause when running."""
        if self.running:
            self.pause()
        else:
            self.start()

    def reset(self) -> None:
        """Back to the full time, stopped."""
        self._ticker.stop()
        self._started = None
        self._spent = 0.0
        self._finished = False
        self.changed.emit()

    def _tick(self) -> None:
        if self.running and self.remaining() <= 0:
            self._spent = self._minutes * 60.0
            self._started = None
            self._ticker.stop()
            self._finished = True
            self.changed.emit()
            self.finished.emit()
            return
        self.changed.emit()


class TimerPanel(QFrame):
    """The timer as the room sees it: a large mm:ss, its state in words, its buttons."""

    def __init__(self, timer: DiscussionTimer, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.timer = timer
        self.setObjectName("card")
        self._last_minute_announced: int | None = None
        layout = QGridLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.setHorizontalSpacing(10)
        self.display = QLabel()
        self.display.setObjectName("timerDisplay")
        self.display.setAccessibleName(self.tr("Discussion timer"))
        self.display.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.state_label = QLabel()
        self.state_label.setAccessibleName(self.tr("Timer state"))
        self.toggle_button = QPushButton()
        self.toggle_button.clicked.connect(self._toggle)
        self.reset_button = QPushButton(self.tr("Rese&t timer"))
        self.reset_button.setAccessibleName(self.tr("Reset timer"))
        self.reset_button.clicked.connect(self._reset)
        self.minutes_box = QSpinBox()
        self.minutes_box.setRange(1, MAX_TIMER_MINUTES)
        self.minutes_box.setValue(timer.minutes)
        self.minutes_box.setSuffix(self.tr(" min"))
        self.minutes_box.setAccessibleName(self.tr("Discussion minutes"))
        self.minutes_box.lineEdit().setAccessibleName(self.minutes_box.accessibleName())
        self.minutes_box.valueChanged.connect(timer.set_minutes)
        minutes_label = QLabel(self.tr("&Minutes"))
        minutes_label.setBuddy(self.minutes_box)
        layout.addWidget(self.display, 0, 0, 2, 1)
        layout.addWidget(self.state_label, 0, 1, 1, 2)
        layout.addWidget(self.toggle_button, 1, 1)
        layout.addWidget(self.reset_button, 1, 2)
        layout.addWidget(minutes_label, 0, 3)
        layout.addWidget(self.minutes_box, 1, 3)
        timer.changed.connect(self.update_view)
        timer.finished.connect(self._on_finished)
        self.update_view()

    def update_view(self) -> None:
        """Show the time left and the state."""
        timer = self.timer
        shown = timer.display()
        self.display.setText(shown)
        if timer.is_finished:
            state = self.tr("⏰ Time is up")
        elif timer.running:
            state = self.tr("▶ Running")
        elif timer.started_once:
            state = self.tr("⏸ Paused")
        else:
            state = self.tr("Not started")
        self.state_label.setText(state)
        self.display.setAccessibleDescription(
            self.tr("{time} left, {state}").format(time=shown, state=state.split(" ", 1)[-1])
        )
        if timer.running:
            self.toggle_button.setText(self.tr("Pau&se timer"))
            self.toggle_button.setAccessibleName(self.tr("Pause timer"))
        else:
            self.toggle_button.setText(self.tr("&Start timer"))
            self.toggle_button.setAccessibleName(self.tr("Start timer"))
        minutes_left = int(timer.remaining() // 60)
        if timer.running and 0 < minutes_left != self._last_minute_announced:
            seconds = timer.remaining()
            # Once a minute, on the minute: a listener keeps track without looking.
            if seconds % 60 < TIMER_TICK_MS / 1000 * 1.5:
                self._last_minute_announced = minutes_left
                announce(self.display, self.tr("{count} minute(s) left").format(count=minutes_left))

    def _toggle(self) -> None:
        self.timer.toggle()
        if self.timer.running:
            announce(
                self.display,
                self.tr("Discussion timer started: {time} left").format(time=self.timer.display()),
            )
        else:
            announce(
                self.display,
                self.tr("Discussion timer paused at {time}").format(time=self.timer.display()),
            )

    def _reset(self) -> None:
        self.timer.reset()
        self._last_minute_announced = None
        announce(
            self.display,
            self.tr("Discussion timer reset to {time}").format(time=self.timer.display()),
        )

    def _on_finished(self) -> None:
        announce(self.display, self.tr("Time is up"))


class VotesPanel(QFrame):
    """The votes on the step: the counts of hands the facilitator enters, and the live tally.

    Each decision has a row: its name (Alt and the underlined letter reaches the count),
    the count of hands in the room with − and + beside it, a bar of all votes and their
    number. The leader is marked with an arrow and named in words, never by colour alone.

    Signals:
        counts_changed(): the facilitator changed a count.
    """

    counts_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        layout = QGridLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.setHorizontalSpacing(6)
        layout.setVerticalSpacing(6)
        self.heading = QLabel(self.tr("Votes"))
        layout.addWidget(self.heading, 0, 0, 1, 3)
        hands = QLabel(self.tr("hands"))
        hands.setAlignment(Qt.AlignmentFlag.AlignCenter)
        everyone = QLabel(self.tr("all votes"))
        everyone.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(hands, 0, 1, 1, 3, Qt.AlignmentFlag.AlignBottom)
        layout.addWidget(everyone, 0, 4, 1, 2, Qt.AlignmentFlag.AlignBottom)
        self._labels = {
            Decision.ACCEPT: self.tr("Accept"),
            Decision.REVISE: self.tr("Revise"),
            Decision.REJECT: self.tr("Reject"),
        }
        mnemonics = {
            Decision.ACCEPT: self.tr("&Accept"),
            Decision.REVISE: self.tr("Re&vise"),
            Decision.REJECT: self.tr("Re&ject"),
        }
        self.boxes: dict[Decision, QSpinBox] = {}
        self.steppers: dict[Decision, tuple[QPushButton, QPushButton]] = {}
        self.bars: dict[Decision, QProgressBar] = {}
        self.counts: dict[Decision, QLabel] = {}
        for row, decision in enumerate(Decision, start=1):
            label = self._labels[decision]
            box = QSpinBox()
            box.setRange(0, MAX_ROOM_COUNT)
            box.setAccessibleName(self.tr("{decision}: hands in the room").format(decision=label))
            # The editor inside takes the focus; screen readers announce it, so name it too.
            box.lineEdit().setAccessibleName(box.accessibleName())
            box.setKeyboardTracking(False)
            box.setAlignment(Qt.AlignmentFlag.AlignCenter)
            box.valueChanged.connect(self.counts_changed)
            name = QLabel(mnemonics[decision])
            name.setBuddy(box)
            fewer = QPushButton("−")
            fewer.setAccessibleName(self.tr("{decision}: one hand fewer").format(decision=label))
            more = QPushButton("+")
            more.setAccessibleName(self.tr("{decision}: one hand more").format(decision=label))
            for button, step in ((fewer, -1), (more, 1)):
                # The count itself takes the keyboard (arrows, digits); these are for the mouse.
                button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
                button.setObjectName("stepper")
                button.clicked.connect(lambda _checked=False, b=box, d=step: b.stepBy(d))
            bar = QProgressBar()
            bar.setRange(0, 1)
            bar.setValue(0)
            bar.setTextVisible(False)
            bar.setAccessibleName(self.tr("{decision}: all votes").format(decision=label))
            bar.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            count = QLabel()
            count.setAccessibleName(self.tr("{decision} count").format(decision=label))
            count.setMinimumWidth(count.fontMetrics().horizontalAdvance("000 ◀"))
            layout.addWidget(name, row, 0)
            layout.addWidget(fewer, row, 1)
            layout.addWidget(box, row, 2)
            layout.addWidget(more, row, 3)
            layout.addWidget(bar, row, 4)
            layout.addWidget(count, row, 5)
            self.boxes[decision] = box
            self.steppers[decision] = (fewer, more)
            self.bars[decision], self.counts[decision] = bar, count
        self.lead_label = QLabel()
        self.lead_label.setWordWrap(True)
        self.lead_label.setAccessibleName(self.tr("Room's choice so far"))
        self.sources_label = QLabel()
        self.sources_label.setWordWrap(True)
        layout.addWidget(self.lead_label, 4, 0, 1, 6)
        layout.addWidget(self.sources_label, 5, 0, 1, 6)
        layout.setColumnStretch(4, 1)
        self.show_tally(RoomTally(VoteCounts(), VoteCounts()))

    def label(self, decision: Decision) -> str:
        """The word shown for a decision."""
        return self._labels[decision]

    def room_counts(self) -> VoteCounts:
        """The counts of hands entered."""
        return VoteCounts(*(self.boxes[d].value() for d in Decision))

    def set_room_counts(self, counts: VoteCounts) -> None:
        """Show these counts of hands without reporting a change."""
        for decision, box in self.boxes.items():
            box.blockSignals(True)
            box.setValue(counts.of(decision))
            box.blockSignals(False)

    def set_open(self, open_: bool) -> None:
        """Allow or stop changes to the counts (stopped once the step is revealed)."""
        for decision, box in self.boxes.items():
            box.setEnabled(open_)
            for button in self.steppers[decision]:
                button.setEnabled(open_)

    def fit_width(self) -> None:
        """Size the counts and their buttons for the current font."""
        metrics = self.fontMetrics()
        side = metrics.height() + 10
        for decision, box in self.boxes.items():
            box.setFixedWidth(metrics.horizontalAdvance("0000") + 16)
            for button in self.steppers[decision]:
                button.setFixedSize(side, side)
            self.counts[decision].setMinimumWidth(metrics.horizontalAdvance("000 ◀"))

    def show_tally(self, tally: RoomTally) -> None:
        """Show ``tally``; the leader is marked with words and an arrow, not colour."""
        total = tally.total
        leaders = total.leaders()
        for decision in Decision:
            votes = total.of(decision)
            bar = self.bars[decision]
            bar.setRange(0, max(1, total.total))
            bar.setValue(votes)
            mark = " ◀" if decision in leaders else ""
            self.counts[decision].setText(f"{votes}{mark}")
        if not leaders:
            lead = self.tr("No votes yet")
        elif len(leaders) == 1:
            lead = self.tr("Most votes: {decision} ({votes} of {total})").format(
                decision=self._labels[leaders[0]], votes=total.of(leaders[0]), total=total.total
            )
        else:
            lead = self.tr("Tied: {decisions}").format(
                decisions=" = ".join(self._labels[d] for d in leaders)
            )
        self.lead_label.setText(lead)
        self.sources_label.setText(
            self.tr("{room} hands in the room, {apps} from attendees' apps").format(
                room=tally.room.total, apps=tally.apps.total
            )
        )


class PresentationView(QWidget):
    """Runs a session for the room, one step at a time.

    Signals:
        session_ended(object): the session ended; carries its ``SessionSummary``.
        setup_requested(): the facilitator wants the set-up page (the session keeps running).
    """

    session_ended = Signal(object)
    setup_requested = Signal()

    def __init__(
        self,
        room: RoomService,
        *,
        open_url: UrlOpener = open_in_browser,
        poll_ms: int = TALLY_POLL_MS,
        clock: Callable[[], float] = time.monotonic,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._room = room
        self._open_url = open_url
        self._session: RoomSession | None = None
        self._scenario: Scenario | None = None
        self._step: Step | None = None
        self._reveal: Reveal | None = None
        self._notes_dirty = False
        self._roles: list[tuple[QWidget, str, float]] = []
        self.setObjectName("presentation")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(presentation_stylesheet())
        self.timer = DiscussionTimer(clock=clock, parent=self)
        self.poll_timer = QTimer(self)
        self.poll_timer.setInterval(poll_ms)
        self.poll_timer.timeout.connect(self.refresh_tally)
        self._notes_timer = QTimer(self)
        self._notes_timer.setSingleShot(True)
        self._notes_timer.setInterval(NOTES_SAVE_DELAY_MS)
        self._notes_timer.timeout.connect(self.save_notes)
        self._build()
        self._apply_fonts()

    # Building

    def _build(self) -> None:
        root = QVBoxLayout(self)
        root.setContentsMargins(18, 10, 18, 10)
        root.setSpacing(8)

        header = QHBoxLayout()
        titles = QVBoxLayout()
        titles.setSpacing(0)
        self.session_label = QLabel()
        self.session_label.setWordWrap(True)
        self._role(self.session_label, "caption")
        self.title_label = QLabel()
        self.title_label.setWordWrap(True)
        self._role(self.title_label, "title")
        self.position_label = QLabel()
        self._role(self.position_label, "subheading")
        titles.addWidget(self.session_label)
        titles.addWidget(self.title_label)
        titles.addWidget(self.position_label)
        header.addLayout(titles, 1)
        self.timer_panel = TimerPanel(self.timer)
        self._role(self.timer_panel.display, "title", 1.4)
        header.addWidget(self.timer_panel, 0, Qt.AlignmentFlag.AlignTop)
        root.addLayout(header)

        body = QHBoxLayout()
        body.setSpacing(14)
        self.content = QWidget()
        self.content.setObjectName("presentationBody")
        self.content_layout = QVBoxLayout(self.content)
        self.content_layout.setContentsMargins(0, 0, 8, 0)
        self.content_layout.setSpacing(10)
        self.situation_frame, self.situation_view = self._markdown_card(self.tr("Situation"))
        self.bubble = QFrame()
        self.bubble.setObjectName("bubble")
        bubble_layout = QVBoxLayout(self.bubble)
        bubble_layout.setContentsMargins(14, 10, 14, 10)
        self.assistant_label = QLabel()
        self._role(self.assistant_label, "subheading")
        bubble_layout.addWidget(self.assistant_label)
        self.suggestion_view = self._markdown_view()
        bubble_layout.addWidget(self.suggestion_view)
        self.verdict_frame = QFrame()
        self.verdict_frame.setObjectName("verdict")
        verdict_layout = QVBoxLayout(self.verdict_frame)
        verdict_layout.setContentsMargins(14, 8, 14, 8)
        self.verdict_label = QLabel()
        self.verdict_label.setWordWrap(True)
        self._role(self.verdict_label, "verdict")
        self.verdict_label.setAccessibleName(self.tr("The room's call"))
        verdict_layout.addWidget(self.verdict_label)
        self.reveal_frame, self.reveal_view = self._markdown_card(None)
        self.reveal_view.setAccessibleName(self.tr("What the choices lead to"))
        for widget in (self.situation_frame, self.bubble, self.verdict_frame, self.reveal_frame):
            self.content_layout.addWidget(widget)
        self.content_layout.addStretch(1)
        self.content_scroll = QScrollArea()
        self.content_scroll.setWidgetResizable(True)
        # Focusable, so the keyboard can page through a long situation.
        self.content_scroll.setAccessibleName(self.tr("Step text"))
        self.content_scroll.setWidget(self.content)
        self.content_scroll.setFrameShape(QFrame.Shape.NoFrame)
        body.addWidget(self.content_scroll, 1)

        side = QWidget()
        side.setObjectName("presentationBody")
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 6, 0)
        side_layout.setSpacing(8)
        self.votes_panel = VotesPanel()
        self.vote_boxes = self.votes_panel.boxes
        self.votes_panel.counts_changed.connect(self._votes_changed)
        self._role(self.votes_panel.heading, "heading")
        side_layout.addWidget(self.votes_panel)
        self.reveal_button = QPushButton(self.tr("&Reveal"))
        self.reveal_button.setObjectName("primary")
        self.reveal_button.setAccessibleName(self.tr("Reveal"))
        self.reveal_button.setToolTip(self.tr("Show what the room's choice leads to (Alt+R)"))
        self.reveal_button.clicked.connect(self.reveal)
        side_layout.addWidget(self.reveal_button)
        notes_label = QLabel(self.tr("N&otes for this step"))
        self.notes_edit = QPlainTextEdit()
        self.notes_edit.setAccessibleName(self.tr("Notes for this step"))
        self.notes_edit.setTabChangesFocus(True)
        self.notes_edit.setMinimumHeight(60)
        self.notes_edit.textChanged.connect(self._notes_changed)
        notes_label.setBuddy(self.notes_edit)
        side_layout.addWidget(notes_label)
        side_layout.addWidget(self.notes_edit, 1)
        self.side_scroll = QScrollArea()
        self.side_scroll.setWidgetResizable(True)
        # Tab goes to the controls inside, and the area follows the focus.
        self.side_scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.side_scroll.setWidget(side)
        self.side_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.side_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body.addWidget(self.side_scroll)
        root.addLayout(body, 1)

        # Moving on and ending stay in view whatever the side column holds.
        moves = QHBoxLayout()
        moves.setSpacing(10)
        self.previous_button = QPushButton(self.tr("◀ &Previous step"))
        self.previous_button.setAccessibleName(self.tr("Previous step"))
        self.previous_button.clicked.connect(self.previous_step)
        self.next_button = QPushButton(self.tr("&Next step ▶"))
        self.next_button.setAccessibleName(self.tr("Next step"))
        self.next_button.clicked.connect(self.next_step)
        self.full_screen_button = QPushButton(self.tr("&Full screen"))
        self.full_screen_button.setAccessibleName(self.tr("Full screen"))
        self.full_screen_button.setCheckable(True)
        self.full_screen_button.toggled.connect(self._full_screen)
        self.end_button = QPushButton(self.tr("&End session"))
        self.end_button.setAccessibleName(self.tr("End session"))
        self.end_button.clicked.connect(self.end_session)
        self.status_label = QLabel()
        self.status_label.setObjectName("errorText")
        self.status_label.setWordWrap(True)
        self.status_label.setAccessibleName(self.tr("Room status"))
        moves.addWidget(self.previous_button)
        moves.addWidget(self.next_button)
        moves.addWidget(self.status_label, 1)
        moves.addWidget(self.full_screen_button)
        moves.addWidget(self.end_button)
        root.addLayout(moves)

    def _markdown_card(self, title: str | None) -> tuple[QFrame, SafeMarkdownView]:
        frame = QFrame()
        frame.setObjectName("card")
        layout = QVBoxLayout(frame)
        layout.setContentsMargins(14, 10, 14, 12)
        if title:
            heading = QLabel(title)
            self._role(heading, "heading")
            layout.addWidget(heading)
        view = self._markdown_view()
        if title:
            view.setAccessibleName(title)
        layout.addWidget(view)
        return frame, view

    def _markdown_view(self) -> SafeMarkdownView:
        view = SafeMarkdownView(open_url=self._open_url, fit_content=True, theme=PRESENTATION_THEME)
        # Text is for reading; Tab stays on the controls.
        view.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        return view

    # Type size

    def _role(self, widget: QWidget, role: str, extra: float = 1.0) -> None:
        self._roles.append((widget, role, extra))

    def _apply_fonts(self) -> None:
        base = QFont(QGuiApplication.font())
        if base.pointSizeF() > 0:
            base.setPointSizeF(base.pointSizeF() * PRESENTATION_SCALE)
        self.setFont(base)
        # With a style sheet in force Qt does not pass a parent's font on to its
        # children, so every widget gets the presentation size itself.
        styled = {id(widget) for widget, _role, _extra in self._roles}
        for child in self.findChildren(QWidget):
            if id(child) not in styled:
                child.setFont(base)
        for widget, role, extra in self._roles:
            font = role_font(role, base)
            if extra != 1.0 and font.pointSizeF() > 0:
                font.setPointSizeF(font.pointSizeF() * extra)
            widget.setFont(font)
        self.votes_panel.fit_width()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.ApplicationFontChange:
            self._apply_fonts()

    # Showing a session

    @property
    def session(self) -> RoomSession | None:
        """The session on screen."""
        return self._session

    @property
    def step(self) -> Step | None:
        """The step on screen."""
        return self._step

    @property
    def last_reveal(self) -> Reveal | None:
        """The reveal on screen, if the step was revealed."""
        return self._reveal

    def show_session(self, session: RoomSession) -> None:
        """Show the step the room is on."""
        self._session = session
        self.status_label.clear()
        scenario, step = self._room.current_step(session)
        self._scenario, self._step = scenario, step
        self.session_label.setText(self._session_title(session))
        self.title_label.setText(scenario.title)
        self.position_label.setText(
            self.tr("Scenario {scenario} of {scenarios} · Step {step} of {steps}").format(
                scenario=session.scenario_index + 1,
                scenarios=len(session.scenario_ids),
                step=session.step_index + 1,
                steps=len(scenario.steps),
            )
        )
        root = self._room.library.pack_root(scenario.pack_id)
        self.situation_view.set_markdown(scenario.situation, root)
        self.assistant_label.setText(
            self.tr("{assistant} suggests:").format(assistant=scenario.assistant)
        )
        self.suggestion_view.setAccessibleName(
            self.tr("Suggestion from {assistant}").format(assistant=scenario.assistant)
        )
        self.suggestion_view.set_markdown(bubble_markdown(step.suggestion), root)
        self._reveal = None
        self.verdict_frame.hide()
        self.reveal_frame.hide()
        tally = self._call(self.tr("read the votes"), lambda: self._room.tally(session.session_id))
        if tally is not None:
            self.votes_panel.set_room_counts(tally.room)
            self.votes_panel.show_tally(tally)
        notes = self._call(self.tr("read the notes"), lambda: self._room.notes(session.session_id))
        self.notes_edit.blockSignals(True)
        self.notes_edit.setPlainText(notes or "")
        self.notes_edit.blockSignals(False)
        self._notes_dirty = False
        self.previous_button.setEnabled(session.scenario_index > 0 or session.step_index > 0)
        self.next_button.setEnabled(not self._room.is_last_step(session))
        if session.current_revealed:
            # Coming back to a step already revealed: show its reveal again.
            self.reveal()
        else:
            self._set_voting_open(True)
        self.content_scroll.verticalScrollBar().setValue(0)
        if self.isVisible():
            self.poll_timer.start()

    def _session_title(self, session: RoomSession) -> str:
        if session.track_title:
            what = self.tr("Track: {title}").format(title=session.track_title)
        else:
            what = self.tr("{count} scenario(s)").format(count=len(session.scenario_ids))
        return self.tr(
            "Facilitated session · {what} · facilitator {name} · {count} attendee(s)"
        ).format(what=what, name=session.facilitator, count=len(session.attendees))

    def _set_voting_open(self, open_: bool) -> None:
        self.votes_panel.set_open(open_)
        self.reveal_button.setEnabled(open_)
        self.reveal_button.setText(self.tr("&Reveal") if open_ else self.tr("Revealed ✔"))

    # Votes and the live tally

    def vote_counts(self) -> VoteCounts:
        """The counts entered in the spin boxes."""
        return self.votes_panel.room_counts()

    def _votes_changed(self) -> None:
        session = self._session
        if session is None:
            return
        counts = self.vote_counts()
        tally = self._call(
            self.tr("save the room's votes"),
            lambda: self._room.record_room_votes(session.session_id, counts),
        )
        if tally is not None:
            self.votes_panel.show_tally(tally)

    def refresh_tally(self) -> None:
        """Re-read the tally and the attendees (who may have joined by voting from their apps)."""
        session = self._session
        if session is None:
            return
        try:
            tally = self._room.tally(session.session_id)
            fresh = self._room.session(session.session_id)
        except SERVICE_ERRORS as error:
            # A poll must not pop up a message every few seconds; say it quietly.
            self.status_label.setText(
                self.tr("The tally could not be refreshed: {error}").format(error=error)
            )
            return
        except ValueError as error:
            self.status_label.setText(str(error))
            return
        self.votes_panel.show_tally(tally)
        if fresh.attendees != session.attendees:
            self._session = fresh
            self.session_label.setText(self._session_title(fresh))

    # Reveal

    def reveal(self) -> None:
        """Close voting on the step and show what the room's choice leads to."""
        session = self._session
        if session is None:
            return
        self.save_notes()
        found = self._call(
            self.tr("reveal the step"), lambda: self._room.reveal(session.session_id)
        )
        if found is None:
            return
        self._reveal = found
        self.votes_panel.show_tally(found.tally)
        self._set_voting_open(False)
        verdict, style = self._verdict_text(found)
        self.verdict_label.setText(verdict)
        self.verdict_frame.setProperty("verdict", style)
        repolish(self.verdict_frame)
        self.reveal_view.set_markdown(self.reveal_markdown(found))
        self.verdict_frame.show()
        self.reveal_frame.show()
        announce(self.verdict_label, verdict)

        def scroll() -> None:
            bar = self.content_scroll.verticalScrollBar()
            bar.setValue(max(0, self.verdict_frame.y() - 12))

        QTimer.singleShot(0, scroll)

    def _decision_label(self, decision: Decision) -> str:
        return self.votes_panel.label(decision)

    def _right_call(self, found: Reveal) -> str:
        if found.expected is Decision.REVISE:
            return self.tr("Revise, with the safe revision")
        return self._decision_label(found.expected)

    def _verdict_text(self, found: Reveal) -> tuple[str, str]:
        if found.right is None:
            return self.tr("⚠ No votes were counted. The right call: {call}").format(
                call=self._right_call(found)
            ), "caution"
        if found.majority is None:
            return self.tr("✘ The room was split. The right call: {call}").format(
                call=self._right_call(found)
            ), "wrong"
        chosen = self._decision_label(found.majority)
        if found.right:
            return self.tr("✔ The room chose {choice}: the right call").format(
                choice=chosen
            ), "right"
        return self.tr(
            "✘ The room chose {choice}: not the right call. The right call: {call}"
        ).format(choice=chosen, call=self._right_call(found)), "wrong"

    def reveal_markdown(self, found: Reveal) -> str:
        """What the majority's choice led to, the other choices, and the debrief."""
        total = found.tally.total
        parts: list[str] = []
        headings = {
            Decision.ACCEPT: self.tr("If accepted"),
            Decision.REVISE: self.tr("If revised with the safe revision"),
            Decision.REJECT: self.tr("If rejected"),
        }

        def outcome(decision: Decision) -> list[str]:
            text = found.outcomes.get(decision)
            if text is None:
                return [self.tr("This step offers no revision to choose.")]
            lines = []
            if decision is Decision.REVISE and found.safe_revision:
                lines.append(quote(found.safe_revision))
            lines.append(text)
            return lines

        majority = found.majority
        if majority is not None:
            parts.append(
                "### "
                + self.tr(
                    "What the room's choice leads to: {choice} ({votes} of {total} votes)"
                ).format(
                    choice=self._decision_label(majority),
                    votes=total.of(majority),
                    total=total.total,
                )
            )
            parts += outcome(majority)
            parts.append("### " + self.tr("What the other choices would have led to"))
            others = [d for d in Decision if d is not majority]
        else:
            parts.append("### " + self.tr("What each choice leads to"))
            others = list(Decision)
        for decision in others:
            if decision is Decision.REVISE and decision not in found.outcomes:
                continue
            parts.append("#### " + headings[decision])
            parts += outcome(decision)
        if found.debrief is not None and self._scenario is not None:
            parts.append("### " + self.tr("Debrief"))
            parts.append(debrief_markdown(self._scenario))
        return "\n\n".join(parts)

    # Notes

    def _notes_changed(self) -> None:
        self._notes_dirty = True
        self._notes_timer.start()

    def save_notes(self) -> None:
        """Keep the notes typed for this step (also done a moment after typing stops)."""
        self._notes_timer.stop()
        session = self._session
        if session is None or not self._notes_dirty or not session.active:
            return
        text = self.notes_edit.toPlainText()

        def save() -> bool:
            self._room.save_notes(session.session_id, text)
            return True

        if self._call(self.tr("save the notes"), save):
            self._notes_dirty = False

    # Moving on and ending

    def next_step(self) -> None:
        """Go to the next step."""
        self._move(self._room.next_step)

    def previous_step(self) -> None:
        """Go back one step."""
        self._move(self._room.previous_step)

    def _move(self, move: Callable[[str], RoomSession]) -> None:
        session = self._session
        if session is None:
            return
        self.save_notes()
        moved = self._call(self.tr("move to the step"), lambda: move(session.session_id))
        if moved is None:
            return
        self.timer.reset()
        self.show_session(moved)
        self.vote_boxes[Decision.ACCEPT].setFocus(Qt.FocusReason.OtherFocusReason)

    def end_session(self) -> None:
        """End the session: attendance records for everyone, then the summary."""
        session = self._session
        if session is None:
            return
        self.save_notes()
        summary: SessionSummary | None = self._call(
            self.tr("end the session"), lambda: self._room.end_session(session.session_id)
        )
        if summary is None:
            return
        self.stop()
        if self.full_screen_button.isChecked():
            self.full_screen_button.setChecked(False)
        self._session = summary.session
        self.session_ended.emit(summary)

    def stop(self) -> None:
        """Stop the timers (the view is leaving)."""
        self.poll_timer.stop()
        self.timer.pause()
        self._notes_timer.stop()

    def _full_screen(self, on: bool) -> None:
        window = self.window()
        if on:
            window.showFullScreen()
        else:
            window.showNormal()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._session is not None and self._session.active:
            self.poll_timer.start()

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802
        super().hideEvent(event)
        self.poll_timer.stop()
        self.save_notes()

    def _call(self, action: str, call: Callable[[], T]) -> T | None:
        """Run a service call: a storage fault becomes a message, a refusal a status line."""
        try:
            return call_service(self, action, call)
        except ValueError as error:
            self.status_label.setText(str(error))
            return None

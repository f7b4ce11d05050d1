"""The outbox in the status bar: answers waiting for the team database server, and sending them.

With a team database, answers that could not reach the server wait in the outbox on this
computer. A timer asks the service's ``OutboxSender`` every few seconds to send them when a
send is due (the sender keeps the back-off, so a server that stays away is not hammered);
the first tick comes right after start, so what waited while the app was closed is sent at
once. The status bar says how many answers wait and when the server was last tried; the
label is hidden while nothing waits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QLabel, QMainWindow, QPushButton

from app.ui.notices import show_message
from app.ui.style import set_text_role

if TYPE_CHECKING:
    from app.services.outbox import FlushResult, OutboxSender, OutboxState

TICK_MILLISECONDS = 2000
QUEUED_NOTE = "Saved on this computer; will be sent when the server is back."


def waiting_text(state: OutboxState) -> str:
    """The status bar's words for ``state`` ("" when nothing waits and nothing is held)."""
    parts: list[str] = []
    if state.waiting:
        noun = "answer" if state.waiting == 1 else "answers"
        parts.append(f"{state.waiting} {noun} waiting to be sent")
        if state.last_tried_at is not None:
            moment = state.last_tried_at.astimezone().strftime("%H:%M:%S")
            parts.append(f"last tried {moment}")
        else:
            parts.append("not tried yet")
    if state.held:
        noun = "answer" if state.held == 1 else "answers"
        parts.append(f"{state.held} {noun} could not be sent")
    return " · ".join(parts)


def queued_note() -> QLabel:
    """The line the player shows under a verdict whose answer went to the outbox."""
    label = QLabel(QUEUED_NOTE)
    label.setObjectName("queuedNote")
    label.setWordWrap(True)
    label.setAccessibleName(QUEUED_NOTE)
    set_text_role(label, "caption")
    return label


class OutboxIndicator(QObject):
    """Sends the outbox on a timer and shows what waits in the window's status bar.

    Signals:
        answers_sent(int): a send put this many answers on the server (views may refresh).
    """

    answers_sent = Signal(int)

    def __init__(
        self,
        window: QMainWindow,
        sender: OutboxSender,
        *,
        interval_ms: int = TICK_MILLISECONDS,
        start: bool = True,
    ) -> None:
        super().__init__(window)
        self._window = window
        self._sender = sender
        self.label = QLabel()
        self.label.setObjectName("outboxStatus")
        self.label.setAccessibleName("Answers waiting to be sent")
        # For when the trainee knows the server is back: no need to wait out the back-off.
        self.send_button = QPushButton("Send &now")
        self.send_button.setObjectName("outboxSendNow")
        self.send_button.setAccessibleName("Send the waiting answers now")
        self.send_button.setToolTip("Try the team database server now")
        self.send_button.clicked.connect(self.send_now)
        window.statusBar().addPermanentWidget(self.label)
        window.statusBar().addPermanentWidget(self.send_button)
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.tick)
        # Only answers refused from now on are announced; older ones show in the label.
        self._held_told = sender.state().held
        problem = sender.outbox.problem
        if problem:
            show_message(window, "The outbox on this computer could not be used.", problem)
        self.refresh()
        if start:
            self.timer.start()
            QTimer.singleShot(0, self.tick)

    @property
    def outbox_sender(self) -> OutboxSender:
        """The service that sends the outbox."""
        return self._sender

    def tick(self) -> FlushResult | None:
        """Send if a send is due, then update the status bar; returns what was done."""
        return self._after(self._sender.flush_if_due())

    def send_now(self) -> FlushResult:
        """Send now, whatever the back-off says, then update the status bar."""
        result = self._sender.flush()
        self._after(result)
        return result

    def _after(self, result: FlushResult | None) -> FlushResult | None:
        self.refresh()
        if result is not None and (result.sent or result.already_stored):
            self.answers_sent.emit(result.sent + result.already_stored)
        return result

    def refresh(self) -> None:
        """Show the waiting count and the last try (hidden while nothing waits)."""
        state = self._sender.state()
        text = waiting_text(state)
        self.label.setText(text)
        self.label.setAccessibleDescription(text)
        tip = [f"Team database: {self._sender.database}"]
        if state.last_error:
            tip.append(f"Last try: {state.last_error}")
        if state.held:
            tip.append(
                f"Answers the server refused are kept in {self._sender.outbox.path}; "
                "ask for help to look at them."
            )
        self.label.setToolTip("\n".join(tip))
        self.label.setVisible(bool(text))
        self.send_button.setVisible(state.waiting > 0)
        if state.held > self._held_told:
            self._held_told = state.held
            show_message(
                self._window,
                "Some answers could not be sent to the team database.",
                "The server refused them for good, so they are kept on this computer, in "
                f"{self._sender.outbox.path}. Ask for help to look at them.",
            )

    def stop(self) -> None:
        """Stop sending (the outbox keeps what waits)."""
        self.timer.stop()

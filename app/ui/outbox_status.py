"""The outbox in the status bar: answers waiting for the team database server, and sending them.

With a team database, answers that could not reach the server wait in the outbox on this
computer. A timer asks the service's ``OutboxSender`` every few seconds to send them when a
send is due (the sender keeps the back-off, so a server that stays away is not hammered);
the first tick comes right after start, so what waited while the app was closed is sent at
once. Sends run on a worker thread, one at a time, and report back to the window's thread:
a server that does not answer never freezes the window. The status bar says how many
answers wait and when the server was last tried; the label is hidden while nothing waits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QCoreApplication,
    QEvent,
    QObject,
    QRunnable,
    QThreadPool,
    QTimer,
    Signal,
)
from PySide6.QtWidgets import QLabel, QMainWindow, QPushButton

from app.ui.notices import show_message
from app.ui.style import set_text_role

if TYPE_CHECKING:
    from app.services.outbox import FlushResult, OutboxSender, OutboxState

TICK_MILLISECONDS = 2000
# A send in progress at close may be waiting for the server's connection timeout.
CLOSE_WAIT_MILLISECONDS = 30_000
SEND_NOW_TEXT = "Send &now"
SENDING_TEXT = "Sending…"
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


class _SendReport(QObject):
    """Carries a finished send from the worker thread to the window's thread."""

    finished = Signal(object)


class _SendJob(QRunnable):
    """One send on the indicator's worker thread."""

    def __init__(self, send: Callable[[], FlushResult | None], report: _SendReport) -> None:
        super().__init__()
        self._send = send
        self._report = report

    def run(self) -> None:
        # The sender never raises for the server's faults; anything else is a bug, and the
        # window still has to hear that the send is over.
        result = None
        try:
            result = self._send()
        finally:
            self._report.finished.emit(result)


class OutboxIndicator(QObject):
    """Sends the outbox on a timer and shows what waits in the window's status bar.

    Signals:
        answers_sent(int): a send put this many answers on the server (views may refresh).
        send_finished(object): a send ended, with its ``FlushResult`` (``None``: nothing
            was due).
    """

    answers_sent = Signal(int)
    send_finished = Signal(object)

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
        self.send_button = QPushButton(SEND_NOW_TEXT)
        self.send_button.setObjectName("outboxSendNow")
        self.send_button.setAccessibleName("Send the waiting answers now")
        self.send_button.setToolTip("Try the team database server now")
        self.send_button.clicked.connect(self.send_now)
        window.statusBar().addPermanentWidget(self.label)
        window.statusBar().addPermanentWidget(self.send_button)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._report = _SendReport(self)
        self._report.finished.connect(self._after)
        self._busy = False
        # What waited while the app was closed goes at once, not after the first interval.
        self._first_tick = QTimer(self)
        self._first_tick.setSingleShot(True)
        self._first_tick.setInterval(0)
        self._first_tick.timeout.connect(self.tick)
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
            self._first_tick.start()

    @property
    def outbox_sender(self) -> OutboxSender:
        """The service that sends the outbox."""
        return self._sender

    @property
    def busy(self) -> bool:
        """Whether a send is under way."""
        return self._busy

    def tick(self) -> bool:
        """Start a send if one is due and none is under way; returns whether one started."""
        return self._start(self._sender.flush_if_due)

    def send_now(self) -> bool:
        """Send now, whatever the back-off says; returns whether a send started."""
        started = self._start(self._sender.flush)
        if started:
            self.send_button.setEnabled(False)
            self.send_button.setText(SENDING_TEXT)
        return started

    def _start(self, send: Callable[[], FlushResult | None]) -> bool:
        if self._busy:
            return False
        self._busy = True
        self._pool.start(_SendJob(send, self._report))
        return True

    def _after(self, result: FlushResult | None) -> None:
        self._busy = False
        self.send_button.setEnabled(True)
        self.send_button.setText(SEND_NOW_TEXT)
        self.refresh()
        if result is not None and (result.sent or result.already_stored):
            self.answers_sent.emit(result.sent + result.already_stored)
        self.send_finished.emit(result)

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
        """Stop sending (the outbox keeps what waits); waits for a send under way to end."""
        self.timer.stop()
        self._first_tick.stop()
        self._pool.waitForDone(CLOSE_WAIT_MILLISECONDS)
        # Hear the end of that send now, so the indicator is idle when this returns.
        QCoreApplication.sendPostedEvents(self, QEvent.Type.MetaCall)

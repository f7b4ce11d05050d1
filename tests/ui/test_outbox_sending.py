"""Sending the outbox never freezes the window: sends run on a worker thread, one at a time."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QMainWindow

from app.services.outbox import FlushResult, OutboxState
from app.ui.outbox_status import SEND_NOW_TEXT, SENDING_TEXT, OutboxIndicator


class _StuckOutbox:
    problem = None
    path = Path("/nowhere/outbox.db")


class _StuckSender:
    """A sender whose sends wait until the test lets them go, like an unreachable server."""

    database = "postgresql://team.example/thinktwice"

    def __init__(self) -> None:
        self.outbox = _StuckOutbox()
        self.release = threading.Event()
        self.started = threading.Event()
        self.sends = 0
        self.waiting_count = 3

    def state(self) -> OutboxState:
        return OutboxState(
            waiting=self.waiting_count,
            held=0,
            last_tried_at=None,
            last_error=None,
            next_try_at=None,
        )

    def _send(self) -> FlushResult:
        self.sends += 1
        self.started.set()
        assert self.release.wait(10), "the test never let the send go"
        self.waiting_count = 0
        return FlushResult(sent=3)

    def flush_if_due(self) -> FlushResult | None:
        return self._send()

    def flush(self) -> FlushResult:
        return self._send()


def _indicator(qtbot: Any) -> tuple[OutboxIndicator, _StuckSender]:
    window = QMainWindow()
    qtbot.addWidget(window)
    sender = _StuckSender()
    indicator = OutboxIndicator(window, sender, start=False)  # type: ignore[arg-type]
    window.show()
    return indicator, sender


def test_a_send_that_hangs_leaves_the_window_responsive_and_reports_when_done(qtbot: Any) -> None:
    indicator, sender = _indicator(qtbot)
    finished: list[object] = []
    sent: list[int] = []
    indicator.send_finished.connect(finished.append)
    indicator.answers_sent.connect(sent.append)

    assert indicator.tick() is True
    assert sender.started.wait(5)
    # The window's thread is free while the send waits for the server.
    assert indicator.busy
    assert indicator.label.text().startswith("3 answers waiting to be sent")
    assert indicator.tick() is False, "one send at a time"
    assert indicator.send_now() is False

    with qtbot.waitSignal(indicator.send_finished, timeout=10_000):
        sender.release.set()

    assert sender.sends == 1
    assert sent == [3]
    assert not indicator.busy
    assert not indicator.label.isVisible()
    assert isinstance(finished[0], FlushResult)


def test_send_now_says_it_is_sending_until_the_send_ends(qtbot: Any) -> None:
    indicator, sender = _indicator(qtbot)

    assert indicator.send_now() is True
    assert sender.started.wait(5)
    assert not indicator.send_button.isEnabled()
    assert indicator.send_button.text() == SENDING_TEXT

    with qtbot.waitSignal(indicator.send_finished, timeout=10_000):
        sender.release.set()

    assert indicator.send_button.isEnabled()
    assert indicator.send_button.text() == SEND_NOW_TEXT


def test_stop_waits_for_a_send_under_way(qtbot: Any) -> None:
    indicator, sender = _indicator(qtbot)
    indicator.tick()
    assert sender.started.wait(5)
    threading.Timer(0.2, sender.release.set).start()

    indicator.stop()

    assert sender.waiting_count == 0, "the send ended before stop() returned"
    assert not indicator.busy, "and the indicator heard of it"

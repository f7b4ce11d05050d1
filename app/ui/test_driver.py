"""A test-only driver: plays the open scenario through the real widgets, on commands.

Think Twice imports this module only when the environment variable
``THINKTWICE_TEST_DRIVER`` is ``1`` (see :func:`app.ui.launch.run_gui`); a normal start
never loads it. The end-to-end tests (``tests/e2e/test_crash.py`` and others) start the
real app as a subprocess with it, send commands on standard input and read the replies
on standard output, one line each:

- ``ready <scenario id>``: printed once the app has loaded and the player shows the
  scenario given with ``--scenario``.
- ``answer accept|revise|reject``: moves on from the previous step's consequence (or
  starts the scenario again after its debrief), presses that decision's button (for
  Revise, also the revision shown first), then Submit. Once the consequence is on screen,
  which happens only after the answer was committed, it prints ``ack <attempt id>``;
  when nothing was saved it prints ``error <reason>``.
- ``problems``: prints ``problem <line>`` for each row of the Content problems page,
  then ``problems-end``.
- ``quit``, or the end of standard input: leaves the app (once it has loaded).
- ``failed <message>``: printed when the records could not be opened; a ``quit`` sent
  before then ends the app with exit code 1.
"""

from __future__ import annotations

import sys
import threading
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox

from app.core.model import Decision
from app.ui.player import Phase

if TYPE_CHECKING:
    from app.ui.launch import Launcher
    from app.ui.workspace import Workspace


def _reply(text: str) -> None:
    print(text, flush=True)


class _LineReader(QObject):
    """Reads standard input on a thread and hands each line to the interface thread."""

    line_read = Signal(str)

    def start(self) -> None:
        thread = threading.Thread(target=self._run, name="test-driver-input", daemon=True)
        thread.start()

    def _run(self) -> None:
        for line in sys.stdin:
            self.line_read.emit(line.strip())  # queued: the slot runs in the Qt thread
        self.line_read.emit("quit")


class CommandDriver(QObject):
    """Carries out the commands above on the launcher's workspace."""

    def __init__(self, launcher: Launcher) -> None:
        super().__init__(launcher)
        self._launcher = launcher
        self._reader = _LineReader(self)
        self._reader.line_read.connect(self.run_command)
        self._pending: list[str] = []
        self._ready = False
        launcher.loaded.connect(self._on_loaded)
        launcher.failed.connect(self._on_failed)
        self._reader.start()

    def _on_loaded(self) -> None:
        workspace = self._launcher.workspace
        scenario = workspace.player.scenario if workspace is not None else None
        self._ready = True
        _reply(f"ready {scenario.id if scenario is not None else '-'}")
        pending, self._pending = self._pending, []
        for command in pending:
            self.run_command(command)

    def _on_failed(self, message: str) -> None:
        _reply(f"failed {message}")
        if "quit" in self._pending:
            self._launcher.finish(1)

    def run_command(self, command: str) -> None:
        """Carry out one command line."""
        if not self._ready:
            self._pending.append(command)  # commands sent before the app finished loading
            return
        if command == "quit":
            self._launcher.finish(0)
            return
        workspace = self._launcher.workspace
        assert workspace is not None
        verb, _, argument = command.partition(" ")
        if verb == "answer":
            self._answer(workspace, argument)
        elif verb == "problems":
            for line in workspace.problems.lines():
                _reply(f"problem {line}")
            _reply("problems-end")
        else:
            _reply(f"error unknown command {command!r}")

    def _answer(self, workspace: Workspace, argument: str) -> None:
        player = workspace.player
        try:
            decision = Decision(argument)
        except ValueError:
            _reply(f"error unknown decision {argument!r}")
            return
        if player.phase is Phase.FEEDBACK and player.continue_button is not None:
            player.continue_button.click()
        if player.phase is Phase.DEBRIEF and player.scenario is not None:
            workspace.open_scenario(player.scenario.id)
        if player.phase is not Phase.DECIDING:
            _reply(f"error the player is not waiting for an answer ({player.phase.value})")
            return
        button = player.decision_buttons[decision]
        if not button.isEnabled():
            _reply(f"error {decision.value} is not offered on this step")
            return
        button.click()
        if decision is Decision.REVISE:
            player.revision_buttons[0].click()
        recorded = len(player.records)
        player.submit_button.click()
        # The player shows the consequence only after the answer was committed.
        view = player.feedback_view
        if len(player.records) > recorded and view is not None and view.isVisible():
            _reply(f"ack {player.records[-1].attempt_id}")
            return
        _reply("error the answer was not saved")
        # The player explained why in a message box; close it for the next command.
        for box in workspace.window.findChildren(QMessageBox):
            if box.isVisible():
                box.close()


def attach_test_driver(launcher: Launcher) -> CommandDriver:
    """Start reading commands for ``launcher``'s app (test use only; see the docstring)."""
    return CommandDriver(launcher)

"""Crash test: SIGKILL the real app at random moments; no acknowledged answer is lost.

The app runs as a subprocess with the test-only driver (``THINKTWICE_TEST_DRIVER=1``, see
app/ui/test_driver.py), which presses the real decision and Submit buttons and prints
``ack <attempt id>`` only once the consequence is on screen, that is after the answer was
committed. The test sends a stream of answers, kills the process at a random moment
(some during start-up and the first schema migration, most while answering), starts it
again, and after every kill checks that each acknowledged attempt id is in the database
and that SQLite's integrity check passes. At the end the records' hash chain must verify.
"""

from __future__ import annotations

import contextlib
import os
import queue
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.driver import REPO, driver_environment

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    # About a minute on an idle machine; twenty restarts take longer on a busy one.
    pytest.mark.timeout(300),
    pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX"),
]

SEED = 20261124
KILLS = 20
KILLS_DURING_START = 3
ANSWERS_PER_RUN = 400
READY_TIMEOUT_SECONDS = 60.0
DECISIONS = ("accept", "reject", "revise")


class RunningApp:
    """The app as a subprocess, its stdout lines collected by a thread."""

    def __init__(self, data: Path, scenario_id: str) -> None:
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.log = (data.parent / "app-stderr.log").open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "app",
                "--data-dir",
                str(data),
                "--profile",
                "Crash Tester",
                "--scenario",
                scenario_id,
            ],
            cwd=REPO,
            env=driver_environment(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            bufsize=1,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.strip())
        self.lines.put(None)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                continue
            if line is None:
                pytest.fail(f"the app ended before it was ready (exit {self.process.poll()})")
            if line.startswith("ready "):
                return
        pytest.fail("the app did not get ready in time")

    def send(self, commands: list[str]) -> None:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write("".join(f"{c}\n" for c in commands))
            self.process.stdin.flush()
        except BrokenPipeError:
            pass  # already killed

    def kill(self) -> list[str]:
        """SIGKILL the process; returns every line it printed (none is lost in the pipe)."""
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self._reader.join(timeout=30)
        if self.process.stdin is not None:
            with contextlib.suppress(BrokenPipeError):
                self.process.stdin.close()
        self.log.close()
        printed: list[str] = []
        while True:
            line = self.lines.get_nowait() if not self.lines.empty() else None
            if line is None:
                return printed
            printed.append(line)


def _multi_step_scenario() -> str:
    from app.content.loader import load_library

    library = load_library([])
    for scenario in library.scenarios.values():
        if len(scenario.steps) >= 2 and any(step.revisions for step in scenario.steps):
            return scenario.id
    pytest.skip("the built-in content has no multi-step scenario with revisions")


def _stored_attempts(database: Path) -> set[str]:
    if not database.exists():
        return set()
    connection = sqlite3.connect(database)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master")}
        if "answer" not in tables:
            return set()
        return {row[0] for row in connection.execute("SELECT attempt_id FROM answer")}
    finally:
        connection.close()


def _kill_moments(rng: random.Random) -> Iterator[tuple[bool, float]]:
    """(during start-up?, seconds to wait) for each run; the first runs kill early."""
    for run in range(KILLS):
        if run < KILLS_DURING_START:
            yield True, rng.uniform(0.0, 2.0)
        else:
            yield False, rng.uniform(0.05, 1.2)


def test_acknowledged_answers_survive_sigkill(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    scenario_id = _multi_step_scenario()
    data = tmp_path / "state"
    database = data / "thinktwice.db"
    acknowledged: set[str] = set()
    errors: list[str] = []

    for during_start, delay in _kill_moments(rng):
        app = RunningApp(data, scenario_id)
        if not during_start:
            app.wait_ready()
            # Many answers at once: the driver works through them back to back, so the
            # kill lands while answers are being committed and shown.
            app.send([f"answer {rng.choice(DECISIONS)}" for _ in range(ANSWERS_PER_RUN)])
        time.sleep(delay)
        printed = app.kill()
        acknowledged |= {line.split()[1] for line in printed if line.startswith("ack ")}
        errors += [
            line for line in printed if line.startswith("error ") and "not offered" not in line
        ]

        stored = _stored_attempts(database)
        missing = acknowledged - stored
        assert not missing, f"{len(missing)} acknowledged answer(s) lost: {sorted(missing)[:3]}"

    assert errors == []
    assert len(acknowledged) >= KILLS, "the runs should have answered a good number of steps"
    _assert_records_verify(data, acknowledged)


def _assert_records_verify(data: Path, acknowledged: set[str]) -> None:
    from app.services.bootstrap import AppConfig, open_context

    with open_context(AppConfig(data_dir=data)) as context:
        assert context.manager.verify_records() is None
        (profile,) = context.training.list_profiles()
        kept = {record.attempt_id for record in context.training.answers_for(profile)}
    assert acknowledged <= kept

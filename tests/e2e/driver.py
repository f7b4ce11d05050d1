"""Helpers for end-to-end tests that start the app with its test-only driver.

The driver (app/ui/test_driver.py) is switched on by ``THINKTWICE_TEST_DRIVER=1`` and
reads commands on standard input; see its docstring for the protocol.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DRIVER_VARIABLE = "THINKTWICE_TEST_DRIVER"


def driver_environment() -> dict[str, str]:
    """The environment for an app that runs offscreen and listens to the driver."""
    env = {k: v for k, v in os.environ.items() if k != "THINKTWICE_MANAGER_PASSPHRASE"}
    env["QT_QPA_PLATFORM"] = "offscreen"
    env[DRIVER_VARIABLE] = "1"
    return env


def run_driven(
    *arguments: str, commands: list[str], timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    """Start the app with ``arguments``, send ``commands`` then ``quit``; wait for the end."""
    return subprocess.run(
        [sys.executable, "-m", "app", *arguments],
        cwd=REPO,
        env=driver_environment(),
        input="".join(f"{command}\n" for command in [*commands, "quit"]),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )

"""Start-up: nothing heavy is imported before the first paint; paths; the window shell."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from app.ui.main_window import LOADING, MainWindow

HEAVY = ("sqlalchemy", "sqlmodel", "alembic", "pydantic", "markdown", "nh3", "yaml", "pygments")


def test_modules_needed_before_the_first_paint_stay_light() -> None:
    code = (
        "import sys, app.ui.launch\n"
        f"heavy = {HEAVY!r}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy"
        " or m.startswith(('app.services', 'app.content', 'app.storage'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert result.stdout.strip() == "[]"


def test_default_data_dir_is_the_per_user_app_folder() -> None:
    from app.ui.paths import APPLICATION_NAME, default_data_dir

    folder = default_data_dir()
    assert folder.name == APPLICATION_NAME
    assert folder.is_absolute()


def test_the_window_shell_signals_its_first_paint(qtbot: Any) -> None:
    window = MainWindow()
    qtbot.addWidget(window)
    assert window.windowTitle() == "Think Twice"
    assert window.current_page_key() == LOADING
    assert not window.navigation_action("home").isEnabled(), "nothing to navigate to yet"
    with qtbot.waitSignal(window.first_painted, timeout=5000):
        window.show()


def test_the_status_bar_names_the_trainee_and_the_database(workspace: Any, tmp_path: Path) -> None:
    window = workspace.window
    assert window.trainee_label.text() == "Trainee: Ada Example"
    assert str(tmp_path / "data" / "thinktwice.db") in window.database_label.text()

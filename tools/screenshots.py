"""Render the README's screenshots of the real app, offscreen, into docs/images/.

Usage: QT_QPA_PLATFORM=offscreen .venv/bin/python tools/screenshots.py [OUT_DIR]

It opens the real main window on the built-in content with a throwaway data folder,
plays a little so the pictures show progress, and grabs each screen.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication

from app.core.judging import StepAnswer
from app.core.model import Decision
from app.services.bootstrap import AppConfig, open_context
from app.ui.launch import create_application
from app.ui.main_window import MainWindow
from app.ui.workspace import Workspace

WINDOW_SIZE = (1280, 860)


def _settle(app: QApplication) -> None:
    for _ in range(5):
        app.processEvents()


def _play_a_little(workspace: Workspace) -> None:
    """Answer a few scenarios of the new-hire track so home shows progress."""
    training, profile = workspace.training, workspace.profile
    assert profile is not None
    library = workspace.library
    for scenario_id in library.tracks["new-hire"].scenario_ids[:3]:
        scenario = library.scenarios[scenario_id]
        play = training.new_play_id()
        for step in scenario.steps:
            revision = step.correct_revision_index if step.answer is Decision.REVISE else None
            answer = StepAnswer(step.answer, revision_index=revision, seconds=40.0)
            training.record_answer(profile, scenario, step, answer, play)
    for lesson_id in library.tracks["new-hire"].lesson_ids[:1]:
        training.mark_lesson_read(profile, lesson_id)


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/images")
    out.mkdir(parents=True, exist_ok=True)
    app = create_application()
    with tempfile.TemporaryDirectory() as data:
        context = open_context(AppConfig(data_dir=Path(data)))
        window = MainWindow()
        window.resize(*WINDOW_SIZE)
        workspace = Workspace(window, context, open_url=lambda _url: None, rng=random.Random(4))
        profile = context.training.create_profile("Ada Example", "e-1042", "Platform")
        workspace.set_profile(profile)
        _play_a_little(workspace)
        window.show()
        workspace.go_home()
        _settle(app)
        window.grab().save(str(out / "home.png"))

        workspace.open_scenario("forum-acl-grant", "new-hire")
        player = workspace.player
        player.choose_decision(Decision.REJECT)
        player.flag_list.checkboxes[0].setChecked(True)
        _settle(app)
        window.grab().save(str(out / "player.png"))
        player.submit()
        _settle(app)
        window.grab().save(str(out / "consequence.png"))
        window.close()
        context.close()
    print(f"screenshots written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Render the README's screenshots of the real app, offscreen, into docs/images/.

Usage: QT_QPA_PLATFORM=offscreen .venv/bin/python tools/screenshots.py [OUT_DIR]

It opens the real main window on the built-in content with a throwaway data folder,
plays a little so the pictures show progress, and grabs each screen. For the dashboard
it then answers the baseline check as a hasty trainee would and the follow-up check as
a more careful one, with a mix of right and wrong calls and confidences.
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
from app.core.model import Decision, Scenario, Step
from app.core.records import Profile
from app.services.bootstrap import AppConfig, open_context
from app.services.training import TrainingService
from app.ui.launch import create_application
from app.ui.main_window import DASHBOARD, ROOM, MainWindow
from app.ui.workspace import Workspace

WINDOW_SIZE = (1280, 860)
# The dashboard is taller than a screen; its picture is as tall as the page.
DASHBOARD_WIDTH = 1280


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


def _answer(
    training: TrainingService,
    profile: Profile,
    scenario: Scenario,
    *,
    careful: bool,
    rng: random.Random,
) -> None:
    """Play ``scenario`` once: a careful trainee checks, names flags and is mostly right;
    a hasty one trusts what looks plausible and is sure of it."""
    play = training.new_play_id()
    for step in scenario.steps:
        right = rng.random() < (0.85 if careful else 0.45)
        decision = step.answer if right else _wrong_decision(step, rng)
        revision = None
        if decision is Decision.REVISE:
            wrong = [i for i, r in enumerate(step.revisions) if not r.correct]
            revision = step.correct_revision_index if right or not wrong else wrong[0]
        flags = None
        if careful or rng.random() < 0.4:
            named = [f for f in step.flags if rng.random() < (0.8 if careful else 0.4)]
            if not careful and step.decoys and rng.random() < 0.5:
                named.append(step.decoys[0])
            flags = frozenset(named)
        if careful:
            confidence = rng.choice((70, 80, 90) if right else (60, 70))
        else:
            confidence = rng.choice((80, 90, 100))
        checks = step.checks[:1] if careful and step.checks else ()
        answer = StepAnswer(
            decision,
            revision_index=revision,
            flags=flags,
            confidence=confidence,
            seconds=rng.uniform(50, 110) if careful else rng.uniform(20, 55),
            checks_made=tuple(c.label for c in checks),
            check_minutes=sum(c.minutes for c in checks),
            hint_taken=not careful and rng.random() < 0.2,
        )
        training.record_answer(profile, scenario, step, answer, play)


def _wrong_decision(step: Step, rng: random.Random) -> Decision:
    if step.answer is Decision.ACCEPT:
        return Decision.REJECT
    # The typical slip on harmful advice is to take it as it stands.
    return Decision.ACCEPT if rng.random() < 0.75 else Decision.REJECT


def _play_baseline_and_follow_up(workspace: Workspace) -> None:
    """The baseline as a hasty trainee, some of onboarding, then a careful follow-up."""
    training, profile, library = workspace.training, workspace.profile, workspace.library
    assert profile is not None
    rng = random.Random(11)
    for track_id, careful, count in (
        ("baseline", False, 8),
        ("new-hire", True, 4),
        ("follow-up", True, 8),
    ):
        for scenario_id in library.tracks[track_id].scenario_ids[:count]:
            _answer(training, profile, library.scenarios[scenario_id], careful=careful, rng=rng)


def _room_mid_session(workspace: Workspace) -> None:
    """A facilitated session on the new-hire track, on its second scenario: hands counted,
    one vote from an attendee's own app, the discussion timer running."""
    training = workspace.training
    people = [training.create_profile(name) for name in ("Bo Lindqvist", "Chen Wei", "Dana Okafor")]
    page = workspace.room_page
    room = page.room
    session = room.start_session(
        "Ada Example", track_id="new-hire", attendees=people[:2], new_attendees=["Emil Novak"]
    )
    session = room.next_step(session.session_id)
    workspace.show_page(ROOM)
    page.present(session)
    presentation = page.presentation
    for decision, hands in ((Decision.ACCEPT, 3), (Decision.REVISE, 2), (Decision.REJECT, 6)):
        presentation.vote_boxes[decision].setValue(hands)
    room.cast_vote(session.session_id, people[2], Decision.REJECT)
    presentation.refresh_tally()
    presentation.timer.start()


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

        _play_baseline_and_follow_up(workspace)
        workspace.show_page(DASHBOARD)
        _settle(app)
        # As tall as the page needs, so the picture shows all six charts.
        spare = window.height() - workspace.dashboard.scroll_area.viewport().height()
        content = workspace.dashboard.content.sizeHint().height()
        window.resize(DASHBOARD_WIDTH, spare + content + 8)
        focused = app.focusWidget()
        if focused is not None:
            focused.clearFocus()  # the picture shows the page, not a focus ring
        _settle(app)
        window.grab().save(str(out / "dashboard.png"))

        window.resize(*WINDOW_SIZE)
        _room_mid_session(workspace)
        _settle(app)
        presentation = workspace.room_page.presentation
        # The whole suggestion, as the room discusses it.
        presentation.content_scroll.verticalScrollBar().setValue(presentation.bubble.y() - 8)
        focused = app.focusWidget()
        if focused is not None:
            focused.clearFocus()
        _settle(app)
        window.grab().save(str(out / "room.png"))
        window.close()
        context.close()
    print(f"screenshots written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

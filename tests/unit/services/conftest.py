"""Fixtures for the service tests: a small hand-built library and a fresh database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.model import (
    ContentLibrary,
    Decision,
    Lesson,
    Pack,
    Revision,
    Scenario,
    Step,
    Track,
    TrackItem,
    TrackItemKind,
)
from app.services.settings import Settings
from app.services.training import TrainingService
from app.storage.database import Database, open_database

ROOT = Path("/content")


def _scenario(scenario_id: str, steps: tuple[Step, ...], version: int = 1) -> Scenario:
    return Scenario(
        id=scenario_id,
        title=scenario_id.replace("-", " ").title(),
        summary="A summary.",
        difficulty=2,
        situation="The situation.",
        debrief="The debrief.",
        steps=steps,
        pack_id="core",
        path=ROOT / "scenarios" / f"{scenario_id}.md",
        version=version,
    )


CLEANUP_STEP = Step(
    id="delete",
    answer=Decision.REJECT,
    suggestion="`rm -rf /srv/data/*`",
    if_accepted="Everything is gone.",
    if_rejected="The data is safe.",
    flags=("irreversible", "blast-radius"),
    decoys=("data-exposure",),
)
PLAN_STEP = Step(
    id="plan",
    answer=Decision.REVISE,
    suggestion="Apply the plan.",
    if_accepted="143 resources destroyed.",
    if_rejected="The fix waits a day.",
    if_revised="Only the bucket changes.",
    flags=("blast-radius",),
    revisions=(
        Revision("Apply with -target on the bucket only.", correct=True),
        Revision("Apply with -auto-approve."),
    ),
)
REVIEW_STEP = Step(
    id="review",
    answer=Decision.ACCEPT,
    suggestion="Add a lifecycle rule.",
    if_accepted="Costs drop.",
    if_rejected="Costs keep rising.",
)


@pytest.fixture
def library() -> ContentLibrary:
    cleanup = _scenario("cleanup-disk", (CLEANUP_STEP,))
    terraform = _scenario("terraform-plan", (PLAN_STEP, REVIEW_STEP), version=3)
    lesson = Lesson(
        id="irreversible-actions",
        title="Irreversible actions",
        summary="s",
        body="# Irreversible actions",
        pack_id="core",
        path=ROOT / "lessons" / "irreversible-actions.md",
    )
    track = Track(
        id="new-hire",
        title="New hire",
        summary="s",
        items=(
            TrackItem(TrackItemKind.LESSON, "irreversible-actions"),
            TrackItem(TrackItemKind.SCENARIO, "cleanup-disk"),
            TrackItem(TrackItemKind.SCENARIO, "terraform-plan"),
        ),
        pack_id="core",
        path=ROOT / "lessons" / "tracks" / "new-hire.yaml",
    )
    return ContentLibrary(
        packs={"core": Pack(id="core", root=ROOT)},
        scenarios={s.id: s for s in (cleanup, terraform)},
        lessons={lesson.id: lesson},
        tracks={track.id: track},
    )


@pytest.fixture
def database_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "thinktwice.db"


@pytest.fixture
def database(database_path: Path, tmp_path: Path) -> Iterator[Database]:
    opened = open_database(f"sqlite:///{database_path}", backup_dir=tmp_path / "backups")
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.in_data_dir(tmp_path / "data")


@pytest.fixture
def training(database: Database, library: ContentLibrary, settings: Settings) -> TrainingService:
    return TrainingService(database, library, settings)

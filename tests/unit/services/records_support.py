"""Shared pieces for the records and manager tests: a small library, a clock, answering."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app.core.judging import StepAnswer
from app.core.model import (
    Check,
    ContentLibrary,
    Decision,
    Lesson,
    Pack,
    RedFlag,
    Revision,
    Scenario,
    Step,
    Track,
    TrackItem,
    TrackItemKind,
)
from app.core.records import AnswerRecord, Profile
from app.services.training import TrainingService

ROOT = Path("/content")
PASSPHRASE = "correct horse battery staple"
T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)

CLEANUP = Step(
    id="delete",
    answer=Decision.REJECT,
    suggestion="`rm -rf /srv/data/*`",
    if_accepted="Everything is gone.",
    if_rejected="The data is safe.",
    flags=("irreversible", "blast-radius"),
    decoys=("data-exposure",),
    checks=(Check("List what the glob matches", 2, "`/srv/data/customers`"),),
)
PLAN = Step(
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
REVIEW = Step(
    id="review",
    answer=Decision.ACCEPT,
    suggestion="Add a lifecycle rule.",
    if_accepted="Costs drop.",
    if_rejected="Costs keep rising.",
    checks=(Check("Read the rule", 3, "It expires old versions only."),),
)


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
        tags=("shell-files",),
    )


def _track(track_id: str, title: str, items: tuple[TrackItem, ...]) -> Track:
    return Track(
        id=track_id,
        title=title,
        summary="s",
        items=items,
        pack_id="core",
        path=ROOT / "lessons" / "tracks" / f"{track_id}.yaml",
    )


def build_library() -> ContentLibrary:
    """Two scenarios, a lesson, and the tracks new-hire, baseline, follow-up, reading."""
    cleanup = _scenario("cleanup-disk", (CLEANUP,))
    terraform = _scenario("terraform-plan", (PLAN, REVIEW), version=3)
    lesson = Lesson(
        id="irreversible-actions",
        title="Irreversible actions",
        summary="s",
        body="# Irreversible actions",
        pack_id="core",
        path=ROOT / "lessons" / "irreversible-actions.md",
    )
    lesson_item = TrackItem(TrackItemKind.LESSON, "irreversible-actions")
    cleanup_item = TrackItem(TrackItemKind.SCENARIO, "cleanup-disk")
    terraform_item = TrackItem(TrackItemKind.SCENARIO, "terraform-plan")
    tracks = (
        _track("new-hire", "New hire", (lesson_item, cleanup_item, terraform_item)),
        _track("baseline", "Baseline", (cleanup_item,)),
        _track("follow-up", "Follow-up", (terraform_item,)),
        _track("reading", "Reading only", (lesson_item,)),
    )
    flags = {
        flag_id: RedFlag(flag_id, title, f"{title}?", "d", "core")
        for flag_id, title in (
            ("irreversible", "Irreversible or destructive action"),
            ("blast-radius", "Blast radius larger than the problem"),
            ("data-exposure", "Data or secret exposure"),
        )
    }
    return ContentLibrary(
        packs={"core": Pack(id="core", root=ROOT)},
        red_flags=flags,
        scenarios={s.id: s for s in (cleanup, terraform)},
        lessons={lesson.id: lesson},
        tracks={t.id: t for t in tracks},
    )


class Clock:
    """A clock the tests move by hand."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def right(step: Step, **extra: object) -> StepAnswer:
    """The right decision for ``step`` (the safe revision for Revise)."""
    revision = step.correct_revision_index if step.answer is Decision.REVISE else None
    return StepAnswer(step.answer, revision_index=revision, **extra)  # type: ignore[arg-type]


def play(
    training: TrainingService,
    profile: Profile,
    library: ContentLibrary,
    scenario_id: str,
    *answers: StepAnswer,
) -> list[AnswerRecord]:
    """Answer every step of a scenario in one play, with the given answers in order."""
    scenario = library.scenarios[scenario_id]
    play_id = training.new_play_id()
    return [
        training.record_answer(profile, scenario, step, answer, play_id)[0]
        for step, answer in zip(scenario.steps, answers, strict=True)
    ]


def ada_passes(training: TrainingService, profile: Profile, library: ContentLibrary) -> None:
    """Ada's history: new-hire passed with a score of 0.95 (see the tests for the sums)."""
    training.mark_lesson_read(profile, "irreversible-actions")
    play(
        training,
        profile,
        library,
        "cleanup-disk",
        right(CLEANUP, flags=frozenset({"irreversible", "blast-radius"}), confidence=90),
    )
    play(training, profile, library, "terraform-plan", right(PLAN), right(REVIEW))


def bob_fails(training: TrainingService, profile: Profile, library: ContentLibrary) -> None:
    """Bob's history: new-hire completed and failed with a score of 0.3375."""
    training.mark_lesson_read(profile, "irreversible-actions")
    play(training, profile, library, "cleanup-disk", StepAnswer(Decision.ACCEPT, confidence=80))
    play(
        training,
        profile,
        library,
        "terraform-plan",
        StepAnswer(Decision.REJECT),
        StepAnswer(Decision.ACCEPT),
    )


def with_pass_mark(library: ContentLibrary, track_id: str, pass_mark: float) -> ContentLibrary:
    """A copy of ``library`` whose track has another pass mark."""
    tracks = dict(library.tracks)
    tracks[track_id] = replace(tracks[track_id], pass_mark=pass_mark)
    return replace(library, tracks=tracks)

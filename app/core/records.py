"""Trainee records as plain values: profiles, answers and the progress derived from them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from app.core.judging import Verdict
from app.core.model import Decision, Scenario, Track, TrackItemKind
from app.core.scoring import step_score


@dataclass(frozen=True, slots=True)
class Profile:
    """A trainee on this machine or team database."""

    id: int
    uid: str
    display_name: str
    created_at: datetime
    email_or_id: str | None = None
    team: str | None = None


@dataclass(frozen=True, slots=True)
class AnswerRecord:
    """One submitted step, as kept in the database.

    ``play_id`` groups the steps answered in one play-through of a scenario;
    ``attempt_id`` identifies this single answer everywhere (exports, imports).
    ``flags_chosen`` is ``None`` when the trainee did not say which flags they saw.
    ``expected`` and ``flags_true`` snapshot the answer key at the time of answering, so
    the record stays meaningful when the content changes later.
    """

    attempt_id: str
    play_id: str
    trainee_id: int
    scenario_id: str
    scenario_version: int
    step_id: str
    decision: Decision
    correct: bool
    flags_missed: tuple[str, ...]
    seconds: float
    answered_at: datetime
    revision_index: int | None = None
    revision_text: str | None = None
    flags_chosen: tuple[str, ...] | None = None
    confidence: int | None = None
    expected: Decision | None = None
    flags_true: tuple[str, ...] = ()
    checks_made: tuple[str, ...] = ()
    check_minutes: int = 0
    hint_taken: bool = False
    verdict: Verdict | None = None


@dataclass(frozen=True, slots=True)
class ScenarioProgress:
    """How a trainee has done on one scenario so far."""

    scenario_id: str
    steps_total: int
    plays_completed: int = 0
    best_score: float | None = None
    last_score: float | None = None

    @property
    def done(self) -> bool:
        """True once every step has been answered in at least one play."""
        return self.plays_completed > 0


@dataclass(slots=True)
class TraineeProgress:
    """Everything the home screen needs to mark what a trainee has done."""

    scenarios: dict[str, ScenarioProgress] = field(default_factory=dict)
    lessons_read: set[str] = field(default_factory=set)

    def scenario_done(self, scenario_id: str) -> bool:
        """Whether this scenario has been played to the end at least once."""
        progress = self.scenarios.get(scenario_id)
        return progress is not None and progress.done


@dataclass(frozen=True, slots=True)
class TrackProgress:
    """How far a trainee is through one track."""

    track_id: str
    items_done: int
    items_total: int
    score: float | None

    @property
    def fraction(self) -> float:
        """Share of items done, 0.0 to 1.0."""
        return self.items_done / self.items_total if self.items_total else 0.0

    @property
    def complete(self) -> bool:
        """Every item is done."""
        return self.items_total > 0 and self.items_done == self.items_total


def scenario_progress(scenario: Scenario, answers: Iterable[AnswerRecord]) -> ScenarioProgress:
    """Fold a trainee's answers to one scenario into its progress.

    A play counts as completed when every step of the scenario's current version was
    answered in it; its score is the mean step score (see app.core.scoring).
    """
    step_ids = {step.id for step in scenario.steps}
    plays: dict[str, dict[str, AnswerRecord]] = {}
    order: list[str] = []
    for record in sorted(answers, key=lambda r: r.answered_at):
        if record.scenario_id != scenario.id or record.step_id not in step_ids:
            continue
        if record.play_id not in plays:
            plays[record.play_id] = {}
            order.append(record.play_id)
        plays[record.play_id].setdefault(record.step_id, record)
    scores = [
        sum(step_score(r).total for r in plays[p].values()) / len(step_ids)
        for p in order
        if set(plays[p]) == step_ids
    ]
    return ScenarioProgress(
        scenario_id=scenario.id,
        steps_total=len(step_ids),
        plays_completed=len(scores),
        best_score=max(scores) if scores else None,
        last_score=scores[-1] if scores else None,
    )


def track_progress(
    track: Track, progress: TraineeProgress, scenarios: Mapping[str, Scenario]
) -> TrackProgress:
    """How far ``progress`` is through ``track``; the score averages the best scores so far."""
    done = 0
    scores: list[float] = []
    for item in track.items:
        if item.kind is TrackItemKind.LESSON:
            done += item.ref in progress.lessons_read
            continue
        state = progress.scenarios.get(item.ref) if item.ref in scenarios else None
        if state is not None and state.done:
            done += 1
            scores.append(state.best_score or 0.0)
    # The score so far: the mean over the scenarios done. Whether the track is passed is
    # judged by app.core.completion, over all of its scenarios.
    score = sum(scores) / len(scores) if scores else None
    return TrackProgress(
        track_id=track.id, items_done=done, items_total=len(track.items), score=score
    )

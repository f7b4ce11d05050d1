"""Folding answer records into scenario and track progress."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

from app.core.model import Decision, Scenario, Step, Track, TrackItem, TrackItemKind
from app.core.records import (
    AnswerRecord,
    TraineeProgress,
    scenario_progress,
    track_progress,
)

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def make_scenario(scenario_id: str, step_ids: tuple[str, ...]) -> Scenario:
    steps = tuple(
        Step(id=s, answer=Decision.ACCEPT, suggestion="s", if_accepted="a", if_rejected="r")
        for s in step_ids
    )
    return Scenario(
        id=scenario_id,
        title="t",
        summary="s",
        difficulty=1,
        situation="x",
        debrief="d",
        steps=steps,
        pack_id="core",
        path=Path(f"{scenario_id}.md"),
    )


def answer(
    play: str, step: str, correct: bool, minutes: int, scenario: str = "two"
) -> AnswerRecord:
    return AnswerRecord(
        attempt_id=f"{play}-{step}",
        play_id=play,
        trainee_id=1,
        scenario_id=scenario,
        scenario_version=1,
        step_id=step,
        decision=Decision.ACCEPT,
        correct=correct,
        flags_missed=(),
        seconds=10.0,
        answered_at=T0 + timedelta(minutes=minutes),
    )


def test_partial_play_is_not_done() -> None:
    scenario = make_scenario("two", ("first", "second"))
    progress = scenario_progress(scenario, [answer("p1", "first", True, 0)])
    assert not progress.done
    assert progress.best_score is None


def test_best_and_last_score_over_completed_plays() -> None:
    scenario = make_scenario("two", ("first", "second"))
    records = [
        answer("p1", "first", True, 0),
        answer("p1", "second", True, 1),
        answer("p2", "first", False, 2),
        answer("p2", "second", True, 3),
        answer("p3", "first", False, 4),  # unfinished: ignored
        answer("px", "first", True, 5, scenario="other"),  # another scenario: ignored
    ]
    progress = scenario_progress(scenario, records)
    assert progress.plays_completed == 2
    # Right without flags scores 0.9 a step (docs/scoring.md); a wrong step scores 0.
    assert progress.best_score == 0.9
    assert progress.last_score == 0.45


def test_answers_to_steps_that_no_longer_exist_do_not_complete_a_play() -> None:
    scenario = make_scenario("two", ("first", "second"))
    records = [answer("p1", "first", True, 0), answer("p1", "removed", True, 1)]
    assert not scenario_progress(scenario, records).done


def test_track_progress_counts_lessons_and_scenarios() -> None:
    scenarios = {s.id: s for s in (make_scenario("a", ("x",)), make_scenario("b", ("x",)))}
    track = Track(
        id="new-hire",
        title="New hire",
        summary="s",
        items=(
            TrackItem(TrackItemKind.LESSON, "intro"),
            TrackItem(TrackItemKind.SCENARIO, "a"),
            TrackItem(TrackItemKind.SCENARIO, "b"),
        ),
        pack_id="core",
        path=Path("new-hire.yaml"),
    )
    progress = TraineeProgress(lessons_read={"intro"})
    progress.scenarios["a"] = scenario_progress(scenarios["a"], [answer("p", "x", True, 0, "a")])
    result = track_progress(track, progress, scenarios)
    assert (result.items_done, result.items_total) == (2, 3)
    assert result.fraction == 2 / 3
    assert not result.complete
    # One of two scenarios done, scoring 0.9: the score so far is that scenario's.
    assert result.score == 0.9

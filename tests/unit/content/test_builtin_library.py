"""The shipped library is held to every rule of the content contract and of the library.

A later edit that breaks a file, or quietly tips the balance of answers, flags, difficulty,
domains or tracks, fails here.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.content.loader import load_library
from app.content.locations import builtin_pack_root
from app.core.completion import CompletionStatus, track_outcome
from app.core.judging import StepAnswer, judge
from app.core.model import ContentLibrary, Decision, Step
from app.core.records import AnswerRecord
from app.core.stats import library_stats

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def library() -> ContentLibrary:
    return load_library()


def test_builtin_pack_is_the_repository_root() -> None:
    assert builtin_pack_root().resolve() == REPO


def test_every_shipped_file_loads_without_a_problem(library: ContentLibrary) -> None:
    assert [str(p) for p in library.problems] == []
    shipped = sorted(p.stem for p in (REPO / "scenarios").rglob("*.md"))
    assert sorted(library.scenarios) == shipped
    assert sorted(library.lessons) == sorted(p.stem for p in (REPO / "lessons").glob("*.md"))


def test_the_example_pack_in_the_docs_validates() -> None:
    with_example = load_library([REPO / "docs" / "example-pack"])
    assert [str(p) for p in with_example.problems] == []
    assert "example-pack" in with_example.packs


def test_every_library_rule_passes(library: ContentLibrary) -> None:
    stats = library_stats(library)
    failed = [f"{rule.name}: {rule.detail}" for rule in stats.rules if not rule.passed]
    assert failed == []
    assert stats.scenarios >= 72
    assert stats.lessons >= 16


def _always(decision: Decision, step: Step) -> StepAnswer:
    revision = step.correct_revision_index if decision is Decision.REVISE else None
    return StepAnswer(decision, revision_index=revision, seconds=30.0)


@pytest.mark.parametrize("decision", [Decision.REJECT, Decision.ACCEPT])
def test_a_one_note_trainee_fails_every_track(library: ContentLibrary, decision: Decision) -> None:
    """Always rejecting (or always accepting) fails every track under the real scoring."""
    start = datetime(2026, 11, 24, 9, tzinfo=UTC)
    for track in library.tracks.values():
        records = []
        moment = start
        for scenario_id in track.scenario_ids:
            scenario = library.scenarios[scenario_id]
            for step in scenario.steps:
                answer = _always(decision, step)
                outcome = judge(step, answer)
                moment += timedelta(minutes=1)
                records.append(
                    AnswerRecord(
                        attempt_id=f"{scenario_id}-{step.id}",
                        play_id=scenario_id,
                        trainee_id=1,
                        scenario_id=scenario_id,
                        scenario_version=scenario.version,
                        step_id=step.id,
                        decision=answer.decision,
                        correct=outcome.correct,
                        flags_missed=outcome.flags_missed,
                        seconds=answer.seconds,
                        answered_at=moment,
                        expected=step.answer,
                        flags_true=step.flags,
                        verdict=outcome.verdict,
                    )
                )
        lessons = dict.fromkeys(track.lesson_ids, start)
        result = track_outcome(track, library.scenarios, records, lessons)
        assert result.status is CompletionStatus.FAILED, (track.id, result.score)

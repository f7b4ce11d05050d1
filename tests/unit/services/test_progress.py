"""Progress derived from the recorded answers and the lessons read."""

from __future__ import annotations

import pytest

from app.core.judging import StepAnswer
from app.core.model import ContentLibrary, Decision
from app.core.records import Profile, scenario_progress
from app.services.training import TrainingService


@pytest.fixture
def ada(training: TrainingService) -> Profile:
    return training.create_profile("Ada Example")


def test_a_new_trainee_has_done_nothing(training: TrainingService, ada: Profile) -> None:
    progress = training.progress(ada)
    assert set(progress.scenarios) == {"cleanup-disk", "terraform-plan"}
    assert not any(state.done for state in progress.scenarios.values())
    assert progress.lessons_read == set()
    (track,) = training.track_progress(ada)
    assert (track.track_id, track.items_done, track.items_total) == ("new-hire", 0, 3)
    assert track.score is None


def test_a_perfect_play_marks_the_scenario_done_with_full_marks(
    training: TrainingService, library: ContentLibrary, ada: Profile
) -> None:
    scenario = library.scenarios["terraform-plan"]
    play = training.new_play_id()
    plan, review = scenario.steps
    training.record_answer(
        ada, scenario, plan, StepAnswer(Decision.REVISE, 0, flags=frozenset(plan.flags)), play
    )
    training.record_answer(
        ada, scenario, review, StepAnswer(Decision.ACCEPT, flags=frozenset()), play
    )

    state = training.progress(ada).scenarios["terraform-plan"]
    assert state.done
    assert state.plays_completed == 1
    assert state.best_score == 1.0


def test_scores_come_from_this_trainees_answers(
    training: TrainingService, library: ContentLibrary, ada: Profile
) -> None:
    scenario = library.scenarios["terraform-plan"]
    plan, review = scenario.steps
    good, bad = training.new_play_id(), training.new_play_id()
    training.record_answer(ada, scenario, plan, StepAnswer(Decision.REVISE, 0), good)
    training.record_answer(ada, scenario, review, StepAnswer(Decision.ACCEPT), good)
    training.record_answer(ada, scenario, plan, StepAnswer(Decision.ACCEPT), bad)
    training.record_answer(ada, scenario, review, StepAnswer(Decision.REJECT), bad)

    state = training.progress(ada).scenarios["terraform-plan"]
    expected = scenario_progress(scenario, training.answers_for(ada))
    assert state == expected
    assert state.plays_completed == 2
    assert state.best_score is not None
    assert state.last_score is not None
    assert state.best_score > state.last_score


def test_a_partial_play_is_not_done(
    training: TrainingService, library: ContentLibrary, ada: Profile
) -> None:
    scenario = library.scenarios["terraform-plan"]
    training.record_answer(
        ada, scenario, scenario.steps[0], StepAnswer(Decision.REVISE, 0), training.new_play_id()
    )
    state = training.progress(ada).scenarios["terraform-plan"]
    assert not state.done
    assert state.best_score is None


def test_another_trainees_answers_do_not_count(
    training: TrainingService, library: ContentLibrary, ada: Profile
) -> None:
    bob = training.create_profile("Bob")
    scenario = library.scenarios["cleanup-disk"]
    training.record_answer(
        bob, scenario, scenario.steps[0], StepAnswer(Decision.REJECT), training.new_play_id()
    )
    assert training.progress(bob).scenario_done("cleanup-disk")
    assert not training.progress(ada).scenario_done("cleanup-disk")


def test_reading_a_lesson_twice_records_it_once(training: TrainingService, ada: Profile) -> None:
    training.mark_lesson_read(ada, "irreversible-actions")
    training.mark_lesson_read(ada, "irreversible-actions")
    assert training.progress(ada).lessons_read == {"irreversible-actions"}


def test_track_progress_counts_lessons_and_scenarios(
    training: TrainingService, library: ContentLibrary, ada: Profile
) -> None:
    training.mark_lesson_read(ada, "irreversible-actions")
    cleanup = library.scenarios["cleanup-disk"]
    training.record_answer(
        ada, cleanup, cleanup.steps[0], StepAnswer(Decision.REJECT), training.new_play_id()
    )
    (track,) = training.track_progress(ada)
    assert (track.items_done, track.items_total) == (2, 3)
    assert track.fraction == pytest.approx(2 / 3)
    assert track.score is not None
    assert not track.complete


def test_a_bad_lesson_id_is_refused(training: TrainingService, ada: Profile) -> None:
    with pytest.raises(ValueError, match="lesson id"):
        training.mark_lesson_read(ada, "")

"""Recording answers: judged, kept at once in their own transaction, read back as records."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from app.core.judging import StepAnswer, Verdict, judge
from app.core.model import ContentLibrary, Decision
from app.core.records import Profile
from app.services.errors import DatabaseLocked
from app.services.settings import Settings
from app.services.training import TrainingService
from app.storage.database import Database, open_database


@pytest.fixture
def ada(training: TrainingService) -> Profile:
    return training.create_profile("Ada Example", "ada@example.com", "Platform")


def _stored(path: Path) -> list[sqlite3.Row]:
    """The answer rows as another program sees them, through a connection of its own."""
    connection = sqlite3.connect(path)
    connection.row_factory = sqlite3.Row
    try:
        return connection.execute("SELECT * FROM answer ORDER BY id").fetchall()
    finally:
        connection.close()


def test_an_answer_is_committed_before_record_answer_returns(
    training: TrainingService, library: ContentLibrary, ada: Profile, database_path: Path
) -> None:
    scenario = library.scenarios["cleanup-disk"]
    step = scenario.steps[0]
    record, _ = training.record_answer(
        ada, scenario, step, StepAnswer(Decision.REJECT, seconds=7.25), training.new_play_id()
    )
    (row,) = _stored(database_path)
    assert row["attempt_id"] == record.attempt_id
    assert row["decision"] == "reject"
    assert row["correct"] == 1


def test_the_record_holds_everything_submitted_and_the_answer_key(
    training: TrainingService, library: ContentLibrary, ada: Profile, database_path: Path
) -> None:
    scenario = library.scenarios["terraform-plan"]
    step = scenario.steps[0]
    answer = StepAnswer(
        Decision.REVISE,
        revision_index=1,
        flags=frozenset({"blast-radius", "data-exposure"}),
        confidence=70,
        seconds=31.5,
    )
    play_id = training.new_play_id()
    record, outcome = training.record_answer(ada, scenario, step, answer, play_id)

    assert outcome == judge(step, answer)
    assert outcome.verdict is Verdict.HARMFUL
    assert record.verdict is Verdict.HARMFUL
    assert record.play_id == play_id
    assert record.trainee_id == ada.id
    assert (record.scenario_id, record.scenario_version, record.step_id) == (
        "terraform-plan",
        3,
        "plan",
    )
    assert record.decision is Decision.REVISE
    assert record.expected is Decision.REVISE
    assert record.revision_index == 1
    assert record.revision_text == "Apply with -auto-approve."
    assert record.correct is False
    assert record.flags_chosen == ("blast-radius", "data-exposure")
    assert record.flags_missed == ()
    assert record.flags_true == ("blast-radius",)
    assert record.confidence == 70
    assert record.seconds == 31.5
    assert record.answered_at.utcoffset() is not None
    assert training.answers_for(ada) == [record]

    (row,) = _stored(database_path)
    assert row["pack_id"] == "core"
    assert row["verdict"] == "harmful"


def test_flags_not_given_are_kept_as_not_given(
    training: TrainingService, library: ContentLibrary, ada: Profile, database_path: Path
) -> None:
    scenario = library.scenarios["cleanup-disk"]
    step = scenario.steps[0]
    play = training.new_play_id()
    skipped, _ = training.record_answer(ada, scenario, step, StepAnswer(Decision.REJECT), play)
    none_seen, _ = training.record_answer(
        ada, scenario, step, StepAnswer(Decision.REJECT, flags=frozenset()), play
    )
    assert skipped.flags_chosen is None
    assert skipped.flags_missed == ("irreversible", "blast-radius")
    assert none_seen.flags_chosen == ()
    rows = _stored(database_path)
    assert rows[0]["flags_chosen"] is None
    assert rows[1]["flags_chosen"] == "[]"
    assert rows[0]["confidence"] is None


def test_every_answer_gets_its_own_attempt_id(
    training: TrainingService, library: ContentLibrary, ada: Profile
) -> None:
    scenario = library.scenarios["cleanup-disk"]
    play = training.new_play_id()
    ids = {
        training.record_answer(ada, scenario, scenario.steps[0], StepAnswer(Decision.ACCEPT), play)[
            0
        ].attempt_id
        for _ in range(5)
    }
    assert len(ids) == 5
    assert all(len(i) == 32 for i in ids)


def test_a_step_of_another_scenario_is_refused_and_nothing_kept(
    training: TrainingService, library: ContentLibrary, ada: Profile, database_path: Path
) -> None:
    cleanup = library.scenarios["cleanup-disk"]
    foreign_step = library.scenarios["terraform-plan"].steps[1]
    with pytest.raises(ValueError, match="not part of scenario"):
        training.record_answer(
            ada, cleanup, foreign_step, StepAnswer(Decision.ACCEPT), training.new_play_id()
        )
    assert _stored(database_path) == []


def test_a_revision_the_step_lacks_is_refused_and_nothing_kept(
    training: TrainingService, library: ContentLibrary, ada: Profile, database_path: Path
) -> None:
    scenario = library.scenarios["terraform-plan"]
    with pytest.raises(ValueError, match="no revision number 5"):
        training.record_answer(
            ada,
            scenario,
            scenario.steps[0],
            StepAnswer(Decision.REVISE, revision_index=5),
            training.new_play_id(),
        )
    assert _stored(database_path) == []


def test_answers_belong_to_their_trainee_in_order(
    training: TrainingService, library: ContentLibrary, ada: Profile
) -> None:
    bob = training.create_profile("Bob")
    scenario = library.scenarios["cleanup-disk"]
    step = scenario.steps[0]
    play = training.new_play_id()
    first, _ = training.record_answer(ada, scenario, step, StepAnswer(Decision.ACCEPT), play)
    training.record_answer(bob, scenario, step, StepAnswer(Decision.REJECT), play)
    second, _ = training.record_answer(ada, scenario, step, StepAnswer(Decision.REJECT), play)
    assert [r.attempt_id for r in training.answers_for(ada)] == [
        first.attempt_id,
        second.attempt_id,
    ]
    assert [r.decision for r in training.answers_for(bob)] == [Decision.REJECT]


def test_an_answer_that_cannot_be_saved_raises_and_keeps_nothing(
    database: Database, library: ContentLibrary, settings: Settings, database_path: Path
) -> None:
    impatient = open_database(f"sqlite:///{database_path}", backup_dir=None, busy_timeout=0.05)
    training = TrainingService(impatient, library, settings)
    ada = training.create_profile("Ada")
    scenario = library.scenarios["cleanup-disk"]
    holder = sqlite3.connect(database_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(DatabaseLocked):
            training.record_answer(
                ada, scenario, scenario.steps[0], StepAnswer(Decision.REJECT), "p" * 32
            )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        impatient.close()
    assert _stored(database_path) == []


def test_a_bad_play_id_is_refused(
    training: TrainingService, library: ContentLibrary, ada: Profile
) -> None:
    scenario = library.scenarios["cleanup-disk"]
    for play_id in ("", "x" * 33):
        with pytest.raises(ValueError, match="play id"):
            training.record_answer(
                ada, scenario, scenario.steps[0], StepAnswer(Decision.REJECT), play_id
            )

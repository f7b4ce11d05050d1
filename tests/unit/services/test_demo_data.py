"""Demo data: plausible trainees and answers whose hash chains verify, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select

from app.core.judging import StepAnswer, judge
from app.core.model import ContentLibrary, Decision
from app.services import demo_data
from app.services.demo_data import DEMO_COHORT_NAME, DemoDataError, generate_demo_data
from app.services.manager import ManagerService
from app.services.settings import Settings
from app.services.training import TrainingService
from app.storage.database import Database, open_database
from app.storage.tables import (
    AnswerRow,
    CohortMemberRow,
    CohortRow,
    CohortTrackRow,
    LessonReadRow,
    TraineeRow,
)
from tests.unit.services.records_support import build_library

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'data' / 'thinktwice.db'}"
    else:
        url = str(request.getfixturevalue("postgres_url"))
    opened = open_database(url, backup_dir=tmp_path / "backups")
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def library() -> ContentLibrary:
    return build_library()


def _manager(database: Database, library: ContentLibrary, tmp_path: Path) -> ManagerService:
    return ManagerService(database, library, Settings.in_data_dir(tmp_path / "settings"))


def _answers(database: Database) -> list[AnswerRow]:
    with database.read_session() as session:
        return list(session.exec(select(AnswerRow).order_by(col(AnswerRow.id))).all())


def test_every_trainee_gets_a_chain_that_verifies(
    database: Database, library: ContentLibrary, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Many batches (and on PostgreSQL many transactions), chains across them.
    monkeypatch.setattr(demo_data, "BATCH_ANSWERS", 7)
    monkeypatch.setattr(demo_data, "BULK_BATCH_ANSWERS", 7)
    summary = generate_demo_data(
        database, library, trainees=4, answers_per_trainee=23, seed=3, now=NOW
    )

    assert (summary.trainees, summary.answers, summary.cohort) == (4, 92, DEMO_COHORT_NAME)
    assert _manager(database, library, tmp_path).verify_records() is None
    answers = _answers(database)
    assert Counter(a.trainee_id for a in answers) == Counter(
        dict.fromkeys({a.trainee_id for a in answers}, 23)
    )
    with database.read_session() as session:
        trainees = session.exec(select(TraineeRow)).all()
    assert sorted(t.chain_length for t in trainees) == [23, 23, 23, 23]


def test_answers_are_judged_like_real_ones(database: Database, library: ContentLibrary) -> None:
    generate_demo_data(database, library, trainees=3, answers_per_trainee=60, now=NOW)

    answers = _answers(database)
    for row in answers:
        step = library.scenarios[row.scenario_id].step(row.step_id)
        flags = None if row.flags_chosen is None else frozenset(row.flags_chosen)
        outcome = judge(step, StepAnswer(Decision(row.decision), row.revision_index, flags))
        assert row.correct == outcome.correct
        assert row.verdict == outcome.verdict.value
        assert row.flags_missed == list(outcome.flags_missed)
        assert row.expected == step.answer.value
        assert row.flags_true == list(step.flags)
        assert row.confidence is None or 50 <= row.confidence <= 100
        assert row.seconds >= 4.0
        answered_at = row.answered_at.replace(tzinfo=row.answered_at.tzinfo or UTC)
        assert NOW - timedelta(days=demo_data.HISTORY_DAYS) <= answered_at <= NOW
    # Plausible, not perfect: mostly right, some wrong, some with and without flags.
    right = sum(row.correct for row in answers)
    assert len(answers) // 2 < right < len(answers)
    assert any(row.flags_chosen is None for row in answers)
    assert any(row.flags_chosen for row in answers)
    # The steps of one play share its id, and each trainee's times only grow.
    by_play = Counter(row.play_id for row in answers)
    assert by_play[answers[0].play_id] >= 1
    for trainee_id in {row.trainee_id for row in answers}:
        times = [row.answered_at for row in answers if row.trainee_id == trainee_id]
        assert times == sorted(times)


def test_the_cohort_holds_every_trainee_and_track(
    database: Database, library: ContentLibrary
) -> None:
    generate_demo_data(database, library, trainees=5, answers_per_trainee=2, now=NOW)

    with database.read_session() as session:
        cohort = session.exec(select(CohortRow)).one()
        members = session.exec(select(CohortMemberRow.trainee_id)).all()
        tracks = session.exec(select(CohortTrackRow.track_id)).all()
        trainee_ids = session.exec(select(TraineeRow.id)).all()
        lessons_read = session.exec(select(LessonReadRow)).all()
    assert cohort.name == DEMO_COHORT_NAME
    assert set(members) == set(trainee_ids)
    assert len(members) == 5
    assert sorted(tracks) == sorted(library.tracks)
    assert {read.lesson_id for read in lessons_read} <= set(library.lessons)


def test_the_same_seed_gives_the_same_data(tmp_path: Path, library: ContentLibrary) -> None:
    def run(name: str, seed: int) -> list[tuple[object, ...]]:
        with open_database(f"sqlite:///{tmp_path / name}.db", backup_dir=None) as database:
            generate_demo_data(
                database, library, trainees=2, answers_per_trainee=15, seed=seed, now=NOW
            )
            return [
                (a.attempt_id, a.decision, a.flags_chosen, a.record_hash)
                for a in _answers(database)
            ]

    assert run("first", 5) == run("again", 5)
    assert run("first-other", 5) != run("other", 6)


def test_names_and_cohorts_never_clash_with_existing_ones(
    database: Database, library: ContentLibrary, tmp_path: Path
) -> None:
    training = TrainingService(database, library, Settings.in_data_dir(tmp_path / "settings"))
    generate_demo_data(database, library, trainees=30, answers_per_trainee=1, now=NOW)
    summary = generate_demo_data(database, library, trainees=30, answers_per_trainee=1, now=NOW)

    assert summary.cohort == f"{DEMO_COHORT_NAME} 2"
    names = [profile.display_name.casefold() for profile in training.list_profiles()]
    assert len(names) == 60
    assert len(set(names)) == 60


def test_attempt_ids_are_unique_and_grow_with_time(
    database: Database, library: ContentLibrary
) -> None:
    generate_demo_data(database, library, trainees=3, answers_per_trainee=40, now=NOW)

    answers = _answers(database)
    ids = [row.attempt_id for row in answers]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 32 and i[12] == "7" for i in ids)  # UUID version 7
    by_time = sorted(answers, key=lambda row: (row.answered_at, row.attempt_id))
    assert [row.attempt_id for row in by_time] == sorted(ids)


def test_no_scenarios_or_bad_counts_are_refused(
    database: Database, library: ContentLibrary
) -> None:
    with pytest.raises(DemoDataError, match="no scenarios"):
        generate_demo_data(database, ContentLibrary(), trainees=1, answers_per_trainee=1)
    with pytest.raises(DemoDataError, match="trainees"):
        generate_demo_data(database, library, trainees=0, answers_per_trainee=1)
    with pytest.raises(DemoDataError, match="answers per trainee"):
        generate_demo_data(database, library, trainees=1, answers_per_trainee=-1)
    assert _answers(database) == []


def test_a_chain_definition_that_drifted_stops_the_run(
    database: Database, library: ContentLibrary, monkeypatch: pytest.MonkeyPatch
) -> None:
    def drifted(previous: str, payload: object) -> str:
        return "0" * 64

    monkeypatch.setattr(demo_data, "link_hash", drifted)
    with pytest.raises(DemoDataError, match="differs"):
        generate_demo_data(database, library, trainees=1, answers_per_trainee=3, now=NOW)

"""Tamper evidence over the whole database: a row changed or removed outside the app."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from app.core.judging import StepAnswer
from app.core.model import ContentLibrary, Decision
from app.core.records import AnswerRecord, Profile
from app.services.manager import ManagerService, ManagerSession
from app.services.settings import Settings
from app.services.training import TrainingService
from app.storage.database import Database
from tests.unit.services.records_support import (
    CLEANUP,
    PASSPHRASE,
    PLAN,
    REVIEW,
    build_library,
    play,
    right,
)


@pytest.fixture
def library() -> ContentLibrary:
    return build_library()


@pytest.fixture
def manager(database: Database, library: ContentLibrary, settings: Settings) -> ManagerService:
    return ManagerService(database, library, settings)


@pytest.fixture
def session(manager: ManagerService) -> ManagerSession:
    manager.set_passphrase(PASSPHRASE)
    return manager.unlock(PASSPHRASE, "Lead")


def _busy_history(
    training: TrainingService,
    library: ContentLibrary,
    manager: ManagerService,
    session: ManagerSession,
) -> tuple[Profile, Profile, list[AnswerRecord]]:
    ada = training.create_profile("Ada")
    bob = training.create_profile("Bob")
    ada_answers: list[AnswerRecord] = []
    for round_number in range(10):
        ada_answers += play(training, ada, library, "cleanup-disk", right(CLEANUP))
        ada_answers += play(
            training,
            ada,
            library,
            "terraform-plan",
            right(PLAN, confidence=70),
            StepAnswer(Decision.REJECT, flags=frozenset()),
        )
        play(training, bob, library, "terraform-plan", right(PLAN), right(REVIEW))
        if round_number == 4:
            manager.waive(session, ada, "new-hire", "halfway waiver")
            manager.reset(session, ada, "new-hire", "and a reset")
    return ada, bob, ada_answers


def _sql(path: Path, statement: str, *params: object) -> None:
    with sqlite3.connect(path) as connection:
        connection.execute(statement, params)


def test_many_answers_and_events_keep_intact_chains(
    training: TrainingService,
    library: ContentLibrary,
    manager: ManagerService,
    session: ManagerSession,
) -> None:
    _, _, answers = _busy_history(training, library, manager, session)
    assert len(answers) == 30
    assert manager.verify_records() is None


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("confidence", 100),
        ("decision", "accept"),
        ("seconds", 0.5),
        ("verdict", "right"),
        ("hint_taken", 1),
        ("checks_made", '["List what the glob matches"]'),
        ("answered_at", "2020-01-01 00:00:00.000000"),
    ],
)
def test_an_answer_changed_with_plain_sql_is_named(
    training: TrainingService,
    library: ContentLibrary,
    manager: ManagerService,
    session: ManagerSession,
    database_path: Path,
    column: str,
    value: object,
) -> None:
    ada, _, answers = _busy_history(training, library, manager, session)
    target = answers[17]
    _sql(
        database_path,
        f"UPDATE answer SET {column} = ? WHERE attempt_id = ?",
        value,
        target.attempt_id,
    )
    broken = manager.verify_records()
    assert broken is not None
    assert broken.record_id == f"answer {target.attempt_id}"
    assert (broken.trainee_uid, broken.trainee_name) == (ada.uid, "Ada")
    assert "does not match its hash" in broken.reason
    assert target.attempt_id in str(broken) and "Ada" in str(broken)


def test_a_removed_answer_is_caught_at_the_record_after_it(
    training: TrainingService,
    library: ContentLibrary,
    manager: ManagerService,
    session: ManagerSession,
    database_path: Path,
) -> None:
    _, _, answers = _busy_history(training, library, manager, session)
    _sql(database_path, "DELETE FROM answer WHERE attempt_id = ?", answers[3].attempt_id)
    broken = manager.verify_records()
    assert broken is not None
    assert broken.record_id == f"answer {answers[4].attempt_id}"
    assert "removed" in broken.reason


def test_a_removed_newest_answer_is_caught(
    training: TrainingService,
    library: ContentLibrary,
    manager: ManagerService,
    session: ManagerSession,
    database_path: Path,
) -> None:
    _, bob, _ = _busy_history(training, library, manager, session)
    _sql(
        database_path,
        "DELETE FROM answer WHERE id = (SELECT max(id) FROM answer WHERE trainee_id = ?)",
        bob.id,
    )
    broken = manager.verify_records()
    assert broken is not None
    assert broken.record_id == f"trainee {bob.uid}"
    assert broken.trainee_name == "Bob"


def test_a_changed_event_is_named(
    training: TrainingService,
    library: ContentLibrary,
    manager: ManagerService,
    session: ManagerSession,
    database_path: Path,
) -> None:
    ada, _, _ = _busy_history(training, library, manager, session)
    waiver = manager.events(session, ada)[0]
    _sql(
        database_path, "UPDATE event SET actor = 'Someone else' WHERE event_id = ?", waiver.event_id
    )
    broken = manager.verify_records()
    assert broken is not None
    assert broken.record_id == f"event {waiver.event_id}"


def test_an_answer_moved_to_another_trainee_is_caught(
    training: TrainingService,
    library: ContentLibrary,
    manager: ManagerService,
    session: ManagerSession,
    database_path: Path,
) -> None:
    _, bob, answers = _busy_history(training, library, manager, session)
    _sql(
        database_path,
        "UPDATE answer SET trainee_id = ?, chain_seq = 999 WHERE attempt_id = ?",
        bob.id,
        answers[-1].attempt_id,
    )
    assert manager.verify_records() is not None

"""The local outbox: its file, sending it in order exactly once, back-off, and the recorder.

The sender and the recorder work the same against any database; here the answers go to a
SQLite file (the PostgreSQL tests in tests/pg/test_outbox.py stop a real server instead).
A "server" that cannot be reached is a small stand-in whose writes fail like one.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from app.core.judging import StepAnswer
from app.core.model import ContentLibrary, Decision
from app.core.records import Profile
from app.services.errors import DatabaseUnreachable, StorageError
from app.services.outbox import (
    OUTBOX_FILE_NAME,
    AnswerRecorder,
    Outbox,
    OutboxSender,
)
from app.services.training import (
    AttemptConflictError,
    JudgedAnswer,
    StoredAnswer,
    TrainingService,
    UnknownTraineeError,
)
from app.storage.database import Database

T0 = datetime(2025, 3, 4, 9, 30, 15, 123456, tzinfo=UTC)
DATABASE = "postgresql+psycopg://thinktwice_app@db.example.internal/thinktwice"


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class UnreachableServer:
    """Stands in for the training service while the server is down: every write fails."""

    def __init__(self, training: TrainingService) -> None:
        self._training = training
        self.tries = 0
        self.down = True

    def judge_answer(self, *args: Any, **kwargs: Any) -> JudgedAnswer:
        return self._training.judge_answer(*args, **kwargs)

    def store_answer(self, values: Any, trainee_uid: str | None = None) -> StoredAnswer:
        self.tries += 1
        if self.down:
            raise DatabaseUnreachable(
                f"Could not open the database {DATABASE} (connection refused).", location=DATABASE
            )
        return self._training.store_answer(values, trainee_uid)


@pytest.fixture
def ada(training: TrainingService) -> Profile:
    return training.create_profile("Ada Example")


@pytest.fixture
def outbox_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / OUTBOX_FILE_NAME


@pytest.fixture
def outbox(outbox_path: Path) -> Iterator[Outbox]:
    with Outbox.open(outbox_path) as opened:
        yield opened


def _judged(
    training: TrainingService,
    library: ContentLibrary,
    profile: Profile,
    number: int,
    *,
    seconds: float = 12.345678901,
) -> JudgedAnswer:
    scenario = library.scenarios["cleanup-disk"]
    decision = Decision.REJECT if number % 2 else Decision.ACCEPT
    return training.judge_answer(
        profile,
        scenario,
        scenario.steps[0],
        StepAnswer(decision, flags=frozenset({"irreversible"}), confidence=80, seconds=seconds),
        "play-1",
        attempt_id=f"attempt-{number:03d}",
        answered_at=T0 + timedelta(seconds=number),
    )


def _stored_attempts(database: Database) -> list[str]:
    path = database.sqlite_path
    assert path is not None
    connection = sqlite3.connect(path)
    try:
        return [row[0] for row in connection.execute("SELECT attempt_id FROM answer ORDER BY id")]
    finally:
        connection.close()


# The file


def test_queued_answers_survive_closing_and_come_back_in_order_unchanged(
    training: TrainingService, library: ContentLibrary, ada: Profile, outbox_path: Path
) -> None:
    judged = [_judged(training, library, ada, n) for n in (3, 1, 2)]
    with Outbox.open(outbox_path) as outbox:
        for answer in judged:
            outbox.put(answer, DATABASE, queued_at=T0)

    with Outbox.open(outbox_path) as reopened:
        pending = reopened.pending(DATABASE)
        assert reopened.problem is None
    assert [p.attempt_id for p in pending] == ["attempt-003", "attempt-001", "attempt-002"]
    assert [dict(p.values) for p in pending] == [dict(j.values) for j in judged]
    assert pending[0].values["answered_at"] == T0 + timedelta(seconds=3)
    assert pending[0].values["seconds"] == 12.345678901
    assert pending[0].trainee_uid == ada.uid
    assert pending[0].queued_at == T0


def test_the_outbox_file_is_written_through_a_wal_journal(
    training: TrainingService, library: ContentLibrary, ada: Profile, outbox: Outbox
) -> None:
    outbox.put(_judged(training, library, ada, 1), DATABASE)
    # Another program sees the entry at once: it was committed before put() returned.
    other = sqlite3.connect(outbox.path)
    try:
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert other.execute("SELECT count(*) FROM pending_answer").fetchone()[0] == 1
    finally:
        other.close()


def test_queuing_the_same_answer_twice_keeps_one_entry(
    training: TrainingService, library: ContentLibrary, ada: Profile, outbox: Outbox
) -> None:
    answer = _judged(training, library, ada, 1)
    outbox.put(answer, DATABASE)
    outbox.put(answer, DATABASE)
    assert outbox.count(DATABASE) == 1


def test_entries_are_only_for_the_database_they_were_queued_for(
    training: TrainingService, library: ContentLibrary, ada: Profile, outbox: Outbox
) -> None:
    outbox.put(_judged(training, library, ada, 1), DATABASE)
    outbox.put(_judged(training, library, ada, 2), "postgresql+psycopg://other@elsewhere/db")
    assert [p.attempt_id for p in outbox.pending(DATABASE)] == ["attempt-001"]
    assert outbox.count("postgresql+psycopg://other@elsewhere/db") == 1


def test_a_damaged_outbox_is_kept_aside_with_a_message_and_a_new_one_started(
    outbox_path: Path,
) -> None:
    outbox_path.parent.mkdir(parents=True)
    garbage = b"this is not an outbox at all " * 200
    outbox_path.write_bytes(garbage)

    with Outbox.open(outbox_path) as outbox:
        problem = outbox.problem
        assert outbox.count(DATABASE) == 0  # a new, working outbox

    (aside,) = outbox_path.parent.glob(f"{OUTBOX_FILE_NAME}.unusable-*")
    assert aside.read_bytes() == garbage, "the damaged file is kept as it was"
    assert problem is not None
    assert str(outbox_path) in problem
    assert str(aside) in problem
    assert "were not sent" in problem


def test_an_outbox_from_a_newer_version_is_kept_aside_unread(outbox_path: Path) -> None:
    outbox_path.parent.mkdir(parents=True)
    connection = sqlite3.connect(outbox_path)
    connection.execute("PRAGMA user_version=7")
    connection.close()

    with Outbox.open(outbox_path) as outbox:
        assert outbox.problem is not None
        assert "newer version" in outbox.problem
    assert list(outbox_path.parent.glob(f"{OUTBOX_FILE_NAME}.unusable-*"))


def test_a_file_with_another_table_of_that_name_is_kept_aside(outbox_path: Path) -> None:
    outbox_path.parent.mkdir(parents=True)
    connection = sqlite3.connect(outbox_path)
    connection.execute("CREATE TABLE pending_answer (id INTEGER PRIMARY KEY, what TEXT)")
    connection.commit()
    connection.close()

    with Outbox.open(outbox_path) as outbox:
        assert outbox.problem is not None
        assert outbox.count(DATABASE) == 0


def test_an_unreadable_entry_is_held_so_it_never_blocks_the_others(
    training: TrainingService, library: ContentLibrary, ada: Profile, outbox: Outbox
) -> None:
    outbox.put(_judged(training, library, ada, 1), DATABASE)
    outbox.put(_judged(training, library, ada, 2), DATABASE)
    broken = sqlite3.connect(outbox.path)
    broken.execute(
        "UPDATE pending_answer SET answer = '{not json' WHERE attempt_id = 'attempt-001'"
    )
    broken.commit()
    broken.close()

    result = OutboxSender(outbox, training, DATABASE).flush()

    assert (result.sent, result.held, result.waiting) == (1, 1, 0)
    (held,) = outbox.held(DATABASE)
    assert held.attempt_id == "attempt-001"
    assert held.held_reason is not None and "could not be read" in held.held_reason


# Storing exactly once


def test_storing_the_same_answer_again_is_a_harmless_no_op(
    training: TrainingService,
    library: ContentLibrary,
    ada: Profile,
    database: Database,
) -> None:
    judged = _judged(training, library, ada, 1)
    first = training.store_answer(judged.values, judged.trainee_uid)
    second = training.store_answer(judged.values, judged.trainee_uid)
    assert not first.already_stored
    assert second.already_stored
    assert second.record == first.record
    assert _stored_attempts(database) == ["attempt-001"]


def test_record_answer_keeps_a_given_attempt_id_and_time_and_a_retry_adds_nothing(
    training: TrainingService, library: ContentLibrary, ada: Profile, database: Database
) -> None:
    scenario = library.scenarios["cleanup-disk"]
    answer = StepAnswer(Decision.REJECT, seconds=3.5)
    first, _ = training.record_answer(
        ada, scenario, scenario.steps[0], answer, "play-1", attempt_id="fixed", answered_at=T0
    )
    again, _ = training.record_answer(
        ada, scenario, scenario.steps[0], answer, "play-1", attempt_id="fixed", answered_at=T0
    )
    assert first.attempt_id == again.attempt_id == "fixed"
    assert first.answered_at == T0
    assert _stored_attempts(database) == ["fixed"]


def test_a_different_answer_under_a_stored_attempt_id_is_refused(
    training: TrainingService, library: ContentLibrary, ada: Profile, database: Database
) -> None:
    judged = _judged(training, library, ada, 1)
    training.store_answer(judged.values, judged.trainee_uid)
    changed = _judged(training, library, ada, 1, seconds=99.0)
    with pytest.raises(AttemptConflictError):
        training.store_answer(changed.values, changed.trainee_uid)
    assert _stored_attempts(database) == ["attempt-001"]


def test_an_answer_is_never_stored_for_another_trainee(
    training: TrainingService, library: ContentLibrary, ada: Profile, database: Database
) -> None:
    judged = _judged(training, library, ada, 1)
    with pytest.raises(UnknownTraineeError):
        training.store_answer(judged.values, "someone-else")
    assert _stored_attempts(database) == []


# Sending


def test_flush_sends_in_order_and_empties_the_outbox_then_sends_nothing(
    training: TrainingService,
    library: ContentLibrary,
    ada: Profile,
    outbox: Outbox,
    database: Database,
) -> None:
    for number in (5, 2, 9):
        outbox.put(_judged(training, library, ada, number), DATABASE)
    sender = OutboxSender(outbox, training, DATABASE, clock=Clock())

    result = sender.flush()
    assert (result.sent, result.already_stored, result.waiting, result.error) == (3, 0, 0, None)
    assert result.tried_at == T0
    assert _stored_attempts(database) == ["attempt-005", "attempt-002", "attempt-009"]
    assert outbox.count(DATABASE) == 0

    again = sender.flush()
    assert (again.sent, again.tried_at) == (0, None)
    assert _stored_attempts(database) == ["attempt-005", "attempt-002", "attempt-009"]


def test_an_answer_stored_before_a_crash_is_taken_out_without_a_second_copy(
    training: TrainingService,
    library: ContentLibrary,
    ada: Profile,
    outbox: Outbox,
    database: Database,
) -> None:
    judged = _judged(training, library, ada, 1)
    outbox.put(judged, DATABASE)
    outbox.put(_judged(training, library, ada, 2), DATABASE)
    # The server committed the first one, but the outbox never heard.
    training.store_answer(judged.values, judged.trainee_uid)

    result = OutboxSender(outbox, training, DATABASE).flush()
    assert (result.sent, result.already_stored, result.waiting) == (1, 1, 0)
    assert _stored_attempts(database) == ["attempt-001", "attempt-002"]


def test_an_answer_refused_for_good_is_held_and_the_rest_are_sent(
    training: TrainingService,
    library: ContentLibrary,
    ada: Profile,
    outbox: Outbox,
    database: Database,
) -> None:
    stranger = _judged(training, library, ada, 1)
    outbox.put(
        JudgedAnswer(values=stranger.values, trainee_uid="not-here", outcome=stranger.outcome),
        DATABASE,
    )
    outbox.put(_judged(training, library, ada, 2), DATABASE)
    sender = OutboxSender(outbox, training, DATABASE)

    result = sender.flush()
    assert (result.sent, result.held, result.waiting) == (1, 1, 0)
    assert _stored_attempts(database) == ["attempt-002"]
    (held,) = outbox.held(DATABASE)
    assert held.attempt_id == "attempt-001"
    assert held.held_reason is not None and "not-here" in held.held_reason
    assert sender.state().held == 1
    assert sender.flush().held == 0, "a held answer is not tried again"


def test_sending_backs_off_after_failures_and_starts_over_after_a_success(
    training: TrainingService, library: ContentLibrary, ada: Profile, outbox: Outbox
) -> None:
    server = UnreachableServer(training)
    clock = Clock()
    sender = OutboxSender(
        outbox,
        server,  # type: ignore[arg-type]
        DATABASE,
        clock=clock,
        retry_delays=(2.0, 10.0),
    )
    outbox.put(_judged(training, library, ada, 1), DATABASE)
    outbox.put(_judged(training, library, ada, 2), DATABASE)
    assert sender.is_due(), "the first try is due at once (at start)"

    failed = sender.flush_if_due()
    assert failed is not None
    assert (failed.sent, failed.waiting) == (0, 2)
    assert failed.error is not None and "connection refused" in failed.error
    assert server.tries == 1, "sending stops at the first answer the server cannot take"
    assert sender.state().last_tried_at == T0
    assert sender.state().next_try_at == T0 + timedelta(seconds=2)

    clock.advance(1.9)
    assert sender.flush_if_due() is None
    clock.advance(0.1)
    assert sender.flush_if_due() is not None  # second failure: now 10 s
    clock.advance(9.9)
    assert sender.flush_if_due() is None
    clock.advance(0.1)
    assert sender.flush_if_due() is not None  # third failure: the last delay repeats
    assert sender.state().next_try_at == clock.now + timedelta(seconds=10)

    server.down = False
    clock.advance(10)
    sent = sender.flush_if_due()
    assert sent is not None
    assert (sent.sent, sent.waiting, sent.error) == (2, 0, None)
    assert sender.state().next_try_at is None
    assert sender.state().last_error is None


def test_nothing_is_due_while_nothing_waits(training: TrainingService, outbox: Outbox) -> None:
    sender = OutboxSender(outbox, training, DATABASE)
    assert not sender.is_due()
    assert sender.flush_if_due() is None
    assert sender.state().waiting == 0


def test_a_surprise_while_sending_is_reported_not_raised(
    training: TrainingService, library: ContentLibrary, ada: Profile, outbox: Outbox
) -> None:
    class Broken:
        def store_answer(self, values: Any, trainee_uid: str | None = None) -> StoredAnswer:
            raise RuntimeError("driver bug")

    outbox.put(_judged(training, library, ada, 1), DATABASE)
    result = OutboxSender(outbox, Broken(), DATABASE).flush()  # type: ignore[arg-type]
    assert result.error == "RuntimeError: driver bug"
    assert result.waiting == 1


def test_one_send_at_a_time_and_a_caller_that_must_not_wait_is_told_nothing_was_tried(
    training: TrainingService, library: ContentLibrary, ada: Profile, outbox: Outbox
) -> None:
    class SlowServer:
        """A server that takes its time: the first write waits until the test lets it go."""

        def __init__(self) -> None:
            self.entered = threading.Event()
            self.release = threading.Event()
            self.writes = 0

        def store_answer(self, values: Any, trainee_uid: str | None = None) -> StoredAnswer:
            self.writes += 1
            self.entered.set()
            assert self.release.wait(10)
            return training.store_answer(values, trainee_uid)

    outbox.put(_judged(training, library, ada, 1), DATABASE)
    server = SlowServer()
    sender = OutboxSender(outbox, server, DATABASE)  # type: ignore[arg-type]
    background = threading.Thread(target=sender.flush)
    background.start()
    try:
        assert server.entered.wait(5)
        assert sender.sending
        assert sender.flush_if_due(wait=False) is None, "busy: nothing tried, no waiting"
        assert server.writes == 1
    finally:
        server.release.set()
        background.join(10)
    assert not sender.sending
    assert outbox.count(DATABASE) == 0
    assert server.writes == 1, "the entry was sent once"


# The recorder


def test_with_a_sqlite_file_the_recorder_writes_straight_and_failures_stay_errors(
    training: TrainingService, library: ContentLibrary, ada: Profile, database: Database
) -> None:
    scenario = library.scenarios["cleanup-disk"]
    recorder = AnswerRecorder(training)
    recorded = recorder.record(
        ada, scenario, scenario.steps[0], StepAnswer(Decision.REJECT), "play-1"
    )
    assert not recorded.queued
    assert _stored_attempts(database) == [recorded.record.attempt_id]

    failing = AnswerRecorder(UnreachableServer(training))  # type: ignore[arg-type]
    with pytest.raises(DatabaseUnreachable):
        failing.record(ada, scenario, scenario.steps[0], StepAnswer(Decision.REJECT), "play-1")


def test_an_answer_the_server_cannot_take_is_judged_and_queued(
    training: TrainingService, library: ContentLibrary, ada: Profile, outbox: Outbox
) -> None:
    server = UnreachableServer(training)
    clock = Clock()
    sender = OutboxSender(outbox, server, DATABASE, clock=clock)  # type: ignore[arg-type]
    recorder = AnswerRecorder(server, sender, clock=clock)  # type: ignore[arg-type]
    scenario = library.scenarios["cleanup-disk"]

    recorded = recorder.record(
        ada, scenario, scenario.steps[0], StepAnswer(Decision.ACCEPT, seconds=4.0), "play-1"
    )

    assert recorded.queued
    assert recorded.waiting == 1
    assert not recorded.outcome.correct  # judged as usual: accepting this one was wrong
    assert recorded.record.answered_at == T0
    (pending,) = outbox.pending(DATABASE)
    assert pending.attempt_id == recorded.record.attempt_id
    assert sender.state().last_error is not None, "the failure starts the back-off"


def test_while_answers_wait_new_ones_queue_behind_them_without_trying_the_server(
    training: TrainingService,
    library: ContentLibrary,
    ada: Profile,
    outbox: Outbox,
    database: Database,
) -> None:
    server = UnreachableServer(training)
    clock = Clock()
    sender = OutboxSender(outbox, server, DATABASE, clock=clock)  # type: ignore[arg-type]
    recorder = AnswerRecorder(server, sender, clock=clock)  # type: ignore[arg-type]
    scenario = library.scenarios["cleanup-disk"]

    def answer() -> Any:
        clock.advance(0.5)
        return recorder.record(ada, scenario, scenario.steps[0], StepAnswer(Decision.REJECT), "p")

    first = answer()
    second = answer()  # within the back-off: straight to the outbox
    assert server.tries == 1
    assert second.queued and second.waiting == 2

    server.down = False
    third = answer()  # still within the back-off: queued behind the others, in order
    assert third.queued
    clock.advance(60)
    fourth = answer()  # a send is due: the backlog goes first, then this one directly
    assert not fourth.queued
    assert _stored_attempts(database) == [
        first.record.attempt_id,
        second.record.attempt_id,
        third.record.attempt_id,
        fourth.record.attempt_id,
    ]
    assert outbox.count(DATABASE) == 0


def test_when_the_outbox_cannot_be_written_either_the_trainee_is_told(
    training: TrainingService, library: ContentLibrary, ada: Profile, outbox: Outbox
) -> None:
    server = UnreachableServer(training)
    sender = OutboxSender(outbox, server, DATABASE)  # type: ignore[arg-type]
    recorder = AnswerRecorder(server, sender)  # type: ignore[arg-type]
    outbox.close()
    scenario = library.scenarios["cleanup-disk"]
    with pytest.raises(StorageError, match="could not be kept on this computer either"):
        recorder.record(ada, scenario, scenario.steps[0], StepAnswer(Decision.REJECT), "p")


def test_a_wrong_answer_shape_is_refused_before_anything_is_tried(
    training: TrainingService, library: ContentLibrary, ada: Profile, outbox: Outbox
) -> None:
    server = UnreachableServer(training)
    sender = OutboxSender(outbox, server, DATABASE)  # type: ignore[arg-type]
    recorder = AnswerRecorder(server, sender)  # type: ignore[arg-type]
    scenario = library.scenarios["cleanup-disk"]
    with pytest.raises(ValueError, match="no check"):
        recorder.record(
            ada,
            scenario,
            scenario.steps[0],
            StepAnswer(Decision.REJECT, checks_made=("made up",)),
            "p",
        )
    assert server.tries == 0
    assert outbox.count(DATABASE) == 0

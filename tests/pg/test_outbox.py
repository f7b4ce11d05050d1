"""The outbox against a real PostgreSQL server that is stopped and started again.

With the server stopped, answers are judged and kept in the outbox on this computer; after
the app closes and opens again and the server is back, one send delivers each of them
exactly once, in order, with the hash chain intact, and a crash between the server's commit
and the outbox's removal does not make a second copy. Managers on other machines see
answers as soon as they are committed. Passwords come from the keyring, never a file.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from app.core.judging import StepAnswer
from app.core.model import ContentLibrary, Decision, Pack, Track, TrackItem, TrackItemKind
from app.core.records import Profile
from app.services.bootstrap import AppConfig, open_context
from app.services.credentials import KeyringPasswords, split_password
from app.services.errors import DatabaseLoginFailed
from app.services.manager import ManagerService
from app.services.outbox import (
    OUTBOX_FILE_NAME,
    AnswerRecorder,
    Outbox,
    OutboxSender,
    RecordedAnswer,
    outbox_key,
)
from app.services.settings import Settings
from app.services.training import TrainingService
from app.storage.database import Database, open_database
from tests.fake_keyring import MemoryKeyring, memory_keyring
from tests.pg.workload import CLEANUP, CLEANUP_STEP, ROOT
from tests.postgres_server import PostgresServer

__all__ = ["memory_keyring"]

pytestmark = pytest.mark.postgres

PASSPHRASE = "a long manager passphrase"
ANSWERS = 30


def team_library() -> ContentLibrary:
    """The workload's scenario, in a one-scenario track (for completion records)."""
    track = Track(
        id="basics",
        title="Basics",
        summary="s",
        items=(TrackItem(TrackItemKind.SCENARIO, CLEANUP.id),),
        pack_id="core",
        path=ROOT / "lessons" / "tracks" / "basics.yaml",
    )
    return ContentLibrary(
        packs={"core": Pack(id="core", root=ROOT)},
        scenarios={CLEANUP.id: CLEANUP},
        tracks={track.id: track},
    )


@dataclass
class Machine:
    """One app instance's services, put together as ``open_context`` does."""

    database: Database
    training: TrainingService
    manager: ManagerService
    outbox: Outbox
    sender: OutboxSender
    recorder: AnswerRecorder

    def close(self) -> None:
        self.database.close()
        self.outbox.close()


def open_machine(url: str, data_dir: Path) -> Machine:
    database = open_database(url, backup_dir=None)
    library = team_library()
    settings = Settings.in_data_dir(data_dir)
    training = TrainingService(database, library, settings)
    outbox = Outbox.open(data_dir / OUTBOX_FILE_NAME)
    sender = OutboxSender(outbox, training, outbox_key(database.location))
    return Machine(
        database=database,
        training=training,
        manager=ManagerService(database, library, settings),
        outbox=outbox,
        sender=sender,
        recorder=AnswerRecorder(training, sender),
    )


@pytest.fixture
def restartable(postgres_server: PostgresServer) -> Iterator[PostgresServer]:
    if not postgres_server.can_restart:
        pytest.skip("the server in THINKTWICE_TEST_POSTGRES_URL is not ours to stop")
    try:
        yield postgres_server
    finally:
        if not postgres_server.cluster or not postgres_server.cluster.running:
            postgres_server.start()


@pytest.fixture
def machines(postgres_url: str, tmp_path: Path) -> Iterator[list[Machine]]:
    """Machines opened by a test (in its own data folder each); closed at the end."""
    opened: list[Machine] = []
    yield opened
    for machine in opened:
        machine.close()


def answer_step(recorder: AnswerRecorder, profile: Profile, number: int) -> RecordedAnswer:
    answer = StepAnswer(
        Decision.REJECT if number % 3 else Decision.ACCEPT,
        flags=frozenset({"irreversible"}) if number % 2 else None,
        confidence=50 + number,
        seconds=1.25 + number,
    )
    return recorder.record(profile, CLEANUP, CLEANUP_STEP, answer, f"play-{number // 2}")


def server_answers(url: str) -> list[tuple[str, str]]:
    """(attempt id, answered_at as text) of every answer, straight from the server."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT attempt_id, answered_at FROM answer ORDER BY id")
            ).all()
    finally:
        engine.dispose()
    return [(str(attempt), moment.isoformat()) for attempt, moment in rows]


def test_answers_recorded_while_the_server_is_down_arrive_once_after_a_restart(
    restartable: PostgresServer, postgres_url: str, tmp_path: Path, machines: list[Machine]
) -> None:
    first = open_machine(postgres_url, tmp_path)
    machines.append(first)
    ada = first.training.create_profile("Ada Example")
    bob = first.training.create_profile("Bob Example")

    restartable.stop()
    recorded = [answer_step(first.recorder, (ada, bob)[n % 2], n) for n in range(ANSWERS)]
    assert all(r.queued for r in recorded), "the UI is told each answer waits on this computer"
    assert recorded[-1].waiting == ANSWERS
    assert [r.outcome.correct for r in recorded[:3]] == [False, True, True], "judged as usual"

    # The app closes while the server is still away; the outbox keeps everything.
    first.close()
    machines.remove(first)
    with Outbox.open(tmp_path / OUTBOX_FILE_NAME) as reopened:
        assert reopened.count(first.sender.database) == ANSWERS

    restartable.start()
    second = open_machine(postgres_url, tmp_path)
    machines.append(second)
    result = second.sender.flush()

    assert (result.sent, result.already_stored, result.held, result.waiting) == (ANSWERS, 0, 0, 0)
    assert result.error is None
    stored = server_answers(postgres_url)
    assert len(stored) == ANSWERS
    assert [attempt for attempt, _ in stored] == [r.record.attempt_id for r in recorded]
    assert len({attempt for attempt, _ in stored}) == ANSWERS
    assert [moment for _, moment in stored] == [
        r.record.answered_at.isoformat() for r in recorded
    ], "each answer keeps the time it was given, not the time it was sent"
    assert second.manager.verify_records() is None

    again = second.sender.flush()
    assert (again.sent, again.already_stored, again.tried_at) == (0, 0, None)
    assert len(server_answers(postgres_url)) == ANSWERS


class Crash(BaseException):
    """The process dies: nothing after this point runs."""


def test_a_crash_between_the_servers_commit_and_the_outbox_removal_makes_no_copy(
    restartable: PostgresServer,
    postgres_url: str,
    tmp_path: Path,
    machines: list[Machine],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = open_machine(postgres_url, tmp_path)
    machines.append(first)
    ada = first.training.create_profile("Ada Example")
    restartable.stop()
    recorded = [answer_step(first.recorder, ada, n) for n in range(5)]
    restartable.start()

    removals: list[str] = []

    def crash_on_first_removal(self: Outbox, attempt_id: str) -> None:
        removals.append(attempt_id)
        raise Crash

    monkeypatch.setattr(Outbox, "remove", crash_on_first_removal)
    with pytest.raises(Crash):
        first.sender.flush()
    monkeypatch.undo()
    first.close()
    machines.remove(first)
    assert removals == [recorded[0].record.attempt_id]
    assert len(server_answers(postgres_url)) == 1, "the server had committed the first"

    second = open_machine(postgres_url, tmp_path)
    machines.append(second)
    result = second.sender.flush()

    assert (result.sent, result.already_stored, result.waiting) == (4, 1, 0)
    stored = [attempt for attempt, _ in server_answers(postgres_url)]
    assert stored == [r.record.attempt_id for r in recorded]
    assert second.manager.verify_records() is None


def test_retrying_an_answer_the_server_committed_stores_it_once(
    postgres_url: str, tmp_path: Path, machines: list[Machine]
) -> None:
    machine = open_machine(postgres_url, tmp_path)
    machines.append(machine)
    ada = machine.training.create_profile("Ada Example")
    judged = machine.training.judge_answer(
        ada, CLEANUP, CLEANUP_STEP, StepAnswer(Decision.REJECT, seconds=2.5), "play"
    )
    first = machine.training.store_answer(judged.values, judged.trainee_uid)
    second = machine.training.store_answer(judged.values, judged.trainee_uid)
    assert (first.already_stored, second.already_stored) == (False, True)
    assert [attempt for attempt, _ in server_answers(postgres_url)] == [judged.attempt_id]
    assert machine.manager.verify_records() is None


def test_a_manager_on_another_machine_sees_an_answer_as_soon_as_it_is_committed(
    postgres_url: str, tmp_path: Path, machines: list[Machine]
) -> None:
    trainee_machine = open_machine(postgres_url, tmp_path / "trainee")
    manager_machine = open_machine(postgres_url, tmp_path / "manager")
    machines.extend([trainee_machine, manager_machine])
    manager_machine.manager.set_passphrase(PASSPHRASE)
    session = manager_machine.manager.unlock(PASSPHRASE)
    ada = trainee_machine.training.create_profile("Ada Example")

    (before,) = manager_machine.manager.completion_records(session)
    assert (before.trainee_name, before.items_done, before.last_activity) == (
        "Ada Example",
        0,
        None,
    )

    recorded = answer_step(trainee_machine.recorder, ada, 1)
    assert not recorded.queued

    (after,) = manager_machine.manager.completion_records(session)
    assert after.items_done == 1
    assert after.last_activity == recorded.record.answered_at

    bob = trainee_machine.training.create_profile("Bob Example")
    answer_step(trainee_machine.recorder, bob, 2)
    names = [r.trainee_name for r in manager_machine.manager.completion_records(session)]
    assert sorted(names) == ["Ada Example", "Bob Example"]


# Passwords from the keyring


@pytest.fixture
def libpq_finds_no_password(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "no-such-pgpass"))


@pytest.mark.usefixtures("libpq_finds_no_password")
def test_without_a_password_the_login_is_refused_with_a_clear_fault(postgres_url: str) -> None:
    bare = split_password(postgres_url).url
    with pytest.raises(DatabaseLoginFailed) as raised:
        open_database(bare, backup_dir=None)
    assert "refused the login" in str(raised.value)
    with pytest.raises(DatabaseLoginFailed):
        open_database(bare, backup_dir=None, password="not the password")


@pytest.mark.usefixtures("libpq_finds_no_password")
def test_the_app_opens_the_team_database_with_the_keyrings_password_and_writes_it_nowhere(
    postgres_url: str,
    tmp_path: Path,
    memory_keyring: MemoryKeyring,
    caplog: pytest.LogCaptureFixture,
) -> None:
    pytest.importorskip("app.content.loader")
    caplog.set_level(logging.DEBUG)
    address = split_password(postgres_url)
    assert address.password is not None
    data_dir = tmp_path / "data"
    settings = Settings.in_data_dir(data_dir)
    settings.database_url = address.url
    settings.save()
    KeyringPasswords().set(address.url, address.password)

    with open_context(AppConfig(data_dir=data_dir)) as context:
        assert context.database.dialect_name == "postgresql"
        assert address.password not in context.database.location
        assert ":***@" in context.database.location
        sender = context.outbox_sender
        assert sender is not None
        assert sender.database == address.url
        profile = context.training.create_profile("Ada Example")
        context.training.select_profile(profile)  # saves the settings again

    assert json.loads((data_dir / "settings.json").read_text())["database_url"] == address.url
    assert (data_dir / OUTBOX_FILE_NAME).is_file()
    secret = address.password.encode()
    holding = [p for p in data_dir.rglob("*") if p.is_file() and secret in p.read_bytes()]
    assert holding == []
    assert address.password not in caplog.text

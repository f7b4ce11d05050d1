"""The manager passphrase: rules, salted hash only, persisted back-off, sessions required."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

import pytest

from app.core.model import ContentLibrary
from app.services import manager as manager_module
from app.services.manager import (
    ManagerService,
    ManagerSession,
    NoPassphrase,
    NotUnlocked,
    PassphraseAlreadySet,
    PassphraseRuleError,
    WrongPassphrase,
)
from app.services.settings import Settings
from app.storage.database import Database
from tests.unit.services.records_support import PASSPHRASE, Clock, build_library


@pytest.fixture
def library() -> ContentLibrary:
    return build_library()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def manager(
    database: Database, library: ContentLibrary, settings: Settings, clock: Clock
) -> ManagerService:
    return ManagerService(database, library, settings, clock=clock)


def _another(
    database: Database, library: ContentLibrary, settings: Settings, clock: Clock
) -> ManagerService:
    """A second service on the same database: as after a restart of the app."""
    return ManagerService(database, library, settings, clock=clock)


@pytest.mark.parametrize(
    ("candidate", "message"),
    [("short", "at least 10"), (" padded passphrase ", "spaces"), ("", "at least 10")],
)
def test_a_passphrase_must_follow_the_rules(
    manager: ManagerService, candidate: str, message: str
) -> None:
    with pytest.raises(PassphraseRuleError, match=message):
        manager.set_passphrase(candidate)
    assert not manager.has_passphrase()


def test_unlocking_before_a_passphrase_is_set_says_so(manager: ManagerService) -> None:
    with pytest.raises(NoPassphrase):
        manager.unlock(PASSPHRASE)


def test_the_first_passphrase_can_be_set_once(manager: ManagerService) -> None:
    manager.set_passphrase(PASSPHRASE)
    assert manager.has_passphrase()
    with pytest.raises(PassphraseAlreadySet):
        manager.set_passphrase("another long passphrase")
    assert manager.unlock(PASSPHRASE).actor == "manager"


def test_only_a_salted_scrypt_hash_is_stored(
    manager: ManagerService, database: Database, settings: Settings, database_path: Path
) -> None:
    manager.set_passphrase(PASSPHRASE)
    with database.engine.connect() as connection:
        (stored,) = connection.exec_driver_sql(
            "SELECT passphrase_hash FROM manager_credential"
        ).one()
    assert stored.startswith("scrypt$")
    assert PASSPHRASE not in stored
    settings.save()
    folder = database_path.parent
    for path in folder.iterdir():  # the database, its WAL and the settings
        assert PASSPHRASE.encode() not in path.read_bytes(), path.name


def test_changing_needs_the_current_passphrase(manager: ManagerService) -> None:
    manager.set_passphrase(PASSPHRASE)
    with pytest.raises(WrongPassphrase):
        manager.change_passphrase("not the passphrase", "a brand new passphrase")
    with pytest.raises(PassphraseRuleError):
        manager.change_passphrase(PASSPHRASE, "short")


def test_changing_replaces_the_passphrase(manager: ManagerService, clock: Clock) -> None:
    manager.set_passphrase(PASSPHRASE)
    manager.change_passphrase(PASSPHRASE, "a brand new passphrase")
    with pytest.raises(WrongPassphrase):
        manager.unlock(PASSPHRASE)
    clock.advance(60)
    assert manager.unlock("a brand new passphrase")


def test_wrong_tries_slow_down_and_the_wait_survives_a_restart(
    manager: ManagerService,
    database: Database,
    library: ContentLibrary,
    settings: Settings,
    clock: Clock,
) -> None:
    manager.set_passphrase(PASSPHRASE)
    with pytest.raises(WrongPassphrase) as first:
        manager.unlock("wrong guess number one")
    assert first.value.wait_seconds == 0  # one slip costs nothing
    with pytest.raises(WrongPassphrase) as second:
        manager.unlock("wrong guess number two")
    assert second.value.wait_seconds == 1.0
    assert second.value.checked

    restarted = _another(database, library, settings, clock)
    assert restarted.wait_seconds() == 1.0
    with pytest.raises(WrongPassphrase) as during:
        restarted.unlock(PASSPHRASE)  # even the right one is refused during the wait
    assert not during.value.checked
    assert during.value.wait_seconds == 1.0

    clock.advance(0.5)
    assert restarted.wait_seconds() == 0.5
    clock.advance(0.5)
    with pytest.raises(WrongPassphrase) as third:
        restarted.unlock("wrong guess number three")
    assert third.value.wait_seconds == 2.0  # doubling: 1 s, 2 s, 4 s, ...
    clock.advance(2)
    assert restarted.unlock(PASSPHRASE)
    assert restarted.wait_seconds() == 0.0
    with pytest.raises(WrongPassphrase) as after_success:
        restarted.unlock("wrong guess number four")
    assert after_success.value.wait_seconds == 0  # a success starts the count afresh


def test_a_try_during_the_wait_is_not_checked_at_all(
    manager: ManagerService, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    manager.set_passphrase(PASSPHRASE)
    for guess in ("wrong guess number one", "wrong guess number two"):
        with pytest.raises(WrongPassphrase):
            manager.unlock(guess)

    def must_not_run(_passphrase: str, _stored: str) -> bool:
        raise AssertionError("checked during the wait")

    monkeypatch.setattr(manager_module, "verify_passphrase", must_not_run)
    with pytest.raises(WrongPassphrase):
        manager.unlock(PASSPHRASE)


def test_a_clock_set_back_does_not_lengthen_the_wait(manager: ManagerService, clock: Clock) -> None:
    manager.set_passphrase(PASSPHRASE)
    for guess in ("wrong guess number one", "wrong guess number two", "wrong guess 3"):
        with pytest.raises(WrongPassphrase):
            manager.unlock(guess)
        clock.advance(10)
    clock.now = datetime(2020, 1, 1, tzinfo=clock.now.tzinfo)
    assert manager.wait_seconds() == 2.0


def test_the_passphrase_never_reaches_the_logs(
    manager: ManagerService, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    manager.set_passphrase(PASSPHRASE)
    for guess in (PASSPHRASE + "x", PASSPHRASE[:-1]):
        with pytest.raises(WrongPassphrase):
            manager.unlock(guess)
    clock.advance(60)
    session = manager.unlock(PASSPHRASE, "Lead")
    manager.change_passphrase(PASSPHRASE, PASSPHRASE + " two")
    assert session.actor == "Lead"
    assert "wrong manager passphrase" in caplog.text  # the tries are logged ...
    assert PASSPHRASE[:-1] not in caplog.text  # ... without what was typed
    for record in caplog.records:
        assert PASSPHRASE[:-1] not in str(record.args)


def test_manager_methods_need_a_live_session(
    manager: ManagerService,
    database: Database,
    library: ContentLibrary,
    settings: Settings,
    clock: Clock,
) -> None:
    manager.set_passphrase(PASSPHRASE)
    forged = ManagerSession(actor="me", unlocked_at=clock(), _key=object())
    with pytest.raises(NotUnlocked):
        manager.cohorts(forged)
    with pytest.raises(NotUnlocked):
        manager.completion_records(forged)
    session = manager.unlock(PASSPHRASE)
    assert manager.cohorts(session) == []
    other = _another(database, library, settings, clock)
    with pytest.raises(NotUnlocked):
        other.profiles(session)  # a session belongs to the service that unlocked
    manager.lock(session)
    with pytest.raises(NotUnlocked):
        manager.cohorts(session)


@pytest.mark.parametrize("label", ["", "  ", "two\nlines", "x" * 81])
def test_the_manager_label_is_checked(manager: ManagerService, label: str) -> None:
    manager.set_passphrase(PASSPHRASE)
    with pytest.raises(ValueError, match="manager label"):
        manager.unlock(PASSPHRASE, label)

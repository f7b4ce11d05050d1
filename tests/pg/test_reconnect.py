"""The app's open database survives a server stop and start.

The ``Database`` object (and its pooled connections) stays open across the restart; the
pool checks each connection before use, so the first call after the restart works, and a
call while the server is down gets a clear fault instead of a driver traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.records import Profile
from app.services.errors import DatabaseUnreachable
from app.services.settings import Settings
from app.services.training import TrainingService
from app.storage.database import Database, open_database
from tests.pg.workload import record_one, sample_library
from tests.postgres_server import PostgresServer

pytestmark = pytest.mark.postgres


@pytest.fixture
def restartable(postgres_server: PostgresServer) -> PostgresServer:
    if not postgres_server.can_restart:
        pytest.skip("the server in THINKTWICE_TEST_POSTGRES_URL is not ours to stop")
    return postgres_server


@pytest.fixture
def database(restartable: PostgresServer, postgres_url: str) -> Iterator[Database]:
    opened = open_database(postgres_url, backup_dir=None)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def training(database: Database, tmp_path: Path) -> TrainingService:
    return TrainingService(database, sample_library(), Settings.in_data_dir(tmp_path))


@pytest.fixture
def profile(training: TrainingService) -> Profile:
    return training.create_profile("Ada Example")


def _restart(server: PostgresServer) -> None:
    server.stop()
    server.start()


def test_the_first_answer_after_a_restart_is_saved(
    restartable: PostgresServer, training: TrainingService, profile: Profile
) -> None:
    before = record_one(training, profile)  # leaves a pooled connection to the old server

    _restart(restartable)
    after = record_one(training, profile)

    stored = [record.attempt_id for record in training.answers_for(profile)]
    assert stored == [before, after]


def test_reading_after_a_restart_works(
    restartable: PostgresServer, training: TrainingService, profile: Profile
) -> None:
    attempt = record_one(training, profile)
    assert [p.display_name for p in training.list_profiles()] == ["Ada Example"]

    _restart(restartable)

    assert [p.display_name for p in training.list_profiles()] == ["Ada Example"]
    assert [record.attempt_id for record in training.answers_for(profile)] == [attempt]


def test_while_the_server_is_down_a_clear_fault_then_it_works_again(
    restartable: PostgresServer,
    database: Database,
    training: TrainingService,
    profile: Profile,
) -> None:
    first = record_one(training, profile)

    restartable.stop()
    try:
        with pytest.raises(DatabaseUnreachable) as raised:
            record_one(training, profile, sequence=1)
    finally:
        restartable.start()
    assert database.location in str(raised.value)
    assert "running" in str(raised.value)  # the advice: check that the server is running

    second = record_one(training, profile, sequence=2)
    assert [record.attempt_id for record in training.answers_for(profile)] == [first, second]


def _connection_parameters(database: Database) -> dict[str, str]:
    with database.engine.connect() as connection:
        driver = connection.connection.driver_connection
        assert driver is not None
        return dict(driver.info.get_parameters())


def test_connections_notice_a_silently_vanished_network_in_seconds(database: Database) -> None:
    parameters = _connection_parameters(database)

    assert parameters["keepalives"] == "1"
    assert parameters["tcp_user_timeout"] == "15000"
    assert parameters["connect_timeout"] == "10"


def test_the_address_may_set_its_own_timeouts(postgres_url: str) -> None:
    opened = open_database(f"{postgres_url}?tcp_user_timeout=4000", backup_dir=None)
    try:
        parameters = _connection_parameters(opened)
    finally:
        opened.close()

    assert parameters["tcp_user_timeout"] == "4000"
    assert parameters["keepalives"] == "1"

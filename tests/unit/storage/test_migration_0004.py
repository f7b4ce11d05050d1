"""Revision 0004 (cached track standings) up and down, and the storage helpers for it.

Runs on SQLite and on the PostgreSQL test server, like the other storage tests.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app.core.completion import CompletionStatus, TrackOutcome
from app.storage import migrator
from app.storage.database import open_database
from app.storage.ledger import append, chain_links, verify_links
from app.storage.standings import (
    CachedStanding,
    cached_standings,
    lessons_marks,
    save_standings,
    stored_time,
    trainee_states,
    try_save_standings,
    utc_time,
)
from app.storage.tables import AnswerRow, LessonReadRow, TraineeRow
from tests.unit.storage.conftest import make_answer

WHEN = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


def _fill_at_0003(url: str) -> str:
    """A trainee with a chained answer and a lesson read, written at revision 0003."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            migrator.upgrade(connection, "0003")
            with Session(bind=connection) as session:
                trainee = TraineeRow(uid="u" * 32, display_name="Ada Example")
                session.add(trainee)
                session.flush()
                assert trainee.id is not None
                append(session, trainee, make_answer(trainee.id, "a" * 32))
                session.add(
                    LessonReadRow(trainee_id=trainee.id, lesson_id="five-questions", read_at=WHEN)
                )
                session.flush()
                head = trainee.chain_head
    finally:
        engine.dispose()
    return head


def _standing(trainee_id: int, track_id: str = "new-hire", **changes: object) -> CachedStanding:
    outcome = TrackOutcome(
        track_id=track_id,
        status=CompletionStatus.IN_PROGRESS,
        items_done=1,
        items_total=3,
        score=0.8125,
        over_trust_rate=None,
        under_trust_rate=0.5,
        first_started=WHEN,
        completed_at=None,
        seconds_spent=12.5,
        content_hash="c" * 64,
    )
    values: dict[str, object] = {
        "trainee_id": trainee_id,
        "history_mark": "m" * 64,
        "rules_key": "r" * 64,
        "outcome": outcome,
        "last_activity": WHEN + timedelta(minutes=5),
    }
    values.update(changes)
    return CachedStanding(**values)  # type: ignore[arg-type]


def test_upgrade_from_0003_adds_an_empty_standings_table_and_keeps_the_records(
    database_url: str, tmp_path: Path
) -> None:
    head = _fill_at_0003(database_url)

    with open_database(database_url, backup_dir=tmp_path / "backups") as database:
        assert database.current_revision() == migrator.HEAD_REVISION == "0004"
        with database.engine.connect() as connection:
            found = inspect(connection)
            assert "track_standing" in found.get_table_names()
            key = found.get_pk_constraint("track_standing")
            assert key["name"] == "pk_track_standing"
            assert key["constrained_columns"] == ["trainee_id", "track_id"]
            (foreign,) = found.get_foreign_keys("track_standing")
            assert foreign["name"] == "fk_track_standing_trainee_id_trainee"
            assert foreign["referred_table"] == "trainee"
            count = connection.execute(text("SELECT count(*) FROM track_standing")).scalar_one()
            assert count == 0
        with database.read_session() as session:
            trainee = session.exec(select(TraineeRow)).one()
            assert (trainee.chain_head, trainee.chain_length) == (head, 1)
            links = chain_links(session, trainee)
            assert verify_links(links, trainee.chain_head, trainee.chain_length, "u") is None
            assert session.exec(select(AnswerRow)).one().attempt_id == "a" * 32


def test_downgrade_to_0003_drops_only_the_cache(database_url: str, tmp_path: Path) -> None:
    _fill_at_0003(database_url)
    with open_database(database_url, backup_dir=tmp_path / "backups") as database:
        with database.write_session() as session:
            assert save_standings(session.connection(), [_standing(1)]) == 1
        engine = database.engine
        with engine.begin() as connection:
            command.downgrade(migrator.alembic_config(connection), "0003")
        with engine.connect() as connection:
            assert "track_standing" not in inspect(connection).get_table_names()
            answers = connection.execute(text("SELECT count(*) FROM answer")).scalar_one()
            lessons = connection.execute(text("SELECT count(*) FROM lesson_read")).scalar_one()
            assert (answers, lessons) == (1, 1)
        assert database.current_revision() == "0003"

    with open_database(database_url, backup_dir=tmp_path / "backups") as database:
        assert database.current_revision() == migrator.HEAD_REVISION
        with database.read_session() as session:
            assert cached_standings(session, None, ["new-hire"]) == {}


def test_standings_round_trip_and_are_replaced_not_added(database_url: str, tmp_path: Path) -> None:
    _fill_at_0003(database_url)
    with open_database(database_url, backup_dir=tmp_path / "backups") as database:
        first = _standing(1)
        with database.write_session() as session:
            save_standings(session.connection(), [first, _standing(1, "baseline")])
        with database.read_session() as session:
            found = cached_standings(session, [1], ["new-hire", "baseline", "other"])
        assert found[(1, "new-hire")] == first
        assert set(found) == {(1, "new-hire"), (1, "baseline")}

        later = _standing(1, history_mark="n" * 64, last_activity=None)
        assert try_save_standings(database.engine, [later])
        with database.read_session() as session:
            assert cached_standings(session, None, ["new-hire"]) == {(1, "new-hire"): later}
            states = trainee_states(session, [1, 42])
            marks = lessons_marks(session)
        assert list(states) == [1]
        assert (states[1].display_name, states[1].chain_length) == ("Ada Example", 1)
        assert marks[1].count == 1
        assert marks[1].newest_read_at is not None

        with pytest.raises(IntegrityError), database.engine.begin() as connection:
            save_standings(connection, [_standing(999)])  # no such trainee


def test_stored_times_read_as_the_column_type_reads_them(database_url: str, tmp_path: Path) -> None:
    _fill_at_0003(database_url)
    with open_database(database_url, backup_dir=tmp_path / "backups") as database:
        answer = AnswerRow.__table__.c.answered_at  # type: ignore[attr-defined]
        with database.read_session() as session:
            raw, typed = session.execute(select(stored_time(answer), answer)).one()
        assert utc_time(raw) == typed
        assert utc_time(raw).tzinfo is not None


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ("2026-11-24 10:15:03.120000", datetime(2026, 11, 24, 10, 15, 3, 120000, tzinfo=UTC)),
        ("2026-11-24 10:15:03", datetime(2026, 11, 24, 10, 15, 3, tzinfo=UTC)),
        ("2026-11-24 12:15:03+02:00", datetime(2026, 11, 24, 10, 15, 3, tzinfo=UTC)),
        ("2026-11-24T10:15:03Z", datetime(2026, 11, 24, 10, 15, 3, tzinfo=UTC)),
        (
            datetime(2026, 11, 24, 11, 15, 3, tzinfo=timezone(timedelta(hours=1))),
            datetime(2026, 11, 24, 10, 15, 3, tzinfo=UTC),
        ),
        (datetime(2026, 11, 24, 10, 15, 3), datetime(2026, 11, 24, 10, 15, 3, tzinfo=UTC)),
    ],
)
def test_utc_time_reads_every_stored_form(stored: object, expected: datetime) -> None:
    found = utc_time(stored)
    assert found == expected
    assert found.utcoffset() == timedelta(0)


def test_a_save_the_database_refuses_is_reported_not_raised(tmp_path: Path) -> None:
    path = tmp_path / "data" / "thinktwice.db"
    _fill_at_0003(f"sqlite:///{path}")
    open_database(f"sqlite:///{path}", backup_dir=None).close()
    with open_database(f"sqlite:///{path}", backup_dir=None, read_only=True) as read_only:
        assert not try_save_standings(read_only.engine, [_standing(1)])
        with read_only.read_session() as session:
            assert cached_standings(session, None, ["new-hire"]) == {}

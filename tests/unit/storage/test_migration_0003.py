"""Revision 0003 (room sessions) on a database filled at 0002: data and chains unchanged.

Runs on SQLite and on the PostgreSQL test server, like the other storage tests.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app.storage import migrator
from app.storage.database import open_database
from app.storage.ledger import append, chain_links, verify_links
from app.storage.tables import AnswerRow, EventRow, TraineeRow
from tests.unit.storage.conftest import make_answer

ROOM_TABLES = {"room_session", "room_attendee", "room_step", "room_vote", "room_attendance"}
WHEN = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


def _fill_at_0002(url: str) -> dict[str, str]:
    """A trainee with a chained answer and a chained waiver, written at revision 0002."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            migrator.upgrade(connection, "0002")
            with Session(bind=connection) as session:
                trainee = TraineeRow(uid="u" * 32, display_name="Ada Example")
                session.add(trainee)
                session.flush()
                assert trainee.id is not None
                answer = make_answer(trainee.id, "a" * 32)
                append(session, trainee, answer)
                event = EventRow(
                    event_id="e" * 32,
                    trainee_id=trainee.id,
                    kind="waive",
                    track_id="new-hire",
                    reason="Trained elsewhere",
                    actor="Lead",
                    created_at=WHEN,
                    details={},
                    chain_seq=0,
                    previous_hash="",
                    record_hash="",
                )
                append(session, trainee, event)
                session.flush()
                hashes = {
                    "answer": answer.record_hash,
                    "event": event.record_hash,
                    "head": trainee.chain_head,
                }
    finally:
        engine.dispose()
    return hashes


def test_upgrade_from_0002_keeps_answers_events_and_their_chain(
    database_url: str, tmp_path: Path
) -> None:
    before = _fill_at_0002(database_url)

    with open_database(database_url, backup_dir=tmp_path / "backups") as database:
        assert database.current_revision() == migrator.HEAD_REVISION
        with database.engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) >= ROOM_TABLES
        with database.read_session() as session:
            trainee = session.exec(select(TraineeRow)).one()
            answer = session.exec(select(AnswerRow)).one()
            event = session.exec(select(EventRow)).one()
            assert (trainee.display_name, trainee.chain_length) == ("Ada Example", 2)
            assert trainee.chain_head == before["head"]
            assert (answer.attempt_id, answer.seconds, answer.record_hash) == (
                "a" * 32,
                4.5,
                before["answer"],
            )
            assert (event.kind, event.reason, event.record_hash) == (
                "waive",
                "Trained elsewhere",
                before["event"],
            )
            links = chain_links(session, trainee)
            assert verify_links(links, trainee.chain_head, trainee.chain_length, "u") is None
            for table in ROOM_TABLES:
                assert session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == 0


def test_after_0003_the_event_table_takes_attended_and_still_refuses_unknown_kinds(
    database_url: str, tmp_path: Path
) -> None:
    _fill_at_0002(database_url)
    insert = (
        "INSERT INTO event (event_id, trainee_id, kind, track_id, reason, actor, created_at, "
        "details, chain_seq, previous_hash, record_hash) VALUES "
        "(:event_id, 1, :kind, NULL, 'r', 'Facilitator', :when, '{}', :seq, :h, :h)"
    )
    with open_database(database_url, backup_dir=tmp_path / "backups") as database:
        with database.engine.begin() as connection:
            connection.execute(
                text(insert),
                {"event_id": "f" * 32, "kind": "attended", "when": WHEN, "seq": 3, "h": "1" * 64},
            )
        with pytest.raises(IntegrityError), database.engine.begin() as connection:
            connection.execute(
                text(insert),
                {"event_id": "g" * 32, "kind": "bogus", "when": WHEN, "seq": 4, "h": "2" * 64},
            )
        with database.engine.connect() as connection:
            kinds = connection.execute(text("SELECT kind FROM event ORDER BY id")).scalars().all()
    assert kinds == ["waive", "attended"]

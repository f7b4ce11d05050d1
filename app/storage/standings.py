"""Cached track standings as stored, and what tells whether they still count.

``track_standing`` (see :class:`~app.storage.tables.TrackStandingRow`) is a cache derived
from the records; ``app.services.standings`` decides when a row counts and recomputes it
otherwise. This module only reads and writes: the trainee rows with their chain heads,
the lessons read in aggregate, the stored rows, and an upsert. Every query is a plain
column query over a whole set of trainees (no ORM objects), in chunks small enough for
any database's limit on bound parameters.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, Text, func, select, type_coerce
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import SingletonThreadPool, StaticPool
from sqlmodel import Session, SQLModel

from app.core.completion import CompletionStatus, TrackOutcome
from app.storage.tables import LessonReadRow, TrackStandingRow, TraineeRow, utc_now

_log = logging.getLogger(__name__)

# Ids per IN (...) list: far below SQLite's and PostgreSQL's limits on bound parameters.
ID_CHUNK = 500
# How long a best-effort save waits for another writer before it gives up, in seconds.
SAVE_LOCK_WAIT = 0.5


@dataclass(frozen=True, slots=True)
class TraineeState:
    """A trainee row as the completion table needs it, with the head of its chain."""

    trainee_id: int
    uid: str
    display_name: str
    email_or_id: str | None
    team: str | None
    archived_at: datetime | None
    chain_head: str
    chain_length: int


@dataclass(frozen=True, slots=True)
class LessonsMark:
    """The lessons a trainee read, in aggregate: how many, the newest row and time.

    Lesson reads are not in the hash chain, so this is what notices a new one. The
    values are compared, never interpreted: the time is kept as the database gives it.
    """

    count: int
    newest_id: int | None
    newest_read_at: str | None


@dataclass(frozen=True, slots=True)
class CachedStanding:
    """One stored standing: the values, and the marks they were computed under."""

    trainee_id: int
    history_mark: str
    rules_key: str
    outcome: TrackOutcome
    last_activity: datetime | None


def _table(model: type[SQLModel]) -> Table:
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table


def _chunks(ids: Sequence[int] | None) -> Iterator[list[int] | None]:
    """``ids`` in chunks of :data:`ID_CHUNK`; a single ``None`` means every trainee."""
    if ids is None:
        yield None
        return
    for start in range(0, len(ids), ID_CHUNK):
        yield list(ids[start : start + ID_CHUNK])


def stored_time(column: Any) -> Any:
    """``column`` (a ``UTCDateTime``) read without its type's processing, for speed.

    Use :func:`utc_time` on the value: together they give what the column's type gives.
    """
    return type_coerce(column, Text)


def utc_time(value: Any) -> datetime:
    """A value read with :func:`stored_time`, as ``UTCDateTime`` would have given it.

    SQLite gives the stored text, parsed with ``fromisoformat`` as SQLAlchemy parses it
    (the usual text, without an offset, in one step); PostgreSQL's driver gives a time.
    Either way the result is in UTC, and a time without an offset was stored in UTC.
    """
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value + "+00:00")
        except ValueError:
            value = datetime.fromisoformat(value)  # a text that has its own offset
    if not isinstance(value, datetime):
        raise TypeError(f"not a stored time: {value!r}")
    if value.utcoffset() is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _utc_or_none(value: Any) -> datetime | None:
    return None if value is None else utc_time(value)


def trainee_states(
    session: Session, trainee_ids: Sequence[int] | None = None
) -> dict[int, TraineeState]:
    """The trainees with these ids (all when ``None``) that exist, in id order."""
    trainee = _table(TraineeRow)
    found: dict[int, TraineeState] = {}
    for chunk in _chunks(sorted(set(trainee_ids)) if trainee_ids is not None else None):
        query = select(
            trainee.c.id,
            trainee.c.uid,
            trainee.c.display_name,
            trainee.c.email_or_id,
            trainee.c.team,
            stored_time(trainee.c.archived_at),
            trainee.c.chain_head,
            trainee.c.chain_length,
        ).order_by(trainee.c.id)
        if chunk is not None:
            query = query.where(trainee.c.id.in_(chunk))
        for row in session.execute(query):
            trainee_id, uid, name, email, team, archived, head, length = row
            found[trainee_id] = TraineeState(
                trainee_id=trainee_id,
                uid=uid,
                display_name=name,
                email_or_id=email,
                team=team,
                archived_at=_utc_or_none(archived),
                chain_head=head,
                chain_length=length,
            )
    return found


def lessons_marks(
    session: Session, trainee_ids: Sequence[int] | None = None
) -> dict[int, LessonsMark]:
    """The lessons-read mark of each trainee who read any, with one GROUP BY."""
    lesson = _table(LessonReadRow)
    found: dict[int, LessonsMark] = {}
    for chunk in _chunks(trainee_ids):
        query = select(
            lesson.c.trainee_id,
            func.count(),
            func.max(lesson.c.id),
            # Compared, never read as a time: taken as the database gives it.
            type_coerce(func.max(lesson.c.read_at), Text),
        ).group_by(lesson.c.trainee_id)
        if chunk is not None:
            query = query.where(lesson.c.trainee_id.in_(chunk))
        for trainee_id, count, newest_id, newest_read_at in session.execute(query):
            found[trainee_id] = LessonsMark(
                count, newest_id, None if newest_read_at is None else str(newest_read_at)
            )
    return found


def cached_standings(
    session: Session, trainee_ids: Sequence[int] | None, track_ids: Collection[str]
) -> dict[tuple[int, str], CachedStanding]:
    """The stored rows for these trainees (all when ``None``) and tracks, by both ids.

    Whether a row still counts is for the caller to tell (see ``app.services.standings``).
    """
    standing = _table(TrackStandingRow)
    wanted_tracks = list(track_ids)
    found: dict[tuple[int, str], CachedStanding] = {}
    if not wanted_tracks:
        return found
    statuses = {status.value: status for status in CompletionStatus}
    for chunk in _chunks(trainee_ids):
        query = select(
            standing.c.trainee_id,
            standing.c.track_id,
            standing.c.history_mark,
            standing.c.content_hash,
            standing.c.rules_key,
            standing.c.status,
            standing.c.items_done,
            standing.c.items_total,
            standing.c.score,
            standing.c.over_trust_rate,
            standing.c.under_trust_rate,
            stored_time(standing.c.first_started),
            stored_time(standing.c.completed_at),
            standing.c.seconds_spent,
            stored_time(standing.c.last_activity),
        ).where(standing.c.track_id.in_(wanted_tracks))
        if chunk is not None:
            query = query.where(standing.c.trainee_id.in_(chunk))
        for row in session.execute(query):
            (
                trainee_id,
                track_id,
                mark,
                content_hash,
                rules_key,
                status,
                items_done,
                items_total,
                score,
                over_trust,
                under_trust,
                first_started,
                completed_at,
                seconds_spent,
                last_activity,
            ) = row
            known = statuses.get(status)
            if known is None:
                continue  # written by another version with another status: recompute
            outcome = TrackOutcome(
                track_id=track_id,
                status=known,
                items_done=items_done,
                items_total=items_total,
                score=score,
                over_trust_rate=over_trust,
                under_trust_rate=under_trust,
                first_started=_utc_or_none(first_started),
                completed_at=_utc_or_none(completed_at),
                seconds_spent=seconds_spent,
                content_hash=content_hash,
            )
            found[(trainee_id, track_id)] = CachedStanding(
                trainee_id, mark, rules_key, outcome, _utc_or_none(last_activity)
            )
    return found


def save_standings(connection: Connection, standings: Sequence[CachedStanding]) -> int:
    """Insert or replace these rows, inside the caller's transaction; returns how many.

    Rows go in (trainee, track) order, so that two writers lock them in the same order.
    """
    if not standings:
        return 0
    table = _table(TrackStandingRow)
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        statement: Any = pg_insert(table)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        statement = sqlite_insert(table)
    keys = ("trainee_id", "track_id")
    statement = statement.on_conflict_do_update(
        index_elements=list(keys),
        set_={c.name: statement.excluded[c.name] for c in table.columns if c.name not in keys},
    )
    now = utc_now()
    rows = [
        {
            "trainee_id": s.trainee_id,
            "track_id": s.outcome.track_id,
            "history_mark": s.history_mark,
            "content_hash": s.outcome.content_hash,
            "rules_key": s.rules_key,
            "status": s.outcome.status.value,
            "items_done": s.outcome.items_done,
            "items_total": s.outcome.items_total,
            "score": s.outcome.score,
            "over_trust_rate": s.outcome.over_trust_rate,
            "under_trust_rate": s.outcome.under_trust_rate,
            "first_started": s.outcome.first_started,
            "completed_at": s.outcome.completed_at,
            "seconds_spent": s.outcome.seconds_spent,
            "last_activity": s.last_activity,
            "computed_at": now,
        }
        for s in sorted(standings, key=lambda s: (s.trainee_id, s.outcome.track_id))
    ]
    connection.execute(statement, rows)
    return len(rows)


def try_save_standings(bind: Engine | Connection, standings: Sequence[CachedStanding]) -> bool:
    """Save these rows in a short transaction of their own, if the database lets us.

    For a caller in the middle of a read: the rows are written on another connection of
    the same engine and committed at once. A database that is read-only, locked by
    another writer for longer than :data:`SAVE_LOCK_WAIT`, or otherwise refuses, leaves
    the cache as it was: ``False`` is returned and nothing is raised (the rows are only a
    cache). An in-memory SQLite database, whose one connection is the caller's, is left
    alone.
    """
    if not standings:
        return True
    engine = bind.engine if isinstance(bind, Connection) else bind
    if isinstance(engine.pool, StaticPool | SingletonThreadPool):
        return False
    try:
        with (
            engine.connect() as connection,
            _short_lock_wait(connection),
            connection.begin(),
        ):
            if connection.dialect.name == "postgresql":
                wait_ms = round(SAVE_LOCK_WAIT * 1000)
                connection.exec_driver_sql(f"SET LOCAL lock_timeout = {wait_ms}")
            save_standings(connection, standings)
    except (SQLAlchemyError, sqlite3.Error) as error:
        _log.info("track standings not cached (%s)", type(error).__name__)
        return False
    return True


@contextmanager
def _short_lock_wait(connection: Connection) -> Iterator[None]:
    """On SQLite, wait at most :data:`SAVE_LOCK_WAIT` for the write lock, then restore."""
    if connection.dialect.name != "sqlite":
        yield
        return
    driver: Any = connection.connection.driver_connection
    before = driver.execute("PRAGMA busy_timeout").fetchone()[0]
    driver.execute(f"PRAGMA busy_timeout = {round(SAVE_LOCK_WAIT * 1000)}")
    try:
        yield
    finally:
        try:
            driver.execute(f"PRAGMA busy_timeout = {int(before)}")
        except sqlite3.Error:
            # Never hand back a pooled connection that gives up on locks this early.
            connection.invalidate()

"""The per-trainee hash chain over answers and manager events, as stored.

Every answer and every manager event is a link in its trainee's chain (see
``app.core.chain``): ``chain_seq`` is its place, ``previous_hash`` the hash of the link
before it and ``record_hash`` its own. The trainee row keeps the newest hash and the
length, so a removed newest record is noticed as well as a changed or removed older one.

Chain order is the order of writing, not of the times recorded: records imported from
another machine are appended after those already here, whatever their times.

Writers append inside their write transaction, with the trainee row locked (``SELECT ...
FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` already lets one writer in at a
time), so that two writers can never fork a trainee's chain.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import Table, bindparam, insert, update
from sqlmodel import Session, col, select

from app.core.chain import GENESIS, ChainBreak, ChainLink, link_hash, verify_chain
from app.storage.tables import AnswerRow, EventRow, TraineeRow

ANSWER_RECORD = "answer"
EVENT_RECORD = "event"


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def answer_payload(row: AnswerRow, trainee_uid: str) -> dict[str, object]:
    """The chained content of an answer: every field it was stored with.

    Revision 0002 holds a frozen copy of this definition; a change here needs a revision
    that re-chains what is stored.
    """
    return {
        "record": ANSWER_RECORD,
        "attempt_id": row.attempt_id,
        "play_id": row.play_id,
        "trainee": trainee_uid,
        "scenario_id": row.scenario_id,
        "scenario_version": row.scenario_version,
        "pack_id": row.pack_id,
        "step_id": row.step_id,
        "decision": row.decision,
        "expected": row.expected,
        "revision_index": row.revision_index,
        "revision_text": row.revision_text,
        "correct": bool(row.correct),
        "verdict": row.verdict,
        "flags_chosen": None if row.flags_chosen is None else list(row.flags_chosen),
        "flags_missed": list(row.flags_missed),
        "flags_true": list(row.flags_true),
        "confidence": row.confidence,
        "seconds": float(row.seconds),
        "answered_at": _aware(row.answered_at),
        "checks_made": list(row.checks_made),
        "check_minutes": int(row.check_minutes),
        "hint_taken": bool(row.hint_taken),
    }


def event_payload(row: EventRow, trainee_uid: str) -> dict[str, object]:
    """The chained content of a manager event."""
    return {
        "record": EVENT_RECORD,
        "event_id": row.event_id,
        "trainee": trainee_uid,
        "kind": row.kind,
        "track_id": row.track_id,
        "reason": row.reason,
        "actor": row.actor,
        "created_at": _aware(row.created_at),
        "details": dict(row.details),
    }


def lock_trainee(session: Session, trainee_id: int) -> TraineeRow:
    """The trainee row, locked for the rest of the transaction on PostgreSQL.

    Raises ``LookupError`` when there is no such trainee.
    """
    statement = (
        select(TraineeRow)
        .where(TraineeRow.id == trainee_id)
        .execution_options(populate_existing=True)
    )
    if session.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update()
    row = session.exec(statement).first()
    if row is None:
        raise LookupError(f"no trainee with id {trainee_id}")
    return row


def append(session: Session, trainee: TraineeRow, row: AnswerRow | EventRow) -> None:
    """Link ``row`` at the head of the (locked) ``trainee``'s chain and add it to ``session``."""
    if trainee.id is None or row.trainee_id != trainee.id:
        raise ValueError("a record can only join its own trainee's chain")
    payload = (
        answer_payload(row, trainee.uid)
        if isinstance(row, AnswerRow)
        else event_payload(row, trainee.uid)
    )
    _link(row, trainee.chain_head, trainee.chain_length, payload)
    trainee.chain_length = row.chain_seq
    trainee.chain_head = row.record_hash
    session.add(row)
    session.add(trainee)
    session.flush()


def _link(row: AnswerRow | EventRow, head: str, length: int, payload: Mapping[str, object]) -> None:
    """Give ``row`` its place after a chain of ``length`` records ending in ``head``."""
    row.chain_seq = length + 1
    row.previous_hash = head
    row.record_hash = link_hash(head, payload)


@dataclass(frozen=True, slots=True)
class ChainHead:
    """Where a trainee's chain ends, read under the trainee's lock."""

    trainee_id: int
    trainee_uid: str
    head: str
    length: int


def lock_for_answer(
    session: Session, trainee_id: int, attempt_id: str
) -> tuple[ChainHead, int | None]:
    """Lock the trainee's chain for one new answer, in one round trip.

    Returns the chain's head and the id of an answer already stored with ``attempt_id``
    (``None`` when there is none): looked up under the lock, so a retry of the same answer
    cannot slip in between the look and the insert. Raises ``LookupError`` when there is
    no such trainee.
    """
    statements = _answer_statements(session.get_bind().dialect.name)
    found = session.execute(
        statements.lock, {"trainee_id": trainee_id, "attempt_id": attempt_id}
    ).first()
    if found is None:
        raise LookupError(f"no trainee with id {trainee_id}")
    uid, head, length, existing_id = found
    return ChainHead(trainee_id, uid, head, length), existing_id


def append_answer(session: Session, chain: ChainHead, row: AnswerRow) -> ChainHead:
    """Link ``row`` at the head of the locked ``chain`` and insert it; returns the new head.

    The same link as :func:`append` makes, written with prepared plain statements (one on
    PostgreSQL) instead of the ORM's flush: answers are the one record written often, and
    on a team database every round trip is paid by every writer.
    """
    if row.trainee_id != chain.trainee_id:
        raise ValueError("a record can only join its own trainee's chain")
    _link(row, chain.head, chain.length, answer_payload(row, chain.trainee_uid))
    statements = _answer_statements(session.get_bind().dialect.name)
    values = {name: getattr(row, name) for name in statements.answer_columns}
    head = {
        "head_trainee_id": chain.trainee_id,
        "new_head": row.record_hash,
        "new_length": row.chain_seq,
    }
    if statements.insert_and_move is not None:
        session.execute(statements.insert_and_move, {**values, **head})
    else:
        session.execute(statements.insert, values)
        session.execute(statements.move_head, head)
    return ChainHead(chain.trainee_id, chain.trainee_uid, row.record_hash, row.chain_seq)


@dataclass(frozen=True, slots=True)
class _AnswerStatements:
    answer_columns: tuple[str, ...]
    lock: Any
    insert: Any
    move_head: Any
    insert_and_move: Any | None


@cache
def _answer_statements(dialect_name: str) -> _AnswerStatements:
    # Built once per dialect with bound parameters, so SQLAlchemy compiles each only once.
    trainee = _table(TraineeRow)
    answer = _table(AnswerRow)
    existing = (
        select(answer.c.id)
        .where(answer.c.attempt_id == bindparam("attempt_id"))
        .limit(1)
        .scalar_subquery()
    )
    lock = select(trainee.c.uid, trainee.c.chain_head, trainee.c.chain_length, existing).where(
        trainee.c.id == bindparam("trainee_id")
    )
    postgres = dialect_name == "postgresql"
    if postgres:
        lock = lock.with_for_update(of=trainee)
    columns = tuple(column.name for column in answer.columns if column.name != "id")
    insert_answer = insert(answer).values({name: bindparam(name) for name in columns})
    move_head = (
        update(trainee)
        .where(trainee.c.id == bindparam("head_trainee_id"))
        .values(chain_head=bindparam("new_head"), chain_length=bindparam("new_length"))
    )
    return _AnswerStatements(
        answer_columns=columns,
        lock=lock,
        insert=insert_answer,
        move_head=move_head,
        # A data-modifying CTE always runs: the insert and the head move in one statement.
        insert_and_move=move_head.add_cte(insert_answer.cte("new_answer")) if postgres else None,
    )


def _table(model: type[AnswerRow] | type[TraineeRow]) -> Table:
    table = model.__table__  # type: ignore[union-attr]
    assert isinstance(table, Table)
    return table


def chain_links(session: Session, trainee: TraineeRow) -> list[ChainLink]:
    """The trainee's answers and events as chain links, in chain order."""
    answers = session.exec(
        select(AnswerRow).where(AnswerRow.trainee_id == trainee.id).order_by(col(AnswerRow.id))
    ).all()
    events = session.exec(
        select(EventRow).where(EventRow.trainee_id == trainee.id).order_by(col(EventRow.id))
    ).all()
    return links_of(trainee.uid, answers, events)


def links_of(
    trainee_uid: str, answers: Iterable[AnswerRow], events: Iterable[EventRow]
) -> list[ChainLink]:
    """Chain links for rows of one trainee, ordered by their place in the chain."""
    keyed: list[tuple[int, int, str, ChainLink]] = []
    for answer in answers:
        keyed.append(
            (
                answer.chain_seq,
                0,
                answer.attempt_id,
                ChainLink(
                    f"{ANSWER_RECORD} {answer.attempt_id}",
                    answer.previous_hash,
                    answer.record_hash,
                    answer_payload(answer, trainee_uid),
                ),
            )
        )
    for event in events:
        keyed.append(
            (
                event.chain_seq,
                1,
                event.event_id,
                ChainLink(
                    f"{EVENT_RECORD} {event.event_id}",
                    event.previous_hash,
                    event.record_hash,
                    event_payload(event, trainee_uid),
                ),
            )
        )
    keyed.sort(key=lambda item: item[:3])
    return [item[3] for item in keyed]


def verify_links(
    links: list[ChainLink], head: str, length: int, trainee_label: str
) -> ChainBreak | None:
    """Check a whole chain, including that it ends where the trainee row says it does."""
    broken = verify_chain(links)
    if broken is not None:
        return broken
    last = links[-1].record_hash if links else GENESIS
    if last != head or len(links) != length:
        return ChainBreak(
            f"trainee {trainee_label}",
            f"its chain should hold {length} record(s) ending in {head[:12]}..., but "
            f"{len(links)} were found ending in {last[:12]}... (a newest record was "
            "removed, or records were added outside Think Twice)",
        )
    return None


def payload_matches(left: Mapping[str, Any], right: Mapping[str, Any]) -> bool:
    """Whether two payloads say the same thing (compared in their chained text form)."""
    from app.core.chain import canonical_json

    return canonical_json(left) == canonical_json(right)

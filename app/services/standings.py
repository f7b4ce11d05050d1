"""Track standings: each trainee's standing per track, cached, and recomputed when stale.

A completion table for a cohort needs every member's standing on every assigned track.
Replaying every history for that is slow at scale, so the standings are kept in the
``track_standing`` table. They are a cache derived from the records, never a record:
each row carries the marks of what it was computed from, and counts only while those
still match.

- The *history mark* of a trainee changes whenever anything that counts for them
  changes: every answer and every manager event moves the head of the trainee's hash
  chain (``app.storage.ledger``), and lessons read (which are not chained) are covered
  by their count, newest row and newest time.
- The track's *content hash* (``app.core.completion.track_content_hash``) changes with
  what the track asks.
- The *rules key* changes with the step ids of the track's scenarios and with
  :data:`STANDING_RULES_VERSION`, raised whenever the counting rules in
  ``app.core.completion`` or ``app.core.scoring`` change.

Because staleness is read from the records themselves, no writer has to remember the
cache: answers, manager events, imported bundles, the outbox, another machine on the same
PostgreSQL database, or demo data all make the affected rows stale, and the next reader
recomputes them with the same rules as :class:`~app.services.history.TraineeHistory`.
Readers write what they recomputed back at once when the database allows it (best
effort); :func:`refresh_standings` brings them current in bulk.
"""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sqlmodel import Session

from app.core.chain import canonical_json
from app.core.completion import track_content_hash
from app.core.model import ContentLibrary, Scenario, Track
from app.services.history import load_histories
from app.storage.standings import (
    CachedStanding,
    LessonsMark,
    TraineeState,
    cached_standings,
    lessons_marks,
    save_standings,
    trainee_states,
    try_save_standings,
)

if TYPE_CHECKING:
    from app.storage.database import Database

__all__ = [
    "BATCH_SIZE",
    "STANDING_RULES_VERSION",
    "CachedStanding",
    "TraineeState",
    "current_standings",
    "history_mark",
    "refresh_standings",
    "rules_key",
    "trainee_states",
]

# Raise this with any change to how app.core.completion or app.core.scoring count, so
# that every cached standing is recomputed under the new rules.
STANDING_RULES_VERSION = 1
# Trainees whose histories are loaded at once when standings are recomputed: bounds the
# memory a recompute of a whole cohort takes.
BATCH_SIZE = 100


def history_mark(state: TraineeState, lessons: LessonsMark | None) -> str:
    """A value that changes whenever an answer, event or lesson read of the trainee does."""
    parts = [str(state.chain_length), state.chain_head]
    if lessons is not None:
        parts += [str(lessons.count), str(lessons.newest_id), str(lessons.newest_read_at)]
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


def rules_key(track: Track, scenarios: Mapping[str, Scenario]) -> str:
    """What the counting of ``track`` rests on besides its content hash.

    The counting rules' version, and the step ids of its scenarios (a play is complete
    when every step is answered).
    """
    payload = {
        "rules": STANDING_RULES_VERSION,
        "steps": {
            ref: [step.id for step in scenarios[ref].steps]
            for ref in track.scenario_ids
            if ref in scenarios
        },
    }
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def current_standings(
    session: Session,
    library: ContentLibrary,
    trainees: Mapping[int, TraineeState],
    track_ids: Sequence[str],
    *,
    every_trainee: bool = False,
    save: bool = True,
    batch_size: int = BATCH_SIZE,
) -> dict[tuple[int, str], CachedStanding]:
    """The standing of each of ``trainees`` on each of ``track_ids``, by both ids.

    ``trainees`` come from :func:`trainee_states` read in ``session`` (before anything
    else: a mark read before the history it describes can only make a row look stale,
    never current). ``every_trainee`` says they are all the trainees there are, so the
    queries need no list of ids. Rows that are missing or stale are recomputed from the
    histories, ``batch_size`` trainees at a time, and, with ``save``, written back in a
    short transaction of their own when the database allows it: a read-only or locked
    database still gets correct standings, only not cached. Every track id must be in
    ``library``.
    """
    current, fresh = _standings(
        session, library, trainees, track_ids, every_trainee=every_trainee, batch_size=batch_size
    )
    if save and fresh:
        try_save_standings(session.get_bind(), fresh)
    return current


def refresh_standings(
    database: Database,
    library: ContentLibrary,
    trainee_ids: Sequence[int] | None = None,
    *,
    batch_size: int = BATCH_SIZE,
) -> int:
    """Bring the standings of these trainees (all when ``None``) on every track current.

    For bulk writers (demo data, imports) to call at the end, so that the next
    completion table finds nothing to recompute. Reads in short read sessions and writes
    each batch of ``batch_size`` trainees in its own write transaction; returns how many
    rows were written (rows already current are left alone). Database faults are raised
    as :class:`~app.storage.errors.StorageError` (a read-only database refuses as soon as
    there is a row to write).
    """
    track_ids = list(library.tracks)
    with database.read_session() as session:
        ids = list(trainee_states(session, trainee_ids))
    written = 0
    for batch in _batches(ids, batch_size):
        with database.read_session() as session:
            states = trainee_states(session, batch)
            _, fresh = _standings(
                session, library, states, track_ids, every_trainee=False, batch_size=batch_size
            )
        if fresh:
            with database.write_session() as session:
                written += save_standings(session.connection(), fresh)
    return written


def _standings(
    session: Session,
    library: ContentLibrary,
    trainees: Mapping[int, TraineeState],
    track_ids: Sequence[str],
    *,
    every_trainee: bool,
    batch_size: int,
) -> tuple[dict[tuple[int, str], CachedStanding], list[CachedStanding]]:
    """Every standing asked for, and the ones among them that had to be recomputed."""
    ids = list(trainees)
    query_ids = None if every_trainee else ids
    lessons = lessons_marks(session, query_ids)
    marks = {tid: history_mark(state, lessons.get(tid)) for tid, state in trainees.items()}
    tracks = [library.tracks[track_id] for track_id in track_ids]
    content = {t.id: track_content_hash(t, library.scenarios) for t in tracks}
    rules = {t.id: rules_key(t, library.scenarios) for t in tracks}
    stored = cached_standings(session, query_ids, track_ids) if ids and tracks else {}

    current: dict[tuple[int, str], CachedStanding] = {}
    stale: dict[int, list[Track]] = {}
    for trainee_id in ids:
        mark = marks[trainee_id]
        for track in tracks:
            row = stored.get((trainee_id, track.id))
            if (
                row is not None
                and row.history_mark == mark
                and row.outcome.content_hash == content[track.id]
                and row.rules_key == rules[track.id]
            ):
                current[(trainee_id, track.id)] = row
            else:
                stale.setdefault(trainee_id, []).append(track)

    fresh: list[CachedStanding] = []
    with _cycle_collection_paused():
        _recompute(session, library, stale, marks, rules, batch_size, current, fresh)
    return current, fresh


def _recompute(
    session: Session,
    library: ContentLibrary,
    stale: Mapping[int, list[Track]],
    marks: Mapping[int, str],
    rules: Mapping[str, str],
    batch_size: int,
    current: dict[tuple[int, str], CachedStanding],
    fresh: list[CachedStanding],
) -> None:
    """Recompute the stale standings into ``current`` and ``fresh``, a batch at a time."""
    for batch in _batches(list(stale), batch_size):
        needed = {track.id: track for trainee_id in batch for track in stale[trainee_id]}
        scenario_ids = {ref for track in needed.values() for ref in track.scenario_ids}
        histories = load_histories(session, batch, scenario_ids=scenario_ids)
        for trainee_id in batch:
            history = histories.get(trainee_id)
            if history is None:
                continue  # gone since its state was read; nothing to count
            wanted = stale[trainee_id]
            for track, (outcome, last) in zip(
                wanted, history.standings(wanted, library.scenarios), strict=True
            ):
                standing = CachedStanding(
                    trainee_id, marks[trainee_id], rules[track.id], outcome, last
                )
                current[(trainee_id, track.id)] = standing
                fresh.append(standing)


@contextmanager
def _cycle_collection_paused() -> Iterator[None]:
    """Pause Python's cycle collector while histories are built in bulk.

    A batch creates some hundred thousand answer records that live until its standings
    are computed; the collector would walk them again and again (a third of the time,
    measured) and could free nothing, as they hold no reference cycles. Reference
    counting still frees everything as usual.
    """
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def _batches(ids: Sequence[int], size: int) -> Iterator[list[int]]:
    step = max(1, size)
    for start in range(0, len(ids), step):
        yield list(ids[start : start + step])

"""A trainee's history as the services read it: answers, lessons read and manager events.

Manager events never change a stored answer; they change how the history is counted. A
reset of a track counts that track from the reset on; a waiver marks it waived (until a
later reset); a correction voids one answer, which then counts nowhere (it stays stored
and exported, marked as voided).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from itertools import compress
from operator import itemgetter
from typing import Any

from sqlalchemy import Table, Text, select, type_coerce
from sqlmodel import Session, SQLModel

from app.core.completion import TrackOutcome, track_outcome
from app.core.judging import Verdict
from app.core.model import Decision, Scenario, Track
from app.core.records import AnswerRecord, Profile
from app.storage.standings import stored_time, utc_time
from app.storage.tables import (
    AnswerRow,
    CohortMemberRow,
    CohortRow,
    CohortTrackRow,
    EventRow,
    LessonReadRow,
    TraineeRow,
)

VOID_ATTEMPT_KEY = "void_attempt_id"


class EventKind(StrEnum):
    """What a manager event does (``attended`` records a room session and changes no count)."""

    WAIVE = "waive"
    RESET = "reset"
    CORRECT = "correct"
    ATTENDED = "attended"


@dataclass(frozen=True, slots=True)
class ManagerEvent:
    """A waiver, reset or correction: who made it, when and why."""

    event_id: str
    trainee_uid: str
    kind: EventKind
    track_id: str | None
    reason: str
    actor: str
    created_at: datetime
    details: Mapping[str, Any] = field(default_factory=dict)

    @property
    def voided_attempt_id(self) -> str | None:
        """The answer a correction voids, if it is such a correction."""
        value = self.details.get(VOID_ATTEMPT_KEY)
        return value if self.kind is EventKind.CORRECT and isinstance(value, str) else None


def event_from_row(row: EventRow, trainee_uid: str) -> ManagerEvent:
    """A stored event as a plain value."""
    return ManagerEvent(
        event_id=row.event_id,
        trainee_uid=trainee_uid,
        kind=EventKind(row.kind),
        track_id=row.track_id,
        reason=row.reason,
        actor=row.actor,
        created_at=row.created_at,
        details=dict(row.details),
    )


@dataclass(slots=True)
class TraineeHistory:
    """Everything recorded for one trainee, and the counting rules applied to it."""

    profile: Profile
    archived_at: datetime | None = None
    answers: list[AnswerRecord] = field(default_factory=list)
    lessons_read: dict[str, datetime] = field(default_factory=dict)
    events: list[ManagerEvent] = field(default_factory=list)

    @property
    def voided_attempts(self) -> set[str]:
        """Attempt ids of the answers a correction voided."""
        return {e.voided_attempt_id for e in self.events if e.voided_attempt_id is not None}

    def counted_answers(self) -> list[AnswerRecord]:
        """The answers that count (all but voided ones), oldest first."""
        voided = self.voided_attempts
        if not voided:
            return list(self.answers)
        return [a for a in self.answers if a.attempt_id not in voided]

    def reset_at(self, track_id: str) -> datetime | None:
        """When the track was last reset, if ever."""
        times = [
            e.created_at
            for e in self.events
            if e.kind is EventKind.RESET and e.track_id == track_id
        ]
        return max(times) if times else None

    def waived_at(self, track_id: str) -> datetime | None:
        """When the track was last waived, unless a reset came after."""
        since = self.reset_at(track_id)
        times = [
            e.created_at
            for e in self.events
            if e.kind is EventKind.WAIVE
            and e.track_id == track_id
            and (since is None or e.created_at >= since)
        ]
        return max(times) if times else None

    def outcome(self, track: Track, scenarios: Mapping[str, Scenario]) -> TrackOutcome:
        """The trainee's standing on ``track`` with the manager events applied."""
        return self._outcome(track, scenarios, self.counted_answers())

    def last_activity(self, track: Track) -> datetime | None:
        """The latest answer, lesson read or event that concerns ``track``."""
        return self._last_activity(track, self.counted_answers())

    def standings(
        self, tracks: Sequence[Track], scenarios: Mapping[str, Scenario]
    ) -> list[tuple[TrackOutcome, datetime | None]]:
        """:meth:`outcome` and :meth:`last_activity` for each of ``tracks``, in order.

        The same values as calling both per track; the counted answers are worked out once.
        """
        counted = self.counted_answers()
        answered = [a.scenario_id for a in counted]
        found = []
        for track in tracks:
            # Only the track's answers, in the same order: what both would pick out anyway.
            own = list(compress(counted, map(set(track.scenario_ids).__contains__, answered)))
            found.append((self._outcome(track, scenarios, own), self._last_activity(track, own)))
        return found

    def _outcome(
        self, track: Track, scenarios: Mapping[str, Scenario], counted: list[AnswerRecord]
    ) -> TrackOutcome:
        return track_outcome(
            track,
            scenarios,
            counted,
            self.lessons_read,
            counted_since=self.reset_at(track.id),
            waived_at=self.waived_at(track.id),
        )

    def _last_activity(self, track: Track, counted: list[AnswerRecord]) -> datetime | None:
        scenario_ids = set(track.scenario_ids)
        lesson_ids = set(track.lesson_ids)
        times = [a.answered_at for a in counted if a.scenario_id in scenario_ids]
        times += [when for lesson, when in self.lessons_read.items() if lesson in lesson_ids]
        times += [e.created_at for e in self.events if e.track_id == track.id]
        return max(times) if times else None


def load_histories(
    session: Session,
    trainee_ids: Collection[int] | None = None,
    *,
    scenario_ids: Collection[str] | None = None,
) -> dict[int, TraineeHistory]:
    """The histories of the given trainees (all when ``None``), keyed by trainee id.

    ``scenario_ids`` limits the answers loaded to those scenarios (for counting tracks
    that use only these: every other answer would be skipped anyway); the lessons read
    and the events are always complete. Rows are read as plain columns, not ORM objects:
    this is the path that replays whole cohorts.
    """
    wanted: list[int] | None = None
    if trainee_ids is not None:
        wanted = list(trainee_ids)
        if not wanted:
            return {}
    histories: dict[int, TraineeHistory] = {}
    trainee = _table(TraineeRow)
    trainee_query = select(
        trainee.c.id,
        trainee.c.uid,
        trainee.c.display_name,
        trainee.c.created_at,
        trainee.c.email_or_id,
        trainee.c.team,
        trainee.c.archived_at,
    ).order_by(trainee.c.id)
    if wanted is not None:
        trainee_query = trainee_query.where(trainee.c.id.in_(wanted))
    for trainee_id, uid, name, created_at, email_or_id, team, archived_at in session.execute(
        trainee_query
    ):
        profile = Profile(
            id=trainee_id,
            uid=uid,
            display_name=name,
            created_at=created_at,
            email_or_id=email_or_id,
            team=team,
        )
        histories[trainee_id] = TraineeHistory(profile=profile, archived_at=archived_at)
    if not histories:
        return histories
    for trainee_id, records in _load_answers(session, wanted, scenario_ids).items():
        if trainee_id in histories:
            histories[trainee_id].answers = records
    lesson = _table(LessonReadRow)
    lesson_query = select(lesson.c.trainee_id, lesson.c.lesson_id, lesson.c.read_at).order_by(
        lesson.c.id
    )
    if wanted is not None:
        lesson_query = lesson_query.where(lesson.c.trainee_id.in_(wanted))
    for trainee_id, lesson_id, read_at in session.execute(lesson_query):
        if trainee_id in histories:
            histories[trainee_id].lessons_read[lesson_id] = read_at
    event = _table(EventRow)
    event_query = select(
        event.c.trainee_id,
        event.c.event_id,
        event.c.kind,
        event.c.track_id,
        event.c.reason,
        event.c.actor,
        event.c.created_at,
        event.c.details,
    ).order_by(event.c.created_at, event.c.id)
    if wanted is not None:
        event_query = event_query.where(event.c.trainee_id.in_(wanted))
    for trainee_id, event_id, kind, track_id, reason, actor, created_at, details in session.execute(
        event_query
    ):
        history = histories.get(trainee_id)
        if history is not None:
            history.events.append(
                ManagerEvent(
                    event_id=event_id,
                    trainee_uid=history.profile.uid,
                    kind=EventKind(kind),
                    track_id=track_id,
                    reason=reason,
                    actor=actor,
                    created_at=created_at,
                    details=dict(details),
                )
            )
    return histories


class _Members(dict[str | None, Any]):
    """An enum's members by value, looked up rather than constructed per answer.

    ``None`` stays ``None``; a value that is no member raises as the enum itself does.
    """

    def __init__(self, kind: type[Decision] | type[Verdict]) -> None:
        super().__init__({member.value: member for member in kind})
        self[None] = None
        self._kind = kind

    def __missing__(self, value: str) -> Any:
        return self._kind(value)


_DECISIONS = _Members(Decision)
_VERDICTS = _Members(Verdict)


class _JsonLists(dict[str | None, tuple[str, ...] | None]):
    """JSON list texts parsed once each (flags and checks repeat a great deal)."""

    def __missing__(self, text: str | None) -> tuple[str, ...] | None:
        value = self[text] = None if text is None else tuple(json.loads(text))
        return value


def _load_answers(
    session: Session, trainee_ids: list[int] | None, scenario_ids: Collection[str] | None
) -> dict[int, list[AnswerRecord]]:
    """The answers as core records, per trainee in (answered_at, id) order.

    Built straight from columns, as ``AnswerRow.to_record`` would build them. The JSON
    lists are read as text where the driver gives text (SQLite) and parsed once per
    distinct text; times are read with ``app.storage.standings.utc_time``. The rows are
    put in order here, not by the database: sorting whole rows is the dearest part of the
    query there (the stored time sorts as the database sorts it: SQLite's text,
    PostgreSQL's time).
    """
    answer = _table(AnswerRow)
    query = select(
        answer.c.trainee_id,
        answer.c.attempt_id,
        answer.c.play_id,
        answer.c.scenario_id,
        answer.c.scenario_version,
        answer.c.step_id,
        answer.c.decision,
        answer.c.correct,
        type_coerce(answer.c.flags_missed, Text),
        answer.c.seconds,
        stored_time(answer.c.answered_at),
        answer.c.revision_index,
        answer.c.revision_text,
        type_coerce(answer.c.flags_chosen, Text),
        answer.c.confidence,
        answer.c.expected,
        type_coerce(answer.c.flags_true, Text),
        type_coerce(answer.c.checks_made, Text),
        answer.c.check_minutes,
        answer.c.hint_taken,
        answer.c.verdict,
        answer.c.id,
    )
    if trainee_ids is not None:
        query = query.where(answer.c.trainee_id.in_(trainee_ids))
    if scenario_ids is not None:
        query = query.where(answer.c.scenario_id.in_(list(scenario_ids)))
    rows = list(session.execute(query).all())
    found: dict[int, list[AnswerRecord]] = defaultdict(list)
    if not rows:
        return found
    rows.sort(key=itemgetter(10, 21))  # (answered_at, id)
    # Drivers that parse JSON themselves (psycopg) give lists; SQLite gives the text.
    lists: Callable[[Any], Any] = (
        _JsonLists().__getitem__ if isinstance(rows[0][16], str) else _tuple_or_none
    )
    members = _DECISIONS.__getitem__
    verdicts = _VERDICTS.__getitem__
    for (
        trainee_id,
        attempt_id,
        play_id,
        scenario_id,
        scenario_version,
        step_id,
        decision,
        correct,
        flags_missed,
        seconds,
        answered_at,
        revision_index,
        revision_text,
        flags_chosen,
        confidence,
        expected,
        flags_true,
        checks_made,
        check_minutes,
        hint_taken,
        verdict,
        _row_id,
    ) in rows:
        found[trainee_id].append(
            AnswerRecord(
                attempt_id,
                play_id,
                trainee_id,
                scenario_id,
                scenario_version,
                step_id,
                members(decision),
                correct,
                lists(flags_missed),
                seconds,
                utc_time(answered_at),
                revision_index,
                revision_text,
                lists(flags_chosen),
                confidence,
                members(expected),
                lists(flags_true),
                lists(checks_made),
                check_minutes,
                hint_taken,
                verdicts(verdict),
            )
        )
    return found


def _tuple_or_none(value: Any) -> tuple[str, ...] | None:
    return None if value is None else tuple(value)


def _table(model: type[SQLModel]) -> Table:
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table


def load_history(session: Session, trainee_id: int) -> TraineeHistory:
    """One trainee's history; raises ``LookupError`` when there is no such trainee."""
    found = load_histories(session, [trainee_id]).get(trainee_id)
    if found is None:
        raise LookupError(f"no trainee with id {trainee_id}")
    return found


@dataclass(frozen=True, slots=True)
class AssignedTrack:
    """A track assigned to a trainee through a cohort, with its due date if any.

    The due date is the track's own in that cohort, else the cohort's.
    """

    cohort_name: str
    cohort_archived: bool
    track_id: str
    due_at: datetime | None


def assigned_tracks(
    session: Session, trainee_ids: Collection[int] | None = None
) -> dict[int, list[AssignedTrack]]:
    """The tracks assigned to each trainee through the cohorts they belong to.

    Each trainee's list is in (cohort name, track id) order.
    """
    cohort = _table(CohortRow)
    assigned = _table(CohortTrackRow)
    # The cohorts' tracks once, then who is in which cohort: a cohort's tracks would
    # otherwise come back once for every member.
    by_cohort: dict[int, list[AssignedTrack]] = defaultdict(list)
    names: dict[int, str] = {}
    tracks_query = (
        select(
            cohort.c.id,
            cohort.c.name,
            cohort.c.archived_at,
            cohort.c.due_at,
            assigned.c.track_id,
            assigned.c.due_at,
        )
        .join(assigned, assigned.c.cohort_id == cohort.c.id)
        .order_by(cohort.c.name, assigned.c.track_id)
    )
    for cohort_id, name, archived_at, cohort_due, track_id, track_due in session.execute(
        tracks_query
    ):
        names[cohort_id] = name
        by_cohort[cohort_id].append(
            AssignedTrack(
                cohort_name=name,
                cohort_archived=archived_at is not None,
                track_id=track_id,
                due_at=track_due if track_due is not None else cohort_due,
            )
        )
    found: dict[int, list[AssignedTrack]] = {}
    for trainee_id, cohort_ids in _memberships(session, trainee_ids, set(by_cohort)).items():
        found[trainee_id] = [
            track
            for cohort_id in sorted(cohort_ids, key=names.__getitem__)
            for track in by_cohort[cohort_id]
        ]
    return found


def _memberships(
    session: Session, trainee_ids: Collection[int] | None, cohort_ids: Collection[int]
) -> dict[int, list[int]]:
    """The cohorts (among ``cohort_ids``) each trainee belongs to."""
    found: dict[int, list[int]] = defaultdict(list)
    if not cohort_ids:
        return found
    member = _table(CohortMemberRow)
    query = select(member.c.trainee_id, member.c.cohort_id).where(
        member.c.cohort_id.in_(list(cohort_ids))
    )
    if trainee_ids is not None:
        query = query.where(member.c.trainee_id.in_(list(trainee_ids)))
    for trainee_id, cohort_id in session.execute(query):
        found[trainee_id].append(cohort_id)
    return found


def member_cohorts(
    session: Session, trainee_ids: Collection[int] | None = None
) -> dict[int, list[str]]:
    """The names of the cohorts each trainee belongs to, archived ones included."""
    member = _table(CohortMemberRow)
    cohort = _table(CohortRow)
    query = (
        select(member.c.trainee_id, cohort.c.name)
        .join(cohort, cohort.c.id == member.c.cohort_id)
        .order_by(cohort.c.name)
    )
    if trainee_ids is not None:
        query = query.where(member.c.trainee_id.in_(list(trainee_ids)))
    found: dict[int, list[str]] = defaultdict(list)
    for trainee_id, name in session.execute(query):
        found[trainee_id].append(name)
    return dict(found)

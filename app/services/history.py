"""A trainee's history as the services read it: answers, lessons read and manager events.

Manager events never change a stored answer; they change how the history is counted. A
reset of a track counts that track from the reset on; a waiver marks it waived (until a
later reset); a correction voids one answer, which then counts nowhere (it stays stored
and exported, marked as voided).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlmodel import Session, col, select

from app.core.completion import TrackOutcome, track_outcome
from app.core.model import Scenario, Track
from app.core.records import AnswerRecord, Profile
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
        return track_outcome(
            track,
            scenarios,
            self.counted_answers(),
            self.lessons_read,
            counted_since=self.reset_at(track.id),
            waived_at=self.waived_at(track.id),
        )

    def last_activity(self, track: Track) -> datetime | None:
        """The latest answer, lesson read or event that concerns ``track``."""
        scenario_ids = set(track.scenario_ids)
        lesson_ids = set(track.lesson_ids)
        times = [a.answered_at for a in self.counted_answers() if a.scenario_id in scenario_ids]
        times += [when for lesson, when in self.lessons_read.items() if lesson in lesson_ids]
        times += [e.created_at for e in self.events if e.track_id == track.id]
        return max(times) if times else None


def load_histories(
    session: Session, trainee_ids: Collection[int] | None = None
) -> dict[int, TraineeHistory]:
    """The histories of the given trainees (all when ``None``), keyed by trainee id."""
    trainee_query = select(TraineeRow).order_by(col(TraineeRow.id))
    answer_query = select(AnswerRow).order_by(col(AnswerRow.answered_at), col(AnswerRow.id))
    lesson_query = select(LessonReadRow)
    event_query = select(EventRow).order_by(col(EventRow.created_at), col(EventRow.id))
    if trainee_ids is not None:
        wanted = list(trainee_ids)
        if not wanted:
            return {}
        trainee_query = trainee_query.where(col(TraineeRow.id).in_(wanted))
        answer_query = answer_query.where(col(AnswerRow.trainee_id).in_(wanted))
        lesson_query = lesson_query.where(col(LessonReadRow.trainee_id).in_(wanted))
        event_query = event_query.where(col(EventRow.trainee_id).in_(wanted))
    histories: dict[int, TraineeHistory] = {}
    for trainee in session.exec(trainee_query):
        profile = trainee.to_profile()
        histories[profile.id] = TraineeHistory(profile=profile, archived_at=trainee.archived_at)
    answers: dict[int, list[AnswerRecord]] = defaultdict(list)
    for row in session.exec(answer_query):
        answers[row.trainee_id].append(row.to_record())
    for trainee_id, records in answers.items():
        if trainee_id in histories:
            histories[trainee_id].answers = records
    for read in session.exec(lesson_query):
        if read.trainee_id in histories:
            histories[read.trainee_id].lessons_read[read.lesson_id] = read.read_at
    for event in session.exec(event_query):
        history = histories.get(event.trainee_id)
        if history is not None:
            history.events.append(event_from_row(event, history.profile.uid))
    return histories


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
    """The tracks assigned to each trainee through the cohorts they belong to."""
    query = (
        select(CohortMemberRow.trainee_id, CohortRow, CohortTrackRow)
        .join(CohortRow, col(CohortRow.id) == col(CohortMemberRow.cohort_id))
        .join(CohortTrackRow, col(CohortTrackRow.cohort_id) == col(CohortRow.id))
        .order_by(col(CohortRow.name), col(CohortTrackRow.track_id))
    )
    if trainee_ids is not None:
        query = query.where(col(CohortMemberRow.trainee_id).in_(list(trainee_ids)))
    found: dict[int, list[AssignedTrack]] = defaultdict(list)
    for trainee_id, cohort, assigned in session.exec(query):
        found[trainee_id].append(
            AssignedTrack(
                cohort_name=cohort.name,
                cohort_archived=cohort.archived_at is not None,
                track_id=assigned.track_id,
                due_at=assigned.due_at if assigned.due_at is not None else cohort.due_at,
            )
        )
    return dict(found)


def member_cohorts(
    session: Session, trainee_ids: Collection[int] | None = None
) -> dict[int, list[str]]:
    """The names of the cohorts each trainee belongs to, archived ones included."""
    query = (
        select(CohortMemberRow.trainee_id, CohortRow.name)
        .join(CohortRow, col(CohortRow.id) == col(CohortMemberRow.cohort_id))
        .order_by(col(CohortRow.name))
    )
    if trainee_ids is not None:
        query = query.where(col(CohortMemberRow.trainee_id).in_(list(trainee_ids)))
    found: dict[int, list[str]] = defaultdict(list)
    for trainee_id, name in session.exec(query):
        found[trainee_id].append(name)
    return dict(found)

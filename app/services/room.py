"""The facilitated room: a session run from one machine, with votes from the whole room.

A facilitator starts a session on a track or a list of scenarios, with attendees picked
from the profiles or entered as new names, and walks the room through the steps one at a
time. For each step the facilitator enters the counts of hands for accept, revise and
reject; attendees whose own app uses the same (team) database may vote from it instead,
and the live tally adds both. The reveal closes voting on the step and returns what the
room's majority leads to, what the other choices lead to, and after a scenario's last
step its debrief. Notes are kept per step.

Ending the session gives every attendee one "attended session" record: an ``attended``
event in the trainee's hash chain (``app.storage.ledger``), so ``records verify``, records
bundles and exports cover it like any other record. Resetting the room abandons a session
that was not ended (nothing is deleted; nobody gets a record from it). The rules for the
majority and the room result are in ``app.core.room``.

Every method is one short database session; nothing here is tied to one machine, so a
second app instance on the same database sees the same session.
"""

from __future__ import annotations

import csv
import io
import logging
import unicodedata
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, BinaryIO

from sqlalchemy import func
from sqlalchemy.sql.dml import UpdateBase
from sqlmodel import Session, col, select

from app.core.model import ContentLibrary, Decision, Scenario, Step
from app.core.records import Profile
from app.core.room import (
    ATTENDED_EVENT_KIND,
    MAX_ROOM_COUNT,
    AttendedSession,
    RoomResult,
    RoomStatus,
    RoomStepOutcome,
    RoomTally,
    VoteCounts,
    attended_statement,
    room_result,
)
from app.services.exports import iso_utc, safe_cell
from app.services.reports import iso_time, number
from app.services.training import TrainingService
from app.storage.ledger import append, lock_trainee
from app.storage.tables import (
    ACTOR_LENGTH,
    EventRow,
    RoomAttendanceRow,
    RoomAttendeeRow,
    RoomSessionRow,
    RoomStepRow,
    RoomVoteRow,
    TraineeRow,
    utc_now,
)

if TYPE_CHECKING:
    from app.services.completion import RecordScope
    from app.services.settings import Settings
    from app.storage.database import Database

_log = logging.getLogger(__name__)

__all__ = [
    "SESSION_CSV_COLUMNS",
    "AttendedSession",
    "Reveal",
    "RoomResult",
    "RoomService",
    "RoomSession",
    "RoomStatus",
    "RoomStepSummary",
    "RoomTally",
    "SessionSummary",
    "VoteCounts",
    "attended_in_scope",
    "attended_session_json",
    "attended_statements",
    "write_sessions_csv",
]

MAX_NOTES_LENGTH = 20_000
ATTENDED_REASON = "Attended a facilitated room session"

SESSION_CSV_COLUMNS: tuple[str, ...] = (
    "event_id",
    "session_id",
    "trainee_name",
    "trainee_email_or_id",
    "trainee_team",
    "trainee_uid",
    "track_id",
    "track_title",
    "scenario_ids",
    "attended_at",
    "facilitator",
    "steps_counted",
    "steps_right",
    "room_result",
)


@dataclass(frozen=True, slots=True)
class RoomSession:
    """A room session as the facilitator's and the attendees' screens show it.

    ``scenario_index`` and ``step_index`` say which step the room is on;
    ``current_revealed`` whether that step was revealed (voting on it is closed).
    """

    session_id: str
    facilitator: str
    track_id: str | None
    track_title: str | None
    scenario_ids: tuple[str, ...]
    status: RoomStatus
    started_at: datetime
    ended_at: datetime | None
    scenario_index: int
    step_index: int
    current_revealed: bool
    attendees: tuple[Profile, ...] = ()

    @property
    def active(self) -> bool:
        """Whether the session is still running."""
        return self.status is RoomStatus.ACTIVE

    @property
    def scenario_id(self) -> str:
        """The scenario the room is on."""
        return self.scenario_ids[self.scenario_index]


@dataclass(frozen=True, slots=True)
class Reveal:
    """What the room's choice on a step leads to, and what the others would have.

    ``outcomes`` holds the consequence text of each choice the step offers (Revise only
    when it has revisions); ``majority`` is ``None`` when nobody voted or the top is a
    tie (``leaders`` then names the tied choices); ``right`` is ``None`` without votes.
    ``debrief`` is set after the scenario's last step.
    """

    scenario_id: str
    step_id: str
    tally: RoomTally
    expected: Decision
    majority: Decision | None
    leaders: tuple[Decision, ...]
    right: bool | None
    outcomes: Mapping[Decision, str]
    safe_revision: str | None
    debrief: str | None
    last_step_of_session: bool


@dataclass(frozen=True, slots=True)
class RoomStepSummary:
    """One step of a session, for the summary: the votes, the answer and the notes."""

    scenario_id: str
    scenario_title: str
    step_id: str
    step_number: int
    steps_in_scenario: int
    tally: RoomTally
    expected: Decision
    revealed: bool
    notes: str

    @property
    def outcome(self) -> RoomStepOutcome:
        """How the room did on this step."""
        return RoomStepOutcome(
            self.scenario_id, self.step_id, self.expected, self.tally.total, self.revealed
        )


@dataclass(frozen=True, slots=True)
class SessionSummary:
    """A whole session: every step, the room result and, once ended, the records given."""

    session: RoomSession
    steps: tuple[RoomStepSummary, ...]
    result: RoomResult
    records: tuple[AttendedSession, ...] = field(default=())


class RoomService:
    """Facilitated room sessions; see the module docstring for the rules."""

    def __init__(
        self,
        database: Database,
        library: ContentLibrary,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._database = database
        self._library = library
        self._settings = settings
        self._clock = clock

    @property
    def library(self) -> ContentLibrary:
        """The content the sessions are played from."""
        return self._library

    # Sessions

    def start_session(
        self,
        facilitator: str,
        *,
        track_id: str | None = None,
        scenario_ids: Sequence[str] = (),
        attendees: Iterable[Profile] = (),
        new_attendees: Iterable[str] = (),
    ) -> RoomSession:
        """Start a session on a track or on a list of scenarios (not both).

        ``attendees`` are existing profiles; ``new_attendees`` are names, each the active
        profile of that name or a new one. ``ValueError`` with a message to show when the
        facilitator, the track, a scenario or a name is not right.
        """
        name = _clean_text(facilitator, ACTOR_LENGTH, "The facilitator's name")
        chosen = self._session_scenarios(track_id, scenario_ids)
        people = {p.id: p for p in attendees}
        training = TrainingService(self._database, self._library, self._settings)
        for new_name in new_attendees:
            if new_name.strip():
                profile = training.get_or_create_profile(new_name)
                people.setdefault(profile.id, profile)
        now = self._clock()
        row = RoomSessionRow(
            session_id=uuid.uuid4().hex,
            facilitator=name,
            track_id=track_id,
            scenario_ids=list(chosen),
            status=RoomStatus.ACTIVE.value,
            started_at=now,
        )
        with self._database.write_session() as db:
            db.add(row)
            db.flush()
            assert row.id is not None
            active = set(
                db.exec(
                    select(TraineeRow.id).where(
                        col(TraineeRow.id).in_(list(people)), col(TraineeRow.archived_at).is_(None)
                    )
                ).all()
            )
            missing = [p.display_name for p in people.values() if p.id not in active]
            if missing:
                raise ValueError(f"There is no active trainee '{missing[0]}' any more.")
            for trainee_id in sorted(people):
                db.add(RoomAttendeeRow(room_session_id=row.id, trainee_id=trainee_id, added_at=now))
            db.flush()
            session = self._session(db, row)
        _log.info("room session %s started with %d attendee(s)", row.session_id, len(people))
        return session

    def _session_scenarios(self, track_id: str | None, scenario_ids: Sequence[str]) -> list[str]:
        if track_id is not None and scenario_ids:
            raise ValueError("Choose a track or a list of scenarios, not both.")
        if track_id is not None:
            track = self._library.tracks.get(track_id)
            if track is None:
                raise ValueError(f"There is no track '{track_id}' in the loaded content.")
            chosen = [s for s in track.scenario_ids if s in self._library.scenarios]
            if not chosen:
                raise ValueError(f"The track '{track.title}' has no scenario to play.")
            return chosen
        chosen = []
        for scenario_id in scenario_ids:
            if scenario_id not in self._library.scenarios:
                raise ValueError(f"There is no scenario '{scenario_id}' in the loaded content.")
            if scenario_id not in chosen:
                chosen.append(scenario_id)
        if not chosen:
            raise ValueError("Choose a track or at least one scenario for the session.")
        return chosen

    def session(self, session_id: str) -> RoomSession:
        """The session with this id; ``ValueError`` when there is none."""
        with self._database.read_session() as db:
            return self._session(db, _find(db, session_id))

    def active_sessions(self) -> list[RoomSession]:
        """The sessions running on this database, newest first."""
        return self.sessions(statuses=(RoomStatus.ACTIVE,))

    def sessions(self, statuses: Iterable[RoomStatus] | None = None) -> list[RoomSession]:
        """The sessions (of the given statuses; all by default), newest first."""
        with self._database.read_session() as db:
            query = select(RoomSessionRow).order_by(
                col(RoomSessionRow.started_at).desc(), col(RoomSessionRow.id).desc()
            )
            if statuses is not None:
                query = query.where(col(RoomSessionRow.status).in_([s.value for s in statuses]))
            return [self._session(db, row) for row in db.exec(query).all()]

    def add_attendees(self, session_id: str, profiles: Iterable[Profile]) -> RoomSession:
        """Add attendees to a running session (those already in it stay as they are)."""
        with self._database.write_session() as db:
            row = _find(db, session_id, lock=True)
            _require_active(row)
            assert row.id is not None
            for profile in profiles:
                self._ensure_attendee(db, row.id, profile.id)
            return self._session(db, row)

    # Where the room is

    def current_step(self, session: RoomSession) -> tuple[Scenario, Step]:
        """The scenario and step the room is on."""
        scenario = self._scenario(session.scenario_id)
        return scenario, scenario.steps[session.step_index]

    def go_to(self, session_id: str, scenario_index: int, step_index: int) -> RoomSession:
        """Move the room to a step; ``ValueError`` when the session has no such step."""
        with self._database.write_session() as db:
            row = _find(db, session_id, lock=True)
            _require_active(row)
            if not 0 <= scenario_index < len(row.scenario_ids):
                raise ValueError(f"The session has no scenario number {scenario_index + 1}.")
            scenario = self._scenario(row.scenario_ids[scenario_index])
            if not 0 <= step_index < len(scenario.steps):
                raise ValueError(f"'{scenario.title}' has no step number {step_index + 1}.")
            row.current_scenario = scenario_index
            row.current_step = step_index
            db.add(row)
            db.flush()
            return self._session(db, row)

    def next_step(self, session_id: str) -> RoomSession:
        """Move to the next step (the next scenario's first after a scenario's last)."""
        session = self.session(session_id)
        scenario, _step = self.current_step(session)
        if session.step_index + 1 < len(scenario.steps):
            return self.go_to(session_id, session.scenario_index, session.step_index + 1)
        if session.scenario_index + 1 < len(session.scenario_ids):
            return self.go_to(session_id, session.scenario_index + 1, 0)
        raise ValueError("This is the last step of the session.")

    def previous_step(self, session_id: str) -> RoomSession:
        """Move back one step (to the previous scenario's last from a first step)."""
        session = self.session(session_id)
        if session.step_index > 0:
            return self.go_to(session_id, session.scenario_index, session.step_index - 1)
        if session.scenario_index > 0:
            previous = self._scenario(session.scenario_ids[session.scenario_index - 1])
            return self.go_to(session_id, session.scenario_index - 1, len(previous.steps) - 1)
        raise ValueError("This is the first step of the session.")

    def is_last_step(self, session: RoomSession) -> bool:
        """Whether the room is on the session's last step."""
        scenario, _step = self.current_step(session)
        return (
            session.scenario_index == len(session.scenario_ids) - 1
            and session.step_index == len(scenario.steps) - 1
        )

    # Votes

    def record_room_votes(
        self,
        session_id: str,
        counts: VoteCounts,
        *,
        scenario_id: str | None = None,
        step_id: str | None = None,
    ) -> RoomTally:
        """Set the counts of hands the facilitator saw on a step (the current one by default).

        ``ValueError`` once the step was revealed or the session is over.
        """
        with self._database.write_session() as db:
            row = _find(db, session_id, lock=True)
            _require_active(row)
            assert row.id is not None
            scenario_id, step_id = self._step_ref(row, scenario_id, step_id)
            step_row = _step_row(db, row.id, scenario_id, step_id)
            if step_row is not None and step_row.revealed_at is not None:
                raise ValueError("This step was revealed: its votes can no longer change.")
            if step_row is None:
                step_row = RoomStepRow(
                    room_session_id=row.id, scenario_id=scenario_id, step_id=step_id
                )
            step_row.accept, step_row.revise, step_row.reject = (
                counts.accept,
                counts.revise,
                counts.reject,
            )
            step_row.updated_at = self._clock()
            db.add(step_row)
            db.flush()
            return _tally(db, row.id, scenario_id, step_id)

    def tally(
        self, session_id: str, *, scenario_id: str | None = None, step_id: str | None = None
    ) -> RoomTally:
        """The votes on a step (the current one by default): the room's counts and the apps'."""
        with self._database.read_session() as db:
            row = _find(db, session_id)
            assert row.id is not None
            scenario_id, step_id = self._step_ref(row, scenario_id, step_id)
            return _tally(db, row.id, scenario_id, step_id)

    def cast_vote(
        self,
        session_id: str,
        profile: Profile,
        decision: Decision,
        *,
        scenario_id: str | None = None,
        step_id: str | None = None,
    ) -> RoomTally:
        """An attendee's own vote on the current step, from their app; a second vote
        replaces the first. The voter joins the session's attendees.

        ``scenario_id`` and ``step_id`` name the step the attendee saw: when the room has
        moved on since, the vote is refused (``ValueError``), as it is after the reveal.
        """
        with self._database.write_session() as db:
            # Locked like reveal() locks it, so no vote slips in after the reveal.
            row = _find(db, session_id, lock=True)
            _require_active(row)
            assert row.id is not None
            current = self._step_ref(row, None, None)
            if (scenario_id, step_id) != (None, None) and (scenario_id, step_id) != current:
                raise ValueError("The room has moved on to another step; vote on the new one.")
            step_row = _step_row(db, row.id, *current)
            if step_row is not None and step_row.revealed_at is not None:
                raise ValueError("Voting on this step has closed: it was revealed.")
            values = {
                "room_session_id": row.id,
                "scenario_id": current[0],
                "step_id": current[1],
                "trainee_id": profile.id,
                "decision": decision.value,
                "cast_at": self._clock(),
            }
            self._ensure_attendee(db, row.id, profile.id)
            db.exec(
                self._upsert(
                    RoomVoteRow,
                    values,
                    ["room_session_id", "scenario_id", "step_id", "trainee_id"],
                    ["decision", "cast_at"],
                )
            )
            return _tally(db, row.id, *current)

    def vote_of(self, session_id: str, profile: Profile) -> Decision | None:
        """The trainee's own vote on the current step, if they cast one."""
        with self._database.read_session() as db:
            row = _find(db, session_id)
            scenario_id, step_id = self._step_ref(row, None, None)
            found = db.exec(
                select(RoomVoteRow.decision).where(
                    RoomVoteRow.room_session_id == row.id,
                    RoomVoteRow.scenario_id == scenario_id,
                    RoomVoteRow.step_id == step_id,
                    RoomVoteRow.trainee_id == profile.id,
                )
            ).first()
            return None if found is None else Decision(found)

    # Reveal and notes

    def reveal(self, session_id: str) -> Reveal:
        """Close voting on the current step and say what the room's choice leads to.

        Revealing again returns the same; the step keeps its first reveal time.
        """
        with self._database.write_session() as db:
            row = _find(db, session_id, lock=True)
            _require_active(row)
            assert row.id is not None
            scenario_id, step_id = self._step_ref(row, None, None)
            step_row = _step_row(db, row.id, scenario_id, step_id)
            if step_row is None:
                step_row = RoomStepRow(
                    room_session_id=row.id, scenario_id=scenario_id, step_id=step_id
                )
            if step_row.revealed_at is None:
                step_row.revealed_at = self._clock()
                step_row.updated_at = step_row.revealed_at
                db.add(step_row)
                db.flush()
            tally = _tally(db, row.id, scenario_id, step_id)
            session = self._session(db, row)
        return self._reveal(session, tally)

    def _reveal(self, session: RoomSession, tally: RoomTally) -> Reveal:
        scenario, step = self.current_step(session)
        outcomes: dict[Decision, str] = {
            Decision.ACCEPT: step.if_accepted,
            Decision.REJECT: step.if_rejected,
        }
        if step.revisions:
            outcomes[Decision.REVISE] = step.if_revised or ""
        safe = step.correct_revision_index
        total = tally.total
        last_of_scenario = session.step_index == len(scenario.steps) - 1
        return Reveal(
            scenario_id=scenario.id,
            step_id=step.id,
            tally=tally,
            expected=step.answer,
            majority=total.majority,
            leaders=total.leaders(),
            right=None if total.total == 0 else total.majority is step.answer,
            outcomes=outcomes,
            safe_revision=step.revisions[safe].text if safe is not None else None,
            debrief=scenario.debrief if last_of_scenario else None,
            last_step_of_session=self.is_last_step(session),
        )

    def save_notes(
        self,
        session_id: str,
        text: str,
        *,
        scenario_id: str | None = None,
        step_id: str | None = None,
    ) -> None:
        """Keep the discussion notes of a step (the current one by default)."""
        if len(text) > MAX_NOTES_LENGTH:
            raise ValueError(f"Notes can have at most {MAX_NOTES_LENGTH} characters per step.")
        with self._database.write_session() as db:
            row = _find(db, session_id, lock=True)
            _require_active(row)
            assert row.id is not None
            scenario_id, step_id = self._step_ref(row, scenario_id, step_id)
            step_row = _step_row(db, row.id, scenario_id, step_id)
            if step_row is None:
                step_row = RoomStepRow(
                    room_session_id=row.id, scenario_id=scenario_id, step_id=step_id
                )
            if step_row.notes != text:
                step_row.notes = text
                step_row.updated_at = self._clock()
                db.add(step_row)

    def notes(
        self, session_id: str, *, scenario_id: str | None = None, step_id: str | None = None
    ) -> str:
        """The notes kept for a step (the current one by default)."""
        with self._database.read_session() as db:
            row = _find(db, session_id)
            assert row.id is not None
            scenario_id, step_id = self._step_ref(row, scenario_id, step_id)
            step_row = _step_row(db, row.id, scenario_id, step_id)
            return "" if step_row is None else step_row.notes

    # The end, the summary and the next group

    def end_session(self, session_id: str) -> SessionSummary:
        """End the session: every attendee gets one "attended session" record.

        Ending an ended session again changes nothing and returns its summary;
        ``ValueError`` for a session that was reset (abandoned).
        """
        now = self._clock()
        with self._database.write_session() as db:
            row = _find(db, session_id, lock=True)
            if row.status == RoomStatus.ENDED.value:
                return self._summary(db, row)
            _require_active(row)
            assert row.id is not None
            steps = self._step_summaries(db, row)
            result = room_result(step.outcome for step in steps)
            row.status = RoomStatus.ENDED.value
            row.ended_at = now
            db.add(row)
            attendee_ids = sorted(
                db.exec(
                    select(RoomAttendeeRow.trainee_id).where(
                        RoomAttendeeRow.room_session_id == row.id
                    )
                ).all()
            )
            # Trainees are locked in id order, so two sessions ending at once never deadlock.
            for trainee_id in attendee_ids:
                trainee = lock_trainee(db, trainee_id)
                event = EventRow(
                    event_id=uuid.uuid4().hex,
                    trainee_id=trainee_id,
                    kind=ATTENDED_EVENT_KIND,
                    track_id=row.track_id,
                    reason=ATTENDED_REASON,
                    actor=row.facilitator,
                    created_at=now,
                    details={
                        "session_id": row.session_id,
                        "scenario_ids": list(row.scenario_ids),
                        "steps_counted": result.steps_counted,
                        "steps_right": result.steps_right,
                        "attended_on": now.date().isoformat(),
                    },
                    # Placeholders: append() sets the chain place.
                    chain_seq=0,
                    previous_hash="",
                    record_hash="",
                )
                append(db, trainee, event)
                db.add(
                    RoomAttendanceRow(
                        room_session_id=row.id,
                        trainee_id=trainee_id,
                        event_id=event.event_id,
                        track_id=row.track_id,
                        facilitator=row.facilitator,
                        attended_at=now,
                        steps_counted=result.steps_counted,
                        steps_right=result.steps_right,
                        room_result=None if result.share is None else round(result.share, 4),
                    )
                )
            db.flush()
            summary = self._summary(db, row)
        _log.info(
            "room session %s ended: %d attendance record(s)", row.session_id, len(attendee_ids)
        )
        return summary

    def summary(self, session_id: str) -> SessionSummary:
        """The session's steps, votes, notes and room result (and records, once ended)."""
        with self._database.read_session() as db:
            return self._summary(db, _find(db, session_id))

    def reset_room(self, session_id: str | None) -> RoomSession | None:
        """Make the room ready for the next group.

        A session that is still running is abandoned: kept with its votes and notes, but
        it gives nobody an attendance record. Ended sessions stay as they are. Returns the
        session as it is now (``None`` when none was given).
        """
        if session_id is None:
            return None
        with self._database.write_session() as db:
            row = _find(db, session_id, lock=True)
            if row.status == RoomStatus.ACTIVE.value:
                row.status = RoomStatus.ABANDONED.value
                row.ended_at = self._clock()
                db.add(row)
                db.flush()
                _log.info("room session %s reset before it ended", row.session_id)
            return self._session(db, row)

    # Records

    def attended_sessions(
        self,
        *,
        trainee_ids: Sequence[int] | None = None,
        track_id: str | None = None,
        since: datetime | None = None,
    ) -> list[AttendedSession]:
        """The "attended session" records, oldest first, optionally narrowed."""
        with self._database.read_session() as db:
            return load_attended(
                db, self._library, trainee_ids=trainee_ids, track_id=track_id, since=since
            )

    # Helpers

    def _scenario(self, scenario_id: str) -> Scenario:
        scenario = self._library.scenarios.get(scenario_id)
        if scenario is None:
            raise ValueError(
                f"The scenario '{scenario_id}' of this session is no longer in the loaded content."
            )
        return scenario

    def _step_ref(
        self, row: RoomSessionRow, scenario_id: str | None, step_id: str | None
    ) -> tuple[str, str]:
        if scenario_id is None and step_id is None:
            scenario = self._scenario(row.scenario_ids[row.current_scenario])
            return scenario.id, scenario.steps[row.current_step].id
        if scenario_id is None or step_id is None or scenario_id not in row.scenario_ids:
            raise ValueError("The session has no such step.")
        try:
            self._scenario(scenario_id).step(step_id)
        except KeyError:
            raise ValueError(f"'{scenario_id}' has no step '{step_id}'.") from None
        return scenario_id, step_id

    def _ensure_attendee(self, db: Session, room_session_id: int, trainee_id: int) -> None:
        db.exec(
            self._upsert(
                RoomAttendeeRow,
                {
                    "room_session_id": room_session_id,
                    "trainee_id": trainee_id,
                    "added_at": self._clock(),
                },
                ["room_session_id", "trainee_id"],
                [],
            )
        )

    def _upsert(
        self,
        table: type[Any],
        values: dict[str, Any],
        conflict: list[str],
        update: list[str],
    ) -> UpdateBase:
        # INSERT ... ON CONFLICT on both dialects: also settles two machines racing.
        if self._database.dialect_name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            pg_statement = pg_insert(table).values(values)
            if not update:
                return pg_statement.on_conflict_do_nothing(index_elements=conflict)
            return pg_statement.on_conflict_do_update(
                index_elements=conflict, set_={name: values[name] for name in update}
            )
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        statement = sqlite_insert(table).values(values)
        if not update:
            return statement.on_conflict_do_nothing(index_elements=conflict)
        return statement.on_conflict_do_update(
            index_elements=conflict, set_={name: values[name] for name in update}
        )

    def _session(self, db: Session, row: RoomSessionRow) -> RoomSession:
        assert row.id is not None
        trainees = db.exec(
            select(TraineeRow)
            .join(RoomAttendeeRow, col(RoomAttendeeRow.trainee_id) == col(TraineeRow.id))
            .where(RoomAttendeeRow.room_session_id == row.id)
        ).all()
        attendees = sorted(
            (t.to_profile() for t in trainees), key=lambda p: (p.display_name.casefold(), p.id)
        )
        track = self._library.tracks.get(row.track_id) if row.track_id else None
        revealed = False
        scenario = self._library.scenarios.get(row.scenario_ids[row.current_scenario])
        if scenario is not None and row.current_step < len(scenario.steps):
            step_row = _step_row(db, row.id, scenario.id, scenario.steps[row.current_step].id)
            revealed = step_row is not None and step_row.revealed_at is not None
        return RoomSession(
            session_id=row.session_id,
            facilitator=row.facilitator,
            track_id=row.track_id,
            track_title=track.title if track is not None else None,
            scenario_ids=tuple(row.scenario_ids),
            status=RoomStatus(row.status),
            started_at=row.started_at,
            ended_at=row.ended_at,
            scenario_index=row.current_scenario,
            step_index=row.current_step,
            current_revealed=revealed,
            attendees=tuple(attendees),
        )

    def _step_summaries(self, db: Session, row: RoomSessionRow) -> list[RoomStepSummary]:
        assert row.id is not None
        step_rows = {
            (s.scenario_id, s.step_id): s
            for s in db.exec(select(RoomStepRow).where(RoomStepRow.room_session_id == row.id))
        }
        app_votes = _app_votes(db, row.id)
        summaries = []
        for scenario_id in row.scenario_ids:
            scenario = self._library.scenarios.get(scenario_id)
            if scenario is None:
                continue
            for position, step in enumerate(scenario.steps, start=1):
                found = step_rows.get((scenario_id, step.id))
                room = (
                    VoteCounts(found.accept, found.revise, found.reject)
                    if found is not None
                    else VoteCounts()
                )
                summaries.append(
                    RoomStepSummary(
                        scenario_id=scenario_id,
                        scenario_title=scenario.title,
                        step_id=step.id,
                        step_number=position,
                        steps_in_scenario=len(scenario.steps),
                        tally=RoomTally(room, app_votes.get((scenario_id, step.id), VoteCounts())),
                        expected=step.answer,
                        revealed=found is not None and found.revealed_at is not None,
                        notes=found.notes if found is not None else "",
                    )
                )
        return summaries

    def _summary(self, db: Session, row: RoomSessionRow) -> SessionSummary:
        steps = self._step_summaries(db, row)
        records: list[AttendedSession] = []
        if row.status == RoomStatus.ENDED.value:
            event_ids = db.exec(
                select(RoomAttendanceRow.event_id).where(
                    RoomAttendanceRow.room_session_id == row.id
                )
            ).all()
            records = load_attended(db, self._library, event_ids=list(event_ids))
        return SessionSummary(
            session=self._session(db, row),
            steps=tuple(steps),
            result=room_result(step.outcome for step in steps),
            records=tuple(records),
        )


# Reading the records (also for app.services.exports)


def load_attended(
    db: Session,
    library: ContentLibrary,
    *,
    trainee_ids: Sequence[int] | None = None,
    track_id: str | None = None,
    since: datetime | None = None,
    event_ids: Sequence[str] | None = None,
) -> list[AttendedSession]:
    """The "attended session" records, read from the chained events, oldest first.

    They are read from the events (not from ``room_attendance``) so that records that
    came in a records bundle from another machine count too.
    """
    query = (
        select(EventRow, TraineeRow)
        .join(TraineeRow, col(TraineeRow.id) == col(EventRow.trainee_id))
        .where(EventRow.kind == ATTENDED_EVENT_KIND)
        .order_by(col(EventRow.created_at), col(EventRow.id))
    )
    if trainee_ids is not None:
        query = query.where(col(EventRow.trainee_id).in_(list(trainee_ids)))
    if track_id is not None:
        query = query.where(EventRow.track_id == track_id)
    if since is not None:
        query = query.where(col(EventRow.created_at) >= since)
    if event_ids is not None:
        query = query.where(col(EventRow.event_id).in_(list(event_ids)))
    found = []
    for event, trainee in db.exec(query).all():
        details = event.details if isinstance(event.details, dict) else {}
        track = library.tracks.get(event.track_id) if event.track_id else None
        scenario_ids = details.get("scenario_ids")
        found.append(
            AttendedSession(
                event_id=event.event_id,
                session_id=str(details.get("session_id", "")),
                trainee_uid=trainee.uid,
                trainee_name=trainee.display_name,
                trainee_email_or_id=trainee.email_or_id,
                trainee_team=trainee.team,
                track_id=event.track_id,
                track_title=track.title if track is not None else None,
                scenario_ids=tuple(str(s) for s in scenario_ids)
                if isinstance(scenario_ids, list)
                else (),
                attended_at=event.created_at,
                facilitator=event.actor,
                steps_counted=_count(details.get("steps_counted")),
                steps_right=_count(details.get("steps_right")),
                record_hash=event.record_hash,
            )
        )
    return found


def attended_in_scope(
    database: Database, library: ContentLibrary, scope: RecordScope
) -> list[AttendedSession]:
    """The "attended session" records an export of ``scope`` covers."""
    with database.read_session() as db:
        return load_attended(
            db,
            library,
            trainee_ids=scope.trainee_ids,
            track_id=scope.track_filter,
            since=scope.since,
        )


def attended_session_json(record: AttendedSession) -> dict[str, Any]:
    """An attended-session record as the JSON export writes it."""
    return {
        "event_id": record.event_id,
        "session_id": record.session_id,
        "trainee_uid": record.trainee_uid,
        "trainee_name": record.trainee_name,
        "trainee_email_or_id": record.trainee_email_or_id,
        "trainee_team": record.trainee_team,
        "track_id": record.track_id,
        "track_title": record.track_title,
        "scenario_ids": list(record.scenario_ids),
        "attended_at": iso_time(record.attended_at),
        "facilitator": record.facilitator,
        "steps_counted": record.steps_counted,
        "steps_right": record.steps_right,
        "room_result": number(record.room_result),
        "record_hash": record.record_hash,
    }


def write_sessions_csv(records: Iterable[AttendedSession], out: BinaryIO) -> int:
    """One CSV row per attended-session record (``--detail sessions``); returns the rows."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
    try:
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow(SESSION_CSV_COLUMNS)
        count = 0
        for record in records:
            share = record.room_result
            writer.writerow(
                [
                    record.event_id,
                    record.session_id,
                    safe_cell(record.trainee_name),
                    safe_cell(record.trainee_email_or_id or ""),
                    safe_cell(record.trainee_team or ""),
                    record.trainee_uid,
                    safe_cell(record.track_id or ""),
                    safe_cell(record.track_title or ""),
                    safe_cell(";".join(record.scenario_ids)),
                    iso_utc(record.attended_at),
                    safe_cell(record.facilitator),
                    str(record.steps_counted),
                    str(record.steps_right),
                    "" if share is None else f"{share:.4f}",
                ]
            )
            count += 1
        text.flush()
    finally:
        text.detach()
    return count


def attended_statements(
    records: Iterable[AttendedSession], profiles: Mapping[str, Profile], home_page: str
) -> Iterator[dict[str, object]]:
    """An xAPI statement (verb *attended*) per record whose trainee is in ``profiles``."""
    for record in records:
        profile = profiles.get(record.trainee_uid)
        if profile is not None:
            yield attended_statement(record, profile, home_page)


# Small helpers


def _find(db: Session, session_id: str, *, lock: bool = False) -> RoomSessionRow:
    statement = (
        select(RoomSessionRow)
        .where(RoomSessionRow.session_id == session_id)
        .execution_options(populate_existing=True)
    )
    if lock and db.get_bind().dialect.name == "postgresql":
        statement = statement.with_for_update()
    row = db.exec(statement).first()
    if row is None:
        raise ValueError(f"There is no room session {session_id}.")
    return row


def _require_active(row: RoomSessionRow) -> None:
    if row.status == RoomStatus.ENDED.value:
        raise ValueError("This session has ended.")
    if row.status != RoomStatus.ACTIVE.value:
        raise ValueError("This session was reset; start a new one.")


def _step_row(
    db: Session, room_session_id: int, scenario_id: str, step_id: str
) -> RoomStepRow | None:
    return db.exec(
        select(RoomStepRow)
        .where(
            RoomStepRow.room_session_id == room_session_id,
            RoomStepRow.scenario_id == scenario_id,
            RoomStepRow.step_id == step_id,
        )
        .execution_options(populate_existing=True)
    ).first()


def _app_votes(
    db: Session,
    room_session_id: int,
    scenario_id: str | None = None,
    step_id: str | None = None,
) -> dict[tuple[str, str], VoteCounts]:
    query = (
        select(
            RoomVoteRow.scenario_id,
            RoomVoteRow.step_id,
            RoomVoteRow.decision,
            func.count(col(RoomVoteRow.id)),
        )
        .where(RoomVoteRow.room_session_id == room_session_id)
        .group_by(col(RoomVoteRow.scenario_id), col(RoomVoteRow.step_id), col(RoomVoteRow.decision))
    )
    if scenario_id is not None and step_id is not None:
        query = query.where(RoomVoteRow.scenario_id == scenario_id, RoomVoteRow.step_id == step_id)
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for found_scenario, found_step, decision, count in db.exec(query).all():
        counts[(found_scenario, found_step)][decision] = min(MAX_ROOM_COUNT, int(count))
    return {key: VoteCounts(**value) for key, value in counts.items()}


def _tally(db: Session, room_session_id: int, scenario_id: str, step_id: str) -> RoomTally:
    step_row = _step_row(db, room_session_id, scenario_id, step_id)
    room = (
        VoteCounts(step_row.accept, step_row.revise, step_row.reject)
        if step_row is not None
        else VoteCounts()
    )
    apps = _app_votes(db, room_session_id, scenario_id, step_id).get(
        (scenario_id, step_id), VoteCounts()
    )
    return RoomTally(room=room, apps=apps)


def _count(value: object) -> int:
    return value if isinstance(value, int) and value >= 0 else 0


def _clean_text(value: str, limit: int, what: str) -> str:
    cleaned = value.strip()
    if not cleaned:
        raise ValueError(f"{what} cannot be empty.")
    if len(cleaned) > limit:
        raise ValueError(f"{what} can have at most {limit} characters.")
    if any(unicodedata.category(char) in {"Cc", "Zl", "Zp"} for char in cleaned):
        raise ValueError(f"{what} cannot contain line breaks or other control characters.")
    return cleaned

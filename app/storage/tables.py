"""The database tables, written for SQLite and PostgreSQL alike.

The schema itself is created and changed only by the Alembic revisions in
``app/storage/migrations``; these classes describe it for queries. Strings carry lengths
(PostgreSQL enforces them), times are timezone-aware UTC, JSON lists become JSONB on
PostgreSQL, and every constraint gets a name so that later batch migrations on SQLite can
drop or change it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Index, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from app.core.chain import GENESIS
from app.core.judging import Verdict
from app.core.model import Decision
from app.core.records import AnswerRecord, Profile

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
# Set before any table is defined, so every constraint below is named by it.
SQLModel.metadata.naming_convention = NAMING_CONVENTION

UID_LENGTH = 32
NAME_LENGTH = 80
EMAIL_OR_ID_LENGTH = 254
TEAM_LENGTH = 80
# The content contract allows 64 characters for ids; the margin costs nothing.
CONTENT_ID_LENGTH = 100
DECISION_LENGTH = 16
VERDICT_LENGTH = 24
HASH_LENGTH = 64
CHECK_LABEL_LENGTH = 200
EVENT_KIND_LENGTH = 16
ACTOR_LENGTH = 80
COHORT_NAME_LENGTH = 80
CERTIFICATE_ID_LENGTH = 16
PASSPHRASE_HASH_LENGTH = 255
# "attended": a facilitated room session, recorded by app.services.room (revision 0003).
EVENT_KINDS = ("waive", "reset", "correct", "attended")
ROOM_STATUS_LENGTH = 16
# The longest completion status ("not started", "in progress") with a margin.
STANDING_STATUS_LENGTH = 16


def _json_list() -> Any:
    # SQL NULL (not JSON null) for None, so "flags not given" is a plain IS NULL.
    return JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")


def _json_object() -> Any:
    return JSON().with_variant(JSONB(), "postgresql")


def utc_now() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class TraineeRow(SQLModel, table=True):
    """A trainee profile. ``uid`` identifies the trainee across machines and exports.

    Active names are unique ignoring case; the service checks that (Unicode case folding
    is beyond what SQLite's ``lower()`` does), so there is no index for it.
    """

    __tablename__ = "trainee"

    id: int | None = Field(default=None, primary_key=True)
    uid: str = Field(max_length=UID_LENGTH, unique=True)
    display_name: str = Field(max_length=NAME_LENGTH)
    email_or_id: str | None = Field(default=None, max_length=EMAIL_OR_ID_LENGTH)
    team: str | None = Field(default=None, max_length=TEAM_LENGTH)
    created_at: datetime = Field(default_factory=utc_now)
    archived_at: datetime | None = Field(default=None)
    # The newest record of this trainee's hash chain and how many records it holds:
    # kept here so that a removed newest record is noticed too (see app.storage.ledger).
    chain_head: str = Field(
        default=GENESIS,
        max_length=HASH_LENGTH,
        sa_column_kwargs={"server_default": text(f"'{GENESIS}'")},
    )
    chain_length: int = Field(default=0, sa_column_kwargs={"server_default": text("0")})

    def to_profile(self) -> Profile:
        """This row as the core's plain value."""
        if self.id is None:
            raise ValueError("the trainee has not been saved yet")
        return Profile(
            id=self.id,
            uid=self.uid,
            display_name=self.display_name,
            created_at=self.created_at,
            email_or_id=self.email_or_id,
            team=self.team,
        )


class AnswerRow(SQLModel, table=True):
    """One submitted step. Rows are only ever added, never changed."""

    __tablename__ = "answer"
    __table_args__ = (
        Index("ix_answer_trainee_id_scenario_id", "trainee_id", "scenario_id"),
        Index("ix_answer_answered_at", "answered_at"),
        Index("uq_answer_trainee_id_chain_seq", "trainee_id", "chain_seq", unique=True),
        CheckConstraint("decision IN ('accept', 'revise', 'reject')", name="decision"),
        CheckConstraint(
            "expected IS NULL OR expected IN ('accept', 'revise', 'reject')", name="expected"
        ),
        CheckConstraint(
            "confidence IS NULL OR (confidence >= 50 AND confidence <= 100)", name="confidence"
        ),
        CheckConstraint("seconds >= 0", name="seconds"),
    )

    id: int | None = Field(default=None, primary_key=True)
    attempt_id: str = Field(max_length=UID_LENGTH, unique=True)
    play_id: str = Field(max_length=UID_LENGTH)
    trainee_id: int = Field(foreign_key="trainee.id")
    scenario_id: str = Field(max_length=CONTENT_ID_LENGTH)
    scenario_version: int
    pack_id: str = Field(max_length=CONTENT_ID_LENGTH)
    step_id: str = Field(max_length=CONTENT_ID_LENGTH)
    decision: str = Field(max_length=DECISION_LENGTH)
    # The answer key at the time of answering, so the row stays meaningful if content changes.
    expected: str | None = Field(default=None, max_length=DECISION_LENGTH)
    revision_index: int | None = Field(default=None)
    revision_text: str | None = Field(default=None, sa_type=Text)
    correct: bool
    verdict: str = Field(max_length=VERDICT_LENGTH)
    flags_chosen: list[str] | None = Field(default=None, sa_type=_json_list())
    flags_missed: list[str] = Field(default_factory=list, sa_type=_json_list(), nullable=False)
    flags_true: list[str] = Field(default_factory=list, sa_type=_json_list(), nullable=False)
    confidence: int | None = Field(default=None)
    seconds: float
    answered_at: datetime = Field(default_factory=utc_now)
    # Labels of the costed checks made before deciding, and their simulated minutes.
    checks_made: list[str] = Field(
        default_factory=list,
        sa_type=_json_list(),
        nullable=False,
        sa_column_kwargs={"server_default": text("'[]'")},
    )
    check_minutes: int = Field(default=0, sa_column_kwargs={"server_default": text("0")})
    hint_taken: bool = Field(default=False, sa_column_kwargs={"server_default": text("false")})
    # Place in the trainee's hash chain; set by app.storage.ledger, never by hand.
    chain_seq: int
    previous_hash: str = Field(max_length=HASH_LENGTH)
    record_hash: str = Field(max_length=HASH_LENGTH)

    def to_record(self) -> AnswerRecord:
        """This row as the core's plain value."""
        return AnswerRecord(
            attempt_id=self.attempt_id,
            play_id=self.play_id,
            trainee_id=self.trainee_id,
            scenario_id=self.scenario_id,
            scenario_version=self.scenario_version,
            step_id=self.step_id,
            decision=Decision(self.decision),
            correct=self.correct,
            flags_missed=tuple(self.flags_missed),
            seconds=self.seconds,
            answered_at=self.answered_at,
            revision_index=self.revision_index,
            revision_text=self.revision_text,
            flags_chosen=None if self.flags_chosen is None else tuple(self.flags_chosen),
            confidence=self.confidence,
            expected=None if self.expected is None else Decision(self.expected),
            flags_true=tuple(self.flags_true),
            checks_made=tuple(self.checks_made),
            check_minutes=self.check_minutes,
            hint_taken=self.hint_taken,
            verdict=Verdict(self.verdict),
        )


class LessonReadRow(SQLModel, table=True):
    """A lesson a trainee has read; one row per trainee and lesson."""

    __tablename__ = "lesson_read"
    __table_args__ = (UniqueConstraint("trainee_id", "lesson_id"),)

    id: int | None = Field(default=None, primary_key=True)
    trainee_id: int = Field(foreign_key="trainee.id")
    lesson_id: str = Field(max_length=CONTENT_ID_LENGTH)
    read_at: datetime = Field(default_factory=utc_now)


class EventRow(SQLModel, table=True):
    """A manager's waiver, reset or correction: added to the trainee's chain, never changed.

    ``details`` holds what the kind needs (a correction names the answer it voids).
    """

    __tablename__ = "event"
    __table_args__ = (
        Index("uq_event_trainee_id_chain_seq", "trainee_id", "chain_seq", unique=True),
        CheckConstraint("kind IN ('waive', 'reset', 'correct', 'attended')", name="kind"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(max_length=UID_LENGTH, unique=True)
    trainee_id: int = Field(foreign_key="trainee.id")
    kind: str = Field(max_length=EVENT_KIND_LENGTH)
    track_id: str | None = Field(default=None, max_length=CONTENT_ID_LENGTH)
    reason: str = Field(sa_type=Text)
    actor: str = Field(max_length=ACTOR_LENGTH)
    created_at: datetime = Field(default_factory=utc_now)
    details: dict[str, Any] = Field(default_factory=dict, sa_type=_json_object(), nullable=False)
    chain_seq: int
    previous_hash: str = Field(max_length=HASH_LENGTH)
    record_hash: str = Field(max_length=HASH_LENGTH)


class CohortRow(SQLModel, table=True):
    """A group of trainees with assigned tracks; archived when the group has finished."""

    __tablename__ = "cohort"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=COHORT_NAME_LENGTH, unique=True)
    due_at: datetime | None = Field(default=None)
    created_at: datetime = Field(default_factory=utc_now)
    archived_at: datetime | None = Field(default=None)


class CohortMemberRow(SQLModel, table=True):
    """A trainee in a cohort."""

    __tablename__ = "cohort_member"
    __table_args__ = (
        UniqueConstraint("cohort_id", "trainee_id"),
        Index("ix_cohort_member_trainee_id", "trainee_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohort.id")
    trainee_id: int = Field(foreign_key="trainee.id")


class CohortTrackRow(SQLModel, table=True):
    """A track assigned to a cohort; its due date, when set, replaces the cohort's."""

    __tablename__ = "cohort_track"
    __table_args__ = (UniqueConstraint("cohort_id", "track_id"),)

    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int = Field(foreign_key="cohort.id")
    track_id: str = Field(max_length=CONTENT_ID_LENGTH)
    due_at: datetime | None = Field(default=None)


class ManagerCredentialRow(SQLModel, table=True):
    """The manager passphrase (a salted scrypt hash only) and the wrong tries since."""

    __tablename__ = "manager_credential"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: int = Field(default=1, primary_key=True)
    passphrase_hash: str = Field(max_length=PASSPHRASE_HASH_LENGTH)
    failed_attempts: int = Field(default=0)
    last_failed_at: datetime | None = Field(default=None)
    updated_at: datetime = Field(default_factory=utc_now)


class CertificateRow(SQLModel, table=True):
    """A certificate issued for a passed track; one per trainee, track and track content.

    ``chain_head`` is the trainee's chain head when it was issued and is covered by
    ``verification_hash``, which ties the certificate to the records behind it.
    """

    __tablename__ = "certificate"
    __table_args__ = (UniqueConstraint("trainee_id", "track_id", "content_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    certificate_id: str = Field(max_length=CERTIFICATE_ID_LENGTH, unique=True)
    trainee_id: int = Field(foreign_key="trainee.id")
    track_id: str = Field(max_length=CONTENT_ID_LENGTH)
    content_hash: str = Field(max_length=HASH_LENGTH)
    score: float
    issued_at: datetime = Field(default_factory=utc_now)
    chain_head: str = Field(max_length=HASH_LENGTH)
    verification_hash: str = Field(max_length=HASH_LENGTH)


# Facilitated room sessions (revision 0003). See app.services.room.


class RoomSessionRow(SQLModel, table=True):
    """A facilitated session: who runs it, what it covers, and where the room is now.

    ``scenario_ids`` are the scenarios in session order (a track's, or a chosen list);
    ``current_scenario`` and ``current_step`` are indexes into them, so that attendees'
    apps on a shared database know which step is being voted on.
    """

    __tablename__ = "room_session"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'ended', 'abandoned')", name="status"),
        Index("ix_room_session_status", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    session_id: str = Field(max_length=UID_LENGTH, unique=True)
    facilitator: str = Field(max_length=ACTOR_LENGTH)
    track_id: str | None = Field(default=None, max_length=CONTENT_ID_LENGTH)
    scenario_ids: list[str] = Field(default_factory=list, sa_type=_json_list(), nullable=False)
    status: str = Field(max_length=ROOM_STATUS_LENGTH)
    started_at: datetime = Field(default_factory=utc_now)
    ended_at: datetime | None = Field(default=None)
    current_scenario: int = Field(default=0)
    current_step: int = Field(default=0)


class RoomAttendeeRow(SQLModel, table=True):
    """A trainee taking part in a room session (chosen at the start, or joined by voting)."""

    __tablename__ = "room_attendee"
    __table_args__ = (UniqueConstraint("room_session_id", "trainee_id"),)

    id: int | None = Field(default=None, primary_key=True)
    room_session_id: int = Field(foreign_key="room_session.id")
    trainee_id: int = Field(foreign_key="trainee.id")
    added_at: datetime = Field(default_factory=utc_now)


class RoomStepRow(SQLModel, table=True):
    """One step of a session: the counts the facilitator entered, notes, and the reveal."""

    __tablename__ = "room_step"
    __table_args__ = (
        UniqueConstraint("room_session_id", "scenario_id", "step_id"),
        CheckConstraint("accept >= 0 AND revise >= 0 AND reject >= 0", name="counts"),
    )

    id: int | None = Field(default=None, primary_key=True)
    room_session_id: int = Field(foreign_key="room_session.id")
    scenario_id: str = Field(max_length=CONTENT_ID_LENGTH)
    step_id: str = Field(max_length=CONTENT_ID_LENGTH)
    accept: int = Field(default=0)
    revise: int = Field(default=0)
    reject: int = Field(default=0)
    notes: str = Field(default="", sa_type=Text)
    revealed_at: datetime | None = Field(default=None)
    updated_at: datetime = Field(default_factory=utc_now)


class RoomVoteRow(SQLModel, table=True):
    """A vote an attendee cast from their own app; one per attendee and step."""

    __tablename__ = "room_vote"
    __table_args__ = (
        UniqueConstraint("room_session_id", "scenario_id", "step_id", "trainee_id"),
        CheckConstraint("decision IN ('accept', 'revise', 'reject')", name="decision"),
    )

    id: int | None = Field(default=None, primary_key=True)
    room_session_id: int = Field(foreign_key="room_session.id")
    scenario_id: str = Field(max_length=CONTENT_ID_LENGTH)
    step_id: str = Field(max_length=CONTENT_ID_LENGTH)
    trainee_id: int = Field(foreign_key="trainee.id")
    decision: str = Field(max_length=DECISION_LENGTH)
    cast_at: datetime = Field(default_factory=utc_now)


class RoomAttendanceRow(SQLModel, table=True):
    """An "attended session" record: which chained event of the trainee's says so.

    The record itself is the ``attended`` event in the trainee's hash chain (its details
    hold the session, track, facilitator and room result); this row ties it to the
    session, so a session gives each attendee one record however often it is ended.
    """

    __tablename__ = "room_attendance"
    __table_args__ = (
        UniqueConstraint("room_session_id", "trainee_id"),
        Index("ix_room_attendance_trainee_id", "trainee_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    room_session_id: int = Field(foreign_key="room_session.id")
    trainee_id: int = Field(foreign_key="trainee.id")
    event_id: str = Field(max_length=UID_LENGTH, unique=True)
    track_id: str | None = Field(default=None, max_length=CONTENT_ID_LENGTH)
    facilitator: str = Field(max_length=ACTOR_LENGTH)
    attended_at: datetime
    steps_counted: int
    steps_right: int
    # steps_right / steps_counted, kept for queries; None when no step counted.
    room_result: float | None = Field(default=None)


# Cached track standings (revision 0004). See app.services.standings.


class TrackStandingRow(SQLModel, table=True):
    """A trainee's standing on one track, cached: derived data, never a record of its own.

    The values are those ``app.core.completion`` computes from the trainee's answers,
    lessons read and manager events; they are kept only so that a completion table for
    many trainees need not replay every history. A row counts only while its
    ``history_mark`` (the trainee's chain head and lessons read, see
    ``app.services.standings``), ``content_hash`` and ``rules_key`` (the track's content
    and the counting rules) still match; otherwise it is recomputed and rewritten. Rows
    can be deleted at any time without losing anything, and ``records verify`` does not
    cover them.
    """

    __tablename__ = "track_standing"

    trainee_id: int = Field(foreign_key="trainee.id", primary_key=True)
    track_id: str = Field(max_length=CONTENT_ID_LENGTH, primary_key=True)
    history_mark: str = Field(max_length=HASH_LENGTH)
    content_hash: str = Field(max_length=HASH_LENGTH)
    rules_key: str = Field(max_length=HASH_LENGTH)
    status: str = Field(max_length=STANDING_STATUS_LENGTH)
    items_done: int
    items_total: int
    score: float | None = Field(default=None)
    over_trust_rate: float | None = Field(default=None)
    under_trust_rate: float | None = Field(default=None)
    first_started: datetime | None = Field(default=None)
    completed_at: datetime | None = Field(default=None)
    seconds_spent: float
    last_activity: datetime | None = Field(default=None)
    computed_at: datetime = Field(default_factory=utc_now)

"""Facilitated room sessions as plain values: vote counts, the room's majority and result.

A room votes on each step: the facilitator enters counts of hands, and attendees with the
app on a shared database may vote from their own machines; both add up. The room's
majority is the decision with the most votes; a tie at the top is no majority. A step
counts towards the room result once it was revealed with at least one vote, and it is
right when the majority is the step's answer (a room that revises is taken to pick the
safe revision, which the facilitator shows at the reveal). The room result is the share
of counted steps the room got right.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from app.core.model import Decision
from app.core.records import Profile
from app.core.xapi import (
    LANGUAGE,
    PLATFORM,
    STATEMENT_NAMESPACE,
    XAPI_VERSION,
    actor,
    iso_timestamp,
)

MAX_ROOM_COUNT = 999
VERB_ATTENDED = "http://adlnet.gov/expapi/verbs/attended"
ACTIVITY_MEETING = "http://adlnet.gov/expapi/activities/meeting"
ACTIVITY_COURSE = "http://adlnet.gov/expapi/activities/course"
ATTENDED_EVENT_KIND = "attended"


class RoomStatus(StrEnum):
    """Where a room session stands."""

    ACTIVE = "active"
    ENDED = "ended"
    # Reset before it was ended: kept, but nobody got an attendance record from it.
    ABANDONED = "abandoned"


@dataclass(frozen=True, slots=True)
class VoteCounts:
    """How many votes each decision got."""

    accept: int = 0
    revise: int = 0
    reject: int = 0

    def __post_init__(self) -> None:
        for value in (self.accept, self.revise, self.reject):
            if not 0 <= value <= MAX_ROOM_COUNT:
                raise ValueError(f"a vote count must be between 0 and {MAX_ROOM_COUNT}")

    @classmethod
    def single(cls, decision: Decision) -> VoteCounts:
        """One vote for ``decision``."""
        return cls(**{decision.value: 1})

    def of(self, decision: Decision) -> int:
        """The votes for ``decision``."""
        count: int = getattr(self, decision.value)
        return count

    @property
    def total(self) -> int:
        """All votes."""
        return self.accept + self.revise + self.reject

    def __add__(self, other: VoteCounts) -> VoteCounts:
        return VoteCounts(
            min(MAX_ROOM_COUNT, self.accept + other.accept),
            min(MAX_ROOM_COUNT, self.revise + other.revise),
            min(MAX_ROOM_COUNT, self.reject + other.reject),
        )

    def leaders(self) -> tuple[Decision, ...]:
        """The decisions sharing the most votes (none when nobody voted)."""
        top = max(self.accept, self.revise, self.reject)
        if top == 0:
            return ()
        return tuple(d for d in Decision if self.of(d) == top)

    @property
    def majority(self) -> Decision | None:
        """The decision with the most votes; ``None`` without votes or with a tie at the top."""
        leaders = self.leaders()
        return leaders[0] if len(leaders) == 1 else None


@dataclass(frozen=True, slots=True)
class RoomTally:
    """A step's votes: counts the facilitator entered plus votes cast from attendees' apps."""

    room: VoteCounts
    apps: VoteCounts

    @property
    def total(self) -> VoteCounts:
        """Both added up."""
        return self.room + self.apps

    @property
    def majority(self) -> Decision | None:
        """The majority of all votes (see :attr:`VoteCounts.majority`)."""
        return self.total.majority


@dataclass(frozen=True, slots=True)
class RoomStepOutcome:
    """How the room did on one step of a session."""

    scenario_id: str
    step_id: str
    expected: Decision
    votes: VoteCounts
    revealed: bool

    @property
    def majority(self) -> Decision | None:
        """The room's majority on this step."""
        return self.votes.majority

    @property
    def counted(self) -> bool:
        """Whether this step counts towards the room result: revealed, with votes."""
        return self.revealed and self.votes.total > 0

    @property
    def right(self) -> bool | None:
        """Whether the room's majority was the right call; ``None`` when not counted."""
        if not self.counted:
            return None
        return self.majority is self.expected


@dataclass(frozen=True, slots=True)
class RoomResult:
    """The share of counted steps on which the room's majority was right."""

    steps_counted: int
    steps_right: int

    @property
    def share(self) -> float | None:
        """``steps_right / steps_counted``; ``None`` when no step counted."""
        return self.steps_right / self.steps_counted if self.steps_counted else None


def room_result(steps: Iterable[RoomStepOutcome]) -> RoomResult:
    """Fold a session's steps into its room result."""
    counted = [step for step in steps if step.counted]
    return RoomResult(
        steps_counted=len(counted),
        steps_right=sum(1 for step in counted if step.right),
    )


@dataclass(frozen=True, slots=True)
class AttendedSession:
    """An "attended session" record of one trainee, as kept in their hash chain."""

    event_id: str
    session_id: str
    trainee_uid: str
    trainee_name: str
    trainee_email_or_id: str | None
    trainee_team: str | None
    track_id: str | None
    track_title: str | None
    scenario_ids: tuple[str, ...]
    attended_at: datetime
    facilitator: str
    steps_counted: int
    steps_right: int
    record_hash: str

    @property
    def room_result(self) -> float | None:
        """The share of counted steps the room got right."""
        return RoomResult(self.steps_counted, self.steps_right).share


def attended_statement(
    record: AttendedSession, profile: Profile, home_page: str
) -> dict[str, object]:
    """An xAPI 1.0.3 statement (verb *attended*) for one attended-session record.

    Its id derives from the record's event id, so sending it again is harmless.
    """
    base = home_page.rstrip("/") + "/thinktwice"
    if record.track_title:
        name = f"Facilitated session: {record.track_title}"
    else:
        name = f"Facilitated session: {len(record.scenario_ids)} scenario(s)"
    context: dict[str, object] = {
        "registration": _registration(record.session_id),
        "platform": PLATFORM,
        "language": LANGUAGE,
        "extensions": {f"{base}/extensions/facilitator": record.facilitator},
    }
    if record.track_id:
        context["contextActivities"] = {
            "parent": [
                {
                    "objectType": "Activity",
                    "id": f"{base}/tracks/{record.track_id}",
                    "definition": {
                        "name": {LANGUAGE: record.track_title or record.track_id},
                        "type": ACTIVITY_COURSE,
                    },
                }
            ]
        }
    statement: dict[str, object] = {
        "id": str(uuid.uuid5(STATEMENT_NAMESPACE, f"attended:{record.event_id}")),
        "actor": actor(profile, home_page),
        "verb": {"id": VERB_ATTENDED, "display": {LANGUAGE: "attended"}},
        "object": {
            "objectType": "Activity",
            "id": f"{base}/room-sessions/{record.session_id}",
            "definition": {"name": {LANGUAGE: name}, "type": ACTIVITY_MEETING},
        },
        "context": context,
        "timestamp": iso_timestamp(record.attended_at),
        "version": XAPI_VERSION,
    }
    share = record.room_result
    if share is not None:
        statement["result"] = {"completion": True, "score": {"scaled": round(share, 4)}}
    else:
        statement["result"] = {"completion": True}
    return statement


def _registration(session_id: str) -> str:
    try:
        return str(uuid.UUID(hex=session_id))
    except ValueError:
        return str(uuid.uuid5(STATEMENT_NAMESPACE, f"room:{session_id}"))

"""Facilitated room sessions: sessions, attendees, steps, votes and attendance records.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27

A facilitator's session (``room_session``) covers a track or a list of scenarios; its
attendees (``room_attendee``), the counts the facilitator enters, notes and the reveal
per step (``room_step``) and the votes attendees cast from their own apps
(``room_vote``) are kept apart. Ending a session gives every attendee an "attended
session" record: an event of the new kind ``attended`` in the trainee's hash chain, tied
to the session by ``room_attendance``. Nothing stored before changes; the event table
only accepts one more kind.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KINDS_BEFORE = "kind IN ('waive', 'reset', 'correct')"
_KINDS_AFTER = "kind IN ('waive', 'reset', 'correct', 'attended')"


def _json_list() -> sa.types.TypeEngine[Any]:
    return sa.JSON(none_as_null=True).with_variant(
        postgresql.JSONB(none_as_null=True), "postgresql"
    )


def upgrade() -> None:
    with op.batch_alter_table("event") as batch:
        batch.drop_constraint(op.f("ck_event_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_event_kind"), sa.text(_KINDS_AFTER))

    op.create_table(
        "room_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("facilitator", sa.String(length=80), nullable=False),
        sa.Column("track_id", sa.String(length=100), nullable=True),
        sa.Column("scenario_ids", _json_list(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("current_scenario", sa.Integer(), nullable=False),
        sa.Column("current_step", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('active', 'ended', 'abandoned')", name=op.f("ck_room_session_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_room_session")),
        sa.UniqueConstraint("session_id", name=op.f("uq_room_session_session_id")),
    )
    op.create_index("ix_room_session_status", "room_session", ["status"])

    op.create_table(
        "room_attendee",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_session_id", sa.Integer(), nullable=False),
        sa.Column("trainee_id", sa.Integer(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["room_session_id"],
            ["room_session.id"],
            name=op.f("fk_room_attendee_room_session_id_room_session"),
        ),
        sa.ForeignKeyConstraint(
            ["trainee_id"], ["trainee.id"], name=op.f("fk_room_attendee_trainee_id_trainee")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_room_attendee")),
        sa.UniqueConstraint(
            "room_session_id",
            "trainee_id",
            name=op.f("uq_room_attendee_room_session_id_trainee_id"),
        ),
    )

    op.create_table(
        "room_step",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_session_id", sa.Integer(), nullable=False),
        sa.Column("scenario_id", sa.String(length=100), nullable=False),
        sa.Column("step_id", sa.String(length=100), nullable=False),
        sa.Column("accept", sa.Integer(), nullable=False),
        sa.Column("revise", sa.Integer(), nullable=False),
        sa.Column("reject", sa.Integer(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("revealed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "accept >= 0 AND revise >= 0 AND reject >= 0", name=op.f("ck_room_step_counts")
        ),
        sa.ForeignKeyConstraint(
            ["room_session_id"],
            ["room_session.id"],
            name=op.f("fk_room_step_room_session_id_room_session"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_room_step")),
        sa.UniqueConstraint(
            "room_session_id",
            "scenario_id",
            "step_id",
            name=op.f("uq_room_step_room_session_id_scenario_id_step_id"),
        ),
    )

    op.create_table(
        "room_vote",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_session_id", sa.Integer(), nullable=False),
        sa.Column("scenario_id", sa.String(length=100), nullable=False),
        sa.Column("step_id", sa.String(length=100), nullable=False),
        sa.Column("trainee_id", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("cast_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "decision IN ('accept', 'revise', 'reject')", name=op.f("ck_room_vote_decision")
        ),
        sa.ForeignKeyConstraint(
            ["room_session_id"],
            ["room_session.id"],
            name=op.f("fk_room_vote_room_session_id_room_session"),
        ),
        sa.ForeignKeyConstraint(
            ["trainee_id"], ["trainee.id"], name=op.f("fk_room_vote_trainee_id_trainee")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_room_vote")),
        sa.UniqueConstraint(
            "room_session_id",
            "scenario_id",
            "step_id",
            "trainee_id",
            name=op.f("uq_room_vote_room_session_id_scenario_id_step_id_trainee_id"),
        ),
    )

    op.create_table(
        "room_attendance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("room_session_id", sa.Integer(), nullable=False),
        sa.Column("trainee_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=32), nullable=False),
        sa.Column("track_id", sa.String(length=100), nullable=True),
        sa.Column("facilitator", sa.String(length=80), nullable=False),
        sa.Column("attended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("steps_counted", sa.Integer(), nullable=False),
        sa.Column("steps_right", sa.Integer(), nullable=False),
        sa.Column("room_result", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["room_session_id"],
            ["room_session.id"],
            name=op.f("fk_room_attendance_room_session_id_room_session"),
        ),
        sa.ForeignKeyConstraint(
            ["trainee_id"], ["trainee.id"], name=op.f("fk_room_attendance_trainee_id_trainee")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_room_attendance")),
        sa.UniqueConstraint("event_id", name=op.f("uq_room_attendance_event_id")),
        sa.UniqueConstraint(
            "room_session_id",
            "trainee_id",
            name=op.f("uq_room_attendance_room_session_id_trainee_id"),
        ),
    )
    op.create_index("ix_room_attendance_trainee_id", "room_attendance", ["trainee_id"])


def downgrade() -> None:
    # Attendance events are links of trainees' hash chains: removing them would break the
    # chains, so a database that holds any cannot go back to 0002.
    held = op.get_bind().execute(sa.text("SELECT count(*) FROM event WHERE kind = 'attended'"))
    if held.scalar_one():
        raise RuntimeError("attendance records exist; revision 0003 cannot be undone")
    op.drop_index("ix_room_attendance_trainee_id", table_name="room_attendance")
    op.drop_table("room_attendance")
    op.drop_table("room_vote")
    op.drop_table("room_step")
    op.drop_table("room_attendee")
    op.drop_index("ix_room_session_status", table_name="room_session")
    op.drop_table("room_session")
    with op.batch_alter_table("event") as batch:
        batch.drop_constraint(op.f("ck_event_kind"), type_="check")
        batch.create_check_constraint(op.f("ck_event_kind"), sa.text(_KINDS_BEFORE))

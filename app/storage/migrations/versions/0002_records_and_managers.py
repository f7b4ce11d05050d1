"""Records and managers: checks and hints, the hash chain, events, cohorts, certificates.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26

Answers gain the checks made and the hint taken, and a place in a per-trainee hash chain
(``chain_seq``, ``previous_hash``, ``record_hash``); the trainee row keeps the chain's head
and length. Answers already stored are chained here, per trainee in (answered_at, id)
order. The payload below is a frozen copy of the one ``app.storage.ledger`` used when this
revision was written, so later changes to the code cannot change what this revision does.
New tables: manager events (in the same chains), cohorts with their members and tracks,
the manager credential and certificates.
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from app.core.chain import GENESIS, link_hash

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json_list() -> sa.types.TypeEngine[Any]:
    return sa.JSON(none_as_null=True).with_variant(
        postgresql.JSONB(none_as_null=True), "postgresql"
    )


def _json_object() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _answer_payload(row: Any, trainee_uid: str) -> dict[str, object]:
    """The chained content of one answer, as revision 0002 defines it."""
    return {
        "record": "answer",
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
        "checks_made": list(row.checks_made or ()),
        "check_minutes": int(row.check_minutes or 0),
        "hint_taken": bool(row.hint_taken),
    }


def upgrade() -> None:
    with op.batch_alter_table("trainee") as batch:
        batch.add_column(
            sa.Column(
                "chain_head",
                sa.String(length=64),
                server_default=sa.text(f"'{GENESIS}'"),
                nullable=False,
            )
        )
        batch.add_column(
            sa.Column("chain_length", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )

    with op.batch_alter_table("answer") as batch:
        batch.add_column(
            sa.Column("checks_made", _json_list(), server_default=sa.text("'[]'"), nullable=False)
        )
        batch.add_column(
            sa.Column("check_minutes", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch.add_column(
            sa.Column("hint_taken", sa.Boolean(), server_default=sa.text("false"), nullable=False)
        )
        batch.add_column(sa.Column("chain_seq", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("previous_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("record_hash", sa.String(length=64), nullable=True))

    _chain_existing_answers()

    with op.batch_alter_table("answer") as batch:
        batch.alter_column("chain_seq", existing_type=sa.Integer(), nullable=False)
        batch.alter_column("previous_hash", existing_type=sa.String(length=64), nullable=False)
        batch.alter_column("record_hash", existing_type=sa.String(length=64), nullable=False)
    op.create_index(
        "uq_answer_trainee_id_chain_seq", "answer", ["trainee_id", "chain_seq"], unique=True
    )

    op.create_table(
        "event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=32), nullable=False),
        sa.Column("trainee_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("track_id", sa.String(length=100), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("details", _json_object(), nullable=False),
        sa.Column("chain_seq", sa.Integer(), nullable=False),
        sa.Column("previous_hash", sa.String(length=64), nullable=False),
        sa.Column("record_hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("kind IN ('waive', 'reset', 'correct')", name=op.f("ck_event_kind")),
        sa.ForeignKeyConstraint(
            ["trainee_id"], ["trainee.id"], name=op.f("fk_event_trainee_id_trainee")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event")),
        sa.UniqueConstraint("event_id", name=op.f("uq_event_event_id")),
    )
    op.create_index(
        "uq_event_trainee_id_chain_seq", "event", ["trainee_id", "chain_seq"], unique=True
    )

    op.create_table(
        "cohort",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cohort")),
        sa.UniqueConstraint("name", name=op.f("uq_cohort_name")),
    )
    op.create_table(
        "cohort_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("trainee_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cohort_id"], ["cohort.id"], name=op.f("fk_cohort_member_cohort_id_cohort")
        ),
        sa.ForeignKeyConstraint(
            ["trainee_id"], ["trainee.id"], name=op.f("fk_cohort_member_trainee_id_trainee")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cohort_member")),
        sa.UniqueConstraint(
            "cohort_id", "trainee_id", name=op.f("uq_cohort_member_cohort_id_trainee_id")
        ),
    )
    op.create_index("ix_cohort_member_trainee_id", "cohort_member", ["trainee_id"])
    op.create_table(
        "cohort_track",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cohort_id", sa.Integer(), nullable=False),
        sa.Column("track_id", sa.String(length=100), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["cohort_id"], ["cohort.id"], name=op.f("fk_cohort_track_cohort_id_cohort")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cohort_track")),
        sa.UniqueConstraint(
            "cohort_id", "track_id", name=op.f("uq_cohort_track_cohort_id_track_id")
        ),
    )

    op.create_table(
        "manager_credential",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("passphrase_hash", sa.String(length=255), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_manager_credential_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_manager_credential")),
    )

    op.create_table(
        "certificate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("certificate_id", sa.String(length=16), nullable=False),
        sa.Column("trainee_id", sa.Integer(), nullable=False),
        sa.Column("track_id", sa.String(length=100), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("chain_head", sa.String(length=64), nullable=False),
        sa.Column("verification_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["trainee_id"], ["trainee.id"], name=op.f("fk_certificate_trainee_id_trainee")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate")),
        sa.UniqueConstraint("certificate_id", name=op.f("uq_certificate_certificate_id")),
        sa.UniqueConstraint(
            "trainee_id",
            "track_id",
            "content_hash",
            name=op.f("uq_certificate_trainee_id_track_id_content_hash"),
        ),
    )


def _chain_existing_answers() -> None:
    """Chain the answers already stored, per trainee in (answered_at, id) order."""
    connection = op.get_bind()
    trainee = sa.table(
        "trainee",
        sa.column("id", sa.Integer()),
        sa.column("uid", sa.String()),
        sa.column("chain_head", sa.String()),
        sa.column("chain_length", sa.Integer()),
    )
    answer = sa.table(
        "answer",
        *(
            sa.column(name, type_)
            for name, type_ in (
                ("id", sa.Integer()),
                ("attempt_id", sa.String()),
                ("play_id", sa.String()),
                ("trainee_id", sa.Integer()),
                ("scenario_id", sa.String()),
                ("scenario_version", sa.Integer()),
                ("pack_id", sa.String()),
                ("step_id", sa.String()),
                ("decision", sa.String()),
                ("expected", sa.String()),
                ("revision_index", sa.Integer()),
                ("revision_text", sa.Text()),
                ("correct", sa.Boolean()),
                ("verdict", sa.String()),
                ("flags_chosen", _json_list()),
                ("flags_missed", _json_list()),
                ("flags_true", _json_list()),
                ("confidence", sa.Integer()),
                ("seconds", sa.Float()),
                ("answered_at", sa.DateTime(timezone=True)),
                ("checks_made", _json_list()),
                ("check_minutes", sa.Integer()),
                ("hint_taken", sa.Boolean()),
                ("chain_seq", sa.Integer()),
                ("previous_hash", sa.String()),
                ("record_hash", sa.String()),
            )
        ),
    )
    trainees = connection.execute(
        sa.select(trainee.c.id, trainee.c.uid).order_by(trainee.c.id)
    ).all()
    for trainee_id, uid in trainees:
        rows = connection.execute(
            sa.select(answer)
            .where(answer.c.trainee_id == trainee_id)
            .order_by(answer.c.answered_at, answer.c.id)
        ).all()
        previous = GENESIS
        for seq, row in enumerate(rows, start=1):
            digest = link_hash(previous, _answer_payload(row, uid))
            connection.execute(
                answer.update()
                .where(answer.c.id == row.id)
                .values(chain_seq=seq, previous_hash=previous, record_hash=digest)
            )
            previous = digest
        connection.execute(
            trainee.update()
            .where(trainee.c.id == trainee_id)
            .values(chain_head=previous, chain_length=len(rows))
        )


def downgrade() -> None:
    op.drop_table("certificate")
    op.drop_table("manager_credential")
    op.drop_table("cohort_track")
    op.drop_index("ix_cohort_member_trainee_id", table_name="cohort_member")
    op.drop_table("cohort_member")
    op.drop_table("cohort")
    op.drop_index("uq_event_trainee_id_chain_seq", table_name="event")
    op.drop_table("event")
    op.drop_index("uq_answer_trainee_id_chain_seq", table_name="answer")
    with op.batch_alter_table("answer") as batch:
        for name in (
            "record_hash",
            "previous_hash",
            "chain_seq",
            "hint_taken",
            "check_minutes",
            "checks_made",
        ):
            batch.drop_column(name)
    with op.batch_alter_table("trainee") as batch:
        batch.drop_column("chain_length")
        batch.drop_column("chain_head")

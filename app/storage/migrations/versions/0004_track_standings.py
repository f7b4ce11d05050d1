"""Track standings: a cache of each trainee's standing per track, for completion tables.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28

``track_standing`` holds, per trainee and track, what ``app.core.completion`` computes
(status, items, score, trust rates, times) with the mark of the history and the content
it was computed from. It is derived data: the table starts empty and is filled by the
app as completion tables are asked for (or by ``refresh_standings``); a row whose marks
no longer match is recomputed. Nothing stored before changes, and going back to 0003
only drops the cache.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "track_standing",
        sa.Column("trainee_id", sa.Integer(), nullable=False),
        sa.Column("track_id", sa.String(length=100), nullable=False),
        sa.Column("history_mark", sa.String(length=64), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("rules_key", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("items_done", sa.Integer(), nullable=False),
        sa.Column("items_total", sa.Integer(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("over_trust_rate", sa.Float(), nullable=True),
        sa.Column("under_trust_rate", sa.Float(), nullable=True),
        sa.Column("first_started", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("seconds_spent", sa.Float(), nullable=False),
        sa.Column("last_activity", sa.DateTime(timezone=True), nullable=True),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["trainee_id"], ["trainee.id"], name=op.f("fk_track_standing_trainee_id_trainee")
        ),
        sa.PrimaryKeyConstraint("trainee_id", "track_id", name=op.f("pk_track_standing")),
    )


def downgrade() -> None:
    # A cache only: its rows are recomputed from the records whenever they are needed.
    op.drop_table("track_standing")

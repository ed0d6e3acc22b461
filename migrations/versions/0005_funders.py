"""funder statistics: releases delivered to funders and their cells

Revision ID: 0005_funders
Revises: 0003_bounces_erasure
Create Date: 2026-11-21 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_funders"
down_revision = "0003_bounces_erasure"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "funder_releases",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("funder_slug", sa.String(length=80), nullable=False),
        sa.Column("funder_name", sa.String(length=200), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("parameters", sa.Text(), nullable=False),
        sa.Column("tables", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("output_path", sa.String(length=500), nullable=True),
        sa.Column("manifest_sha256", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_funder_releases")),
        sa.UniqueConstraint("funder_slug", "period", name="uq_funder_releases_funder_period"),
    )
    with op.batch_alter_table("funder_releases", schema=None) as batch_op:
        batch_op.create_index("ix_funder_releases_period", ["period"], unique=False)

    op.create_table(
        "funder_release_cells",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("release_id", ID, nullable=False),
        sa.Column("table_name", sa.String(length=60), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("row_label", sa.String(length=300), nullable=False),
        sa.Column("column_label", sa.String(length=120), nullable=False),
        sa.Column("stat_key", sa.String(length=600), nullable=False),
        sa.Column("is_total", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("suppression", sa.String(length=20), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("shown", sa.Float(), nullable=True),
        sa.Column("required_width", sa.Float(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["release_id"],
            ["funder_releases.id"],
            name=op.f("fk_funder_release_cells_release_id_funder_releases"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_funder_release_cells")),
    )
    with op.batch_alter_table("funder_release_cells", schema=None) as batch_op:
        batch_op.create_index("ix_funder_release_cells_release_id", ["release_id"], unique=False)

    # Covering indexes for the statistics (bookings and activities read in account order).
    with op.batch_alter_table("cpd_bookings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_cpd_bookings_account_id_status_course_id", ["account_id", "status", "course_id"], unique=False
        )
    with op.batch_alter_table("ambassador_activities", schema=None) as batch_op:
        batch_op.create_index(
            "ix_ambassador_activities_account_id_region_type",
            ["account_id", "region", "activity_type", "ended_on", "hours"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("ambassador_activities", schema=None) as batch_op:
        batch_op.drop_index("ix_ambassador_activities_account_id_region_type")
    with op.batch_alter_table("cpd_bookings", schema=None) as batch_op:
        batch_op.drop_index("ix_cpd_bookings_account_id_status_course_id")
    with op.batch_alter_table("funder_release_cells", schema=None) as batch_op:
        batch_op.drop_index("ix_funder_release_cells_release_id")
    op.drop_table("funder_release_cells")
    with op.batch_alter_table("funder_releases", schema=None) as batch_op:
        batch_op.drop_index("ix_funder_releases_period")
    op.drop_table("funder_releases")

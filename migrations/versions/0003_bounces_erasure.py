"""bounces and erasure: ingested export files, quarantined rows, undeliverable marks

Revision ID: 0003_bounces_erasure
Revises: 0002_content
Create Date: 2026-11-21 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_bounces_erasure"
down_revision = "0002_content"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "bounce_files",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("format", sa.String(length=20), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("source_file", sa.String(length=255), nullable=False),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("quarantined_count", sa.Integer(), nullable=False),
        sa.Column("ingested_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bounce_files")),
        sa.UniqueConstraint("sha256", name=op.f("uq_bounce_files_sha256")),
    )
    op.create_table(
        "bounce_quarantine",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("file_id", ID, nullable=False),
        sa.Column("source_line", sa.Integer(), nullable=False),
        sa.Column("reasons", sa.String(length=500), nullable=False),
        sa.Column("quarantined_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["file_id"], ["bounce_files.id"], name=op.f("fk_bounce_quarantine_file_id_bounce_files")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bounce_quarantine")),
    )
    with op.batch_alter_table("bounce_quarantine", schema=None) as batch_op:
        batch_op.create_index("ix_bounce_quarantine_file_id", ["file_id"], unique=False)

    op.create_table(
        "email_deliverability",
        sa.Column("account_id", ID, autoincrement=False, nullable=False),
        sa.Column("address_hash", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=30), nullable=False),
        sa.Column("undeliverable_since", sa.DateTime(), nullable=False),
        sa.Column("marked_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_email_deliverability_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_email_deliverability")),
    )


def downgrade() -> None:
    op.drop_table("email_deliverability")
    with op.batch_alter_table("bounce_quarantine", schema=None) as batch_op:
        batch_op.drop_index("ix_bounce_quarantine_file_id")
    op.drop_table("bounce_quarantine")
    op.drop_table("bounce_files")

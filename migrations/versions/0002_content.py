"""content rescan and moderation: scans, hits, case reports, decisions, appeals, filter complaints

Revision ID: 0002_content
Revises: 0001_foundation
Create Date: 2026-11-21 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_content"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("moderation_cases", schema=None) as batch_op:
        batch_op.create_index(
            "uq_moderation_cases_open_post",
            ["post_id"],
            unique=True,
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        )

    op.create_table(
        "content_scans",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("list_version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("terms", sa.Integer(), nullable=False),
        sa.Column("workers", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("posts_scanned", sa.Integer(), server_default="0", nullable=False),
        sa.Column("characters_scanned", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("hits_found", sa.Integer(), server_default="0", nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["list_version"],
            ["keyword_lists.version"],
            name=op.f("fk_content_scans_list_version_keyword_lists"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_scans")),
    )

    op.create_table(
        "scan_hits",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("scan_id", ID, nullable=False),
        sa.Column("post_id", ID, nullable=False),
        sa.Column("field", sa.String(length=20), nullable=False),
        sa.Column("source_id", ID, nullable=False),
        sa.Column("term_id", ID, nullable=False),
        sa.Column("list_version", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("start_offset", sa.Integer(), nullable=False),
        sa.Column("end_offset", sa.Integer(), nullable=False),
        sa.Column("found_at", sa.DateTime(), nullable=False),
        sa.Column("applied_at", sa.DateTime(), nullable=True),
        sa.Column("case_id", ID, nullable=True),
        sa.Column("cleared_at", sa.DateTime(), nullable=True),
        sa.Column("cleared_reason", sa.String(length=20), nullable=True),
        sa.Column("cleared_in_version", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["moderation_cases.id"], name=op.f("fk_scan_hits_case_id_moderation_cases")
        ),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"], name=op.f("fk_scan_hits_post_id_posts")),
        sa.ForeignKeyConstraint(
            ["scan_id"], ["content_scans.id"], name=op.f("fk_scan_hits_scan_id_content_scans")
        ),
        sa.ForeignKeyConstraint(
            ["term_id"], ["keyword_terms.id"], name=op.f("fk_scan_hits_term_id_keyword_terms")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan_hits")),
        sa.UniqueConstraint(
            "post_id", "field", "source_id", "term_id", "start_offset", name="uq_scan_hits_place"
        ),
    )
    with op.batch_alter_table("scan_hits", schema=None) as batch_op:
        batch_op.create_index("ix_scan_hits_applied_at", ["applied_at"], unique=False)
        batch_op.create_index("ix_scan_hits_case_id", ["case_id"], unique=False)
        batch_op.create_index("ix_scan_hits_scan_id", ["scan_id"], unique=False)
        batch_op.create_index("ix_scan_hits_term_id", ["term_id"], unique=False)

    op.create_table(
        "moderation_case_reports",
        sa.Column("report_id", ID, autoincrement=False, nullable=False),
        sa.Column("case_id", ID, nullable=False),
        sa.Column("linked_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["moderation_cases.id"],
            name=op.f("fk_moderation_case_reports_case_id_moderation_cases"),
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["content_reports.id"],
            name=op.f("fk_moderation_case_reports_report_id_content_reports"),
        ),
        sa.PrimaryKeyConstraint("report_id", name=op.f("pk_moderation_case_reports")),
    )
    with op.batch_alter_table("moderation_case_reports", schema=None) as batch_op:
        batch_op.create_index("ix_moderation_case_reports_case_id", ["case_id"], unique=False)

    op.create_table(
        "moderation_decisions",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("case_id", ID, nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("origin", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=False),
        sa.Column("decided_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["moderation_cases.id"],
            name=op.f("fk_moderation_decisions_case_id_moderation_cases"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_decisions")),
    )
    with op.batch_alter_table("moderation_decisions", schema=None) as batch_op:
        batch_op.create_index("ix_moderation_decisions_case_id", ["case_id"], unique=False)

    op.create_table(
        "moderation_appeals",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("case_id", ID, nullable=False),
        sa.Column("appellant_account_id", ID, nullable=True),
        sa.Column("grounds", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["appellant_account_id"],
            ["accounts.id"],
            name=op.f("fk_moderation_appeals_appellant_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["moderation_cases.id"],
            name=op.f("fk_moderation_appeals_case_id_moderation_cases"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_appeals")),
    )
    with op.batch_alter_table("moderation_appeals", schema=None) as batch_op:
        batch_op.create_index(
            "ix_moderation_appeals_appellant_account_id", ["appellant_account_id"], unique=False
        )
        batch_op.create_index("ix_moderation_appeals_case_id", ["case_id"], unique=False)
        batch_op.create_index("ix_moderation_appeals_status_due_at", ["status", "due_at"], unique=False)

    op.create_table(
        "filter_complaints",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("post_id", ID, nullable=False),
        sa.Column("case_id", ID, nullable=True),
        sa.Column("complainant_account_id", ID, nullable=True),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["moderation_cases.id"],
            name=op.f("fk_filter_complaints_case_id_moderation_cases"),
        ),
        sa.ForeignKeyConstraint(
            ["complainant_account_id"],
            ["accounts.id"],
            name=op.f("fk_filter_complaints_complainant_account_id_accounts"),
        ),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"], name=op.f("fk_filter_complaints_post_id_posts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_filter_complaints")),
    )
    with op.batch_alter_table("filter_complaints", schema=None) as batch_op:
        batch_op.create_index("ix_filter_complaints_case_id", ["case_id"], unique=False)
        batch_op.create_index(
            "ix_filter_complaints_complainant_account_id", ["complainant_account_id"], unique=False
        )
        batch_op.create_index("ix_filter_complaints_post_id", ["post_id"], unique=False)
        batch_op.create_index("ix_filter_complaints_status_due_at", ["status", "due_at"], unique=False)


def downgrade() -> None:
    op.drop_table("filter_complaints")
    op.drop_table("moderation_appeals")
    op.drop_table("moderation_decisions")
    op.drop_table("moderation_case_reports")
    op.drop_table("scan_hits")
    op.drop_table("content_scans")
    with op.batch_alter_table("moderation_cases", schema=None) as batch_op:
        batch_op.drop_index("uq_moderation_cases_open_post")

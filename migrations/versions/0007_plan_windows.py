"""plans read window by window: plan_items indexed by plan, status and id; restricted accounts indexed

Revision ID: 0007_plan_windows
Revises: 0006_subject_access
Create Date: 2026-11-21 08:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_plan_windows"
down_revision = "0006_subject_access"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("plan_items", schema=None) as batch_op:
        batch_op.drop_index("ix_plan_items_plan_id_status")
        batch_op.create_index("ix_plan_items_plan_id_status_id", ["plan_id", "status", "id"], unique=False)
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_accounts_restricted",
            ["id"],
            unique=False,
            sqlite_where=sa.text("restricted"),
            postgresql_where=sa.text("restricted"),
        )


def downgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_index("ix_accounts_restricted")
    with op.batch_alter_table("plan_items", schema=None) as batch_op:
        batch_op.drop_index("ix_plan_items_plan_id_status_id")
        batch_op.create_index("ix_plan_items_plan_id_status", ["plan_id", "status"], unique=False)

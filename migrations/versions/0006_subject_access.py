"""subject access: indexes on the map's links that had none

Revision ID: 0006_subject_access
Revises: 0005_funders
Create Date: 2026-11-21 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_subject_access"
down_revision = "0005_funders"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.create_index(
            "ix_invoices_billing_email_lower", [sa.literal_column("lower(billing_email)")], unique=False
        )
    with op.batch_alter_table("legal_holds", schema=None) as batch_op:
        batch_op.create_index("ix_legal_holds_email_lower", [sa.literal_column("lower(email)")], unique=False)
    with op.batch_alter_table("request_register", schema=None) as batch_op:
        batch_op.create_index(
            "ix_request_register_email_lower", [sa.literal_column("lower(email)")], unique=False
        )
    with op.batch_alter_table("plan_items", schema=None) as batch_op:
        batch_op.create_index("ix_plan_items_account_id", ["account_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("plan_items", schema=None) as batch_op:
        batch_op.drop_index("ix_plan_items_account_id")
    with op.batch_alter_table("request_register", schema=None) as batch_op:
        batch_op.drop_index("ix_request_register_email_lower")
    with op.batch_alter_table("legal_holds", schema=None) as batch_op:
        batch_op.drop_index("ix_legal_holds_email_lower")
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_index("ix_invoices_billing_email_lower")

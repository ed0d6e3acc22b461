"""foundation: the reference database

Revision ID: 0001_foundation
Revises:
Create Date: 2026-11-21 05:10:08.590726
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_foundation"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("account_type", sa.String(length=20), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("job_title", sa.String(length=200), nullable=True),
        sa.Column("organisation_name", sa.String(length=200), nullable=True),
        sa.Column("region", sa.String(length=40), nullable=False),
        sa.Column("school_phase", sa.String(length=20), nullable=True),
        sa.Column("subject", sa.String(length=60), nullable=True),
        sa.Column("interests", sa.String(length=400), nullable=True),
        sa.Column("postcode", sa.String(length=10), nullable=True),
        sa.Column("phone", sa.String(length=30), nullable=True),
        sa.Column("registered_at", sa.DateTime(), nullable=False),
        sa.Column("last_sign_in_at", sa.DateTime(), nullable=True),
        sa.Column("last_activity_at", sa.DateTime(), nullable=True),
        sa.Column("email_status", sa.String(length=20), server_default="ok", nullable=False),
        sa.Column("email_status_changed_at", sa.DateTime(), nullable=True),
        sa.Column("consent_marketing", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("consent_research", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("consent_employer_sharing", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("restricted", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("restricted_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("email", name=op.f("uq_accounts_email")),
    )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.create_index("ix_accounts_email_lower", [sa.literal_column("lower(email)")], unique=False)
        batch_op.create_index("ix_accounts_email_status", ["email_status"], unique=False)
        batch_op.create_index("ix_accounts_last_activity_at", ["last_activity_at"], unique=False)
        batch_op.create_index("ix_accounts_registered_at", ["registered_at"], unique=False)

    op.create_table(
        "audit_log",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.Column("event", sa.String(length=40), nullable=False),
        sa.Column("subject_hash", sa.String(length=64), nullable=True),
        sa.Column("rule", sa.String(length=60), nullable=True),
        sa.Column("plan_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("request_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index("ix_audit_log_event_occurred_at", ["event", "occurred_at"], unique=False)
        batch_op.create_index("ix_audit_log_subject_hash", ["subject_hash"], unique=False)

    op.create_table(
        "cpd_courses",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("subject", sa.String(length=60), nullable=False),
        sa.Column("region", sa.String(length=40), nullable=False),
        sa.Column("venue", sa.String(length=200), nullable=False),
        sa.Column("delivery_mode", sa.String(length=20), nullable=False),
        sa.Column("sponsor", sa.String(length=100), nullable=True),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cpd_courses")),
        sa.UniqueConstraint("code", name=op.f("uq_cpd_courses_code")),
    )
    with op.batch_alter_table("cpd_courses", schema=None) as batch_op:
        batch_op.create_index("ix_cpd_courses_ends_on", ["ends_on"], unique=False)

    op.create_table(
        "email_events",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("event_type", sa.String(length=20), nullable=False),
        sa.Column("smtp_status", sa.String(length=10), nullable=True),
        sa.Column("enhanced_status", sa.String(length=16), nullable=True),
        sa.Column("diagnostic", sa.Text(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("source_file", sa.String(length=255), nullable=False),
        sa.Column("source_line", sa.Integer(), nullable=False),
        sa.Column("ingested_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_events")),
        sa.UniqueConstraint("source_file", "source_line", name="uq_email_events_source"),
    )
    with op.batch_alter_table("email_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_email_events_email_lower", [sa.literal_column("lower(email)")], unique=False
        )
        batch_op.create_index("ix_email_events_occurred_at", ["occurred_at"], unique=False)

    op.create_table(
        "information_requests",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=True),
        sa.Column("topic", sa.String(length=100), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_information_requests")),
    )
    with op.batch_alter_table("information_requests", schema=None) as batch_op:
        batch_op.create_index("ix_information_requests_closed_at", ["closed_at"], unique=False)
        batch_op.create_index(
            "ix_information_requests_email_lower", [sa.literal_column("lower(email)")], unique=False
        )

    op.create_table(
        "job_applications",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=30), nullable=True),
        sa.Column("position", sa.String(length=200), nullable=False),
        sa.Column("applied_at", sa.DateTime(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("cover_letter", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_applications")),
    )
    with op.batch_alter_table("job_applications", schema=None) as batch_op:
        batch_op.create_index("ix_job_applications_decided_at", ["decided_at"], unique=False)
        batch_op.create_index(
            "ix_job_applications_email_lower", [sa.literal_column("lower(email)")], unique=False
        )

    op.create_table(
        "keyword_lists",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("source_name", sa.String(length=255), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("term_count", sa.Integer(), nullable=False),
        sa.Column("added_count", sa.Integer(), nullable=False),
        sa.Column("removed_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_keyword_lists")),
    )
    op.create_table(
        "plans",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by_run", sa.String(length=64), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("approved_at", sa.DateTime(), nullable=True),
        sa.Column("approved_by", sa.String(length=100), nullable=True),
        sa.Column("applied_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plans")),
    )
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.create_index("ix_plans_kind_status", ["kind", "status"], unique=False)

    op.create_table(
        "request_register",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("subject_hash", sa.String(length=64), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("identity_verified_on", sa.Date(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("extended", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("extension_reason", sa.Text(), nullable=True),
        sa.Column("deferred_reason", sa.String(length=200), nullable=True),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.Column("package_sha256", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_request_register")),
    )
    with op.batch_alter_table("request_register", schema=None) as batch_op:
        batch_op.create_index("ix_request_register_account_id", ["account_id"], unique=False)
        batch_op.create_index("ix_request_register_status_due_on", ["status", "due_on"], unique=False)
        batch_op.create_index("ix_request_register_subject_hash", ["subject_hash"], unique=False)

    op.create_table(
        "scan_state",
        sa.Column("scanner", sa.String(length=60), nullable=False),
        sa.Column("watermark_at", sa.DateTime(), nullable=True),
        sa.Column("watermark_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("list_version", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("scanner", name=op.f("pk_scan_state")),
    )
    op.create_table(
        "surveys",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveys")),
    )
    op.create_table(
        "ambassador_activities",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("activity_type", sa.String(length=40), nullable=False),
        sa.Column("region", sa.String(length=40), nullable=False),
        sa.Column("school_name", sa.String(length=200), nullable=True),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=False),
        sa.Column("hours", sa.Float(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_ambassador_activities_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ambassador_activities")),
    )
    with op.batch_alter_table("ambassador_activities", schema=None) as batch_op:
        batch_op.create_index("ix_ambassador_activities_account_id", ["account_id"], unique=False)
        batch_op.create_index("ix_ambassador_activities_ended_on", ["ended_on"], unique=False)

    op.create_table(
        "ambassador_profiles",
        sa.Column("account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("gender", sa.String(length=30), nullable=True),
        sa.Column("ethnicity", sa.String(length=60), nullable=True),
        sa.Column("employer", sa.String(length=200), nullable=True),
        sa.Column("joined_on", sa.Date(), nullable=False),
        sa.Column("last_activity_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_ambassador_profiles_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_ambassador_profiles")),
    )
    with op.batch_alter_table("ambassador_profiles", schema=None) as batch_op:
        batch_op.create_index("ix_ambassador_profiles_last_activity_on", ["last_activity_on"], unique=False)

    op.create_table(
        "community_threads",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("author_account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("category", sa.String(length=60), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_account_id"],
            ["accounts.id"],
            name=op.f("fk_community_threads_author_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_threads")),
    )
    with op.batch_alter_table("community_threads", schema=None) as batch_op:
        batch_op.create_index("ix_community_threads_author_account_id", ["author_account_id"], unique=False)

    op.create_table(
        "cpd_bookings",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("course_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("booked_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("dietary_requirements", sa.String(length=200), nullable=True),
        sa.Column("accessibility_needs", sa.String(length=200), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_cpd_bookings_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["cpd_courses.id"], name=op.f("fk_cpd_bookings_course_id_cpd_courses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cpd_bookings")),
    )
    with op.batch_alter_table("cpd_bookings", schema=None) as batch_op:
        batch_op.create_index("ix_cpd_bookings_account_id", ["account_id"], unique=False)
        batch_op.create_index("ix_cpd_bookings_course_id", ["course_id"], unique=False)

    op.create_table(
        "data_shares",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("recipient", sa.String(length=200), nullable=False),
        sa.Column("dataset", sa.String(length=100), nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=False),
        sa.Column("lawful_basis", sa.String(length=60), nullable=False),
        sa.Column("pseudonymised", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("shared_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_data_shares_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_shares")),
    )
    with op.batch_alter_table("data_shares", schema=None) as batch_op:
        batch_op.create_index("ix_data_shares_account_id", ["account_id"], unique=False)

    op.create_table(
        "impact_records",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("course_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("measure", sa.String(length=60), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("activity_ended_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_impact_records_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["course_id"], ["cpd_courses.id"], name=op.f("fk_impact_records_course_id_cpd_courses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_impact_records")),
    )
    with op.batch_alter_table("impact_records", schema=None) as batch_op:
        batch_op.create_index("ix_impact_records_account_id", ["account_id"], unique=False)
        batch_op.create_index("ix_impact_records_activity_ended_on", ["activity_ended_on"], unique=False)

    op.create_table(
        "keyword_terms",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("term", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("match_mode", sa.String(length=20), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("added_in_version", sa.Integer(), nullable=False),
        sa.Column("removed_in_version", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["added_in_version"],
            ["keyword_lists.version"],
            name=op.f("fk_keyword_terms_added_in_version_keyword_lists"),
        ),
        sa.ForeignKeyConstraint(
            ["removed_in_version"],
            ["keyword_lists.version"],
            name=op.f("fk_keyword_terms_removed_in_version_keyword_lists"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_keyword_terms")),
    )
    with op.batch_alter_table("keyword_terms", schema=None) as batch_op:
        batch_op.create_index("ix_keyword_terms_added_in_version", ["added_in_version"], unique=False)
        batch_op.create_index("ix_keyword_terms_removed_in_version", ["removed_in_version"], unique=False)

    op.create_table(
        "legal_holds",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("placed_at", sa.DateTime(), nullable=False),
        sa.Column("placed_by", sa.String(length=100), nullable=False),
        sa.Column("lifted_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_legal_holds_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legal_holds")),
    )
    with op.batch_alter_table("legal_holds", schema=None) as batch_op:
        batch_op.create_index("ix_legal_holds_account_id", ["account_id"], unique=False)

    op.create_table(
        "plan_items",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("plan_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("subject_table", sa.String(length=60), nullable=False),
        sa.Column("subject_row_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("rule", sa.String(length=60), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("deferred_reason", sa.String(length=200), nullable=True),
        sa.Column("applied_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"], name=op.f("fk_plan_items_plan_id_plans")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_items")),
    )
    with op.batch_alter_table("plan_items", schema=None) as batch_op:
        batch_op.create_index("ix_plan_items_plan_id_status", ["plan_id", "status"], unique=False)

    op.create_table(
        "survey_responses",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("survey_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("respondent_email", sa.String(length=320), nullable=True),
        sa.Column("submitted_at", sa.DateTime(), nullable=False),
        sa.Column("answers", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_survey_responses_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"], ["surveys.id"], name=op.f("fk_survey_responses_survey_id_surveys")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_responses")),
    )
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.create_index("ix_survey_responses_account_id", ["account_id"], unique=False)
        batch_op.create_index(
            "ix_survey_responses_respondent_email_lower",
            [sa.literal_column("lower(respondent_email)")],
            unique=False,
        )
        batch_op.create_index("ix_survey_responses_submitted_at", ["submitted_at"], unique=False)

    op.create_table(
        "invoices",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("invoice_number", sa.String(length=20), nullable=False),
        sa.Column("account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("booking_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("amount_pence", sa.Integer(), nullable=False),
        sa.Column("vat_pence", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("billing_name", sa.String(length=200), nullable=True),
        sa.Column("billing_email", sa.String(length=320), nullable=True),
        sa.Column("billing_address", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_invoices_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["cpd_bookings.id"], name=op.f("fk_invoices_booking_id_cpd_bookings")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoices")),
        sa.UniqueConstraint("invoice_number", name=op.f("uq_invoices_invoice_number")),
    )
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.create_index("ix_invoices_account_id", ["account_id"], unique=False)
        batch_op.create_index("ix_invoices_booking_id", ["booking_id"], unique=False)
        batch_op.create_index("ix_invoices_issued_on", ["issued_on"], unique=False)

    op.create_table(
        "posts",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("thread_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("author_account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("edited_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("is_hidden", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("hidden_at", sa.DateTime(), nullable=True),
        sa.Column("hidden_reason", sa.String(length=60), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_account_id"], ["accounts.id"], name=op.f("fk_posts_author_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["thread_id"], ["community_threads.id"], name=op.f("fk_posts_thread_id_community_threads")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_posts")),
    )
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.create_index("ix_posts_author_account_id", ["author_account_id"], unique=False)
        batch_op.create_index("ix_posts_thread_id", ["thread_id"], unique=False)
        batch_op.create_index("ix_posts_updated_at_id", ["updated_at", "id"], unique=False)

    op.create_table(
        "content_reports",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("post_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("reporter_account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("reporter_kind", sa.String(length=20), nullable=False),
        sa.Column("trusted_flagger_name", sa.String(length=200), nullable=True),
        sa.Column("reason", sa.String(length=60), nullable=False),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"], name=op.f("fk_content_reports_post_id_posts")),
        sa.ForeignKeyConstraint(
            ["reporter_account_id"],
            ["accounts.id"],
            name=op.f("fk_content_reports_reporter_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_content_reports")),
    )
    with op.batch_alter_table("content_reports", schema=None) as batch_op:
        batch_op.create_index("ix_content_reports_post_id", ["post_id"], unique=False)
        batch_op.create_index("ix_content_reports_reporter_account_id", ["reporter_account_id"], unique=False)

    op.create_table(
        "moderation_cases",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("post_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("categories", sa.String(length=200), nullable=True),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"], name=op.f("fk_moderation_cases_post_id_posts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_cases")),
    )
    with op.batch_alter_table("moderation_cases", schema=None) as batch_op:
        batch_op.create_index("ix_moderation_cases_post_id", ["post_id"], unique=False)
        batch_op.create_index("ix_moderation_cases_status_due_at", ["status", "due_at"], unique=False)

    op.create_table(
        "payments",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("invoice_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("amount_pence", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("payer_reference", sa.String(length=60), nullable=True),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_payments_invoice_id_invoices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index("ix_payments_invoice_id", ["invoice_id"], unique=False)

    op.create_table(
        "post_attachments",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("post_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"], name=op.f("fk_post_attachments_post_id_posts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_attachments")),
    )
    with op.batch_alter_table("post_attachments", schema=None) as batch_op:
        batch_op.create_index("ix_post_attachments_post_id", ["post_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("post_attachments", schema=None) as batch_op:
        batch_op.drop_index("ix_post_attachments_post_id")

    op.drop_table("post_attachments")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index("ix_payments_invoice_id")

    op.drop_table("payments")
    with op.batch_alter_table("moderation_cases", schema=None) as batch_op:
        batch_op.drop_index("ix_moderation_cases_status_due_at")
        batch_op.drop_index("ix_moderation_cases_post_id")

    op.drop_table("moderation_cases")
    with op.batch_alter_table("content_reports", schema=None) as batch_op:
        batch_op.drop_index("ix_content_reports_reporter_account_id")
        batch_op.drop_index("ix_content_reports_post_id")

    op.drop_table("content_reports")
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_index("ix_posts_updated_at_id")
        batch_op.drop_index("ix_posts_thread_id")
        batch_op.drop_index("ix_posts_author_account_id")

    op.drop_table("posts")
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_index("ix_invoices_issued_on")
        batch_op.drop_index("ix_invoices_booking_id")
        batch_op.drop_index("ix_invoices_account_id")

    op.drop_table("invoices")
    with op.batch_alter_table("survey_responses", schema=None) as batch_op:
        batch_op.drop_index("ix_survey_responses_submitted_at")
        batch_op.drop_index("ix_survey_responses_respondent_email_lower")
        batch_op.drop_index("ix_survey_responses_account_id")

    op.drop_table("survey_responses")
    with op.batch_alter_table("plan_items", schema=None) as batch_op:
        batch_op.drop_index("ix_plan_items_plan_id_status")

    op.drop_table("plan_items")
    with op.batch_alter_table("legal_holds", schema=None) as batch_op:
        batch_op.drop_index("ix_legal_holds_account_id")

    op.drop_table("legal_holds")
    with op.batch_alter_table("keyword_terms", schema=None) as batch_op:
        batch_op.drop_index("ix_keyword_terms_removed_in_version")
        batch_op.drop_index("ix_keyword_terms_added_in_version")

    op.drop_table("keyword_terms")
    with op.batch_alter_table("impact_records", schema=None) as batch_op:
        batch_op.drop_index("ix_impact_records_activity_ended_on")
        batch_op.drop_index("ix_impact_records_account_id")

    op.drop_table("impact_records")
    with op.batch_alter_table("data_shares", schema=None) as batch_op:
        batch_op.drop_index("ix_data_shares_account_id")

    op.drop_table("data_shares")
    with op.batch_alter_table("cpd_bookings", schema=None) as batch_op:
        batch_op.drop_index("ix_cpd_bookings_course_id")
        batch_op.drop_index("ix_cpd_bookings_account_id")

    op.drop_table("cpd_bookings")
    with op.batch_alter_table("community_threads", schema=None) as batch_op:
        batch_op.drop_index("ix_community_threads_author_account_id")

    op.drop_table("community_threads")
    with op.batch_alter_table("ambassador_profiles", schema=None) as batch_op:
        batch_op.drop_index("ix_ambassador_profiles_last_activity_on")

    op.drop_table("ambassador_profiles")
    with op.batch_alter_table("ambassador_activities", schema=None) as batch_op:
        batch_op.drop_index("ix_ambassador_activities_ended_on")
        batch_op.drop_index("ix_ambassador_activities_account_id")

    op.drop_table("ambassador_activities")
    op.drop_table("surveys")
    op.drop_table("scan_state")
    with op.batch_alter_table("request_register", schema=None) as batch_op:
        batch_op.drop_index("ix_request_register_subject_hash")
        batch_op.drop_index("ix_request_register_status_due_on")
        batch_op.drop_index("ix_request_register_account_id")

    op.drop_table("request_register")
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_index("ix_plans_kind_status")

    op.drop_table("plans")
    op.drop_table("keyword_lists")
    with op.batch_alter_table("job_applications", schema=None) as batch_op:
        batch_op.drop_index("ix_job_applications_email_lower")
        batch_op.drop_index("ix_job_applications_decided_at")

    op.drop_table("job_applications")
    with op.batch_alter_table("information_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_information_requests_email_lower")
        batch_op.drop_index("ix_information_requests_closed_at")

    op.drop_table("information_requests")
    with op.batch_alter_table("email_events", schema=None) as batch_op:
        batch_op.drop_index("ix_email_events_occurred_at")
        batch_op.drop_index("ix_email_events_email_lower")

    op.drop_table("email_events")
    with op.batch_alter_table("cpd_courses", schema=None) as batch_op:
        batch_op.drop_index("ix_cpd_courses_ends_on")

    op.drop_table("cpd_courses")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_subject_hash")
        batch_op.drop_index("ix_audit_log_event_occurred_at")

    op.drop_table("audit_log")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_index("ix_accounts_registered_at")
        batch_op.drop_index("ix_accounts_last_activity_at")
        batch_op.drop_index("ix_accounts_email_status")
        batch_op.drop_index("ix_accounts_email_lower")

    op.drop_table("accounts")

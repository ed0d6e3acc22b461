"""The reference database, defined once as SQLAlchemy Core metadata, portable to SQLite and PostgreSQL.

Timestamps are stored in UTC without a zone; dates are calendar dates in Europe/London.
Schema changes go through Alembic migrations (migrations/); a test proves they match this file, and
another that every column here has a contract in data_contracts/ with its classification.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)

# Named constraints, so that migrations are reproducible on both dialects.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# 64-bit ids on PostgreSQL; SQLite's INTEGER PRIMARY KEY is already 64-bit and is the rowid.
Id = BigInteger().with_variant(Integer(), "sqlite")
Email = String(320)


def _id() -> Column:
    return Column("id", Id, primary_key=True, autoincrement=True)


def _account_fk(name: str = "account_id", nullable: bool = True) -> Column:
    return Column(name, Id, ForeignKey("accounts.id"), nullable=nullable)


# --------------------------------------------------------------------------------------------- CRM

accounts = Table(
    "accounts",
    metadata,
    _id(),
    Column("account_type", String(20), nullable=False),  # educator | ambassador
    Column("email", Email, nullable=False, unique=True),
    Column("first_name", String(100), nullable=False),
    Column("last_name", String(100), nullable=False),
    Column("job_title", String(200)),
    Column("organisation_name", String(200)),
    Column("region", String(40), nullable=False),
    Column("school_phase", String(20)),
    Column("subject", String(60)),
    Column("interests", String(400)),
    Column("postcode", String(10)),
    Column("phone", String(30)),
    Column("registered_at", DateTime, nullable=False),
    Column("last_sign_in_at", DateTime),
    Column("last_activity_at", DateTime),
    Column("email_status", String(20), nullable=False, server_default="ok"),
    Column("email_status_changed_at", DateTime),
    Column("consent_marketing", Boolean, nullable=False, server_default="0"),
    Column("consent_research", Boolean, nullable=False, server_default="0"),
    Column("consent_employer_sharing", Boolean, nullable=False, server_default="0"),
    Column("restricted", Boolean, nullable=False, server_default="0"),
    Column("restricted_at", DateTime),
    Column("updated_at", DateTime, nullable=False),
)
Index("ix_accounts_email_lower", func.lower(accounts.c.email))
Index("ix_accounts_last_activity_at", accounts.c.last_activity_at)
Index("ix_accounts_registered_at", accounts.c.registered_at)
Index("ix_accounts_email_status", accounts.c.email_status)
# the few restricted accounts, found without reading every account (every plan's check looks for them)
Index(
    "ix_accounts_restricted",
    accounts.c.id,
    sqlite_where=accounts.c.restricted,
    postgresql_where=accounts.c.restricted,
)

ambassador_profiles = Table(
    "ambassador_profiles",
    metadata,
    Column("account_id", Id, ForeignKey("accounts.id"), primary_key=True),
    Column("date_of_birth", Date),
    Column("gender", String(30)),
    Column("ethnicity", String(60)),
    Column("employer", String(200)),
    Column("joined_on", Date, nullable=False),
    Column("last_activity_on", Date),
)
Index("ix_ambassador_profiles_last_activity_on", ambassador_profiles.c.last_activity_on)

ambassador_activities = Table(
    "ambassador_activities",
    metadata,
    _id(),
    _account_fk(nullable=False),
    Column("activity_type", String(40), nullable=False),
    Column("region", String(40), nullable=False),
    Column("school_name", String(200)),
    Column("started_on", Date, nullable=False),
    Column("ended_on", Date, nullable=False),
    Column("hours", Float, nullable=False),
    Column("notes", Text),
)
Index("ix_ambassador_activities_account_id", ambassador_activities.c.account_id)
Index("ix_ambassador_activities_ended_on", ambassador_activities.c.ended_on)

cpd_courses = Table(
    "cpd_courses",
    metadata,
    _id(),
    Column("code", String(20), nullable=False, unique=True),
    Column("title", String(200), nullable=False),
    Column("subject", String(60), nullable=False),
    Column("region", String(40), nullable=False),
    Column("venue", String(200), nullable=False),
    Column("delivery_mode", String(20), nullable=False),  # in_person | online
    Column("sponsor", String(100)),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
)
Index("ix_cpd_courses_ends_on", cpd_courses.c.ends_on)

cpd_bookings = Table(
    "cpd_bookings",
    metadata,
    _id(),
    Column("course_id", Id, ForeignKey("cpd_courses.id"), nullable=False),
    _account_fk(nullable=False),
    Column("booked_at", DateTime, nullable=False),
    Column("status", String(20), nullable=False),  # booked | attended | cancelled | no_show
    Column("dietary_requirements", String(200)),
    Column("accessibility_needs", String(200)),
    Column("cancelled_at", DateTime),
)
Index("ix_cpd_bookings_account_id", cpd_bookings.c.account_id)
Index("ix_cpd_bookings_course_id", cpd_bookings.c.course_id)

invoices = Table(
    "invoices",
    metadata,
    _id(),
    Column("invoice_number", String(20), nullable=False, unique=True),
    _account_fk(),  # nulled when the account is erased; the record stays for its regulatory life
    Column("booking_id", Id, ForeignKey("cpd_bookings.id")),
    Column("issued_on", Date, nullable=False),
    Column("amount_pence", Integer, nullable=False),
    Column("vat_pence", Integer, nullable=False),
    Column("status", String(20), nullable=False),  # issued | paid | void
    Column("billing_name", String(200)),
    Column("billing_email", Email),
    Column("billing_address", Text),
)
Index("ix_invoices_account_id", invoices.c.account_id)
Index("ix_invoices_booking_id", invoices.c.booking_id)
Index("ix_invoices_issued_on", invoices.c.issued_on)

payments = Table(
    "payments",
    metadata,
    _id(),
    Column("invoice_id", Id, ForeignKey("invoices.id"), nullable=False),
    Column("paid_on", Date, nullable=False),
    Column("amount_pence", Integer, nullable=False),
    Column("method", String(20), nullable=False),  # card | bacs | cheque
    Column("payer_reference", String(60)),
)
Index("ix_payments_invoice_id", payments.c.invoice_id)

job_applications = Table(
    "job_applications",
    metadata,
    _id(),
    Column("email", Email, nullable=False),
    Column("full_name", String(200), nullable=False),
    Column("phone", String(30)),
    Column("position", String(200), nullable=False),
    Column("applied_at", DateTime, nullable=False),
    Column("outcome", String(20), nullable=False),  # pending | unsuccessful | successful | withdrawn
    Column("decided_at", DateTime),
    Column("cover_letter", Text),
)
Index("ix_job_applications_email_lower", func.lower(job_applications.c.email))
Index("ix_job_applications_decided_at", job_applications.c.decided_at)

information_requests = Table(
    "information_requests",
    metadata,
    _id(),
    Column("email", Email, nullable=False),
    Column("full_name", String(200)),
    Column("topic", String(100), nullable=False),
    Column("message", Text, nullable=False),
    Column("received_at", DateTime, nullable=False),
    Column("closed_at", DateTime),
)
Index("ix_information_requests_email_lower", func.lower(information_requests.c.email))
Index("ix_information_requests_closed_at", information_requests.c.closed_at)

surveys = Table(
    "surveys",
    metadata,
    _id(),
    Column("title", String(200), nullable=False),
    Column("purpose", String(200), nullable=False),
    Column("opened_on", Date, nullable=False),
    Column("closed_on", Date),
)

survey_responses = Table(
    "survey_responses",
    metadata,
    _id(),
    Column("survey_id", Id, ForeignKey("surveys.id"), nullable=False),
    _account_fk(),
    Column("respondent_email", Email),
    Column("submitted_at", DateTime, nullable=False),
    Column("answers", Text, nullable=False),  # JSON
)
Index("ix_survey_responses_account_id", survey_responses.c.account_id)
Index("ix_survey_responses_submitted_at", survey_responses.c.submitted_at)
Index("ix_survey_responses_respondent_email_lower", func.lower(survey_responses.c.respondent_email))

impact_records = Table(
    "impact_records",
    metadata,
    _id(),
    _account_fk(nullable=False),
    Column("course_id", Id, ForeignKey("cpd_courses.id")),
    Column("measure", String(60), nullable=False),
    Column("score", Float, nullable=False),
    Column("comment", Text),
    Column("activity_ended_on", Date, nullable=False),
    Column("recorded_at", DateTime, nullable=False),
)
Index("ix_impact_records_account_id", impact_records.c.account_id)
Index("ix_impact_records_activity_ended_on", impact_records.c.activity_ended_on)

community_threads = Table(
    "community_threads",
    metadata,
    _id(),
    _account_fk("author_account_id"),
    Column("title", String(300), nullable=False),
    Column("category", String(60), nullable=False),
    Column("created_at", DateTime, nullable=False),
)
Index("ix_community_threads_author_account_id", community_threads.c.author_account_id)

posts = Table(
    "posts",
    metadata,
    _id(),
    Column("thread_id", Id, ForeignKey("community_threads.id"), nullable=False),
    _account_fk("author_account_id"),
    Column("title", String(300)),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("edited_at", DateTime),
    Column("updated_at", DateTime, nullable=False),  # the rescan watermark follows this
    Column("is_hidden", Boolean, nullable=False, server_default="0"),
    Column("hidden_at", DateTime),
    Column("hidden_reason", String(60)),
)
Index("ix_posts_author_account_id", posts.c.author_account_id)
Index("ix_posts_thread_id", posts.c.thread_id)
Index("ix_posts_updated_at_id", posts.c.updated_at, posts.c.id)

post_attachments = Table(
    "post_attachments",
    metadata,
    _id(),
    Column("post_id", Id, ForeignKey("posts.id"), nullable=False),
    Column("file_name", String(255), nullable=False),
    Column("content_type", String(100), nullable=False),
    Column("size_bytes", Integer, nullable=False),
    Column("uploaded_at", DateTime, nullable=False),
)
Index("ix_post_attachments_post_id", post_attachments.c.post_id)

content_reports = Table(
    "content_reports",
    metadata,
    _id(),
    Column("post_id", Id, ForeignKey("posts.id"), nullable=False),
    _account_fk("reporter_account_id"),
    Column("reporter_kind", String(20), nullable=False),  # member | trusted_flagger
    Column("trusted_flagger_name", String(200)),
    Column("reason", String(60), nullable=False),
    Column("details", Text),
    Column("created_at", DateTime, nullable=False),
)
Index("ix_content_reports_post_id", content_reports.c.post_id)
Index("ix_content_reports_reporter_account_id", content_reports.c.reporter_account_id)

data_shares = Table(
    "data_shares",
    metadata,
    _id(),
    _account_fk(),
    Column("recipient", String(200), nullable=False),
    Column("dataset", String(100), nullable=False),
    Column("purpose", String(200), nullable=False),
    Column("lawful_basis", String(60), nullable=False),
    Column("pseudonymised", Boolean, nullable=False, server_default="0"),
    Column("shared_at", DateTime, nullable=False),
)
Index("ix_data_shares_account_id", data_shares.c.account_id)

# The email provider's bounce and complaint export, staged as delivered.
email_events = Table(
    "email_events",
    metadata,
    _id(),
    Column("email", Email, nullable=False),
    Column("event_type", String(20), nullable=False),  # bounce | complaint | delivery
    Column("smtp_status", String(10)),
    Column("enhanced_status", String(16)),
    Column("diagnostic", Text),
    Column("occurred_at", DateTime, nullable=False),
    Column("source_file", String(255), nullable=False),
    Column("source_line", Integer, nullable=False),
    Column("ingested_at", DateTime, nullable=False),
    UniqueConstraint("source_file", "source_line", name="uq_email_events_source"),
)
Index("ix_email_events_email_lower", func.lower(email_events.c.email))
Index("ix_email_events_occurred_at", email_events.c.occurred_at)

# ------------------------------------------------------------------------------------- steward's own

keyword_lists = Table(
    "keyword_lists",
    metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("created_at", DateTime, nullable=False),
    Column("source_name", String(255), nullable=False),
    Column("source_sha256", String(64), nullable=False),
    Column("term_count", Integer, nullable=False),
    Column("added_count", Integer, nullable=False),
    Column("removed_count", Integer, nullable=False),
)

keyword_terms = Table(
    "keyword_terms",
    metadata,
    _id(),
    Column("term", String(200), nullable=False),
    Column("category", String(40), nullable=False),
    Column("match_mode", String(20), nullable=False),  # word | phrase | prefix | anywhere
    Column("action", String(20), nullable=False),  # hold | alert | allow
    Column("added_in_version", Integer, ForeignKey("keyword_lists.version"), nullable=False),
    Column("removed_in_version", Integer, ForeignKey("keyword_lists.version")),
)
Index("ix_keyword_terms_added_in_version", keyword_terms.c.added_in_version)
Index("ix_keyword_terms_removed_in_version", keyword_terms.c.removed_in_version)

scan_state = Table(
    "scan_state",
    metadata,
    Column("scanner", String(60), primary_key=True),
    Column("watermark_at", DateTime),
    Column("watermark_id", Id),
    Column("list_version", Integer),
    Column("updated_at", DateTime, nullable=False),
)

moderation_cases = Table(
    "moderation_cases",
    metadata,
    _id(),
    Column("post_id", Id, ForeignKey("posts.id"), nullable=False),
    Column("status", String(20), nullable=False),  # open | removed | restored | closed
    Column("source", String(20), nullable=False),  # filter | member_report | trusted_flagger
    Column("categories", String(200)),
    Column("opened_at", DateTime, nullable=False),
    Column("due_at", DateTime, nullable=False),
    Column("decision", String(20)),
    Column("decision_reason", Text),
    Column("decided_at", DateTime),
    Column("decided_by", String(100)),  # staff moderator; redacted from other people's SARs
)
Index("ix_moderation_cases_post_id", moderation_cases.c.post_id)
Index("ix_moderation_cases_status_due_at", moderation_cases.c.status, moderation_cases.c.due_at)

plans = Table(
    "plans",
    metadata,
    _id(),
    Column("kind", String(30), nullable=False),  # retention | bounce_removal | erasure_request
    Column("status", String(30), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("created_by_run", String(64)),
    Column("summary", Text),  # JSON counts per rule and table: no personal data
    Column("approved_at", DateTime),
    Column("approved_by", String(100)),
    Column("applied_at", DateTime),
)
Index("ix_plans_kind_status", plans.c.kind, plans.c.status)

plan_items = Table(
    "plan_items",
    metadata,
    _id(),
    Column("plan_id", Id, ForeignKey("plans.id"), nullable=False),
    Column("account_id", Id),  # internal id of the subject, when the subject has an account
    Column("subject_table", String(60), nullable=False),
    Column("subject_row_id", Id, nullable=False),
    Column("action", String(20), nullable=False),  # erase_subject | delete_row | anonymise_row
    Column("rule", String(60), nullable=False),
    Column("reason", Text, nullable=False),
    Column("status", String(20), nullable=False),  # pending | done | deferred
    Column("deferred_reason", String(200)),
    Column("applied_at", DateTime),
)
# plan_id, status, id: check and apply read a plan window by window in id order (SQLite has the id in
# every index already; PostgreSQL needs it named to seek a window rather than sort the plan)
Index("ix_plan_items_plan_id_status_id", plan_items.c.plan_id, plan_items.c.status, plan_items.c.id)

audit_log = Table(
    "audit_log",
    metadata,
    _id(),
    Column("occurred_at", DateTime, nullable=False),
    Column("run_id", String(64)),
    Column("event", String(40), nullable=False),
    Column("subject_hash", String(64)),  # HMAC of the subject's identifiers, never the identifiers
    Column("rule", String(60)),
    Column("plan_id", Id),
    Column("request_id", Id),
    Column("detail", Text),  # JSON: tables and row counts, no personal data
)
Index("ix_audit_log_subject_hash", audit_log.c.subject_hash)
Index("ix_audit_log_event_occurred_at", audit_log.c.event, audit_log.c.occurred_at)

request_register = Table(
    "request_register",
    metadata,
    _id(),
    Column("kind", String(20), nullable=False),  # access | erasure | rectification | restriction | ...
    Column("status", String(30), nullable=False),
    Column("email", Email),
    Column("account_id", Id),
    Column("subject_hash", String(64), nullable=False),
    Column("received_on", Date, nullable=False),
    Column("identity_verified_on", Date),
    Column("due_on", Date, nullable=False),
    Column("extended", Boolean, nullable=False, server_default="0"),
    Column("extension_reason", Text),
    Column("deferred_reason", String(200)),
    Column("details", Text),  # JSON: what was asked (a rectification's fields, for example)
    Column("completed_at", DateTime),
    Column("package_sha256", String(64)),
    Column("created_at", DateTime, nullable=False),
)
Index("ix_request_register_status_due_on", request_register.c.status, request_register.c.due_on)
Index("ix_request_register_account_id", request_register.c.account_id)
Index("ix_request_register_subject_hash", request_register.c.subject_hash)

legal_holds = Table(
    "legal_holds",
    metadata,
    _id(),
    _account_fk(),
    Column("email", Email),
    Column("reason", Text, nullable=False),
    Column("placed_at", DateTime, nullable=False),
    Column("placed_by", String(100), nullable=False),
    Column("lifted_at", DateTime),
)
Index("ix_legal_holds_account_id", legal_holds.c.account_id)

SOURCE_TABLES: tuple[str, ...] = (
    "accounts",
    "ambassador_profiles",
    "ambassador_activities",
    "cpd_courses",
    "cpd_bookings",
    "invoices",
    "payments",
    "job_applications",
    "information_requests",
    "surveys",
    "survey_responses",
    "impact_records",
    "community_threads",
    "posts",
    "post_attachments",
    "content_reports",
    "data_shares",
    "email_events",
    "legal_holds",
)
"""The charity's data that steward reads; the nightly data-quality stage validates each of them."""

# ------------------------------------------------------------- bounces and erasure (issue 4)

# Every export file ingested, by content: re-ingesting a file already seen (same sha256) changes nothing.
bounce_files = Table(
    "bounce_files",
    metadata,
    _id(),
    Column("file_name", String(255), nullable=False),
    Column("sha256", String(64), nullable=False, unique=True),
    Column("format", String(20), nullable=False),  # csv | ses_jsonl
    Column("size_bytes", BigInteger, nullable=False),
    Column("source_file", String(255), nullable=False),  # the name its staged events carry
    Column("event_count", Integer, nullable=False),
    Column("quarantined_count", Integer, nullable=False),
    Column("ingested_at", DateTime, nullable=False),
)

# Export rows that failed the bounce_export contract: where they are and why, never their values.
bounce_quarantine = Table(
    "bounce_quarantine",
    metadata,
    _id(),
    Column("file_id", Id, ForeignKey("bounce_files.id"), nullable=False),
    Column("source_line", Integer, nullable=False),
    Column("reasons", String(500), nullable=False),
    Column("quarantined_at", DateTime, nullable=False),
)
Index("ix_bounce_quarantine_file_id", bounce_quarantine.c.file_id)

# Accounts marked undeliverable, with a keyed hash of the address that was marked: an account whose
# address has changed since is cleared. Undeliverable stays until a later delivery or an address change.
email_deliverability = Table(
    "email_deliverability",
    metadata,
    Column("account_id", Id, ForeignKey("accounts.id"), primary_key=True, autoincrement=False),
    Column("address_hash", String(64), nullable=False),
    Column("reason", String(30), nullable=False),  # bad_mailbox | bad_domain | transient_score | imported
    Column("undeliverable_since", DateTime, nullable=False),
    Column("marked_at", DateTime, nullable=False),
)

# ------------------------------------------------------------------------- subject access (issue 7)

# A subject access request follows every link of the personal-data map from the person's account id and
# address; these are the links that had no index (an unindexed one scans the whole table per request).
Index("ix_invoices_billing_email_lower", func.lower(invoices.c.billing_email))
Index("ix_legal_holds_email_lower", func.lower(legal_holds.c.email))
Index("ix_request_register_email_lower", func.lower(request_register.c.email))
Index("ix_plan_items_account_id", plan_items.c.account_id)

# ------------------------------------------------------------------------ funder statistics (issue 6)

# Every release of statistics to a funder, kept so that later releases are protected against
# differencing with it (the same tables again, a year against its quarters, another funder's release).
funder_releases = Table(
    "funder_releases",
    metadata,
    _id(),
    Column("funder_slug", String(80), nullable=False),
    Column("funder_name", String(200), nullable=False),
    Column("period", String(10), nullable=False),  # 2026-Q3 | 2026
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("status", String(20), nullable=False),  # prepared | delivered
    Column("parameters", Text, nullable=False),  # JSON: the disclosure rules applied
    Column("tables", Text, nullable=False),  # JSON: each table's title, dimensions, rows, columns, notes
    Column("summary", Text),  # JSON: counts of cells and suppressions, the audit's figures
    Column("output_path", String(500)),
    Column("manifest_sha256", String(64)),
    Column("created_at", DateTime, nullable=False),
    Column("delivered_at", DateTime),
    Column("run_id", String(64)),
    UniqueConstraint("funder_slug", "period", name="uq_funder_releases_funder_period"),
)
Index("ix_funder_releases_period", funder_releases.c.period)

# The cells of each release as delivered: published figures with their exact value (needed to audit a
# later release), suppressed cells with the protection they must keep. Aggregates only, no person.
funder_release_cells = Table(
    "funder_release_cells",
    metadata,
    _id(),
    Column("release_id", Id, ForeignKey("funder_releases.id"), nullable=False),
    Column("table_name", String(60), nullable=False),
    Column("position", Integer, nullable=False),
    Column("row_label", String(300), nullable=False),
    Column("column_label", String(120), nullable=False),
    Column("stat_key", String(600), nullable=False),
    Column("is_total", Boolean, nullable=False, server_default="0"),
    Column("status", String(20), nullable=False),  # published | suppressed
    Column("suppression", String(20)),  # primary | secondary: internal, never delivered
    Column("value", Float),  # exact value of a published cell; null when suppressed
    Column("shown", Float),  # the figure as delivered (rounded); null when suppressed
    Column("required_width", Float, nullable=False, server_default="0"),
)
Index("ix_funder_release_cells_release_id", funder_release_cells.c.release_id)

# ----------------------------------------------------------- content rescan and moderation (issue 3)

# A post has at most one open moderation case: the database enforces it (a partial unique index,
# portable to SQLite and PostgreSQL), so two scans or a scan and a report never open two.
Index(
    "uq_moderation_cases_open_post",
    moderation_cases.c.post_id,
    unique=True,
    sqlite_where=moderation_cases.c.status == "open",
    postgresql_where=moderation_cases.c.status == "open",
)

# Each scan that looked at posts: what it scanned with and how much. Counts only.
content_scans = Table(
    "content_scans",
    metadata,
    _id(),
    Column("kind", String(20), nullable=False),  # full | incremental | added_terms | recheck
    Column("list_version", Integer, ForeignKey("keyword_lists.version"), nullable=False),
    Column("status", String(20), nullable=False),  # running | completed
    Column("terms", Integer, nullable=False),
    Column("workers", Integer, nullable=False),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
    Column("posts_scanned", Integer, nullable=False, server_default="0"),
    Column("characters_scanned", BigInteger, nullable=False, server_default="0"),
    Column("hits_found", Integer, nullable=False, server_default="0"),
    Column("run_id", String(64)),
)

# Every hit: where (post, field, offsets in the original text), which term, found by which scan, and
# what the moderation queue did with it. Never the text itself.
scan_hits = Table(
    "scan_hits",
    metadata,
    _id(),
    Column("scan_id", Id, ForeignKey("content_scans.id"), nullable=False),
    Column("post_id", Id, ForeignKey("posts.id"), nullable=False),
    Column("field", String(20), nullable=False),  # title | body | link_domain | attachment
    Column("source_id", Id, nullable=False),  # the post's id, or the attachment's for a file name
    Column("term_id", Id, ForeignKey("keyword_terms.id"), nullable=False),
    Column("list_version", Integer, nullable=False),
    Column("category", String(40), nullable=False),
    Column("action", String(20), nullable=False),  # hold | alert
    Column("start_offset", Integer, nullable=False),
    Column("end_offset", Integer, nullable=False),
    Column("found_at", DateTime, nullable=False),
    Column("applied_at", DateTime),  # taken into the moderation queue
    Column("case_id", Id, ForeignKey("moderation_cases.id")),
    Column("cleared_at", DateTime),
    Column("cleared_reason", String(20)),  # withdrawn | allow_listed | edited
    Column("cleared_in_version", Integer),
    UniqueConstraint("post_id", "field", "source_id", "term_id", "start_offset", name="uq_scan_hits_place"),
)
Index("ix_scan_hits_case_id", scan_hits.c.case_id)
Index("ix_scan_hits_term_id", scan_hits.c.term_id)
Index("ix_scan_hits_applied_at", scan_hits.c.applied_at)
Index("ix_scan_hits_scan_id", scan_hits.c.scan_id)

# The reports (members' and trusted flaggers') each case collects; a report is in one case.
moderation_case_reports = Table(
    "moderation_case_reports",
    metadata,
    Column("report_id", Id, ForeignKey("content_reports.id"), primary_key=True, autoincrement=False),
    Column("case_id", Id, ForeignKey("moderation_cases.id"), nullable=False),
    Column("linked_at", DateTime, nullable=False),
)
Index("ix_moderation_case_reports_case_id", moderation_case_reports.c.case_id)

# The history of every decision on a case: a moderator's, an appeal's, a complaint's, a list change's.
moderation_decisions = Table(
    "moderation_decisions",
    metadata,
    _id(),
    Column("case_id", Id, ForeignKey("moderation_cases.id"), nullable=False),
    Column("action", String(20), nullable=False),  # remove | restore | close
    Column("origin", String(20), nullable=False),  # moderator | appeal | complaint | list_change
    Column("reason", Text, nullable=False),  # shown to the author
    Column("decided_at", DateTime, nullable=False),
    Column("decided_by", String(100), nullable=False),
)
Index("ix_moderation_decisions_case_id", moderation_decisions.c.case_id)

# Appeals of a removal: their own queue, with their own due time.
moderation_appeals = Table(
    "moderation_appeals",
    metadata,
    _id(),
    Column("case_id", Id, ForeignKey("moderation_cases.id"), nullable=False),
    _account_fk("appellant_account_id"),
    Column("grounds", Text),
    Column("status", String(20), nullable=False),  # open | upheld | rejected
    Column("received_at", DateTime, nullable=False),
    Column("due_at", DateTime, nullable=False),
    Column("decided_at", DateTime),
    Column("decided_by", String(100)),
    Column("decision_reason", Text),
)
Index("ix_moderation_appeals_case_id", moderation_appeals.c.case_id)
Index("ix_moderation_appeals_appellant_account_id", moderation_appeals.c.appellant_account_id)
Index("ix_moderation_appeals_status_due_at", moderation_appeals.c.status, moderation_appeals.c.due_at)

# Complaints that the automated filter was wrong about a post (a false positive): a separate queue.
filter_complaints = Table(
    "filter_complaints",
    metadata,
    _id(),
    Column("post_id", Id, ForeignKey("posts.id"), nullable=False),
    Column("case_id", Id, ForeignKey("moderation_cases.id")),
    _account_fk("complainant_account_id"),
    Column("details", Text),
    Column("status", String(20), nullable=False),  # open | upheld | rejected
    Column("received_at", DateTime, nullable=False),
    Column("due_at", DateTime, nullable=False),
    Column("decided_at", DateTime),
    Column("decided_by", String(100)),
    Column("decision_reason", Text),
)
Index("ix_filter_complaints_post_id", filter_complaints.c.post_id)
Index("ix_filter_complaints_case_id", filter_complaints.c.case_id)
Index("ix_filter_complaints_complainant_account_id", filter_complaints.c.complainant_account_id)
Index("ix_filter_complaints_status_due_at", filter_complaints.c.status, filter_complaints.c.due_at)

# Covering indexes for the statistics: bookings and activities read in account order, whole, so that
# grouping them per person needs no sort (see sql/stats__cpd_participation.sql).
Index(
    "ix_cpd_bookings_account_id_status_course_id",
    cpd_bookings.c.account_id,
    cpd_bookings.c.status,
    cpd_bookings.c.course_id,
)
Index(
    "ix_ambassador_activities_account_id_region_type",
    ambassador_activities.c.account_id,
    ambassador_activities.c.region,
    ambassador_activities.c.activity_type,
    ambassador_activities.c.ended_on,
    ambassador_activities.c.hours,
)

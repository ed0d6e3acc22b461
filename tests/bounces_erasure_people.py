"""Hand-made people for the bounce, plan, erasure and rights tests: a few rows in every related table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, insert, select

from tasks import schema as s

# Relative to the real clock: the checks compare with today in Europe/London (an active booking is one
# whose course ends today or later).
NOW = datetime.now(UTC).replace(tzinfo=None, minute=0, second=0, microsecond=0) - timedelta(hours=2)
TODAY: date = NOW.date()


@dataclass
class Person:
    account_id: int
    email: str
    post_id: int
    thread_id: int
    booking_id: int
    invoice_id: int


def add_course(conn: Connection, code: str, ends_on: date) -> int:
    return int(
        conn.execute(
            insert(s.cpd_courses).returning(s.cpd_courses.c.id),
            [
                {
                    "code": code,
                    "title": "Teaching physics",
                    "subject": "physics",
                    "region": "Yorkshire",
                    "venue": "York",
                    "delivery_mode": "in_person",
                    "starts_on": ends_on - timedelta(days=2),
                    "ends_on": ends_on,
                }
            ],
        ).scalar_one()
    )


def add_account(conn: Connection, email: str, **values: Any) -> int:
    row = {
        "account_type": "educator",
        "email": email,
        "first_name": "Ada",
        "last_name": "Lovelace",
        "region": "Yorkshire",
        "registered_at": NOW - timedelta(days=900),
        "last_activity_at": NOW - timedelta(days=10),
        "updated_at": NOW - timedelta(days=10),
        **values,
    }
    return int(conn.execute(insert(s.accounts).returning(s.accounts.c.id), [row]).scalar_one())


def add_person(
    conn: Connection,
    email: str,
    *,
    course_id: int | None = None,
    booking_status: str = "attended",
    other_post_author: int | None = None,
) -> Person:
    """An account with a thread, a post with an attachment, a booking with an invoice and payment, a
    survey response, an impact record, a data share and a bounce event."""
    account_id = add_account(conn, email)
    if course_id is None:
        course_id = add_course(conn, f"C{account_id:05d}", TODAY - timedelta(days=100))
    thread_id = int(
        conn.execute(
            insert(s.community_threads).returning(s.community_threads.c.id),
            [
                {
                    "author_account_id": account_id,
                    "title": "My thread",
                    "category": "physics",
                    "created_at": NOW,
                }
            ],
        ).scalar_one()
    )
    post_id = int(
        conn.execute(
            insert(s.posts).returning(s.posts.c.id),
            [
                {
                    "thread_id": thread_id,
                    "author_account_id": account_id,
                    "body": "Hello",
                    "created_at": NOW,
                    "updated_at": NOW,
                }
            ],
        ).scalar_one()
    )
    if other_post_author is not None:
        conn.execute(
            insert(s.posts),
            [
                {
                    "thread_id": thread_id,
                    "author_account_id": other_post_author,
                    "body": "A reply by someone else",
                    "created_at": NOW,
                    "updated_at": NOW,
                }
            ],
        )
    conn.execute(
        insert(s.post_attachments),
        [
            {
                "post_id": post_id,
                "file_name": "a.pdf",
                "content_type": "application/pdf",
                "size_bytes": 10,
                "uploaded_at": NOW,
            }
        ],
    )
    booking_id = int(
        conn.execute(
            insert(s.cpd_bookings).returning(s.cpd_bookings.c.id),
            [
                {
                    "course_id": course_id,
                    "account_id": account_id,
                    "booked_at": NOW - timedelta(days=200),
                    "status": booking_status,
                }
            ],
        ).scalar_one()
    )
    invoice_id = int(
        conn.execute(
            insert(s.invoices).returning(s.invoices.c.id),
            [
                {
                    "invoice_number": f"INV{account_id:06d}",
                    "account_id": account_id,
                    "booking_id": booking_id,
                    "issued_on": TODAY - timedelta(days=200),
                    "amount_pence": 5000,
                    "vat_pence": 1000,
                    "status": "paid",
                    "billing_name": "Ada Lovelace",
                    "billing_email": email,
                    "billing_address": "1 High St",
                }
            ],
        ).scalar_one()
    )
    conn.execute(
        insert(s.payments),
        [
            {
                "invoice_id": invoice_id,
                "paid_on": TODAY - timedelta(days=190),
                "amount_pence": 6000,
                "method": "card",
            }
        ],
    )
    survey_id = conn.execute(select(func.min(s.surveys.c.id))).scalar()
    if survey_id is None:
        survey_id = conn.execute(
            insert(s.surveys).returning(s.surveys.c.id),
            [{"title": "CPD feedback", "purpose": "evaluation", "opened_on": TODAY - timedelta(days=300)}],
        ).scalar_one()
    conn.execute(
        insert(s.survey_responses),
        [
            {
                "survey_id": survey_id,
                "account_id": account_id,
                "respondent_email": email,
                "submitted_at": NOW,
                "answers": "{}",
            }
        ],
    )
    conn.execute(
        insert(s.impact_records),
        [
            {
                "account_id": account_id,
                "course_id": course_id,
                "measure": "confidence",
                "score": 4.0,
                "activity_ended_on": TODAY - timedelta(days=100),
                "recorded_at": NOW,
            }
        ],
    )
    conn.execute(
        insert(s.data_shares),
        [
            {
                "account_id": account_id,
                "recipient": "Research partner",
                "dataset": "impact",
                "purpose": "research",
                "lawful_basis": "consent",
                "shared_at": NOW - timedelta(days=50),
            }
        ],
    )
    conn.execute(
        insert(s.email_events),
        [
            {
                "email": email,
                "event_type": "delivery",
                "occurred_at": NOW - timedelta(days=5),
                "source_file": "seed.csv",
                "source_line": account_id,
                "ingested_at": NOW,
            }
        ],
    )
    return Person(account_id, email, post_id, thread_id, booking_id, invoice_id)


def add_job_application(conn: Connection, email: str) -> int:
    return int(
        conn.execute(
            insert(s.job_applications).returning(s.job_applications.c.id),
            [
                {
                    "email": email,
                    "full_name": "Grace Hopper",
                    "position": "Officer",
                    "applied_at": NOW - timedelta(days=400),
                    "outcome": "unsuccessful",
                    "decided_at": NOW - timedelta(days=380),
                }
            ],
        ).scalar_one()
    )


def add_hold(conn: Connection, *, account_id: int | None = None, email: str | None = None) -> int:
    return int(
        conn.execute(
            insert(s.legal_holds).returning(s.legal_holds.c.id),
            [
                {
                    "account_id": account_id,
                    "email": email,
                    "reason": "claim",
                    "placed_at": NOW,
                    "placed_by": "DPO",
                }
            ],
        ).scalar_one()
    )


def rows_about(conn: Connection, person: Person) -> dict[str, int]:
    """How many rows still name the person, table by table."""
    a = person.account_id
    email = person.email.lower()
    checks = {
        "accounts": select(func.count()).select_from(s.accounts).where(s.accounts.c.id == a),
        "posts": select(func.count()).select_from(s.posts).where(s.posts.c.author_account_id == a),
        "post_attachments": select(func.count())
        .select_from(s.post_attachments)
        .where(s.post_attachments.c.post_id == person.post_id),
        "community_threads": select(func.count())
        .select_from(s.community_threads)
        .where(s.community_threads.c.author_account_id == a),
        "cpd_bookings": select(func.count())
        .select_from(s.cpd_bookings)
        .where(s.cpd_bookings.c.account_id == a),
        "invoices": select(func.count()).select_from(s.invoices).where(s.invoices.c.account_id == a),
        "invoices_by_email": select(func.count())
        .select_from(s.invoices)
        .where(func.lower(s.invoices.c.billing_email) == email),
        "survey_responses": select(func.count())
        .select_from(s.survey_responses)
        .where(s.survey_responses.c.account_id == a),
        "impact_records": select(func.count())
        .select_from(s.impact_records)
        .where(s.impact_records.c.account_id == a),
        "data_shares": select(func.count()).select_from(s.data_shares).where(s.data_shares.c.account_id == a),
        "email_events": select(func.count())
        .select_from(s.email_events)
        .where(func.lower(s.email_events.c.email) == email),
    }
    return {name: int(conn.execute(statement).scalar_one()) for name, statement in checks.items()}


def add_members(conn: Connection, n: int, prefix: str = "member") -> list[int]:
    """n plain accounts `<prefix><i>@example.org` in one statement (the guard's denominator)."""
    stamp = NOW - timedelta(days=900)
    rows = [
        {
            "account_type": "educator",
            "email": f"{prefix}{i}@example.org",
            "first_name": "Member",
            "last_name": str(i),
            "region": "Yorkshire",
            "registered_at": stamp,
            "updated_at": stamp,
        }
        for i in range(n)
    ]
    if rows:
        conn.execute(insert(s.accounts), rows)
    emails = [row["email"] for row in rows]
    found = dict(
        conn.execute(select(s.accounts.c.email, s.accounts.c.id).where(s.accounts.c.email.in_(emails))).all()
    )
    return [int(found[e]) for e in emails]

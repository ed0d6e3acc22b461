"""Hand-made rows for the retention tests: one builder per table, dates given as local calendar dates."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert

from tasks.calendar import local_midnight_utc
from tasks.schema import (
    accounts,
    ambassador_activities,
    ambassador_profiles,
    cpd_bookings,
    cpd_courses,
    email_events,
    impact_records,
    information_requests,
    invoices,
    job_applications,
    legal_holds,
    payments,
    survey_responses,
    surveys,
)


def at_noon(day: date) -> datetime:
    """Noon of a local date, as the naive UTC the database stores."""
    return local_midnight_utc(day) + timedelta(hours=12)


class Rows:
    """Inserts minimal valid rows; every builder returns the new row's id."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._ids = itertools.count(1)
        self._survey: int | None = None

    def _id(self) -> int:
        return next(self._ids)

    def _insert(self, table: Any, **values: Any) -> int:
        values.setdefault("id", self._id())
        self.conn.execute(insert(table), [values])
        return int(values["id"])

    def account(
        self,
        *,
        registered: date,
        signed_in: date | None = None,
        active: date | None = None,
        email: str | None = None,
        account_type: str = "educator",
        first_name: str = "Ada",
    ) -> int:
        account_id = self._id()
        return self._insert(
            accounts,
            id=account_id,
            account_type=account_type,
            email=email or f"person{account_id}@example.org",
            first_name=first_name,
            last_name="Lovelace",
            region="Yorkshire",
            registered_at=at_noon(registered),
            last_sign_in_at=at_noon(signed_in) if signed_in else None,
            last_activity_at=at_noon(active) if active else None,
            updated_at=at_noon(registered),
        )

    def active_account(self, today: date) -> int:
        """An account in use (signed in last week), due under no account rule."""
        recent = today - timedelta(days=7)
        return self.account(registered=recent, signed_in=recent, active=recent)

    def job_application(
        self, *, decided: date | None, outcome: str = "unsuccessful", email: str | None = None
    ) -> int:
        row_id = self._id()
        return self._insert(
            job_applications,
            id=row_id,
            email=email or f"applicant{row_id}@example.org",
            full_name="Applicant Name",
            position="Programme officer",
            applied_at=at_noon((decided or date(2020, 1, 1)) - timedelta(days=20)),
            outcome=outcome,
            decided_at=at_noon(decided) if decided else None,
        )

    def information_request(self, *, closed: date | None, email: str | None = None) -> int:
        row_id = self._id()
        return self._insert(
            information_requests,
            id=row_id,
            email=email or f"enquirer{row_id}@example.org",
            topic="courses",
            message="When is the next course?",
            received_at=at_noon((closed or date(2020, 1, 1)) - timedelta(days=3)),
            closed_at=at_noon(closed) if closed else None,
        )

    def email_event(self, *, occurred: date) -> int:
        row_id = self._id()
        return self._insert(
            email_events,
            id=row_id,
            email=f"bounced{row_id}@example.org",
            event_type="bounce",
            smtp_status="550",
            enhanced_status="5.1.1",
            diagnostic="mailbox unknown",
            occurred_at=at_noon(occurred),
            source_file="export.csv",
            source_line=row_id,
            ingested_at=at_noon(occurred),
        )

    def survey_response(self, *, submitted: date | datetime, account_id: int | None) -> int:
        if self._survey is None:
            self._survey = self._insert(
                surveys, title="Course feedback", purpose="evaluation", opened_on=date(2015, 1, 1)
            )
        moment = submitted if isinstance(submitted, datetime) else at_noon(submitted)
        return self._insert(
            survey_responses,
            survey_id=self._survey,
            account_id=account_id,
            respondent_email=None,
            submitted_at=moment,
            answers="{}",
        )

    def ambassador_profile(self, account_id: int, *, joined: date, last_activity: date | None) -> int:
        self.conn.execute(
            insert(ambassador_profiles),
            [
                {
                    "account_id": account_id,
                    "date_of_birth": date(1980, 5, 1),
                    "gender": "female",
                    "ethnicity": "prefer not to say",
                    "employer": "Engineering Ltd",
                    "joined_on": joined,
                    "last_activity_on": last_activity,
                }
            ],
        )
        return account_id

    def ambassador_activity(self, account_id: int, *, ended: date) -> int:
        return self._insert(
            ambassador_activities,
            account_id=account_id,
            activity_type="school visit",
            region="Yorkshire",
            school_name="A School",
            started_on=ended - timedelta(days=1),
            ended_on=ended,
            hours=2.0,
        )

    def course(self, *, ends: date) -> int:
        row_id = self._id()
        return self._insert(
            cpd_courses,
            id=row_id,
            code=f"C{row_id}",
            title="Teaching physics",
            subject="physics",
            region="Yorkshire",
            venue="York",
            delivery_mode="in_person",
            starts_on=ends - timedelta(days=2),
            ends_on=ends,
        )

    def booking(self, account_id: int, course_id: int, *, status: str = "attended") -> int:
        return self._insert(
            cpd_bookings,
            course_id=course_id,
            account_id=account_id,
            booked_at=datetime(2010, 1, 1),
            status=status,
            dietary_requirements="vegetarian",
        )

    def impact_record(self, account_id: int, *, ended: date) -> int:
        return self._insert(
            impact_records,
            account_id=account_id,
            measure="confidence",
            score=4.0,
            activity_ended_on=ended,
            recorded_at=at_noon(ended),
        )

    def invoice(self, *, issued: date, account_id: int | None = None, booking_id: int | None = None) -> int:
        row_id = self._id()
        return self._insert(
            invoices,
            id=row_id,
            invoice_number=f"INV{row_id}",
            account_id=account_id,
            booking_id=booking_id,
            issued_on=issued,
            amount_pence=12_000,
            vat_pence=2_400,
            status="paid",
            billing_name="Billing Person",
            billing_email=f"billing{row_id}@example.org",
            billing_address="1 High Street, York",
        )

    def payment(self, invoice_id: int, *, paid: date) -> int:
        return self._insert(
            payments,
            invoice_id=invoice_id,
            paid_on=paid,
            amount_pence=14_400,
            method="card",
            payer_reference="CARD-REF-1",
        )

    def hold(self, *, account_id: int | None = None, email: str | None = None) -> int:
        return self._insert(
            legal_holds,
            account_id=account_id,
            email=email,
            reason="litigation",
            placed_at=datetime(2020, 1, 1),
            placed_by="dpo",
        )

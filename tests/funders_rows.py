"""Hand-made CRM rows for the funder statistics tests: people, courses, bookings, activities, profiles
and impact records, with counts chosen so that the right tables and suppressions can be worked out by
hand. Every name and address carries the sentinel, so a test can prove none reaches an output."""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert

from tasks.schema import (
    accounts,
    ambassador_activities,
    ambassador_profiles,
    cpd_bookings,
    cpd_courses,
    impact_records,
)

SENTINEL = "Zqxsentinel"
FUNDER = "Test Funder Trust"
OTHER_FUNDER = "Other Funder Fund"


class Crm:
    """Builds rows; ids are assigned here so the same script gives the same ids on both databases."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.ids = itertools.count(1)
        self.courses: dict[tuple[str, date, str | None], int] = {}

    def _next(self) -> int:
        return next(self.ids)

    def person(
        self,
        region: str,
        *,
        phase: str | None = "primary",
        account_type: str = "educator",
        restricted: bool = False,
        consent_research: bool = False,
        registered: date = date(2020, 5, 1),
    ) -> int:
        account_id = self._next()
        self.conn.execute(
            insert(accounts),
            [
                {
                    "id": account_id,
                    "account_type": account_type,
                    "email": f"{SENTINEL.lower()}-{account_id}@example.org",
                    "first_name": f"{SENTINEL}{account_id}",
                    "last_name": SENTINEL,
                    "region": region,
                    "school_phase": phase,
                    "subject": "Science",
                    "postcode": "YO1 7HH",
                    "phone": "01904 000000",
                    "registered_at": datetime.combine(registered, datetime.min.time()),
                    "consent_research": consent_research,
                    "restricted": restricted,
                    "updated_at": datetime(2026, 1, 1),
                }
            ],
        )
        return account_id

    def course(self, subject: str, ends_on: date, sponsor: str | None = None) -> int:
        key = (subject, ends_on, sponsor)
        if key not in self.courses:
            course_id = self._next()
            self.conn.execute(
                insert(cpd_courses),
                [
                    {
                        "id": course_id,
                        "code": f"C{course_id:04d}",
                        "title": f"{subject} in practice" + (f" ({sponsor})" if sponsor else ""),
                        "subject": subject,
                        "region": "North",
                        "venue": "York",
                        "delivery_mode": "in_person",
                        "sponsor": sponsor,
                        "starts_on": ends_on - timedelta(days=1),
                        "ends_on": ends_on,
                    }
                ],
            )
            self.courses[key] = course_id
        return self.courses[key]

    def booking(self, account_id: int, course_id: int, status: str = "attended") -> None:
        self.conn.execute(
            insert(cpd_bookings),
            [
                {
                    "id": self._next(),
                    "course_id": course_id,
                    "account_id": account_id,
                    "booked_at": datetime(2026, 1, 5, 9),
                    "status": status,
                    "dietary_requirements": f"{SENTINEL} diet",
                }
            ],
        )

    def participants(
        self,
        region: str,
        subject: str,
        people: int,
        ends_on: date,
        *,
        phase: str = "primary",
        sponsor: str | None = None,
    ) -> list[int]:
        """`people` educators of `region`, each attending one course of `subject` ending `ends_on`."""
        course = self.course(subject, ends_on, sponsor)
        ids = []
        for _ in range(people):
            account_id = self.person(region, phase=phase)
            self.booking(account_id, course)
            ids.append(account_id)
        return ids

    def ambassador(
        self,
        *,
        gender: str | None = "Female",
        ethnicity: str | None = "White: English, Welsh, Scottish, Northern Irish or British",
        born: date | None = date(1985, 6, 1),
        restricted: bool = False,
        consent_research: bool = False,
        region: str = "North",
    ) -> int:
        account_id = self.person(
            region,
            phase=None,
            account_type="ambassador",
            restricted=restricted,
            consent_research=consent_research,
        )
        self.conn.execute(
            insert(ambassador_profiles),
            [
                {
                    "account_id": account_id,
                    "date_of_birth": born,
                    "gender": gender,
                    "ethnicity": ethnicity,
                    "employer": f"{SENTINEL} Engineering Ltd",
                    "joined_on": date(2020, 1, 1),
                }
            ],
        )
        return account_id

    def activity(self, account_id: int, region: str, kind: str, hours: float, ended_on: date) -> None:
        self.conn.execute(
            insert(ambassador_activities),
            [
                {
                    "id": self._next(),
                    "account_id": account_id,
                    "activity_type": kind,
                    "region": region,
                    "school_name": f"{SENTINEL} Primary School",
                    "started_on": ended_on,
                    "ended_on": ended_on,
                    "hours": hours,
                    "notes": f"{SENTINEL} notes",
                }
            ],
        )

    def impact(self, account_id: int, measure: str, score: float, ended_on: date) -> None:
        self.conn.execute(
            insert(impact_records),
            [
                {
                    "id": self._next(),
                    "account_id": account_id,
                    "measure": measure,
                    "score": score,
                    "comment": f"{SENTINEL} comment",
                    "activity_ended_on": ended_on,
                    "recorded_at": datetime.combine(ended_on, datetime.min.time()),
                }
            ],
        )


Q2 = date(2026, 5, 15)  # a day in 2026-Q2

# CPD participation in 2026-Q2 (distinct educators, one attended booking each):
#            Maths  Physics  Biology | Total
# North        12      15        3   |   30    North x Biology (3 people) is sensitive.
# South        20      11       14   |   45
# Total        32      26       17   |   75
# Rectangles through North x Biology: (Physics, South) costs 16 + 15 + 12 = 43 and leaves a range of
# 3 + min(15, 14) = 17; (Maths, South) costs 13 + 15 + 21 = 49. So North x Physics, South x Biology and
# South x Physics are suppressed with it.
PARTICIPATION = {
    ("North", "Maths"): 12,
    ("North", "Physics"): 15,
    ("North", "Biology"): 3,
    ("South", "Maths"): 20,
    ("South", "Physics"): 11,
    ("South", "Biology"): 14,
}
SPONSORED_MATHS = {"North": 5, "South": 6}  # of the Maths places, on the funder's own course


def build_quarter(conn: Connection) -> dict[str, Any]:
    """The CRM of the tests: 2026-Q2 as in the comment above, and what must not be counted."""
    crm = Crm(conn)
    for (region, subject), people in PARTICIPATION.items():
        sponsored = SPONSORED_MATHS.get(region, 0) if subject == "Maths" else 0
        phase = "secondary" if region == "South" else "primary"
        crm.participants(region, subject, people - sponsored, Q2, phase=phase)
        if sponsored:
            crm.participants(region, subject, sponsored, Q2, phase=phase, sponsor=FUNDER)
    # Not counted: a restricted educator, a cancelled booking, a course that ended in another quarter.
    restricted = crm.person("North", restricted=True)
    crm.booking(restricted, crm.course("Maths", Q2))
    cancelled = crm.person("North")
    crm.booking(cancelled, crm.course("Maths", Q2), status="cancelled")
    later = crm.person("North")
    crm.booking(later, crm.course("Maths", date(2026, 8, 1)))
    # The other funder sponsors a course too (so it is a known funder).
    crm.participants("South", "Physics", 0, Q2, sponsor=OTHER_FUNDER)

    # STEM Ambassadors in 2026-Q2, activities by region x type (one ambassador per activity):
    #   North talk: 12 people x 2 h; North fair: 10 x 3 h; South talk: 11 people, one of them 40 h and
    #   ten 1 h (the top two give 41 of 50 h: dominated); South fair: 2 people x 2 h (too few).
    plan = [
        ("North", "talk", [2.0] * 12),
        ("North", "fair", [3.0] * 10),
        ("South", "talk", [40.0] + [1.0] * 10),
    ]
    plan.append(("South", "fair", [2.0, 2.0]))
    genders = itertools.cycle(["Female", "Male", "Female", "Male", "Female", "Male", "Non-binary"])
    for region, kind, hours in plan:
        for h in hours:
            gender = next(genders)
            ambassador = crm.ambassador(gender=gender, region=region)
            crm.activity(ambassador, region, kind, h, Q2)
    hidden = crm.ambassador(restricted=True, gender="Male")
    crm.activity(hidden, "North", "talk", 5.0, Q2)

    # Impact: 12 educators score teacher_confidence (mean 3.5, median 3.5); 4 score pupil_engagement.
    scorers = [crm.person("North") for _ in range(12)]
    for i, account_id in enumerate(scorers):
        crm.impact(account_id, "teacher_confidence", 3.0 if i < 6 else 4.0, Q2)
    for account_id in scorers[:4]:
        crm.impact(account_id, "pupil_engagement", 5.0, Q2)
    return {"restricted": [restricted, hidden]}


def build_year_with_small_q4(conn: Connection) -> None:
    """CPD only, 2026: North x Biology has 10, 11 and 12 people in Q1-Q3 and only 2 in Q4; everything
    else is large. The year's North x Biology (35) would give Q4's 2 away once Q1-Q3 are released."""
    crm = Crm(conn)
    days = {
        "Q1": date(2026, 2, 10),
        "Q2": date(2026, 5, 10),
        "Q3": date(2026, 8, 10),
        "Q4": date(2026, 11, 10),
    }
    biology = {"Q1": 10, "Q2": 11, "Q3": 12, "Q4": 2}
    for quarter, day in days.items():
        crm.participants("North", "Biology", biology[quarter], day)
        crm.participants("North", "Maths", 20, day)
        crm.participants("South", "Biology", 25, day, phase="secondary")
        crm.participants("South", "Maths", 30, day, phase="secondary")
        crm.participants("South", "Physics", 0, day, sponsor=FUNDER)
    crm.participants("South", "Physics", 0, days["Q1"], sponsor=OTHER_FUNDER)

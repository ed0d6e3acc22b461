"""RFC 3463 classification of delivery events, and the SES notification shape: pure functions."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from tasks.bounces.classify import classify, classify_event, code_from_text, normalise_code
from tasks.bounces.ingest import parse_csv, parse_ses_jsonl


@pytest.mark.parametrize(
    ("event", "enhanced", "smtp", "expected"),
    [
        ("bounce", "5.1.1", "550", "bad_mailbox"),  # bad destination mailbox
        ("bounce", "5.1.3", "553", "bad_mailbox"),  # bad mailbox address syntax
        ("bounce", "5.1.6", "550", "bad_mailbox"),  # mailbox moved, no forwarding address
        ("bounce", "5.2.1", "550", "bad_mailbox"),  # mailbox disabled
        ("bounce", "5.1.0", "550", "bad_mailbox"),  # other address status
        ("bounce", "5.1.2", "550", "bad_domain"),  # bad destination system (domain)
        ("bounce", "5.1.10", "556", "bad_domain"),  # null MX: the domain accepts no mail
        ("bounce", "5.4.4", "550", "bad_domain"),  # unable to route
        ("bounce", "4.2.2", "452", "transient"),  # mailbox full
        ("bounce", "5.2.2", "552", "transient"),  # mailbox full, reported as permanent: still transient
        ("bounce", "4.4.1", "421", "transient"),  # no answer from host
        ("bounce", "4.7.1", "451", "transient"),  # greylisted
        ("bounce", None, "451", "transient"),  # a 4xx reply without an enhanced code
        ("bounce", "5.7.1", "554", "permanent_other"),  # refused by policy: the address exists
        ("bounce", "5.3.4", "552", "permanent_other"),  # message too big
        ("bounce", None, "550", "undetermined"),  # a 5xx reply alone says nothing about the address
        ("bounce", None, None, "undetermined"),
        ("bounce", "2.0.0", "250", "undetermined"),
        ("complaint", None, None, "complaint"),
        ("delivery", "2.0.0", "250", "delivery"),
        ("Delivery", None, None, "delivery"),
    ],
)
def test_each_classification_rule(event: str, enhanced: str | None, smtp: str | None, expected: str) -> None:
    assert classify_event(event, enhanced, smtp) == expected


def test_vectorised_classification_agrees_with_the_single_event_rules() -> None:
    frame = pd.DataFrame(
        {
            "event": ["bounce", "bounce", "delivery", "bounce"],
            "enhanced": ["5.1.1", "4.2.2", None, "5.01.002"],
            "smtp": ["550", "452", "250", "550"],
        }
    )
    result = classify(frame["event"], frame["enhanced"], frame["smtp"]).tolist()
    assert result == ["bad_mailbox", "transient", "delivery", "bad_domain"]


def test_codes_are_read_from_diagnostics_and_normalised() -> None:
    assert code_from_text("smtp; 550 5.1.1 <x> user unknown") == "5.1.1"
    assert code_from_text("smtp; 550 user unknown") is None
    assert code_from_text("451 4.7.1 try again at 10.0.0.1") == "4.7.1"
    assert normalise_code("5.01.010") == "5.1.10"
    assert normalise_code("not a code") is None


def test_ses_notifications_become_one_row_per_recipient(tmp_path: Path) -> None:
    lines = [
        {
            "notificationType": "Bounce",
            "mail": {"timestamp": "2026-05-01T09:00:00Z"},
            "bounce": {
                "bounceType": "Permanent",
                "bounceSubType": "General",
                "timestamp": "2026-05-01T10:00:00.250Z",
                "bouncedRecipients": [
                    {
                        "emailAddress": "a@example.org",
                        "status": "5.1.1",
                        "diagnosticCode": "smtp; 550 5.1.1 unknown",
                    },
                    {"emailAddress": "b@example.org", "diagnosticCode": "smtp; 550 rejected"},
                ],
            },
        },
        {
            "notificationType": "Bounce",
            "mail": {"timestamp": "2026-05-02T09:00:00Z"},
            "bounce": {
                "bounceType": "Transient",
                "bounceSubType": "MailboxFull",
                "bouncedRecipients": [{"emailAddress": "c@example.org"}],
            },
        },
        {
            "eventType": "Complaint",
            "mail": {"timestamp": "2026-05-03T09:00:00Z"},
            "complaint": {
                "complainedRecipients": [{"emailAddress": "d@example.org"}],
                "timestamp": "2026-05-03T10:00:00Z",
            },
        },
        {
            "notificationType": "Delivery",
            "mail": {"timestamp": "2026-05-04T09:00:00Z"},
            "delivery": {
                "timestamp": "2026-05-04T10:00:00Z",
                "recipients": ["e@example.org"],
                "smtpResponse": "250 2.0.0 OK",
            },
        },
    ]
    path = tmp_path / "ses.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n{broken\n")
    parsed = parse_ses_jsonl(path)
    frame = parsed.frame
    assert frame["email"].tolist() == [
        "a@example.org",
        "b@example.org",
        "c@example.org",
        "d@example.org",
        "e@example.org",
    ]
    assert frame["event"].tolist() == ["bounce", "bounce", "bounce", "complaint", "delivery"]
    assert frame["source_line"].tolist() == [1, 1, 2, 3, 4]
    assert frame["recipient"].tolist() == [1, 2, 1, 1, 1]
    assert frame["enhanced_status"].tolist()[:3] == [
        "5.1.1",
        "5.0.0",
        "4.2.2",
    ]  # subtype fills a missing status
    assert (
        frame["occurred_at"].tolist()[2] == "2026-05-02T09:00:00Z"
    )  # the mail's time when the bounce has none
    classes = classify(frame["event"], frame["enhanced_status"], frame["smtp_status"]).tolist()
    assert classes == ["bad_mailbox", "permanent_other", "transient", "complaint", "delivery"]
    assert parsed.unreadable == [(5, "bounce_export.json (not a JSON object)")]


def test_csv_header_must_be_the_documented_one(tmp_path: Path) -> None:
    from tasks.bounces.ingest import BounceFileError

    path = tmp_path / "x.csv"
    path.write_text("address,kind\nx@example.org,bounce\n")
    with pytest.raises(BounceFileError, match="x.csv, line 1"):
        parse_csv(path)


def test_quoted_csv_keeps_physical_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "quoted.csv"
    path.write_text(
        "email,event,smtp_status,enhanced_status,diagnostic,occurred_at\n"
        'a@example.org,bounce,550,5.1.1,"two\nlines",2026-05-01T10:00:00Z\n'
        "b@example.org,delivery,250,2.0.0,ok,2026-05-01T10:00:00Z\n"
        "c@example.org,bounce\n"
    )
    parsed = parse_csv(path)
    assert parsed.frame["source_line"].tolist() == [2, 4]
    assert parsed.unreadable == [(5, "bounce_export.columns (expected 6 fields, found 2)")]

"""Classify delivery events by RFC 3463 enhanced status codes (class.subject.detail).

| class | what | effect on the address |
| --- | --- | --- |
| `bad_mailbox` | 5.1.0 other address status, 5.1.1 bad destination mailbox, 5.1.3 bad mailbox address syntax, 5.1.6 mailbox moved with no forwarding address, 5.2.1 mailbox disabled | undeliverable at once |
| `bad_domain` | 5.1.2 bad destination system (domain), 5.1.10 null MX: the domain accepts no mail (RFC 7505), 5.4.4 unable to route | undeliverable at once |
| `transient` | every 4.x.x, and mailbox full (X.2.2, 4.2.2 or 5.2.2: the mailbox exists) | counts towards the transient score |
| `permanent_other` | any other 5.x.x: policy, content, size (5.7.1 refused, 5.3.4 too big...) | none: the address exists |
| `undetermined` | a bounce without a usable code (a 5xx reply with no enhanced code, an SES Undetermined bounce) | none |
| `complaint` | the recipient reported the message as spam | none (reported) |
| `delivery` | delivered | clears an undeliverable address |

An empty enhanced status is taken from the diagnostic text when it carries one ("smtp; 550 5.1.1 user
unknown"); a bounce with only a 4xx reply code counts as transient.
"""

from __future__ import annotations

import re
from typing import Literal

import numpy as np
import pandas as pd

EventClass = Literal[
    "bad_mailbox", "bad_domain", "transient", "permanent_other", "undetermined", "complaint", "delivery"
]
CLASSES: tuple[str, ...] = (
    "bad_mailbox",
    "bad_domain",
    "transient",
    "permanent_other",
    "undetermined",
    "complaint",
    "delivery",
)
BAD_ADDRESS: tuple[str, ...] = ("bad_mailbox", "bad_domain")

BAD_MAILBOX_CODES = frozenset({"5.1.0", "5.1.1", "5.1.3", "5.1.6", "5.2.1"})
BAD_DOMAIN_CODES = frozenset({"5.1.2", "5.1.10", "5.4.4"})

ENHANCED_IN_TEXT = re.compile(r"(?<![\d.])([245]\.\d{1,3}\.\d{1,3})(?![\d.])")
SMTP_IN_TEXT = re.compile(r"^\s*(?:smtp;\s*)?([245]\d\d)\b", re.IGNORECASE)


def normalise_code(code: str | None) -> str | None:
    """`5.01.001` -> `5.1.1`; None for anything that is not an enhanced status code."""
    if not code:
        return None
    match = ENHANCED_IN_TEXT.fullmatch(code.strip()) if isinstance(code, str) else None
    if not match:
        return None
    return ".".join(str(int(part)) for part in match.group(1).split("."))


def code_from_text(text: str | None) -> str | None:
    """The first enhanced status code quoted in a diagnostic, normalised."""
    if not text:
        return None
    match = ENHANCED_IN_TEXT.search(text)
    return normalise_code(match.group(1)) if match else None


def classify_event(event: str, enhanced_status: str | None, smtp_status: str | None = None) -> str:
    """The class of one event (the rules in the module docstring)."""
    frame = pd.DataFrame({"event": [event], "enhanced": [enhanced_status], "smtp": [smtp_status]})
    return str(classify(frame["event"], frame["enhanced"], frame["smtp"]).iloc[0])


def classify(events: pd.Series, enhanced: pd.Series, smtp: pd.Series) -> pd.Series:
    """Vectorised classification of many events (same rules as classify_event)."""
    event = events.astype("string").str.lower().to_numpy(dtype=object, na_value="")
    code = enhanced.astype("string").fillna("").str.strip()
    parts = code.str.extract(r"^([245])\.0*(\d{1,3})\.0*(\d{1,3})$")
    klass = parts[0].fillna("").to_numpy(dtype=object)
    subject_detail = (parts[1].fillna("") + "." + parts[2].fillna("")).to_numpy(dtype=object)
    normal = np.where(klass != "", klass + "." + subject_detail, "")
    reply = smtp.astype("string").fillna("").str.strip().str[:1].to_numpy(dtype=object)
    is_bounce = event == "bounce"
    conditions = [
        event == "delivery",
        event == "complaint",
        is_bounce & (subject_detail == "2.2") & (klass != ""),
        is_bounce & (klass == "4"),
        is_bounce & np.isin(normal, list(BAD_MAILBOX_CODES)),
        is_bounce & np.isin(normal, list(BAD_DOMAIN_CODES)),
        is_bounce & (klass == "5"),
        is_bounce & (klass == "") & (reply == "4"),
    ]
    choices = [
        "delivery",
        "complaint",
        "transient",
        "transient",
        "bad_mailbox",
        "bad_domain",
        "permanent_other",
        "transient",
    ]
    result = np.select(conditions, choices, default="undetermined")
    return pd.Series(result, index=events.index, dtype=object)

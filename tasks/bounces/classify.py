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


def classify_event(event: str | None, enhanced_status: str | None, smtp_status: str | None = None) -> str:
    """The class of one event (the rules in the module docstring)."""
    kind = (event or "").strip().lower()
    if kind == "delivery":
        return "delivery"
    if kind == "complaint":
        return "complaint"
    if kind != "bounce":
        return "undetermined"
    code = normalise_code(enhanced_status) if isinstance(enhanced_status, str) else None
    reply = smtp_status.strip()[:1] if isinstance(smtp_status, str) else ""
    if code is None:
        return "transient" if reply == "4" else "undetermined"
    klass, subject, detail = code.split(".")
    if (subject, detail) == ("2", "2"):
        return "transient"  # mailbox full: the mailbox exists
    if klass == "4":
        return "transient"
    if klass == "5":
        if code in BAD_MAILBOX_CODES:
            return "bad_mailbox"
        if code in BAD_DOMAIN_CODES:
            return "bad_domain"
        return "permanent_other"
    return "undetermined"


def classify(events: pd.Series, enhanced: pd.Series, smtp: pd.Series) -> pd.Series:
    """Vectorised classification of many events: each distinct (event, code, reply) is classified once
    by classify_event, then the classes are spread back (exports repeat a few dozen combinations)."""
    if len(events) == 0:
        return pd.Series([], index=events.index, dtype=object)
    codes = []
    uniques = []
    for series in (events, enhanced, smtp):
        code, unique = pd.factorize(series.astype(object), use_na_sentinel=True)
        codes.append(code.astype(np.int64) + 1)  # 0 stands for a missing value
        uniques.append([None, *unique.tolist()])
    sizes = [len(u) for u in uniques]
    key = (codes[0] * sizes[1] + codes[1]) * sizes[2] + codes[2]
    distinct, inverse = np.unique(key, return_inverse=True)
    labels = []
    for value in distinct.tolist():
        rest, reply_code = divmod(value, sizes[2])
        event_code, enhanced_code = divmod(rest, sizes[1])
        labels.append(
            classify_event(uniques[0][event_code], uniques[1][enhanced_code], uniques[2][reply_code])
        )
    result = np.asarray(labels, dtype=object)[inverse.reshape(-1)]
    return pd.Series(result, index=events.index, dtype=object)

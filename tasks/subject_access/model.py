"""The shapes a subject access request passes through: identifiers, categories of data, the extract."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

REDACTED = "[redacted: third party]"
"""What replaces another person's identity in a package (the value, never a hint of it)."""


@dataclass
class SubjectIdentifiers:
    """Who the request is about: the addresses and account ids that are the requester's own.

    Starts from what the requester gave (email, account id) and grows with what their own account
    rows say (the account found by the address, the address on the account found by id).
    """

    emails: set[str] = field(default_factory=set)
    account_ids: set[int] = field(default_factory=set)

    def owns_email(self, value: Any) -> bool:
        return isinstance(value, str) and value.strip().lower() in self.emails

    def owns_account(self, value: Any) -> bool:
        try:
            return value is not None and int(value) in self.account_ids
        except (TypeError, ValueError):
            return False


@dataclass
class Category:
    """One table's records about the person, with what the map says about them."""

    table: str
    title: str
    description: str
    source: str
    purpose: str
    legal_basis: str
    recipients: list[str]
    retention_rule: str | None
    retention: str
    classifications: list[str]
    columns: list[str]
    records: list[dict[str, Any]]
    redactions: dict[str, int] = field(default_factory=dict)
    """Per column, how many values were replaced by REDACTED (other people's identities)."""
    record_keys: list[str] = field(default_factory=list)
    """Each record's key, in the order of `records` (for the extract's contract check)."""
    reached_by: list[str] = field(default_factory=list)
    """How each record was reached (`kind:column;...`), in the order of `records`."""
    unowned_identifiers: list[int] = field(default_factory=list)
    """Per record, link values left that are neither the person's nor redacted (must all be 0)."""
    shared_free_text: int = 0
    """Free-text values kept in records shared with another person: the DPO reviews them."""

    @property
    def count(self) -> int:
        return len(self.records)


@dataclass
class Extract:
    """Everything held about one person, redacted, ready to be packaged."""

    request_id: int
    received_on: date
    identity_verified_on: date | None
    due_on: date
    generated_at: datetime
    identifiers: SubjectIdentifiers
    categories: list[Category]
    reference: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """Rows of tables about nobody that the person's records point at (a booking's course)."""
    reference_titles: dict[str, str] = field(default_factory=dict)
    disclosures: list[dict[str, Any]] = field(default_factory=list)
    """The person's rows of the data-share log: who actually received their data, and when."""

    @property
    def data_held(self) -> bool:
        return any(category.records for category in self.categories)

    def counts(self) -> dict[str, int]:
        """Records per category: safe to log and publish (no personal data)."""
        return {category.table: category.count for category in self.categories}

    @property
    def shared_free_text(self) -> int:
        return sum(category.shared_free_text for category in self.categories)

    def redaction_counts(self) -> dict[str, int]:
        return {
            category.table: sum(category.redactions.values())
            for category in self.categories
            if category.redactions
        }

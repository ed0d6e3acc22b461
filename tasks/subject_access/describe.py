"""What a package says about each category of data: title, description, source and retention period.

All of it is read from the contracts (description, domain) and the retention rules file
(data_contracts/retention_rules.yaml: the policy text of the rules for the table, else of the map rule,
else the rule id when the file is absent), so a new table needs no code here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from steward.settings import get_settings
from tasks.contracts import CONTRACTS_DIR, load_contract
from tasks.personal_data import TableMap

SOURCES = {
    "crm": "The charity's CRM: what you gave us when you registered, booked or took part, and what we "
    "recorded about your activity with us.",
    "community": "The online community: what you posted or reported, and what other members reported.",
    "email": "Our email service provider's reports on the messages we sent to your address.",
    "finance": "Our finance records of what you were invoiced and paid.",
    "hr": "Your job application and our recruitment records.",
    "dpo": "The Data Protection Officer's records of requests and legal holds.",
    "steward": "Records of our data-protection operations (moderation, retention and erasure).",
}
"""Where each contract `domain` of data comes from; an unknown domain is named as it is."""

NO_RETENTION_RULE = "No fixed period: kept while it is needed for the purpose above, and reviewed."


@dataclass(frozen=True)
class CategoryText:
    title: str
    description: str
    source: str
    retention: str


ACRONYMS = {"cpd": "CPD", "dpo": "DPO", "sar": "SAR"}


def _title(table: str) -> str:
    """`cpd_bookings` -> `CPD bookings`."""
    words = [ACRONYMS.get(word, word) for word in table.split("_")]
    return " ".join([words[0][:1].upper() + words[0][1:], *words[1:]])


def _retention_file() -> Path:
    configured = getattr(get_settings(), "retention_rules_file", None)
    return Path(configured) if configured else CONTRACTS_DIR / "retention_rules.yaml"


@cache
def _retention_document(path: Path) -> Mapping[str, Any]:
    if not path.is_file():
        return {}
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    return document if isinstance(document, Mapping) else {}


def retention_text(entry: TableMap) -> str:
    """The retention period of a table, in the policy's words."""
    rule = entry.retention_rule
    if rule is None:
        return NO_RETENTION_RULE
    document = _retention_document(_retention_file())
    specific = [
        " ".join(str(item.get("policy", "")).split())
        for item in document.get("rules") or []
        if isinstance(item, Mapping) and item.get("table") == entry.table and item.get("implements") == rule
    ]
    specific = [text for text in specific if text]
    if specific:
        return " ".join(dict.fromkeys(specific))
    map_rule = (document.get("mapRules") or {}).get(rule)
    if isinstance(map_rule, Mapping) and map_rule.get("policy"):
        return " ".join(str(map_rule["policy"]).split())
    return f"Retention rule {rule}."


def describe(entry: TableMap) -> CategoryText:
    contract = load_contract(entry.table)
    domain = contract.domain or ""
    return CategoryText(
        title=_title(entry.table),
        description=contract.description or "",
        source=SOURCES.get(domain, f"{domain or 'our'} records"),
        retention=retention_text(entry),
    )


def clear_cache() -> None:
    _retention_document.cache_clear()

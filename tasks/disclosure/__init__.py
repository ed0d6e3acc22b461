"""Statistical disclosure control for tables: primary and secondary cell suppression, proved by an audit.

    problem = DisclosureProblem(tables, rules, context=..., prior=..., relations=...)
    result = protect(problem)          # primary + secondary suppression; result.audit is the proof
    result.audit.raise_if_exposed()    # DisclosureAuditFailed names each exposed cell
    audit_pattern(SystemStructure(problem), pattern)   # audit any pattern (a hand-made weak one too)

See docs/funder-statistics.md for the method and how it compares with sdcTable and tau-Argus.
"""

from tasks.disclosure.audit import (
    AuditReport,
    DisclosureAuditFailed,
    InconsistentFigures,
    Interval,
    audit_pattern,
)
from tasks.disclosure.model import TOTAL, VALUE, CellData, CellLabel, StatKey, StatTable, Status
from tasks.disclosure.rules import DisclosureRules, round_half_up
from tasks.disclosure.secondary import ProtectionResult, UnprotectableRelease, protect
from tasks.disclosure.system import DisclosureProblem, PriorCell, Relation, SystemStructure

__all__ = [
    "TOTAL",
    "VALUE",
    "AuditReport",
    "CellData",
    "CellLabel",
    "DisclosureAuditFailed",
    "DisclosureProblem",
    "DisclosureRules",
    "InconsistentFigures",
    "Interval",
    "PriorCell",
    "ProtectionResult",
    "Relation",
    "StatKey",
    "StatTable",
    "Status",
    "SystemStructure",
    "UnprotectableRelease",
    "audit_pattern",
    "protect",
    "round_half_up",
]

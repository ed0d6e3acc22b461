"""The audit: for every suppressed sensitive statistic, the range an attacker can deduce from
everything published, by linear programming (scipy's HiGHS through `linprog`).

The attacker's problem (the "attacker problem" of sdcTable and tau-Argus): the unknowns are the
statistics nobody published; every relation between statistics holds (tables add up, a year is its
quarters, a subset is at most its superset); unknowns are non-negative; published figures are known
exactly (rounding only widens what an attacker can deduce, so assuming exact knowledge is the
conservative choice). For a sensitive statistic x, min x and max x over that system are the ends of the
range an attacker can narrow it to. A release passes when every range is at least its protection width.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from scipy.optimize import linprog
from scipy.sparse.csgraph import connected_components

from steward.errors import StewardError
from tasks.disclosure.model import CellLabel, StatKey, Status
from tasks.disclosure.system import SystemStructure, Target

TOLERANCE = 1e-6


class DisclosureAuditFailed(StewardError):
    """A suppressed cell can be worked out too closely from what would be published."""

    def __init__(self, report: AuditReport) -> None:
        self.report = report
        exposed = report.exposed
        shown = "; ".join(interval.describe() for interval in exposed[:5])
        more = f" (and {len(exposed) - 5} more)" if len(exposed) > 5 else ""
        super().__init__(f"disclosure audit failed: {len(exposed)} cell(s) exposed: {shown}{more}")


class InconsistentFigures(StewardError):
    """Published figures contradict each other (data changed after an earlier release of a period)."""


@dataclass(frozen=True)
class Interval:
    """What an attacker can deduce about one sensitive statistic: it lies in [low, high]."""

    key: StatKey
    label: CellLabel
    low: float
    high: float
    required: float
    exact: bool = True

    @property
    def width(self) -> float:
        return self.high - self.low

    @property
    def protected(self) -> bool:
        return self.width >= self.required - TOLERANCE * max(1.0, self.required)

    def describe(self) -> str:
        high = "unbounded" if np.isinf(self.high) else f"{self.high:g}"
        return (
            f"{self.label}: an attacker can narrow it to [{self.low:g}, {high}] "
            f"(width {self.width:g}, needs at least {self.required:g})"
        )


@dataclass
class AuditReport:
    """The audit of one suppression pattern."""

    intervals: list[Interval] = field(default_factory=list)
    linear_programs: int = 0
    seconds: float = 0.0

    @property
    def exposed(self) -> list[Interval]:
        return [interval for interval in self.intervals if not interval.protected]

    @property
    def passed(self) -> bool:
        return not self.exposed

    @property
    def narrowest(self) -> Interval | None:
        finite = [i for i in self.intervals if i.required > 0]
        return min(finite, key=lambda i: i.width / i.required, default=None)

    def raise_if_exposed(self) -> None:
        if not self.passed:
            raise DisclosureAuditFailed(self)


def audit_pattern(
    structure: SystemStructure, pattern: Mapping[StatKey, Status], *, exact: bool = True
) -> AuditReport:
    """The attacker's range of every sensitive unpublished statistic under `pattern`.

    With `exact=False` a statistic whose range is already proved wide enough by earlier solutions
    (every optimal vertex is a feasible point, so the ranges seen so far are inside the attacker's
    range) is not solved again: the interval reported is then a lower bound of the true one, which is
    all the suppression heuristic needs. The release's final audit is exact.
    """
    started = time.perf_counter()
    report = AuditReport()
    targets = structure.targets(pattern)
    if not targets:
        report.seconds = time.perf_counter() - started
        return report
    known = structure.known_values(pattern)
    n = len(structure.keys)
    fixed = np.zeros(n, dtype=bool)
    values = np.zeros(n)
    for idx, value in known.items():
        fixed[idx] = True
        values[idx] = value
    matrix = structure.matrix
    constant = matrix[:, fixed] @ values[fixed] if fixed.any() else np.zeros(matrix.shape[0])
    free = np.flatnonzero(~fixed)
    local = np.full(n, -1)
    local[free] = np.arange(len(free))
    a_free = matrix[:, free].tocsr()
    nnz = np.diff(a_free.indptr)
    _check_settled_rows(structure, constant, nnz == 0)
    live = np.flatnonzero(nnz > 0)
    a_live = a_free[live].tocsr()
    rhs = -constant[live]
    eq = structure.senses[live]
    pattern_matrix = (a_live != 0).astype(np.int8)
    adjacency = (pattern_matrix.T @ pattern_matrix).tocsr()
    _count, component = connected_components(adjacency, directed=False)
    truth = structure.truth_vector()[free]

    by_component: dict[int, list[Target]] = {}
    for target in targets:
        j = local[target.index]
        if j < 0:  # cannot happen: targets are unpublished
            continue
        by_component.setdefault(int(component[j]), []).append(target)

    a_csc = a_live.tocsc()
    for comp, comp_targets in sorted(by_component.items()):
        cols = np.flatnonzero(component == comp)
        rows = np.unique(a_csc[:, cols].indices)
        if rows.size == 0:
            for target in comp_targets:
                report.intervals.append(
                    Interval(target.key, target.label, 0.0, float("inf"), target.required, True)
                )
            continue
        report.linear_programs += _solve_component(
            structure, a_live, rhs, eq, rows, cols, local, truth, comp_targets, exact, report
        )
    order = {target.key: i for i, target in enumerate(targets)}
    report.intervals.sort(key=lambda interval: order.get(interval.key, 0))
    report.seconds = time.perf_counter() - started
    return report


def _check_settled_rows(structure: SystemStructure, constant: np.ndarray, settled: np.ndarray) -> None:
    """Relations among published figures only must hold; if not, the figures contradict each other."""
    for row in np.flatnonzero(settled):
        value = constant[row]
        scale = max(1.0, float(abs(structure.matrix[row]).sum()))
        bad = abs(value) > 1e-6 * scale if structure.senses[row] else value > 1e-6 * scale
        if bad:
            raise InconsistentFigures(
                f"published figures do not agree ({structure.relation_reason(int(row))}); the data "
                "behind an earlier release has changed since it was published"
            )


def _solve_component(
    structure: SystemStructure,
    a_live: sparse.csr_matrix,
    rhs: np.ndarray,
    eq: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    local: np.ndarray,
    truth: np.ndarray,
    targets: list[Target],
    exact: bool,
    report: AuditReport,
) -> int:
    sub = a_live[rows][:, cols].tocsr()
    sub_eq = eq[rows]
    a_eq = sub[sub_eq] if sub_eq.any() else None
    b_eq = rhs[rows][sub_eq] if sub_eq.any() else None
    a_ub = sub[~sub_eq] if (~sub_eq).any() else None
    b_ub = rhs[rows][~sub_eq] if (~sub_eq).any() else None
    position = {int(c): i for i, c in enumerate(cols)}
    seen_low = truth[cols].copy()
    seen_high = truth[cols].copy()
    solved = 0

    def optimise(j: int, sign: float) -> float:
        nonlocal solved
        objective = np.zeros(len(cols))
        objective[j] = sign
        result = linprog(
            objective, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method="highs"
        )
        solved += 1
        if result.status == 3:
            return float("inf") if sign < 0 else 0.0
        if result.status == 2:
            raise InconsistentFigures(
                "published figures leave no consistent solution; the data behind an earlier release "
                "has changed since it was published"
            )
        if result.status != 0 or result.x is None:
            raise RuntimeError(f"the attacker's linear programme failed: {result.message}")
        x = np.asarray(result.x)
        np.fmin(seen_low, x, out=seen_low)
        np.fmax(seen_high, x, out=seen_high)
        return float(x[j])

    for target in targets:
        j = position[int(local[target.index])]
        required = target.required
        if not exact and _wide_enough(seen_low[j], seen_high[j], required):
            report.intervals.append(
                Interval(target.key, target.label, seen_low[j], seen_high[j], required, False)
            )
            continue
        high = optimise(j, -1.0)
        if not exact and _wide_enough(seen_low[j], high, required):
            report.intervals.append(Interval(target.key, target.label, seen_low[j], high, required, False))
            continue
        low = optimise(j, 1.0)
        report.intervals.append(Interval(target.key, target.label, max(low, 0.0), high, required, True))
    return solved


def _wide_enough(low: float, high: float, required: float) -> bool:
    if np.isnan(low) or np.isnan(high):
        return False
    return high - low >= required - TOLERANCE * max(1.0, required)

"""Primary and secondary suppression, proved by the audit.

Primary: every cell a rule finds sensitive (too few contributors, an empty cell where the setting says
so, a dominant contributor). Secondary: a heuristic close to sdcTable's SIMPLEHEURISTIC and to the
hypercube method of tau-Argus (GHMITER), driven by the audit. Each round audits the pattern with the
attacker's linear programmes; for every exposed sensitive statistic it suppresses the cheapest
rectangle of cells (suppressed cells cost nothing, a published cell costs its value plus one) whose
cycle leaves the statistic at least its protection width in its own table. A rectangle in the table
grid extended by its Total row and column keeps every row and column sum, so an attacker cannot tell
the cycle's values apart. When the exposure comes through a link the table does not show (another
table, another period, an earlier release), the rectangle is built around the released cell the link
runs through. Rounds repeat until the audit passes; that audit is the release's proof.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from steward.errors import StewardError
from steward.progress import ProgressCallback, no_progress
from tasks.disclosure.audit import AuditReport, Interval, audit_pattern
from tasks.disclosure.model import TOTAL, StatKey, StatTable, Status
from tasks.disclosure.system import DisclosureProblem, SystemStructure

_INF = np.inf


class UnprotectableRelease(StewardError):
    """No further suppression can protect a sensitive cell (every candidate is already published)."""


@dataclass
class ProtectionResult:
    """A protected pattern and its proof."""

    pattern: dict[StatKey, Status]
    primary_reasons: dict[StatKey, str]
    audit: AuditReport
    structure: SystemStructure
    rounds: int
    seconds: float
    history: list[int] = field(default_factory=list)

    def status(self, key: StatKey) -> Status:
        idx = self.structure.index[key]
        return self.structure.status_of(idx, self.pattern)

    @property
    def suppressed_count(self) -> int:
        return sum(1 for status in self.pattern.values() if status != "published")


@dataclass
class _Grid:
    """A released table as a grid of variable indices, values and margin flags."""

    table: StatTable
    rows: list[str]
    cols: list[str]
    index: np.ndarray
    values: np.ndarray
    row_total: np.ndarray
    col_total: np.ndarray


@dataclass(frozen=True)
class _Option:
    cost: float
    new: int
    width: float
    cells: tuple[int, ...]

    def sort_key(self, need: float) -> tuple[int, float, int, float]:
        feasible = 0 if self.width >= need - 1e-9 else 1
        return (feasible, self.cost if feasible == 0 else -self.width, self.new, -self.width)


class SecondarySuppression:
    """The heuristic, over one problem."""

    def __init__(self, problem: DisclosureProblem) -> None:
        self.problem = problem
        self.rules = problem.rules
        self.structure = SystemStructure(problem)
        s = self.structure
        self.grids: list[_Grid] = []
        self.where: dict[int, list[tuple[_Grid, int, int]]] = {}
        for table in problem.tables:
            if table.carried is not None:
                continue
            rows, cols = table.grid_rows, table.grid_cols
            index = np.array([[s.index[table.key(r, c)] for c in cols] for r in rows], dtype=int)
            values = np.array([[table.cell(r, c).value for c in cols] for r in rows], dtype=float)
            grid = _Grid(
                table,
                rows,
                cols,
                index,
                values,
                np.array([r == TOTAL for r in rows]),
                np.array([c == TOTAL for c in cols]),
            )
            self.grids.append(grid)
            for i in range(len(rows)):
                for j in range(len(cols)):
                    self.where.setdefault(int(index[i, j]), []).append((grid, i, j))
        self.siblings = self._siblings()
        self.suppressible = self._suppressible()
        self.matrix_csc = s.matrix.tocsc()
        self.matrix_csr = s.matrix.tocsr()

    # --------------------------------------------------------------------------------- set-up

    def _siblings(self) -> dict[int, set[int]]:
        """Cells of tables in one pattern group (activities and hours) are suppressed together."""
        groups: dict[tuple[str, str, str, str], set[int]] = {}
        for table in self.problem.tables:
            if table.pattern_group is None:
                continue
            for pos in table.positions():
                idx = self.structure.index[table.key(*pos)]
                groups.setdefault((table.pattern_group, table.period, *pos), set()).add(idx)
        siblings: dict[int, set[int]] = {}
        for members in groups.values():
            for idx in members:
                siblings.setdefault(idx, set()).update(members - {idx})
        return siblings

    def _suppressible(self) -> np.ndarray:
        s = self.structure
        ok = np.zeros(len(s.keys), dtype=bool)
        for idx in self.where:
            prior = s.prior.get(idx)
            ok[idx] = idx not in s.carried_status and not (prior is not None and prior.published is not None)
        for idx, others in self.siblings.items():
            if not all(ok[o] for o in others):
                ok[idx] = False
        return ok

    def primary_pattern(self) -> tuple[dict[StatKey, Status], dict[StatKey, str]]:
        s = self.structure
        pattern: dict[StatKey, Status] = {}
        reasons: dict[StatKey, str] = {}
        for table in self.problem.tables:
            if table.carried is not None:
                continue
            for pos in table.positions():
                key = table.key(*pos)
                reason = self.rules.primary_reason(table.cell(*pos), table.kind)
                if reason is not None:
                    pattern[key] = "primary"
                    reasons.setdefault(key, reason)
        for idx in self.where:
            prior = s.prior.get(idx)
            if prior is not None and prior.published is None and s.keys[idx] not in pattern:
                pattern[s.keys[idx]] = "primary" if prior.required_width > 0 else "secondary"
        for key in list(pattern):
            for other in self.siblings.get(s.index[key], ()):
                pattern.setdefault(s.keys[other], "secondary")
        return pattern, reasons

    # ------------------------------------------------------------------------------ the rounds

    def run(self, progress: ProgressCallback = no_progress, max_rounds: int = 200) -> ProtectionResult:
        started = time.perf_counter()
        pattern, reasons = self.primary_pattern()
        supp = self._mask(pattern)
        history: list[int] = []
        rounds = 0
        while True:
            rounds += 1
            if rounds > max_rounds:
                raise UnprotectableRelease(f"secondary suppression did not settle in {max_rounds} rounds")
            report = audit_pattern(self.structure, pattern, exact=False)
            exposed = report.exposed
            history.append(len(exposed))
            progress(1)
            if not exposed:
                # The proof: every range reported is inside the attacker's true range, so each one
                # being wide enough proves the true one is (the exposed ones were solved exactly).
                elapsed = time.perf_counter() - started
                return ProtectionResult(pattern, reasons, report, self.structure, rounds, elapsed, history)
            at_audit = supp.copy()
            known = set(self.structure.known_values(pattern))
            added = 0
            stuck: list[Interval] = []
            for interval in exposed:
                idx = self.structure.index[interval.key]
                need = interval.required
                if self._locally_protected(idx, need, supp) and not self._locally_protected(
                    idx, need, at_audit
                ):
                    continue  # protected by cells added earlier in this round; the next audit will tell
                option = self._choose(idx, need, supp, known)
                if option is None:
                    stuck.append(interval)
                    continue
                added += self._suppress(option.cells, pattern, supp)
            if added == 0:
                cells = "; ".join(i.describe() for i in (stuck or exposed)[:5])
                raise UnprotectableRelease(
                    f"no further suppression can protect {len(stuck or exposed)} cell(s): {cells}"
                )

    def _mask(self, pattern: dict[StatKey, Status]) -> np.ndarray:
        s = self.structure
        supp = np.zeros(len(s.keys), dtype=bool)
        for idx in range(len(s.keys)):
            supp[idx] = s.status_of(idx, pattern) != "published"
        return supp

    def _suppress(self, cells: Iterable[int], pattern: dict[StatKey, Status], supp: np.ndarray) -> int:
        added = 0
        for idx in cells:
            for member in (idx, *self.siblings.get(idx, ())):
                if not supp[member]:
                    pattern[self.structure.keys[member]] = "secondary"
                    supp[member] = True
                    added += 1
        return added

    # -------------------------------------------------------------------------- local geometry

    def _rectangles(
        self, grid: _Grid, i: int, j: int, supp: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Every rectangle (pair, in a one-way table) through (i, j): cost, new cells, width, and the
        partner cells' grid coordinates (rows of (ii, jj))."""
        if not grid.table.has_totals:  # no sums in the table: a pair of its cells hides nothing
            empty = np.zeros(0)
            return empty, empty.astype(int), empty, np.zeros((0, 2), dtype=int)
        suppressed = supp[grid.index]
        available = self.suppressible[grid.index] & ~suppressed
        cost = np.where(suppressed, 0.0, np.where(available, grid.values + 1.0, _INF))
        new = available.astype(int)
        values = grid.values
        target = values[i, j]
        if grid.table.two_way:
            rho = np.where(grid.row_total ^ grid.row_total[i], 1.0, -1.0)[:, None]
            kappa = np.where(grid.col_total ^ grid.col_total[j], 1.0, -1.0)[None, :]
            a = np.broadcast_to(values[i, :][None, :], values.shape)
            b = np.broadcast_to(values[:, j][:, None], values.shape)
            sa = np.broadcast_to(kappa, values.shape)
            sb = np.broadcast_to(rho, values.shape)
            sd = rho * kappa
            plus = np.minimum.reduce(
                [
                    np.full(values.shape, target),
                    np.where(sa > 0, a, _INF),
                    np.where(sb > 0, b, _INF),
                    np.where(sd > 0, values, _INF),
                ]
            )
            minus = np.minimum.reduce(
                [np.where(sa < 0, a, _INF), np.where(sb < 0, b, _INF), np.where(sd < 0, values, _INF)]
            )
            total_cost = cost[i, :][None, :] + cost[:, j][:, None] + cost
            total_new = new[i, :][None, :] + new[:, j][:, None] + new
            total_cost[i, :] = _INF
            total_cost[:, j] = _INF
            rows, cols = np.nonzero(np.isfinite(total_cost))
            return (
                total_cost[rows, cols],
                total_new[rows, cols],
                (plus + minus)[rows, cols],
                np.stack([rows, cols], 1),
            )
        rho1 = np.where(grid.row_total ^ grid.row_total[i], 1.0, -1.0)
        partner = values[:, j]
        width = np.minimum(target, np.where(rho1 > 0, partner, _INF)) + np.where(rho1 < 0, partner, _INF)
        pair_cost = cost[:, j].copy()
        pair_cost[i] = _INF
        rows = np.nonzero(np.isfinite(pair_cost))[0]
        return pair_cost[rows], new[rows, j], width[rows], np.stack([rows, np.full_like(rows, j)], 1)

    def _cells_of(self, grid: _Grid, i: int, j: int, partner: np.ndarray) -> tuple[int, ...]:
        ii, jj = int(partner[0]), int(partner[1])
        if grid.table.two_way:
            return (int(grid.index[i, jj]), int(grid.index[ii, j]), int(grid.index[ii, jj]))
        return (int(grid.index[ii, jj]),)

    def _locally_protected(self, idx: int, need: float, supp: np.ndarray) -> bool:
        for grid, i, j in self.where.get(idx, []):
            cost, new, width, _partners = self._rectangles(grid, i, j, supp)
            if np.any((new == 0) & (width >= need - 1e-9)):
                return True
        return False

    def _best_rectangle(
        self, idx: int, need: float, supp: np.ndarray, extra_cost: float = 0.0, extra_new: int = 0
    ) -> _Option | None:
        best: _Option | None = None
        for grid, i, j in self.where.get(idx, []):
            cost, new, width, partners = self._rectangles(grid, i, j, supp)
            new = new + extra_new
            valid = (new > 0) & (width > 0)
            if not valid.any():
                continue
            feasible = valid & (width >= need - 1e-9)
            pool = np.flatnonzero(feasible if feasible.any() else valid)
            if feasible.any():
                order = np.lexsort((-width[pool], new[pool], cost[pool]))
            else:
                order = np.lexsort((new[pool], cost[pool], -width[pool]))
            k = int(pool[order[0]])
            option = _Option(
                float(cost[k]) + extra_cost,
                int(new[k]),
                float(width[k]),
                self._cells_of(grid, i, j, partners[k]),
            )
            if best is None or option.sort_key(need) < best.sort_key(need):
                best = option
        return best

    def _choose(self, idx: int, need: float, supp: np.ndarray, known: set[int]) -> _Option | None:
        """The cheapest way to widen this statistic's range: a rectangle around it, or around the
        released cell a link runs through, or the cheapest published cell in its relations."""
        best = self._best_rectangle(idx, need, supp)
        if best is not None and best.width >= need - 1e-9:
            return best
        choices = [best] if best is not None else []
        for proxy in self._released_neighbours(idx, supp, known):
            if supp[proxy]:
                option = self._best_rectangle(proxy, need, supp)
            elif self.suppressible[proxy]:
                trial = supp.copy()
                trial[proxy] = True
                entry = float(self.structure.truth[proxy].value) + 1.0
                option = self._best_rectangle(proxy, need, trial, entry, 1)
                if option is not None:
                    option = _Option(option.cost, option.new, option.width, (*option.cells, proxy))
                else:
                    option = _Option(entry, 1, 1e-12, (proxy,))
            else:
                continue
            if option is not None:
                choices.append(option)
        if not choices:
            return None
        return min(choices, key=lambda o: o.sort_key(need))

    def _released_neighbours(self, idx: int, supp: np.ndarray, known: set[int], depth: int = 4) -> list[int]:
        """Released cells linked to `idx` through relations among unpublished statistics."""
        found: list[int] = []
        seen = {idx}
        queue: deque[tuple[int, int]] = deque([(idx, 0)])
        while queue:
            var, level = queue.popleft()
            if level >= depth:
                continue
            for row in self.matrix_csc[:, var].indices:
                for other in self.matrix_csr[row].indices:
                    other = int(other)
                    if other in seen:
                        continue
                    seen.add(other)
                    if other in self.where:
                        found.append(other)
                        if supp[other]:
                            queue.append((other, level + 1))
                    elif other not in known:
                        queue.append((other, level + 1))
        return found


def protect(problem: DisclosureProblem, progress: ProgressCallback = no_progress) -> ProtectionResult:
    """Primary and secondary suppression for a release, with the audit that proves it."""
    return SecondarySuppression(problem).run(progress)

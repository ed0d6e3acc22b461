"""What an attacker knows, as a linear system: every statistic of the release, of the related periods
and of earlier releases is a variable; tables add up, years are made of quarters, subsets are at most
their supersets; published figures are known, suppressed ones are only known to be non-negative."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy import sparse

from tasks.disclosure.model import CellData, CellLabel, StatKey, StatTable, Status, TableKind, TimeRelation
from tasks.disclosure.rules import DisclosureRules

_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")


@dataclass(frozen=True)
class Relation:
    """A linear fact about statistics: sum(coef * statistic) = 0 (`eq`) or <= 0 (`le`)."""

    coefs: tuple[tuple[StatKey, float], ...]
    sense: Literal["eq", "le"]
    reason: str

    @classmethod
    def total_of(cls, total: StatKey, parts: Iterable[StatKey], reason: str) -> Relation:
        """total = sum(parts)."""
        return cls(((total, -1.0), *((part, 1.0) for part in parts)), "eq", reason)

    @classmethod
    def at_most(cls, parts: Iterable[StatKey], bound: StatKey, reason: str) -> Relation:
        """sum(parts) <= bound (a subset of a population is no larger than the population)."""
        return cls(((bound, -1.0), *((part, 1.0) for part in parts)), "le", reason)


@dataclass(frozen=True)
class PriorCell:
    """A cell of an earlier release: published (with its exact value) or suppressed."""

    key: StatKey
    label: CellLabel
    published: float | None
    required_width: float = 0.0
    """Above zero for a cell that was sensitive when published: it must stay protected."""


@dataclass
class DisclosureProblem:
    """A release to protect: its tables, the truth of related periods, and what was published before."""

    tables: list[StatTable]
    rules: DisclosureRules
    context: list[StatTable] = field(default_factory=list)
    """The true figures of related periods that this release does not publish (the quarters of a
    yearly release, or the year of a quarterly one), so the audit can see what differencing reveals."""
    prior: list[PriorCell] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    """Links the tables do not carry themselves (a funder's courses are part of all courses)."""


@dataclass(frozen=True)
class Target:
    """A sensitive statistic the audit must prove protected."""

    index: int
    key: StatKey
    label: CellLabel
    required: float
    value: float | None


def quarters_of(period: str) -> list[str]:
    match = _YEAR.match(period)
    return [f"{period}-Q{q}" for q in range(1, 5)] if match else []


def year_of(period: str) -> str | None:
    match = _QUARTER.match(period)
    return match.group(1) if match else None


class SystemStructure:
    """The variables and relations of a problem, built once; patterns are applied to it many times."""

    def __init__(self, problem: DisclosureProblem) -> None:
        self.problem = problem
        self.rules = problem.rules
        self.keys: list[StatKey] = []
        self.index: dict[StatKey, int] = {}
        self.truth: dict[int, CellData] = {}
        self.kind: dict[int, TableKind] = {}
        self.labels: dict[int, CellLabel] = {}
        self.released: dict[int, list[tuple[StatTable, tuple[str, str]]]] = defaultdict(list)
        self.carried_status: dict[int, Status] = {}
        self.context_keys: set[int] = set()
        self.prior: dict[int, PriorCell] = {}
        self._rows: list[tuple[dict[int, float], str, str]] = []
        self._truth_cache: np.ndarray | None = None

        for table in problem.tables:
            for pos in table.positions():
                idx = self._add(table.key(*pos), table.cell(*pos), table.kind, table.label(*pos))
                self.released[idx].append((table, pos))
                if table.carried is not None:
                    self.carried_status[idx] = table.carried.get(pos, "published")
        for table in problem.context:
            for pos in table.positions():
                idx = self._add(table.key(*pos), table.cell(*pos), table.kind, table.label(*pos))
                if idx not in self.released:
                    self.context_keys.add(idx)
        for cell in problem.prior:
            idx = self._variable(cell.key)
            self.labels.setdefault(idx, cell.label)
            self.prior[idx] = cell

        for table in [*problem.tables, *problem.context]:
            for total, parts in table.lines():
                self._relate(
                    Relation.total_of(table.key(*total), (table.key(*p) for p in parts), f"{table.name}")
                )
        for relation in problem.relations:
            self._relate(relation)
        self._nest_periods([*problem.tables, *problem.context])
        self.matrix, self.senses = self._matrix()

    # ------------------------------------------------------------------------------- building

    def _variable(self, key: StatKey) -> int:
        idx = self.index.get(key)
        if idx is None:
            idx = len(self.keys)
            self.keys.append(key)
            self.index[key] = idx
        return idx

    def _add(self, key: StatKey, cell: CellData, kind: TableKind, label: CellLabel) -> int:
        idx = self._variable(key)
        known = self.truth.get(idx)
        if known is not None and abs(known.value - cell.value) > 1e-6 * max(1.0, abs(cell.value)):
            raise ValueError(f"two tables disagree on the same statistic ({label})")
        if known is None:
            self.truth[idx] = cell
            self.kind[idx] = kind
            self.labels.setdefault(idx, label)
        return idx

    def _relate(self, relation: Relation) -> None:
        coefs: dict[int, float] = defaultdict(float)
        for key, coef in relation.coefs:
            coefs[self._variable(key)] += coef
        coefs = {i: c for i, c in coefs.items() if c != 0}
        if coefs:
            self._rows.append((coefs, relation.sense, relation.reason))

    def _nest_periods(self, tables: list[StatTable]) -> None:
        relation_of: dict[str, TimeRelation] = {}
        for table in tables:
            relation_of.setdefault(table.measure, table.time_relation)
        groups: dict[tuple[str, tuple[tuple[str, str], ...]], set[str]] = defaultdict(set)
        for key in list(self.keys):
            groups[(key.measure, key.dims)].add(key.period)
        for (measure, dims), periods in groups.items():
            how = relation_of.get(measure, "none")
            if how == "none":
                continue
            years = {p for p in periods if _YEAR.match(p)} | {y for p in periods if (y := year_of(p))}
            for year in sorted(years):
                quarters = quarters_of(year)
                present = [q for q in quarters if q in periods]
                if not present or year not in periods:
                    continue
                year_key = StatKey(measure, year, dims)
                quarter_keys = [StatKey(measure, q, dims) for q in quarters]
                if how == "additive":
                    self._relate(
                        Relation.total_of(year_key, quarter_keys, f"{measure} {year} = its quarters")
                    )
                else:
                    for quarter in present:
                        self._relate(
                            Relation.at_most([StatKey(measure, quarter, dims)], year_key, "quarter <= year")
                        )
                    if len(present) == 4:
                        self._relate(
                            Relation(
                                ((year_key, 1.0), *((k, -1.0) for k in quarter_keys)),
                                "le",
                                "year <= sum of quarters",
                            )
                        )

    def _matrix(self) -> tuple[sparse.csr_matrix, np.ndarray]:
        data: list[float] = []
        rows: list[int] = []
        cols: list[int] = []
        for r, (coefs, _sense, _reason) in enumerate(self._rows):
            for idx, coef in coefs.items():
                rows.append(r)
                cols.append(idx)
                data.append(coef)
        shape = (len(self._rows), len(self.keys))
        matrix = sparse.csr_matrix((data, (rows, cols)), shape=shape, dtype=float)
        senses = np.array([sense == "eq" for _c, sense, _r in self._rows], dtype=bool)
        return matrix, senses

    # ------------------------------------------------------------------------- applying a pattern

    def status_of(self, idx: int, pattern: Mapping[StatKey, Status]) -> Status:
        if idx in self.carried_status:
            return self.carried_status[idx]
        return pattern.get(self.keys[idx], "published")

    def known_values(self, pattern: Mapping[StatKey, Status]) -> dict[int, float]:
        """The figures an attacker knows exactly: everything published, now or before."""
        known: dict[int, float] = {}
        for idx in range(len(self.keys)):
            if idx in self.released:
                if self.status_of(idx, pattern) == "published":
                    known[idx] = self.truth[idx].value
            elif idx in self.prior and self.prior[idx].published is not None:
                truth = self.truth.get(idx)
                published = self.prior[idx].published
                known[idx] = truth.value if truth is not None else float(published or 0.0)
        return known

    def targets(self, pattern: Mapping[StatKey, Status]) -> list[Target]:
        """Every sensitive statistic that is not published: each must keep a wide enough range."""
        targets: list[Target] = []
        for idx, key in enumerate(self.keys):
            cell = self.truth.get(idx)
            prior = self.prior.get(idx)
            required = 0.0
            if idx in self.released:
                status = self.status_of(idx, pattern)
                if status == "published":
                    continue
                if idx in self.carried_status:
                    required = prior.required_width if prior is not None else 0.0
                elif status == "primary" and cell is not None:
                    required = self.rules.required_width(cell, self.kind[idx])
            elif prior is not None and prior.published is not None:
                continue
            elif idx in self.context_keys and cell is not None:
                if self.rules.primary_reason(cell, self.kind[idx]) is not None:
                    required = self.rules.required_width(cell, self.kind[idx])
            elif prior is not None:
                required = prior.required_width
            if prior is not None and prior.published is None:
                required = max(required, prior.required_width)
            if required > 0:
                value = cell.value if cell is not None else None
                targets.append(Target(idx, key, self.labels[idx], required, value))
        return targets

    def truth_vector(self) -> np.ndarray:
        """True values where known (NaN for statistics nobody computed, such as a missing quarter).

        The audit starts each range from the true value, which is sound only when the true values are
        a point of the attacker's system. When they might not be (a table carried from an earlier
        release next to fresh figures, or figures that contradict a relation), every value is NaN and
        the audit relies on its linear programmes alone.
        """
        if self._truth_cache is not None:
            return self._truth_cache.copy()
        self._truth_cache = self._usable_truth()
        return self._truth_cache.copy()

    def _usable_truth(self) -> np.ndarray:
        vector = np.full(len(self.keys), np.nan)
        if self.carried_status:
            return vector
        for idx, cell in self.truth.items():
            vector[idx] = cell.value
        complete = ~np.isnan(vector)
        rows_known = np.asarray((abs(self.matrix) @ (~complete).astype(float)) == 0).ravel()
        if rows_known.any():
            residual = self.matrix[rows_known] @ np.where(complete, vector, 0.0)
            eq = self.senses[rows_known]
            scale = 1e-6 * np.maximum(1.0, np.asarray(abs(self.matrix[rows_known]).sum(axis=1)).ravel())
            broken = np.where(eq, np.abs(residual) > scale, residual > scale)
            if broken.any():
                return np.full(len(self.keys), np.nan)
        return vector

    def relation_reason(self, row: int) -> str:
        return self._rows[row][2]

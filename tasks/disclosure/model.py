"""The objects of disclosure control: statistics, the tables that publish them, and their labels.

A published figure is a *statistic*: a measure (participations, hours...) over a period, restricted by
dimension values (region = North East, subject = Physics). Its `StatKey` is its identity everywhere: two
tables that print the same statistic (the grand total of two tables of the same measure) print one
variable, and a later release of the same statistic is the same variable again. That identity is what
lets the audit see links between tables, between funders' releases and between periods.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

TOTAL = "Total"
"""The label of a margin (row or column total) and of the grand total."""

VALUE = "Value"
"""The single column of a one-way table."""

TableKind = Literal["count", "magnitude"]
TimeRelation = Literal["additive", "distinct", "none"]
"""How a statistic over a year relates to the same statistic over its quarters: `additive` (the year is
the sum of its quarters: participations, hours), `distinct` (people counted once a year: the year lies
between the largest quarter and the sum of the quarters), `none` (no linear relation is claimed)."""

Status = Literal["published", "primary", "secondary"]


@dataclass(frozen=True, order=True)
class StatKey:
    """The identity of one statistic: measure, period and dimension values (none: the grand total)."""

    measure: str
    period: str
    dims: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, measure: str, period: str, dims: Mapping[str, str | None] | None = None) -> StatKey:
        items = tuple(sorted((k, v) for k, v in (dims or {}).items() if v is not None))
        return cls(measure, period, items)

    def dim(self, name: str) -> str | None:
        for key, value in self.dims:
            if key == name:
                return value
        return None

    def with_period(self, period: str) -> StatKey:
        return StatKey(self.measure, period, self.dims)

    def text(self) -> str:
        """A stable, parseable text form: `measure|period|dim=value;dim=value`."""
        dims = ";".join(f"{_escape(k)}={_escape(v)}" for k, v in self.dims)
        return f"{self.measure}|{self.period}|{dims}"

    @classmethod
    def parse(cls, text: str) -> StatKey:
        measure, period, dims_text = text.split("|", 2)
        dims: list[tuple[str, str]] = []
        if dims_text:
            for item in _split_unescaped(dims_text, ";"):
                key, value = _split_unescaped(item, "=", maxsplit=1)
                dims.append((_unescape(key), _unescape(value)))
        return cls(measure, period, tuple(sorted(dims)))

    def __str__(self) -> str:
        return self.text()


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace(";", "\\;").replace("=", "\\=").replace("|", "\\|")


def _unescape(value: str) -> str:
    out: list[str] = []
    escaped = False
    for char in value:
        if escaped:
            out.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        else:
            out.append(char)
    return "".join(out)


def _split_unescaped(text: str, sep: str, maxsplit: int = -1) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    escaped = False
    for char in text:
        if escaped:
            current.append("\\" + char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == sep and (maxsplit < 0 or len(parts) < maxsplit):
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


@dataclass(frozen=True)
class CellLabel:
    """Where a statistic is printed, in words a reader of the report understands (never a person)."""

    table: str
    row: str
    column: str
    period: str

    def __str__(self) -> str:
        where = self.row if self.column == VALUE else f"{self.row} × {self.column}"
        return f"table {self.table!r}, cell {where}, period {self.period}"


@dataclass
class CellData:
    """The true figures behind one cell: never delivered as such for a suppressed cell.

    `contributors` is the number of distinct people in the cell (the frequency rule counts people, not
    bookings or activities); `top_n` is the sum of the `n` largest contributions (the dominance rule
    of magnitude tables such as hours).
    """

    value: float
    contributors: int | None = None
    top_n: float | None = None


@dataclass
class StatTable:
    """A one- or two-way table of one measure over one period, with its margins.

    Two-way: rows x columns, a Total column (row margins), a Total row (column margins) and the grand
    total. One-way: rows and a Total row, one column named `VALUE`. `cells` is keyed by (row, column)
    with `TOTAL` for the margins; a missing inner cell is a zero.
    """

    name: str
    title: str
    measure: str
    period: str
    unit: str
    row_dim: str
    row_title: str
    rows: list[str]
    cells: dict[tuple[str, str], CellData]
    col_dim: str | None = None
    col_title: str | None = None
    cols: list[str] = field(default_factory=list)
    kind: TableKind = "count"
    time_relation: TimeRelation = "additive"
    has_totals: bool = True
    fixed_dims: dict[str, str] = field(default_factory=dict)
    row_dims: dict[str, dict[str, str]] = field(default_factory=dict)
    pattern_group: str | None = None
    carried: dict[tuple[str, str], Status] | None = None
    """For a table released before for the same period: the statuses it was first published with
    (the values in `cells` are then the published ones). None: the table is new and may be protected."""
    description: str = ""
    decimals: int = 0
    row_names: dict[str, str] = field(default_factory=dict)
    """How a row is shown when its label is a code (a course code shown with its title)."""

    @property
    def two_way(self) -> bool:
        return self.col_dim is not None

    @property
    def columns(self) -> list[str]:
        """The inner columns (the `VALUE` column for a one-way table)."""
        return list(self.cols) if self.two_way else [VALUE]

    @property
    def grid_rows(self) -> list[str]:
        return [*self.rows, TOTAL] if self.has_totals else list(self.rows)

    @property
    def grid_cols(self) -> list[str]:
        if not self.two_way:
            return [VALUE]
        return [*self.cols, TOTAL] if self.has_totals else list(self.cols)

    def positions(self) -> Iterator[tuple[str, str]]:
        """Every (row, column) of the table, margins included, in reading order."""
        for row in self.grid_rows:
            for col in self.grid_cols:
                yield row, col

    def is_total(self, row: str, col: str) -> bool:
        return row == TOTAL or col == TOTAL

    def cell(self, row: str, col: str) -> CellData:
        return self.cells.get((row, col)) or CellData(0.0, 0, 0.0)

    def key(self, row: str, col: str) -> StatKey:
        dims: dict[str, str | None] = dict(self.fixed_dims)
        if row != TOTAL:
            dims[self.row_dim] = row
            dims.update(self.row_dims.get(row, {}))
        if self.two_way and col != TOTAL:
            assert self.col_dim is not None
            dims[self.col_dim] = col
        return StatKey.of(self.measure, self.period, dims)

    def label(self, row: str, col: str) -> CellLabel:
        return CellLabel(self.name, row, col, self.period)

    def lines(self) -> list[tuple[tuple[str, str], list[tuple[str, str]]]]:
        """The additivity relations: (total position, the positions that add up to it)."""
        if not self.has_totals:
            return []
        relations: list[tuple[tuple[str, str], list[tuple[str, str]]]] = []
        if self.two_way:
            for row in self.grid_rows:
                relations.append(((row, TOTAL), [(row, col) for col in self.cols]))
            for col in self.cols:
                relations.append(((TOTAL, col), [(row, col) for row in self.rows]))
        else:
            relations.append(((TOTAL, VALUE), [(row, VALUE) for row in self.rows]))
        return relations

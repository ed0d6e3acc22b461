"""The disclosure rules: which cells are sensitive (primary suppression), how much protection a
suppressed cell needs, and how published figures are rounded."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

from tasks.disclosure.model import CellData, TableKind

ZeroCells = Literal["publish", "suppress"]


@dataclass(frozen=True)
class DisclosureRules:
    """The parameters of one release's disclosure control (they go into its manifest).

    - threshold: a cell with fewer than this many contributors (distinct people) is sensitive.
    - zero_cells: `publish` treats an empty cell as safe (a zero tells of nobody); `suppress` treats it
      as sensitive, for tables where "none" would itself be disclosive.
    - dominance_n, dominance_k: the (n, k) dominance rule of magnitude tables: a cell where the n
      largest contributors make up more than k percent of the value is sensitive.
    - protection_width: the narrowest range an attacker may be left with for a sensitive count,
      knowing every published figure of every release (the audit proves it).
    - magnitude_protection_percent: for a sensitive magnitude cell (hours), the range must be at
      least this percentage of the cell's value (and at least `protection_width`).
    - rounding_base: 0 publishes exact counts; 5 rounds every published count to the nearest 5, each
      total rounded on its own (so tables need not add up).
    - min_contributors_for_mean: means and medians are published only where at least this many people
      contribute.
    """

    threshold: int = 10
    zero_cells: ZeroCells = "publish"
    dominance_n: int = 2
    dominance_k: float = 80.0
    protection_width: float = 10.0
    magnitude_protection_percent: float = 20.0
    rounding_base: int = 0
    min_contributors_for_mean: int = 10

    def __post_init__(self) -> None:
        if self.threshold < 1:
            raise ValueError("threshold must be at least 1")
        if self.zero_cells not in ("publish", "suppress"):
            raise ValueError("zero_cells must be 'publish' or 'suppress'")
        if self.dominance_n < 1 or not 0 < self.dominance_k <= 100:
            raise ValueError("dominance rule needs n >= 1 and 0 < k <= 100")
        if self.protection_width <= 0 or self.magnitude_protection_percent < 0:
            raise ValueError("protection width must be positive")
        if self.rounding_base < 0:
            raise ValueError("rounding_base must be 0 (no rounding) or a positive base")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    # ----------------------------------------------------------------------------- primary rules

    def primary_reason(self, cell: CellData, kind: TableKind) -> str | None:
        """Why this cell is sensitive ('threshold', 'zero', 'dominance'), or None when it is safe."""
        if cell.value == 0 and (cell.contributors or 0) == 0:
            return "zero" if self.zero_cells == "suppress" else None
        contributors = cell.contributors if cell.contributors is not None else int(math.ceil(cell.value))
        if contributors < self.threshold:
            return "threshold"
        dominated = cell.top_n is not None and cell.top_n > cell.value * self.dominance_k / 100.0 + 1e-9
        if kind == "magnitude" and cell.value > 0 and dominated:
            return "dominance"
        return None

    def required_width(self, cell: CellData, kind: TableKind) -> float:
        """The narrowest attacker's range this sensitive cell may be left with."""
        if kind == "magnitude":
            return max(self.protection_width, abs(cell.value) * self.magnitude_protection_percent / 100.0)
        return self.protection_width

    # ---------------------------------------------------------------------------------- rounding

    def publish_value(self, value: float, kind: TableKind, decimals: int = 0) -> float:
        """The figure printed for a published cell: counts rounded to the base, if any."""
        if kind == "count":
            if self.rounding_base > 1:
                return float(round_half_up(value / self.rounding_base) * self.rounding_base)
            return float(round_half_up(value))
        factor = 10**decimals
        return round_half_up(value * factor) / factor


def round_half_up(value: float) -> int:
    """Round to the nearest integer, halves away from zero (Python's round() rounds halves to even)."""
    return int(math.floor(abs(value) + 0.5)) * (1 if value >= 0 else -1)

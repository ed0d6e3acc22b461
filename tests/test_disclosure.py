"""Disclosure control on hand-made tables whose right answers are worked out by hand (and, for one,
published by sdcTable's own tests): primary rules, secondary suppression, the audit, linked tables,
differencing against other periods and earlier releases."""

from __future__ import annotations

import math

import pytest

from tasks.disclosure import (
    TOTAL,
    VALUE,
    CellData,
    DisclosureAuditFailed,
    DisclosureProblem,
    DisclosureRules,
    PriorCell,
    Relation,
    StatKey,
    StatTable,
    SystemStructure,
    UnprotectableRelease,
    audit_pattern,
    protect,
)

# ------------------------------------------------------------------------------------------ helpers


def two_way(
    inner: dict[tuple[str, str], int], name: str = "t", period: str = "2026", measure: str = "m"
) -> StatTable:
    rows = sorted({r for r, _ in inner}, key=str)
    cols = sorted({c for _, c in inner}, key=str)
    cells = {k: CellData(float(v), v) for k, v in inner.items()}
    for r in rows:
        total = sum(inner[(r, c)] for c in cols)
        cells[(r, TOTAL)] = CellData(float(total), total)
    for c in cols:
        total = sum(inner[(r, c)] for r in rows)
        cells[(TOTAL, c)] = CellData(float(total), total)
    grand = sum(inner.values())
    cells[(TOTAL, TOTAL)] = CellData(float(grand), grand)
    return StatTable(
        name=name,
        title=name,
        measure=measure,
        period=period,
        unit="people",
        row_dim="row",
        row_title="Row",
        rows=rows,
        cells=cells,
        col_dim="col",
        col_title="Column",
        cols=cols,
    )


def one_way(
    values: dict[str, int], name: str = "u", period: str = "2026", measure: str = "m", dim: str = "cat"
) -> StatTable:
    cells = {(k, VALUE): CellData(float(v), v) for k, v in values.items()}
    total = sum(values.values())
    cells[(TOTAL, VALUE)] = CellData(float(total), total)
    return StatTable(
        name=name,
        title=name,
        measure=measure,
        period=period,
        unit="people",
        row_dim=dim,
        row_title=dim,
        rows=list(values),
        cells=cells,
    )


def suppressed(result_pattern: dict[StatKey, str], status: str) -> set[StatKey]:
    return {key for key, value in result_pattern.items() if value == status}


# The 4 x 4 table of sdcTable's own test of SIMPLEHEURISTIC (tests/testthat/test-simpleheuristic.R):
# nine primary suppressions, at least two in every row and column, and still w|b can be recomputed:
# rows w + x give w|a + w|b + w|c + x|a + x|c = 236, columns a + c give w|a + w|c + x|a + x|c = 189.
SDC_INNER = {
    ("w", "a"): 30, ("w", "b"): 47, ("w", "c"): 64, ("w", "d"): 89,
    ("x", "a"): 90, ("x", "b"): 124, ("x", "c"): 5, ("x", "d"): 31,
    ("y", "a"): 92, ("y", "b"): 100, ("y", "c"): 59, ("y", "d"): 85,
    ("z", "a"): 800, ("z", "b"): 991, ("z", "c"): 651, ("z", "d"): 685,
}  # fmt: skip
SDC_PRIMARY = [
    ("w", "a"),
    ("w", "b"),
    ("w", "c"),
    ("x", "a"),
    ("x", "c"),
    ("y", "b"),
    ("y", "d"),
    ("z", "b"),
    ("z", "d"),
]


# ------------------------------------------------------------------------------------ primary rules


def test_frequency_rule_counts_people_and_zero_cells_follow_the_setting() -> None:
    rules = DisclosureRules(threshold=10)
    assert rules.primary_reason(CellData(25, 3), "count") == "threshold"  # 25 bookings by 3 people
    assert rules.primary_reason(CellData(10, 10), "count") is None
    assert rules.primary_reason(CellData(9, 9), "count") == "threshold"
    assert rules.primary_reason(CellData(0, 0), "count") is None
    assert DisclosureRules(zero_cells="suppress").primary_reason(CellData(0, 0), "count") == "zero"


def test_dominance_rule_on_hours() -> None:
    rules = DisclosureRules(threshold=3, dominance_n=2, dominance_k=80)
    # 100 hours from 12 people, the two largest giving 85: dominated.
    assert rules.primary_reason(CellData(100, 12, 85), "magnitude") == "dominance"
    assert rules.primary_reason(CellData(100, 12, 80), "magnitude") is None
    assert rules.primary_reason(CellData(100, 12, 85), "count") is None  # counts have no dominance
    one = DisclosureRules(threshold=3, dominance_n=1, dominance_k=50)
    assert one.primary_reason(CellData(40, 5, 21), "magnitude") == "dominance"


def test_required_width_and_rounding() -> None:
    rules = DisclosureRules(protection_width=10, magnitude_protection_percent=20, rounding_base=5)
    assert rules.required_width(CellData(3, 3), "count") == 10
    assert rules.required_width(CellData(200, 12), "magnitude") == 40
    assert [rules.publish_value(v, "count") for v in (10, 12, 13, 17, 22.5, 0)] == [10, 10, 15, 15, 25, 0]
    assert DisclosureRules().publish_value(12.25, "magnitude", 1) == 12.3


def test_stat_keys_round_trip_through_text() -> None:
    key = StatKey.of("cpd", "2026-Q3", {"course": "A;B=C|D", "subject": "Maths\\Stats", "none": None})
    assert StatKey.parse(key.text()) == key
    assert key.dim("course") == "A;B=C|D" and key.dim("none") is None


# -------------------------------------------------------------------------------------------- audit


def test_audit_catches_the_weak_suppression_of_sdctable_test() -> None:
    table = two_way(SDC_INNER)
    structure = SystemStructure(DisclosureProblem([table], DisclosureRules(protection_width=1)))
    weak = {table.key(*cell): "primary" for cell in SDC_PRIMARY}
    report = audit_pattern(structure, weak)
    exposed = report.exposed
    assert [(i.label.row, i.label.column) for i in exposed] == [("w", "b")]
    assert (exposed[0].low, exposed[0].high) == pytest.approx((47, 47))
    with pytest.raises(DisclosureAuditFailed, match=r"table 't', cell w × b, period 2026: .*\[47, 47\]"):
        report.raise_if_exposed()
    # sdcTable adds x|b, after which its attack() gives w|b the range [0, 141]; so does this audit.
    weak[table.key("x", "b")] = "secondary"
    after = {(i.label.row, i.label.column): (i.low, i.high) for i in audit_pattern(structure, weak).intervals}
    assert after[("w", "b")] == pytest.approx((0, 141))
    assert audit_pattern(structure, weak).passed


def test_secondary_suppression_fixes_the_sdctable_table_with_one_cell() -> None:
    table = two_way(SDC_INNER)
    problem = DisclosureProblem([table], DisclosureRules(threshold=1, protection_width=1))
    engine = protect.__globals__["SecondarySuppression"](problem)
    engine.primary_pattern = lambda: ({table.key(*c): "primary" for c in SDC_PRIMARY}, {})
    result = engine.run()
    added = suppressed(result.pattern, "secondary")
    # sdcTable suppresses x|b (124); the cheapest single cell that works is y|c (59): w|b -> [0, 116].
    assert added == {table.key("y", "c")}
    assert result.audit.passed
    ranges = {
        (i.label.row, i.label.column): (i.low, i.high)
        for i in audit_pattern(result.structure, result.pattern).intervals
    }
    assert ranges[("w", "b")] == pytest.approx((0, 116))


def test_hand_made_three_by_three_table() -> None:
    #        A    B    C  | Total
    # r1     3   20   30  |   53      r1|A has 3 people: primary.
    # r2    25   40   12  |   77      Rectangles through r1|A: (r2,B) cost 85, (r2,C) cost 67,
    # r3    50   15   60  |  125      (r3,B) cost 85, (r3,C) cost 140: the cheapest is r1|C, r2|A,
    #                                 r2|C, leaving r1|A in [0, 3 + min(30, 25)] = [0, 28].
    table = two_way(
        {("r1", "A"): 3, ("r1", "B"): 20, ("r1", "C"): 30, ("r2", "A"): 25, ("r2", "B"): 40, ("r2", "C"): 12,
         ("r3", "A"): 50, ("r3", "B"): 15, ("r3", "C"): 60}
    )  # fmt: skip
    result = protect(DisclosureProblem([table], DisclosureRules()))
    assert suppressed(result.pattern, "primary") == {table.key("r1", "A")}
    assert suppressed(result.pattern, "secondary") == {
        table.key("r1", "C"),
        table.key("r2", "A"),
        table.key("r2", "C"),
    }
    exact = audit_pattern(result.structure, result.pattern, exact=True)
    [interval] = exact.intervals
    assert (interval.low, interval.high) == pytest.approx((0, 28))
    assert result.audit.passed and exact.passed


def test_one_way_table_partner_is_the_cheapest_that_gives_the_width() -> None:
    # A has 4 people. With the total published, A and a partner f range over [0, 4 + f]: f >= 6 needed.
    # B = 5 is too small (width 9 < 10); D = 20 is the cheapest that works.
    table = one_way({"A": 4, "B": 5, "C": 50, "D": 20, "E": 31}, dim="cat")
    result = protect(DisclosureProblem([table], DisclosureRules(threshold=5)))
    assert suppressed(result.pattern, "primary") == {table.key("A", VALUE)}
    assert suppressed(result.pattern, "secondary") == {table.key("D", VALUE)}
    [interval] = audit_pattern(result.structure, result.pattern, exact=True).intervals
    assert (interval.low, interval.high) == pytest.approx((0, 24))


def test_a_lone_primary_cell_is_exposed_by_its_total() -> None:
    table = one_way({"A": 4, "B": 30, "C": 50})
    structure = SystemStructure(DisclosureProblem([table], DisclosureRules()))
    report = audit_pattern(structure, {table.key("A", VALUE): "primary"})
    [interval] = report.exposed
    assert (interval.low, interval.high, interval.required) == pytest.approx((4, 4, 10))


def test_a_cell_linked_to_nothing_is_unbounded_and_safe() -> None:
    table = one_way({"A": 4, "B": 30})
    table.has_totals = False
    report = audit_pattern(
        SystemStructure(DisclosureProblem([table], DisclosureRules())), {table.key("A", VALUE): "primary"}
    )
    [interval] = report.intervals
    assert interval.low == 0 and math.isinf(interval.high) and report.passed


# ----------------------------------------------------------------------------------- linked tables


def test_linked_tables_a_pattern_safe_alone_is_exposed_through_the_shared_total() -> None:
    # Two tables of one measure share their grand total (80). In the one-way table, suppressing the
    # small cell P with the total looks safe; but the two-way table publishes its row totals, whose
    # sum is the grand total, so P = 80 - Q.
    grid = two_way({("r1", "x"): 20, ("r1", "y"): 20, ("r2", "x"): 20, ("r2", "y"): 20})
    phases = one_way({"P": 3, "Q": 77}, name="phases", dim="phase")
    assert grid.key(TOTAL, TOTAL) == phases.key(TOTAL, VALUE)
    problem = DisclosureProblem([grid, phases], DisclosureRules())
    structure = SystemStructure(problem)
    weak = {phases.key("P", VALUE): "primary", phases.key(TOTAL, VALUE): "secondary"}
    [interval] = audit_pattern(structure, weak).exposed
    assert (interval.label.table, interval.label.row, interval.low, interval.high) == ("phases", "P", 3, 3)
    # The heuristic pairs P with Q instead (the grand total cannot hide, it is in the other table).
    result = protect(problem)
    assert suppressed(result.pattern, "secondary") == {phases.key("Q", VALUE)}
    assert result.audit.passed


def test_tables_in_one_pattern_group_are_suppressed_together() -> None:
    # Activities (counts) and hours over the same cells: the hours of (r1, x) are dominated by one
    # person (primary by dominance) so the activities of (r1, x) are suppressed with them.
    inner = {("r1", "x"): 30, ("r1", "y"): 40, ("r2", "x"): 35, ("r2", "y"): 45}
    activities = two_way(inner, name="activities", measure="acts")
    hours = two_way({k: v * 2 for k, v in inner.items()}, name="hours", measure="hours")
    hours.kind = "magnitude"
    hours.cells[("r1", "x")] = CellData(60.0, 30, 58.0)
    activities.pattern_group = hours.pattern_group = "g"
    result = protect(DisclosureProblem([activities, hours], DisclosureRules(threshold=5)))
    assert suppressed(result.pattern, "primary") == {hours.key("r1", "x")}
    hours_cells = {k for k in result.pattern if k.measure == "hours"}
    acts_cells = {k for k in result.pattern if k.measure == "acts"}
    assert {k.dims for k in hours_cells} == {k.dims for k in acts_cells}
    assert len(hours_cells) == 4  # a rectangle
    assert result.audit.passed


# ----------------------------------------------------------------------------------- differencing


QUARTERS = {
    "2026-Q1": {"A": 12, "B": 40, "C": 30},
    "2026-Q2": {"A": 15, "B": 35, "C": 33},
    "2026-Q3": {"A": 11, "B": 50, "C": 20},
    "2026-Q4": {"A": 3, "B": 44, "C": 25},
}


def _quarter_problem(
    prior_periods: list[str], prior_suppressed: dict[str, set[str]] | None = None
) -> tuple[DisclosureProblem, StatTable]:
    context = [one_way(values, period=period) for period, values in QUARTERS.items()]
    prior: list[PriorCell] = []
    for table in context:
        if table.period not in prior_periods:
            continue
        hidden = (prior_suppressed or {}).get(table.period, set())
        for row, col in table.positions():
            value = None if row in hidden else table.cell(row, col).value
            prior.append(
                PriorCell(table.key(row, col), table.label(row, col), value, 10.0 if row in hidden else 0.0)
            )
    year = one_way({k: sum(q[k] for q in QUARTERS.values()) for k in "ABC"}, period="2026")
    return DisclosureProblem([year], DisclosureRules(), context=context, prior=prior), year


def test_differencing_a_year_against_its_released_quarters_is_prevented() -> None:
    # Q1-Q3 were released in full; Q4 never was. Publishing the year's A (41) would reveal Q4's A:
    # 41 - 12 - 15 - 11 = 3. The year's A must be suppressed with a partner (C, 108, the cheaper).
    problem, year = _quarter_problem(["2026-Q1", "2026-Q2", "2026-Q3"])
    structure = SystemStructure(problem)
    naive = audit_pattern(structure, {})
    [exposed] = naive.exposed
    assert (exposed.label.period, exposed.label.row, exposed.low, exposed.high) == ("2026-Q4", "A", 3, 3)
    result = protect(problem)
    assert suppressed(result.pattern, "secondary") == {year.key("A", VALUE), year.key("C", VALUE)}
    [interval] = audit_pattern(result.structure, result.pattern, exact=True).intervals
    assert (interval.label.period, interval.low, interval.high) == ("2026-Q4", 0, 28)


def test_a_cell_suppressed_in_an_earlier_release_stays_protected() -> None:
    # All four quarters were released; Q3 suppressed A and C (each other's partner, its total known).
    # Knowing only what was released, the year's A would give Q3's A back: 41 - 12 - 15 - 3 = 11.
    problem, year = _quarter_problem(["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"], {"2026-Q3": {"A", "C"}})
    quarters = [one_way(values, period=period) for period, values in QUARTERS.items()]
    problem.context = []  # the truth of the quarters is not used: only the earlier releases
    problem.relations = [
        Relation.total_of(q.key(TOTAL, VALUE), [q.key(r, VALUE) for r in q.rows], "quarter") for q in quarters
    ]
    structure = SystemStructure(problem)
    exposed = {(i.label.period, i.label.row, i.low, i.high) for i in audit_pattern(structure, {}).exposed}
    assert exposed == {("2026-Q3", "A", 11, 11), ("2026-Q3", "C", 20, 20)}
    result = protect(problem)
    assert year.key("A", VALUE) in suppressed(result.pattern, "secondary")
    exact = audit_pattern(result.structure, result.pattern, exact=True)
    assert exact.passed and {i.label.period for i in exact.intervals} == {"2026-Q3"}


def test_unprotectable_cell_is_named() -> None:
    # B and the total were already published (in an earlier release of the same figures): nothing can
    # hide A any more, and the release is refused naming the cell.
    table = one_way({"A": 3, "B": 50})
    prior = [
        PriorCell(table.key(r, VALUE), table.label(r, VALUE), table.cell(r, VALUE).value)
        for r in ("B", TOTAL)
    ]
    with pytest.raises(UnprotectableRelease, match=r"table 'u', cell A, period 2026"):
        protect(DisclosureProblem([table], DisclosureRules(), prior=prior))


def test_a_large_table_is_protected_and_proved() -> None:
    # 12 x 12 with a handful of small cells: every primary ends up with a range of at least 10.
    inner = {(f"r{i:02d}", f"c{j:02d}"): 20 + (7 * i + 11 * j) % 40 for i in range(12) for j in range(12)}
    for cell in [("r00", "c03"), ("r05", "c05"), ("r07", "c11"), ("r11", "c00"), ("r03", "c08")]:
        inner[cell] = 2
    table = two_way(inner)
    result = protect(DisclosureProblem([table], DisclosureRules()))
    assert len(suppressed(result.pattern, "primary")) == 5
    exact = audit_pattern(result.structure, result.pattern, exact=True)
    assert exact.passed and all(i.width >= 10 for i in exact.intervals)


def test_a_table_without_totals_is_protected_across_periods_through_its_year_cell() -> None:
    # Impact responses per measure have no total. Q1-Q3 released, Q4 has 3 responses: the year's
    # figure alone would give them away, so it is suppressed (nothing else needs to be).
    quarters = {"2026-Q1": 20, "2026-Q2": 25, "2026-Q3": 30, "2026-Q4": 3}
    context = []
    prior = []
    for period, value in quarters.items():
        table = one_way({"confidence": value}, name="impact", period=period)
        table.has_totals = False
        context.append(table)
        if period != "2026-Q4":
            prior.append(
                PriorCell(table.key("confidence", VALUE), table.label("confidence", VALUE), float(value))
            )
    year = one_way({"confidence": 78}, name="impact", period="2026")
    year.has_totals = False
    result = protect(DisclosureProblem([year], DisclosureRules(), context=context, prior=prior))
    assert suppressed(result.pattern, "secondary") == {year.key("confidence", VALUE)}
    [interval] = audit_pattern(result.structure, result.pattern, exact=True).intervals
    assert interval.label.period == "2026-Q4" and math.isinf(interval.high)

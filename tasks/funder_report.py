"""The funder's report: one self-contained HTML page (inline CSS and SVG charts, no script, nothing
fetched), readable by a person: title, period, key figures, a chart and a table per statistic, the
suppressed cells plainly marked, and notes on how the figures protect people."""

from __future__ import annotations

import math
from html import escape
from typing import TYPE_CHECKING

from tasks.disclosure import TOTAL, VALUE

if TYPE_CHECKING:
    from tasks.funders import FunderRelease, PublishedCell, PublishedTable

SUPPRESSED_MARK = "[c]"
SUPPRESSED_TITLE = "Suppressed to protect confidentiality"

_CSS = """
:root { --ink: #1d2733; --muted: #5b6775; --rule: #d5dbe1; --accent: #1f6f8b; --soft: #eef4f7; }
* { box-sizing: border-box; }
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: var(--ink);
       margin: 0 auto; max-width: 1100px; padding: 2rem 1.5rem 4rem; }
h1 { font-size: 1.9rem; margin: 0 0 .3rem; }
h2 { font-size: 1.35rem; margin: 2.5rem 0 .4rem; border-bottom: 2px solid var(--accent); padding-bottom: .2rem; }
p { max-width: 70ch; }
.period { font-size: 1.15rem; color: var(--accent); margin: 0 0 1rem; font-weight: 600; }
.muted { color: var(--muted); }
nav ol { columns: 2; padding-left: 1.2rem; }
.figures { display: flex; flex-wrap: wrap; gap: 1rem; margin: 1rem 0; }
.figure { background: var(--soft); border-radius: 6px; padding: .8rem 1rem; min-width: 12rem; }
.figure strong { display: block; font-size: 1.6rem; }
.scroll { overflow-x: auto; margin: .8rem 0; }
table { border-collapse: collapse; font-size: .88rem; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding: .3rem 0; }
th, td { border: 1px solid var(--rule); padding: .25rem .5rem; }
th { background: var(--soft); text-align: left; font-weight: 600; }
td { text-align: right; white-space: nowrap; }
tr.total th, tr.total td, td.total, th.total { font-weight: 700; background: #f6f8fa; }
td.suppressed { color: var(--muted); text-align: center;
  background: repeating-linear-gradient(45deg, #ffffff, #ffffff 4px, #e6e9ed 4px, #e6e9ed 8px); }
svg { max-width: 100%; height: auto; }
.legend { border-left: 4px solid var(--accent); padding: .4rem .9rem; background: var(--soft); max-width: 70ch; }
dl.parameters { display: grid; grid-template-columns: max-content auto; gap: .3rem 1rem; }
dl.parameters dt { font-weight: 600; }
dl.parameters dd { margin: 0; }
@media print { nav { display: none; } h2 { break-after: avoid; } section { break-inside: avoid-page; } }
"""


def _number(value: float | None, decimals: int = 0) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if decimals == 0:
        return f"{round(value):,}"
    return f"{value:,.{decimals}f}"


def _cell_html(cell: PublishedCell | None, decimals: int, total: bool) -> str:
    classes = ["total"] if total else []
    if cell is None:
        return "<td></td>"
    if cell.status == "suppressed":
        classes.append("suppressed")
        return f'<td class="{" ".join(classes)}" title="{SUPPRESSED_TITLE}">{SUPPRESSED_MARK}</td>'
    cls = f' class="{" ".join(classes)}"' if classes else ""
    return f"<td{cls}>{_number(cell.shown, decimals)}</td>"


def _decimals(table: PublishedTable, column: str) -> int:
    if column in ("Mean score", "Median score"):
        return 2
    return table.decimals


def table_html(table: PublishedTable) -> str:
    """The table as HTML: header row, one row per category, totals in bold, [c] where suppressed."""
    columns = table.columns
    head_first = escape(table.row_title)
    header = "".join(
        f'<th scope="col"{" class=total" if c == TOTAL else ""}>{escape(table.display_column(c))}</th>'
        for c in columns
    )
    if table.two_way and table.column_title:
        caption = f"{escape(table.row_title)} (rows) by {escape(table.column_title)} (columns), {escape(table.unit)}"
    else:
        caption = escape(table.title)
    body = []
    for row in table.rows:
        is_total_row = row == TOTAL
        cells = "".join(
            _cell_html(table.cells.get((row, c)), _decimals(table, c), is_total_row or c == TOTAL)
            for c in columns
        )
        tr_class = ' class="total"' if is_total_row else ""
        body.append(f'<tr{tr_class}><th scope="row">{escape(table.display_row(row))}</th>{cells}</tr>')
    return (
        f'<div class="scroll"><table><caption>{caption}</caption>'
        f'<thead><tr><th scope="col">{head_first}</th>{header}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def bar_chart(
    chart_id: int, title: str, items: list[tuple[str, float | None]], unit: str, decimals: int = 0
) -> str:
    """A horizontal bar chart as inline SVG; a suppressed value is a hatched stub marked [c]."""
    if not items:
        return ""
    label_width, bar_area, value_width = 300, 440, 90
    bar, gap, top = 18, 7, 8
    width = label_width + bar_area + value_width
    height = top * 2 + len(items) * (bar + gap)
    known = [v for _label, v in items if v is not None]
    largest = max(known) if known and max(known) > 0 else 1.0
    parts = [
        f'<svg role="img" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" aria-labelledby="chart-{chart_id}-title">',
        f'<title id="chart-{chart_id}-title">{escape(title)}</title>',
        f'<defs><pattern id="hatch-{chart_id}" patternUnits="userSpaceOnUse" width="6" height="6" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#9aa5b1" stroke-width="3"/></pattern></defs>',
    ]
    for i, (label, value) in enumerate(items):
        y = top + i * (bar + gap)
        text_y = y + bar - 4
        short = label if len(label) <= 44 else label[:41] + "..."
        parts.append(
            f'<text x="{label_width - 8}" y="{text_y}" text-anchor="end" font-size="13" '
            f'fill="#1d2733">{escape(short)}</text>'
        )
        if value is None:
            parts.append(
                f'<rect x="{label_width}" y="{y}" width="40" height="{bar}" fill="url(#hatch-{chart_id})" '
                'stroke="#9aa5b1"><title>' + SUPPRESSED_TITLE + "</title></rect>"
            )
            parts.append(
                f'<text x="{label_width + 48}" y="{text_y}" font-size="13" fill="#5b6775">{SUPPRESSED_MARK}</text>'
            )
            continue
        length = max(1.0, bar_area * value / largest) if value > 0 else 0.0
        parts.append(f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{bar}" fill="#1f6f8b"/>')
        parts.append(
            f'<text x="{label_width + length + 6:.1f}" y="{text_y}" font-size="13" fill="#1d2733">'
            f"{_number(value, decimals)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _chart_for(table: PublishedTable, chart_id: int) -> str:
    """One chart per table: the categories of a one-way table, the row totals of a two-way one."""
    if table.two_way:
        column = TOTAL if TOTAL in table.columns else None
        if column is None:
            return ""
        what = f"{table.unit} by {table.row_title.lower()} (row totals)"
    else:
        column = VALUE
        what = f"{table.unit} by {table.row_title.lower()}"
    items: list[tuple[str, float | None]] = []
    for row in table.rows:
        if row == TOTAL:
            continue
        cell = table.cells.get((row, column))
        if cell is None:
            continue
        items.append((table.display_row(row), cell.shown if cell.status == "published" else None))
    title = f"{table.title}: {what}"
    return f"<figure>{bar_chart(chart_id, title, items, table.unit, table.decimals)}<figcaption class=muted>{escape(what.capitalize())}</figcaption></figure>"


def _key_figures(release: FunderRelease) -> str:
    figures = []
    for name, label in (
        ("cpd_by_region_and_subject", "CPD places attended"),
        ("ambassadors_by_gender", "STEM Ambassadors active"),
        ("ambassador_hours_by_region_and_type", "Ambassador hours volunteered"),
        ("cpd_sponsored_courses", "Places on the courses you sponsored"),
    ):
        table = next((t for t in release.tables if t.name == name), None)
        if table is None:
            continue
        column = TOTAL if table.two_way else VALUE
        cell = table.cells.get((TOTAL, column))
        if cell is None:
            continue
        shown = SUPPRESSED_MARK if cell.status == "suppressed" else _number(cell.shown, table.decimals)
        figures.append(f'<div class="figure"><strong>{shown}</strong>{escape(label)}</div>')
    return f'<div class="figures">{"".join(figures)}</div>' if figures else ""


def _method(release: FunderRelease) -> str:
    rules = release.rules
    summary = release.summary
    rounding = (
        f"Every published count is rounded to the nearest {rules.rounding_base}; each total is rounded "
        "on its own, so a table need not add up exactly."
        if rules.rounding_base > 1
        else "Counts are exact; hours are shown to one decimal place."
    )
    zero = (
        "An empty cell is shown as 0: it tells of nobody."
        if rules.zero_cells == "publish"
        else "Empty cells are treated as sensitive and suppressed like small ones."
    )
    periods = ", ".join(summary.get("context_periods") or []) or "none"
    notes = "".join(f"<p>{escape(note)}</p>" for note in release.notes)
    return f"""
<section id="method">
<h2>How these figures protect people</h2>
<p>These statistics are aggregates of the charity's records. People who asked for their data to be
restricted are left out entirely. Ethnicity and age (from date of birth) are used only for the counts
of STEM Ambassadors shown here, never crossed with anything else and never averaged.</p>
<p><strong>Small cells.</strong> A cell is suppressed when fewer than {rules.threshold} different people
contribute to it. {escape(zero)} A cell of hours is also suppressed when its {rules.dominance_n} largest
contributors account for more than {rules.dominance_k:g}% of it (the dominance rule).</p>
<p><strong>Cells that could be worked out.</strong> Further cells are suppressed so that no suppressed cell
can be recovered from the totals, from the other tables of this report, from reports for the other
periods of {release.period.year} or from any report released before, to you or to another funder.
Before this report was released, an audit solved the linear programmes an attacker would solve, with
every published figure known: each sensitive suppressed cell can only be narrowed to a range at least
{rules.protection_width:g} wide (for hours, also at least {rules.magnitude_protection_percent:g}% of
the cell). Suppressed cells are marked alike, whatever the reason, so that the mark itself tells
nothing.</p>
<p><strong>Rounding.</strong> {escape(rounding)}</p>
<p><strong>Means and medians</strong> of impact scores are shown only where at least
{rules.min_contributors_for_mean} people contributed.</p>
{notes}
<dl class="parameters">
<dt>Cells in this report</dt><dd>{summary.get("cells", 0):,}</dd>
<dt>Cells suppressed</dt><dd>{summary.get("suppressed_cells", 0):,}</dd>
<dt>Sensitive figures proved protected</dt><dd>{summary.get("sensitive_statistics_audited", 0):,}
({summary.get("linear_programmes", 0):,} linear programmes solved)</dd>
<dt>Earlier releases taken into account</dt><dd>{summary.get("earlier_releases_considered", 0):,}</dd>
<dt>Other periods checked for differencing</dt><dd>{escape(periods)}</dd>
</dl>
</section>"""


def render_report(release: FunderRelease) -> str:
    """The whole report as one HTML document that needs nothing else to open."""
    period = release.period
    sections = []
    toc = []
    for chart_id, table in enumerate(release.tables, start=1):
        anchor = f"table-{table.name.replace('_', '-')}"
        toc.append(f'<li><a href="#{anchor}">{escape(table.title)}</a></li>')
        carried = (
            f'<p class="muted">As first published on {escape(table.carried_from)}.</p>'
            if table.carried_from
            else ""
        )
        suppressed = sum(1 for c in table.cells.values() if c.status == "suppressed")
        marked = (
            f'<p class="muted">{suppressed} cell{"s" if suppressed != 1 else ""} marked {SUPPRESSED_MARK}.</p>'
            if suppressed
            else ""
        )
        sections.append(
            f'<section id="{anchor}"><h2>{escape(table.title)}</h2><p>{escape(table.description)}</p>'
            f"{carried}{_chart_for(table, chart_id)}{table_html(table)}{marked}</section>"
        )
    toc.append('<li><a href="#method">How these figures protect people</a></li>')
    created = release.created_at.date().isoformat()
    return f"""<!doctype html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Statistics for {escape(release.funder.name)}: {escape(period.label)}</title>
<style>{_CSS}</style>
</head>
<body>
<header>
<h1>Statistics for {escape(release.funder.name)}</h1>
<p class="period">{escape(period.describe())} ({escape(period.label)})</p>
<p>Prepared on {escape(created)} from the charity's records of CPD courses, STEM Ambassador activities and
impact surveys. The figures are statistics only: they contain nothing that could identify anyone.</p>
<p class="legend"><strong>{SUPPRESSED_MARK}</strong> marks a figure withheld to protect confidentiality:
either few people contributed to it, or it could otherwise be worked out from the figures shown.</p>
</header>
{_key_figures(release)}
<nav aria-label="Contents"><h2>Contents</h2><ol>{"".join(toc)}</ol></nav>
{"".join(sections)}
{_method(release)}
<footer><p class="muted">Produced by steward. The CSV files beside this report hold the same figures, one
row per cell; manifest.json lists every file with its SHA-256 checksum and the disclosure parameters.</p>
</footer>
</body>
</html>
"""

"""The retention sweep: the privacy policy's maximum retention periods, planned, checked, applied, verified.

The rules are data (data_contracts/retention_rules.yaml): each names the policy it implements, the table
and rows it applies to (a query in sql/retention__*.sql), the date it counts from, the period and the
action. This module loads and validates them against the personal-data map, computes each rule's cutoff
in the office's calendar (tasks.calendar), plans the due rows as a plan of the erasure engine
(tasks.plans), summarises the plan per rule for the dry run, and verifies that nothing past its limit is
left except what a hold or block protects.

Boundaries: a record may be kept up to and including its limit date (anchor + period, in Europe/London
dates, clamped at month ends) and is due from the day after. `rule_cutoff` turns that into the first
anchor date that is not yet due, so the queries only compare `anchor < :cutoff`.
"""

from __future__ import annotations

import calendar as _calendar
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from sqlalchemy import BigInteger, Connection, Date, DateTime, bindparam, func, select

from steward.errors import ConfigurationError
from steward.settings import get_settings
from tasks.calendar import add_months, local_date, local_midnight_utc, today_local
from tasks.db import SQL_DIR, sql

ACTIONS = ("erase_subject", "delete_row", "anonymise_row")
COUNTS_FROM = ("anchor", "financialYearEnd")
AnchorKind = Literal["date", "timestamp"]

_RULE_KEYS = {
    "id",
    "implements",
    "policy",
    "appliesTo",
    "table",
    "anchor",
    "period",
    "countsFrom",
    "action",
    "query",
    "parameters",
}
_REQUIRED_KEYS = ("id", "implements", "policy", "appliesTo", "table", "anchor", "period", "action", "query")
_PERIOD = re.compile(r"^\s*(\d+)\s+(months?|years?)\s*$")
_RULE_ID = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
_QUERY_NAME = re.compile(r"^retention__[a-z0-9_]+$")
_BIND = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
_FAR_FUTURE = date(9999, 12, 31)


class RetentionRulesError(ConfigurationError):
    """The retention rules file is wrong; the message names the file, the rule and the field."""


# ------------------------------------------------------------------------------------------ periods


@dataclass(frozen=True)
class Period:
    """A retention period in whole calendar months (years are 12 months)."""

    months: int

    @classmethod
    def parse(cls, text: str) -> Period:
        match = _PERIOD.match(str(text))
        if not match:
            raise ValueError(f"period {text!r} is not '<n> months' or '<n> years'")
        count, unit = int(match.group(1)), match.group(2)
        months = count * 12 if unit.startswith("year") else count
        if months <= 0:
            raise ValueError(f"period {text!r} must be at least one month")
        return cls(months)

    def __str__(self) -> str:
        if self.months % 12 == 0:
            years = self.months // 12
            return f"{years} year" if years == 1 else f"{years} years"
        return f"{self.months} month" if self.months == 1 else f"{self.months} months"


def parse_year_end(text: str) -> tuple[int, int]:
    """The financial year end setting 'MM-DD' as (month, day)."""
    month_text, _, day_text = text.partition("-")
    month, day = int(month_text), int(day_text)
    if not 1 <= month <= 12 or not 1 <= day <= 31:
        raise ValueError(f"financial year end {text!r} is not MM-DD")
    return month, day


def _year_end_in(year: int, year_end: tuple[int, int]) -> date:
    month, day = year_end
    return date(year, month, min(day, _calendar.monthrange(year, month)[1]))


def financial_year_end(day: date, year_end: tuple[int, int]) -> date:
    """The last day of the financial year `day` belongs to (31 March: 2024-04-01 -> 2025-03-31)."""
    this_year = _year_end_in(day.year, year_end)
    return this_year if day <= this_year else _year_end_in(day.year + 1, year_end)


def retention_cutoff(today: date, period: Period) -> date:
    """The first anchor date not yet due on `today`: due exactly when anchor + period < today.

    `add_months` clamps at month ends, so the answer is not always `today - period` (on 31 August, a
    record anchored on 29 February is 6 months old on 29 August and therefore due).
    """
    cutoff = add_months(today, -period.months)
    while add_months(cutoff, period.months) < today:
        cutoff += timedelta(days=1)
    while add_months(cutoff - timedelta(days=1), period.months) >= today:
        cutoff -= timedelta(days=1)
    return cutoff


def financial_cutoff(today: date, period: Period, year_end: tuple[int, int]) -> date:
    """The first anchor date not yet due when the period counts from the end of the financial year."""
    year = today.year
    while True:
        end = _year_end_in(year, year_end)
        if add_months(end, period.months) < today:
            return end + timedelta(days=1)
        year -= 1


# -------------------------------------------------------------------------------------------- rules


@dataclass(frozen=True)
class AnchorColumn:
    table: str
    column: str

    def __str__(self) -> str:
        return f"{self.table}.{self.column}"


@dataclass(frozen=True)
class RetentionRule:
    """One line of the retention policy, as loaded from the rules file."""

    id: str
    implements: str
    policy: str
    applies_to: str
    table: str
    anchor: tuple[AnchorColumn, ...]
    anchor_kind: AnchorKind
    period: Period
    counts_from: str
    action: str
    query: str
    parameters: Mapping[str, Any] = field(default_factory=dict)

    def anchor_text(self) -> str:
        names = [c.column if c.table == self.table else str(c) for c in self.anchor]
        return names[0] if len(names) == 1 else "latest of " + ", ".join(names)

    def describe_period(self) -> str:
        start = "the end of the financial year of " if self.counts_from == "financialYearEnd" else ""
        return f"{self.period} from {start}{self.anchor_text()}"

    def cutoff(self, today: date, year_end: tuple[int, int] | None = None) -> date:
        """The first anchor date (local) not yet due on `today`."""
        if self.counts_from == "financialYearEnd":
            return financial_cutoff(today, self.period, year_end or _settings_year_end())
        return retention_cutoff(today, self.period)

    def limit_date(self, anchor: date, year_end: tuple[int, int] | None = None) -> date:
        """The last day a record anchored on `anchor` may be kept."""
        if self.counts_from == "financialYearEnd":
            anchor = financial_year_end(anchor, year_end or _settings_year_end())
        return add_months(anchor, self.period.months)

    def cutoff_param(self, cutoff: date) -> date | datetime:
        """The bound value of :cutoff: the date, or the UTC moment the local date starts."""
        return local_midnight_utc(cutoff) if self.anchor_kind == "timestamp" else cutoff


@dataclass(frozen=True)
class RuleSet:
    path: Path
    map_rules: Mapping[str, str]
    rules: tuple[RetentionRule, ...]

    def get(self, rule_id: str) -> RetentionRule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise RetentionRulesError(f"{self.path.name}: no rule {rule_id!r}")

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(rule.id for rule in self.rules)


def _settings_year_end() -> tuple[int, int]:
    return parse_year_end(get_settings().financial_year_end)


def _map_columns() -> dict[str, dict[str, str]]:
    """Per table of the personal-data map: column -> classification."""
    from tasks.personal_data import personal_data_map

    return {
        name: {column: str(classification) for column, classification in table.classifications.items()}
        for name, table in personal_data_map().items()
    }


def _map_retention_rules() -> dict[str, str | None]:
    from tasks.personal_data import personal_data_map

    return {name: table.retention_rule for name, table in personal_data_map().items()}


def _column_kind(table: str, column: str) -> AnchorKind | None:
    from tasks.schema import metadata

    sa_table = metadata.tables.get(table)
    if sa_table is None or column not in sa_table.c:
        return None
    column_type = sa_table.c[column].type
    if isinstance(column_type, DateTime):
        return "timestamp"
    if isinstance(column_type, Date):
        return "date"
    return None


def _query_texts(query: str) -> list[tuple[Path, str]]:
    paths = [SQL_DIR / f"{query}.sql", *sorted(SQL_DIR.glob(f"{query}.*.sql"))]
    return [(path, path.read_text(encoding="utf-8")) for path in paths if path.is_file()]


def _parse_rule(
    raw: Any,
    index: int,
    path: Path,
    map_rules: Mapping[str, str],
    columns: Mapping[str, Mapping[str, str]],
) -> RetentionRule:
    label = f"rules[{index}]"
    if not isinstance(raw, Mapping):
        raise RetentionRulesError(f"{path.name}: {label} is not a mapping")
    if isinstance(raw.get("id"), str):
        label = f"rule {raw['id']!r}"

    def fail(problem: str) -> RetentionRulesError:
        return RetentionRulesError(f"{path.name}: {label}: {problem}")

    unknown = sorted(set(raw) - _RULE_KEYS)
    if unknown:
        raise fail(f"unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_RULE_KEYS))}")
    for key in _REQUIRED_KEYS:
        if raw.get(key) in (None, "", []):
            raise fail(f"field {key!r} is missing")
    rule_id = str(raw["id"])
    if not _RULE_ID.match(rule_id):
        raise fail("field 'id' must be lowercase letters, digits and underscores")
    implements = str(raw["implements"])
    if implements not in map_rules:
        raise fail(f"implements {implements!r}, which is not one of mapRules ({', '.join(map_rules)})")
    table = str(raw["table"])
    if table not in columns:
        raise fail(f"table {table!r} is not in the personal-data map")

    anchor_spec = raw["anchor"]
    anchor_names = [anchor_spec] if isinstance(anchor_spec, str) else anchor_spec
    if not isinstance(anchor_names, list) or not all(isinstance(a, str) for a in anchor_names):
        raise fail("field 'anchor' must be a column name or a list of column names")
    anchors: list[AnchorColumn] = []
    kinds: set[AnchorKind] = set()
    for name in anchor_names:
        anchor_table, _, anchor_column = name.rpartition(".")
        anchor_table = anchor_table or table
        if anchor_table not in columns:
            raise fail(f"anchor {name!r}: table {anchor_table!r} is not in the personal-data map")
        if anchor_column not in columns[anchor_table]:
            raise fail(f"anchor {name!r}: column {anchor_column!r} is not in the map of {anchor_table!r}")
        kind = _column_kind(anchor_table, anchor_column)
        if kind is None:
            raise fail(f"anchor {name!r} is not a date or timestamp column")
        kinds.add(kind)
        anchors.append(AnchorColumn(anchor_table, anchor_column))
    if len(kinds) > 1:
        raise fail("anchor columns mix dates and timestamps")

    try:
        period = Period.parse(raw["period"])
    except ValueError as error:
        raise fail(str(error)) from None
    counts_from = str(raw.get("countsFrom") or "anchor")
    if counts_from not in COUNTS_FROM:
        raise fail(f"countsFrom {counts_from!r} is not one of {', '.join(COUNTS_FROM)}")
    action = str(raw["action"])
    if action not in ACTIONS:
        raise fail(f"action {action!r} is not one of {', '.join(ACTIONS)}")
    if action == "erase_subject" and table != "accounts":
        raise fail("action erase_subject applies to the accounts table (the subject's own row)")

    parameters = raw.get("parameters") or {}
    if not isinstance(parameters, Mapping) or not all(
        isinstance(value, str | int | float | bool) for value in parameters.values()
    ):
        raise fail("field 'parameters' must map names to plain values")
    query = str(raw["query"])
    if not _QUERY_NAME.match(query):
        raise fail(f"query {query!r} must be named retention__<what>")
    texts = _query_texts(query)
    if not texts:
        raise fail(f"query file sql/{query}.sql does not exist")
    for query_path, text in texts:
        code = "\n".join(line.split("--", 1)[0] for line in text.splitlines())
        binds = set(_BIND.findall(code))
        expected = {"cutoff", *parameters}
        if binds != expected:
            raise fail(
                f"sql/{query_path.name} binds {sorted(binds)}, the rule provides {sorted(expected)} "
                "(cutoff, and the rule's parameters)"
            )
        for anchor in anchors:
            if not re.search(rf"\b{re.escape(anchor.column)}\b", code):
                raise fail(f"anchor column {anchor.column!r} does not appear in sql/{query_path.name}")

    return RetentionRule(
        id=rule_id,
        implements=implements,
        policy=" ".join(str(raw["policy"]).split()),
        applies_to=" ".join(str(raw["appliesTo"]).split()),
        table=table,
        anchor=tuple(anchors),
        anchor_kind=kinds.pop(),
        period=period,
        counts_from=counts_from,
        action=action,
        query=query,
        parameters=dict(parameters),
    )


def load_rules(path: Path | None = None) -> RuleSet:
    """Read and validate the retention rules; any problem is a RetentionRulesError naming file and rule."""
    path = Path(path or get_settings().retention_rules_file)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise RetentionRulesError(f"{path}: cannot be read ({error.strerror})") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise RetentionRulesError(f"{path.name}{where}: not valid YAML") from None
    if not isinstance(document, Mapping):
        raise RetentionRulesError(f"{path.name}: expected a mapping with mapRules and rules")
    unknown = sorted(set(document) - {"mapRules", "rules"})
    if unknown:
        raise RetentionRulesError(f"{path.name}: unknown top-level field(s) {', '.join(unknown)}")
    raw_map_rules = document.get("mapRules")
    if not isinstance(raw_map_rules, Mapping) or not raw_map_rules:
        raise RetentionRulesError(f"{path.name}: mapRules is missing (the map's retentionRule ids)")
    map_rules: dict[str, str] = {}
    for name, body in raw_map_rules.items():
        if not isinstance(body, Mapping) or not body.get("policy"):
            raise RetentionRulesError(f"{path.name}: mapRules.{name}: field 'policy' is missing")
        map_rules[str(name)] = " ".join(str(body["policy"]).split())
    raw_rules = document.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise RetentionRulesError(f"{path.name}: rules is missing or empty")

    columns = _map_columns()
    rules = [_parse_rule(raw, index, path, map_rules, columns) for index, raw in enumerate(raw_rules)]
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            raise RetentionRulesError(f"{path.name}: rule {rule.id!r} is declared twice")
        seen.add(rule.id)
    for table, map_rule in _map_retention_rules().items():
        if map_rule is not None and map_rule not in map_rules:
            raise RetentionRulesError(
                f"{path.name}: the map of table {table!r} names retentionRule {map_rule!r}, "
                "which mapRules does not define"
            )
    return RuleSet(path=path, map_rules=map_rules, rules=tuple(rules))


def unswept_tables(rules: RuleSet) -> list[tuple[str, str]]:
    """Tables whose map names a retention rule that no rule of the file applies to (table, map rule)."""
    covered = {rule.table for rule in rules.rules}
    return sorted(
        (table, map_rule)
        for table, map_rule in _map_retention_rules().items()
        if map_rule is not None and table not in covered
    )


# ---------------------------------------------------------------------------------------- the queries


def _as_local_date(value: Any, kind: AnchorKind) -> date | None:
    """A query's anchor value as a local calendar date (SQLite hands back text for expressions)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return local_date(value) if kind == "timestamp" else value.date()
    if isinstance(value, date):
        return value
    text = str(value)
    if kind == "timestamp":
        return local_date(datetime.fromisoformat(text))
    return date.fromisoformat(text[:10])


def rule_statement(rule: RetentionRule, conn: Connection) -> Any:
    """The rule's query with its bound parameters typed like the anchor (the stored text on SQLite)."""
    cutoff_type = DateTime() if rule.anchor_kind == "timestamp" else Date()
    return sql(rule.query, conn).bindparams(bindparam("cutoff", type_=cutoff_type))


def due_rows(
    conn: Connection, rule: RetentionRule, cutoff: date, chunk_size: int | None = None
) -> Iterator[Sequence[Any]]:
    """The rule's due rows (row_id, account_id, anchor) in chunks, streamed from the database."""
    chunk_size = chunk_size or get_settings().chunk_size
    params = {"cutoff": rule.cutoff_param(cutoff), **rule.parameters}
    result = conn.execution_options(yield_per=chunk_size).execute(rule_statement(rule, conn), params)
    try:
        yield from result.partitions(chunk_size)
    finally:
        result.close()


def oldest_not_due(conn: Connection, rule: RetentionRule, cutoff: date) -> date | None:
    """The oldest anchor among the rule's rows not yet due: the oldest record the sweep leaves in time."""
    anchor_type = DateTime() if rule.anchor_kind == "timestamp" else Date()
    rows = (
        sql(rule.query, conn)
        .bindparams(bindparam("cutoff", type_=anchor_type))
        .columns(row_id=BigInteger(), account_id=BigInteger(), anchor=anchor_type)
        .subquery("rule_rows")
    )
    query = select(func.min(rows.c.anchor)).where(
        rows.c.anchor >= bindparam("not_due_from", type_=anchor_type)
    )
    params = {
        # every row of the rule, then only those at or after the real cutoff
        "cutoff": rule.cutoff_param(_FAR_FUTURE - timedelta(days=1)),
        "not_due_from": rule.cutoff_param(cutoff),
        **rule.parameters,
    }
    return _as_local_date(conn.execute(query, params).scalar(), rule.anchor_kind)


def today_for_retention() -> date:
    return today_local()

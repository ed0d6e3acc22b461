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
from typing import TYPE_CHECKING, Any, Literal

import yaml
from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import BigInteger, Connection, Date, DateTime, String, bindparam, func, select

from steward.errors import ConfigurationError
from steward.progress import ProgressCallback, no_progress
from steward.settings import get_settings
from tasks.calendar import add_months, local_date, local_midnight_utc, today_local
from tasks.db import SQL_DIR, sql, sqlite_page_cache

if TYPE_CHECKING:
    from tasks.plans import PlanCheck

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


def _without_comments(text: str) -> str:
    return "\n".join(line.split("--", 1)[0] for line in text.splitlines())


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
        # SQLAlchemy binds names in comments too, so the whole text counts
        binds = set(_BIND.findall(text))
        expected = {"cutoff", *parameters}
        if binds != expected:
            raise fail(
                f"sql/{query_path.name} binds {sorted(binds)}, the rule provides {sorted(expected)} "
                "(cutoff, and the rule's parameters)"
            )
        for anchor in anchors:
            if not re.search(rf"\b{re.escape(anchor.column)}\b", _without_comments(text)):
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
    # on the statement, not the connection: Connection.execution_options() would change it for good
    statement = rule_statement(rule, conn).execution_options(yield_per=chunk_size)
    result = conn.execute(statement, params)
    try:
        yield from result.partitions(chunk_size)
    finally:
        result.close()


def _rule_rows(rule: RetentionRule, conn: Connection) -> Any:
    """The rule's query as a subquery (row_id, account_id, anchor), to count or filter it further."""
    anchor_type = DateTime() if rule.anchor_kind == "timestamp" else Date()
    return (
        sql(rule.query, conn)
        .bindparams(bindparam("cutoff", type_=anchor_type))
        .columns(row_id=BigInteger(), account_id=BigInteger(), anchor=anchor_type)
        .subquery("rule_rows")
    )


def _items_of(plan_id: int, rule_id: str, status: str) -> Any:
    from tasks.schema import plan_items

    return select(plan_items.c.subject_row_id).where(
        plan_items.c.plan_id == plan_id, plan_items.c.rule == rule_id, plan_items.c.status == status
    )


def oldest_left(
    conn: Connection, rule: RetentionRule, cutoff: date, plan_id: int | None = None
) -> date | None:
    """The oldest record the rule leaves: the oldest not yet due, or one its plan deferred (held, blocked)."""
    rows = _rule_rows(rule, conn)
    anchor_type = rows.c.anchor.type
    left = rows.c.anchor >= bindparam("not_due_from", type_=anchor_type)
    if plan_id is not None:
        left = left | rows.c.row_id.in_(_items_of(plan_id, rule.id, "deferred"))
    params = {
        # the rule's query over every row (a cutoff no anchor reaches); the outer filter keeps the rest
        "cutoff": rule.cutoff_param(_FAR_FUTURE - timedelta(days=1)),
        "not_due_from": rule.cutoff_param(cutoff),
        **rule.parameters,
    }
    value = conn.execute(select(func.min(rows.c.anchor)).where(left), params).scalar()
    return _as_local_date(value, rule.anchor_kind)


# ------------------------------------------------------------------------------------------ planning

PLAN_KIND = "retention"
VERIFY_KIND = "retention_verify"


@dataclass(frozen=True)
class Sweep:
    """The rules and the day a sweep runs for, with each rule's cutoff."""

    rules: RuleSet
    today: date
    year_end: tuple[int, int]
    cutoffs: Mapping[str, date]

    @classmethod
    def for_today(cls, rules: RuleSet | None = None, today: date | None = None) -> Sweep:
        rules = rules or load_rules()
        today = today or today_local()
        year_end = _settings_year_end()
        cutoffs = {rule.id: rule.cutoff(today, year_end) for rule in rules.rules}
        return cls(rules=rules, today=today, year_end=year_end, cutoffs=cutoffs)

    def reason(self, rule: RetentionRule) -> str:
        cutoff = self.cutoffs[rule.id]
        return (
            f"retention rule {rule.id}: {rule.describe_period()} has passed (due before {cutoff.isoformat()})"
        )

    def summary(self) -> dict[str, Any]:
        return {
            "today": self.today.isoformat(),
            "rules_file": self.rules.path.name,
            "financial_year_end": f"{self.year_end[0]:02d}-{self.year_end[1]:02d}",
            "cutoffs": {rule_id: cutoff.isoformat() for rule_id, cutoff in self.cutoffs.items()},
            "periods": {rule.id: str(rule.period) for rule in self.rules.rules},
        }


def _insert_due_items(
    conn: Connection, plan_id: int, rule: RetentionRule, sweep: Sweep, skip_planned: bool
) -> int:
    """INSERT ... SELECT the rule's due rows into the plan as pending items; returns how many.

    Set-based, so a first sweep of millions of rows neither round-trips them through Python nor holds
    them in memory. `skip_planned`: leave out rows an earlier rule already planned with this action.
    """
    from sqlalchemy import insert

    from tasks.schema import plan_items

    rows = _rule_rows(rule, conn)
    constants: dict[str, Any] = {
        "plan_id": bindparam("p_plan_id", plan_id, type_=BigInteger()),
        "subject_table": bindparam("p_subject_table", rule.table, type_=String()),
        "action": bindparam("p_action", rule.action, type_=String()),
        "rule": bindparam("p_rule", rule.id, type_=String()),
        "reason": bindparam("p_reason", sweep.reason(rule), type_=String()),
        "status": bindparam("p_status", "pending", type_=String()),
    }
    columns = [
        "plan_id",
        "account_id",
        "subject_table",
        "subject_row_id",
        "action",
        "rule",
        "reason",
        "status",
    ]
    source = select(
        constants["plan_id"],
        rows.c.account_id,
        constants["subject_table"],
        rows.c.row_id,
        constants["action"],
        constants["rule"],
        constants["reason"],
        constants["status"],
    )
    if skip_planned:
        planned = select(plan_items.c.subject_row_id).where(
            plan_items.c.plan_id == plan_id,
            plan_items.c.subject_table == rule.table,
            plan_items.c.action == rule.action,
        )
        source = source.where(rows.c.row_id.not_in(planned))
    # In row order: the apply takes the items a window at a time in plan order, and a window of rows
    # close together touches each page of their table once, not pages all over it in every window.
    source = source.order_by(rows.c.row_id)
    # rowcount of an INSERT ... SELECT is -1 on psycopg unless asked for (SQLAlchemy 2.0)
    statement = insert(plan_items).from_select(columns, source).execution_options(preserve_rowcount=True)
    params = {"cutoff": rule.cutoff_param(sweep.cutoffs[rule.id]), **rule.parameters}
    return int(conn.execute(statement, params).rowcount or 0)


def _create_plan(
    conn: Connection, sweep: Sweep, kind: str, progress: ProgressCallback
) -> tuple[int, dict[str, int]]:
    from tasks.audit import write_audit
    from tasks.erasure import validate_item_targets
    from tasks.plans import create_plan

    validate_item_targets({(rule.table, rule.action) for rule in sweep.rules.rules})
    # The plan is created empty through the engine, then filled set-based (plan_items as agreed).
    plan_id = create_plan(conn, kind, [], summary={**sweep.summary(), "items": "added per rule, set-based"})
    counts: dict[str, int] = {}
    seen: set[tuple[str, str]] = set()
    with sqlite_page_cache(conn):  # millions of items inserted into an indexed table
        for rule in sweep.rules.rules:
            target = (rule.table, rule.action)
            counts[rule.id] = _insert_due_items(conn, plan_id, rule, sweep, skip_planned=target in seen)
            seen.add(target)
            progress(counts[rule.id])
    write_audit(conn, "retention_planned", plan_id=plan_id, detail={"kind": kind, "items_by_rule": counts})
    return plan_id, counts


def plan_retention(conn: Connection, sweep: Sweep, progress: ProgressCallback | None = None) -> int:
    """Write a retention plan (status draft) of every due row of every rule; returns its id.

    A row due under several rules with the same action is planned once, under the first rule of the
    file (an account due as never signed in and as inactive is recorded as never signed in). Writes
    the audit record `retention_planned` with the items per rule.
    """
    plan_id, _counts = _create_plan(conn, sweep, PLAN_KIND, progress or no_progress)
    return plan_id


def check_retention_plan(conn: Connection, plan_id: int, today: date | None = None) -> PlanCheck:
    """Check a retention plan: blocked items deferred (holds, bookings, open SARs), then the guard.

    The guard's share of accounts is the erasure engine's; its cap on rows is the retention setting
    `retention_guard_max_rows` (a monthly sweep routinely deletes more rows than an erasure run).
    """
    from tasks.plans import check_plan

    return check_plan(conn, plan_id, max_subjects=get_settings().retention_guard_max_rows, today=today)


# ----------------------------------------------------------------------------------- the dry run


@dataclass(frozen=True)
class RulePlanLine:
    """One rule's line in a plan's summary: counts and dates only."""

    rule: str
    implements: str
    table: str
    action: str
    period: str
    cutoff: date
    due: int
    held: int
    blocked: int
    to_apply: int
    done: int
    oldest_left: date | None

    def as_row(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "table": self.table,
            "action": self.action,
            "period": self.period,
            "due before": self.cutoff.isoformat(),
            "due": self.due,
            "held": self.held,
            "blocked": self.blocked,
            "to apply": self.to_apply,
            "done": self.done,
            "oldest left": self.oldest_left.isoformat() if self.oldest_left else "",
        }


@dataclass(frozen=True)
class RetentionPlanReport:
    plan_id: int
    status: str
    today: date
    lines: tuple[RulePlanLine, ...]
    guard_why: str | None = None

    @property
    def totals(self) -> dict[str, int]:
        keys = ("due", "held", "blocked", "to_apply", "done")
        return {key: sum(getattr(line, key) for line in self.lines) for key in keys}

    def to_markdown(self) -> str:
        from tasks.artifacts import markdown_table

        totals = self.totals
        head = (
            f"Retention plan {self.plan_id} for {self.today.isoformat()}: **{self.status}**. "
            f"{totals['due']:,} records due, {totals['held']:,} held, {totals['blocked']:,} blocked, "
            f"{totals['to_apply']:,} to apply, {totals['done']:,} done."
        )
        if self.status == "awaiting_approval":
            head += (
                f" The guard stopped it before anything was deleted ({self.guard_why}): review it with "
                f"`steward plans show {self.plan_id}` and release it with "
                f"`steward plans approve {self.plan_id} --by NAME`."
            )
        rows = [list(line.as_row().values()) for line in self.lines]
        headers = list(self.lines[0].as_row()) if self.lines else ["rule"]
        return head + "\n\n" + markdown_table(headers, rows)


def summarise_retention_plan(conn: Connection, plan_id: int, sweep: Sweep) -> RetentionPlanReport:
    """Per rule: due, held (legal hold), blocked (booking, open SAR, restriction), to apply, done, oldest
    record left."""
    from tasks.plans import REASON_HOLD, get_plan, plan_summary

    summary = plan_summary(conn, plan_id)
    counts: dict[str, dict[str, int]] = {rule.id: {} for rule in sweep.rules.rules}
    for row in summary["rows"]:
        bucket = counts.setdefault(row["rule"], {})
        if row["status"] == "deferred":
            key = "held" if row["deferred"] == REASON_HOLD else "blocked"
        else:
            key = {"pending": "to_apply", "done": "done"}.get(row["status"], row["status"])
        bucket[key] = bucket.get(key, 0) + int(row["items"])
    lines = []
    for rule in sweep.rules.rules:
        bucket = counts[rule.id]
        cutoff = sweep.cutoffs[rule.id]
        lines.append(
            RulePlanLine(
                rule=rule.id,
                implements=rule.implements,
                table=rule.table,
                action=rule.action,
                period=rule.describe_period(),
                cutoff=cutoff,
                due=sum(bucket.values()),
                held=bucket.get("held", 0),
                blocked=bucket.get("blocked", 0),
                to_apply=bucket.get("to_apply", 0),
                done=bucket.get("done", 0),
                oldest_left=oldest_left(conn, rule, cutoff, plan_id),
            )
        )
    check = summary.get("check") or {}
    plan = get_plan(conn, plan_id)
    return RetentionPlanReport(
        plan_id=plan_id,
        status=str(plan["status"]),
        today=sweep.today,
        lines=tuple(lines),
        guard_why=(check.get("guard") or {}).get("why"),
    )


# ------------------------------------------------------------------------------ the plan's contract

PLAN_CONTRACT = "retention_plan"
_PLAN_COLUMNS = (
    "plan_id",
    "account_id",
    "subject_table",
    "subject_row_id",
    "action",
    "rule",
    "status",
    "deferred_reason",
)


@dataclass(frozen=True)
class PlanContractResult:
    """The retention_plan contract over a whole plan, checked chunk by chunk (counts only)."""

    rows: int
    chunks: int
    markdown: str


def _typed_plan_frame(rows: Sequence[Any]) -> Any:
    """Plan items as a frame with the dtypes the contract checks (nullable integers, strings)."""
    import pandas as pd

    frame = pd.DataFrame(list(rows), columns=list(_PLAN_COLUMNS))
    for name in ("plan_id", "account_id", "subject_row_id"):
        frame[name] = frame[name].astype("Int64")
    for name in ("subject_table", "action", "rule", "status", "deferred_reason"):
        frame[name] = frame[name].astype("str")
    return frame


def validate_retention_plan(
    plan_id: int, engine: Any = None, chunk_rows: int = 100_000
) -> PlanContractResult:
    """Validate the checked plan against data_contracts/datasets/retention_plan.yaml.

    Raises ContractViolation (naming the contract, rule and failed row count) on a blocking failure, so
    nothing is applied from a plan that failed its contract. Chunked to keep memory flat on big plans;
    an empty plan is still checked for its shape.
    """
    from tasks.contracts import validate_frame
    from tasks.db import get_engine
    from tasks.schema import plan_items

    engine = engine or get_engine()
    statement = (
        select(*(plan_items.c[name] for name in _PLAN_COLUMNS))
        .where(plan_items.c.plan_id == plan_id)
        .order_by(plan_items.c.id)
    )
    rows = chunks = 0
    markdown = ""
    with engine.connect() as conn:
        result = conn.execute(statement.execution_options(yield_per=chunk_rows))
        for part in result.partitions(chunk_rows):
            report = validate_frame(PLAN_CONTRACT, _typed_plan_frame(part))
            rows += len(part)
            chunks += 1
            report.raise_for_blocking()
            if not markdown or report.warnings:
                markdown = report.to_markdown()
    if chunks == 0:
        report = validate_frame(PLAN_CONTRACT, _typed_plan_frame([]))
        report.raise_for_blocking()
        markdown = report.to_markdown()
    return PlanContractResult(rows=rows, chunks=max(chunks, 1), markdown=markdown)


# ------------------------------------------------------------------------------------------- verify


@dataclass(frozen=True)
class OverdueRecord:
    """A record past its limit that no hold or block protects: ids and dates only."""

    rule: str
    table: str
    row_id: int
    account_id: int | None
    anchor: date
    limit: date

    def days_overdue(self, today: date) -> int:
        return (today - self.limit).days


@dataclass(frozen=True)
class RuleCompliance:
    rule: str
    table: str
    period: str
    cutoff: date
    overdue: int
    held: int
    blocked: int
    oldest_overdue: date | None


@dataclass(frozen=True)
class VerifyReport:
    """Every record past its limit, per rule, and those a hold or block protects (counts and ids)."""

    today: date
    rules: tuple[RuleCompliance, ...]
    records: tuple[OverdueRecord, ...]

    @property
    def overdue(self) -> int:
        return sum(rule.overdue for rule in self.rules)

    @property
    def protected(self) -> int:
        return sum(rule.held + rule.blocked for rule in self.rules)

    @property
    def compliant(self) -> bool:
        return self.overdue == 0

    def summary(self) -> dict[str, Any]:
        return {
            "today": self.today.isoformat(),
            "compliant": self.compliant,
            "overdue": self.overdue,
            "held": sum(rule.held for rule in self.rules),
            "blocked": sum(rule.blocked for rule in self.rules),
            "overdue_by_rule": {rule.rule: rule.overdue for rule in self.rules if rule.overdue},
        }

    def to_markdown(self) -> str:
        """The summary for the keyed artifact: counts and dates per rule, no record ids."""
        from tasks.artifacts import markdown_table

        verdict = (
            "**compliant**: no record is past its limit except those a hold or block protects"
            if self.compliant
            else f"**{self.overdue:,} records past their limit** with no hold or block"
        )
        head = (
            f"Retention check for {self.today.isoformat()}: {verdict}. "
            f"Held by a legal hold: {sum(r.held for r in self.rules):,}; blocked (an active CPD booking, an "
            f"open subject access request, a restriction of processing): {sum(r.blocked for r in self.rules):,}."
        )
        table = markdown_table(
            ["rule", "table", "period", "due before", "overdue", "held", "blocked", "oldest overdue"],
            [
                [
                    r.rule,
                    r.table,
                    r.period,
                    r.cutoff.isoformat(),
                    f"{r.overdue:,}",
                    f"{r.held:,}",
                    f"{r.blocked:,}",
                    r.oldest_overdue.isoformat() if r.oldest_overdue else "",
                ]
                for r in self.rules
            ],
        )
        return head + "\n\n" + table


def verify_retention(
    sweep: Sweep, engine: Any = None, list_limit: int = 1000, progress: ProgressCallback | None = None
) -> VerifyReport:
    """Every record past its limit that is not under a hold or block, with its rule.

    The rules are planned and checked exactly as a sweep would, inside a transaction that is rolled back
    (so verify sees the same holds and blocks as the sweep, and leaves nothing behind). After a sweep it
    finds nothing; before one it finds what the sweep would do. `list_limit` caps the records listed
    per rule (the counts are always complete).
    """
    from tasks.db import get_engine
    from tasks.plans import REASON_HOLD, plan_summary

    engine = engine or get_engine()
    with engine.connect() as conn:
        transaction = conn.begin()
        try:
            plan_id, _counts = _create_plan(conn, sweep, VERIFY_KIND, progress or no_progress)
            check_retention_plan(conn, plan_id, today=sweep.today)
            counts: dict[str, dict[str, int]] = {rule.id: {} for rule in sweep.rules.rules}
            for row in plan_summary(conn, plan_id)["rows"]:
                bucket = counts.setdefault(row["rule"], {})
                if row["status"] == "deferred":
                    key = "held" if row["deferred"] == REASON_HOLD else "blocked"
                else:
                    key = "overdue"
                bucket[key] = bucket.get(key, 0) + int(row["items"])
            rules: list[RuleCompliance] = []
            records: list[OverdueRecord] = []
            for rule in sweep.rules.rules:
                bucket = counts[rule.id]
                overdue = (
                    _overdue_records(conn, rule, sweep, plan_id, list_limit) if bucket.get("overdue") else []
                )
                records += overdue
                rules.append(
                    RuleCompliance(
                        rule=rule.id,
                        table=rule.table,
                        period=rule.describe_period(),
                        cutoff=sweep.cutoffs[rule.id],
                        overdue=bucket.get("overdue", 0),
                        held=bucket.get("held", 0),
                        blocked=bucket.get("blocked", 0),
                        oldest_overdue=overdue[0].anchor if overdue else None,
                    )
                )
        finally:
            transaction.rollback()
    return VerifyReport(today=sweep.today, rules=tuple(rules), records=tuple(records))


def _overdue_records(
    conn: Connection, rule: RetentionRule, sweep: Sweep, plan_id: int, limit: int
) -> list[OverdueRecord]:
    rows = _rule_rows(rule, conn)
    statement = (
        select(rows.c.row_id, rows.c.account_id, rows.c.anchor)
        .where(rows.c.row_id.in_(_items_of(plan_id, rule.id, "pending")))
        .order_by(rows.c.anchor, rows.c.row_id)
        .limit(limit)
    )
    params = {"cutoff": rule.cutoff_param(sweep.cutoffs[rule.id]), **rule.parameters}
    records = []
    for row_id, account_id, anchor in conn.execute(statement, params):
        anchor_date = _as_local_date(anchor, rule.anchor_kind)
        assert anchor_date is not None
        records.append(
            OverdueRecord(
                rule=rule.id,
                table=rule.table,
                row_id=int(row_id),
                account_id=int(account_id) if account_id is not None else None,
                anchor=anchor_date,
                limit=rule.limit_date(anchor_date, sweep.year_end),
            )
        )
    return records


# -------------------------------------------------------------------------------------- the sweep


@dataclass
class SweepOutcome:
    """What one sweep did: plans finished, the new plan (or those waiting), what was applied, the verdict."""

    today: date
    plan_id: int | None = None
    plan_status: str | None = None
    report: RetentionPlanReport | None = None
    resumed: list[int] = field(default_factory=list)
    waiting: list[int] = field(default_factory=list)
    superseded: list[int] = field(default_factory=list)
    items_done: int = 0
    items_deferred: int = 0
    verify: VerifyReport | None = None

    @property
    def needs_approval(self) -> bool:
        return bool(self.waiting) or self.plan_status == "awaiting_approval"

    def as_dict(self) -> dict[str, Any]:
        """Counts, ids and dates only (what a flow returns and `steward run` prints)."""
        result: dict[str, Any] = {
            "today": self.today.isoformat(),
            "plan_id": self.plan_id,
            "plan_status": self.plan_status,
            "resumed_plans": self.resumed,
            "waiting_plans": self.waiting,
            "superseded_plans": self.superseded,
            "items_done": self.items_done,
            "items_deferred": self.items_deferred,
        }
        if self.report is not None:
            result["planned"] = self.report.totals
        if self.verify is not None:
            result["verify"] = self.verify.summary()
        return result


def resume_retention_plans(
    engine: Any, today: date | None = None, progress: ProgressCallback | None = None
) -> list[Any]:
    """Finish the retention plans an earlier run left: approved by the DPO, checked, or cut short.

    Each is re-checked (a hold placed since defers its items; a plan cut short mid-apply is re-checked
    batch by batch as it is applied) and validated against its contract before it is applied; applying
    only touches pending items, so nothing is done twice. Plans awaiting approval are left for the DPO;
    a plan never checked (a run killed right after planning) is rejected: this run plans afresh.
    """
    from tasks.plans import apply_plan, open_plans, reject_plan

    results = []
    with engine.begin() as conn:
        plans = open_plans(conn, PLAN_KIND)
    for plan in plans:
        plan_id = int(plan["id"])
        if plan["status"] == "draft":
            with engine.begin() as conn:
                reject_plan(conn, plan_id)
            continue
        if plan["status"] not in ("ready", "approved", "applying"):
            continue
        if plan["status"] != "applying":
            with engine.begin() as conn:
                check_retention_plan(conn, plan_id, today=today)
        validate_retention_plan(plan_id, engine)
        results.append(apply_plan(plan_id, engine=engine, progress=progress, today=today))
    return results


def waiting_plans(conn: Connection) -> list[int]:
    """Retention plans the guard stopped, waiting for the DPO: no new plan is made while one waits."""
    from tasks.plans import open_plans

    return [int(plan["id"]) for plan in open_plans(conn, PLAN_KIND) if plan["status"] == "awaiting_approval"]


def supersede_unapplied_plans(conn: Connection, newest_plan_id: int) -> list[int]:
    """After a dry run: reject the older retention plans nothing was applied from (draft, ready, awaiting
    approval), so the newest dry run is the one to review and apply."""
    from tasks.plans import open_plans, reject_plan

    superseded = []
    for plan in open_plans(conn, PLAN_KIND):
        plan_id = int(plan["id"])
        if plan_id != newest_plan_id and plan["status"] in ("draft", "ready", "awaiting_approval"):
            reject_plan(conn, plan_id)
            superseded.append(plan_id)
    return superseded


def run_sweep(
    sweep: Sweep,
    *,
    engine: Any = None,
    apply: bool = True,
    verify_limit: int = 1000,
    plan_progress: ProgressCallback | None = None,
    apply_progress: ProgressCallback | None = None,
) -> SweepOutcome:
    """A whole sweep outside Prefect (the CLI): finish earlier plans, plan, check, contract, apply, verify.

    The `retention` flow runs the same steps as Prefect tasks. While a plan waits for the DPO's approval
    no new plan is made (the waiting one is summarised instead). With `apply=False` it is the dry run:
    the plan is written and checked (to be inspected, and applied by the next sweep), older unapplied
    plans are superseded, nothing is deleted and nothing is verified.
    """
    from tasks.db import get_engine
    from tasks.plans import apply_plan

    engine = engine or get_engine()
    outcome = SweepOutcome(today=sweep.today)
    if apply:
        for result in resume_retention_plans(engine, sweep.today, apply_progress):
            outcome.resumed.append(result.plan_id)
            outcome.items_done += result.items_done
            outcome.items_deferred += result.items_deferred
        with engine.connect() as conn:
            outcome.waiting = waiting_plans(conn)
    if outcome.waiting:
        summarised = outcome.waiting[-1]
    else:
        with engine.begin() as conn:
            plan_id = plan_retention(conn, sweep, plan_progress)
        with engine.begin() as conn:
            check = check_retention_plan(conn, plan_id, today=sweep.today)
            if not apply:
                outcome.superseded = supersede_unapplied_plans(conn, plan_id)
        validate_retention_plan(plan_id, engine)
        outcome.plan_id = summarised = plan_id
        outcome.plan_status = check.status
        if apply and not check.needs_approval:
            result = apply_plan(plan_id, engine=engine, progress=apply_progress, today=sweep.today)
            outcome.items_done += result.items_done
            outcome.items_deferred += result.items_deferred
            outcome.plan_status = result.status
    with engine.connect() as conn:
        outcome.report = summarise_retention_plan(conn, summarised, sweep)
    if apply:
        outcome.verify = verify_retention(sweep, engine, verify_limit)
    return outcome


# ------------------------------------------------------------------------------- reports and audit

PLAN_ARTIFACT = "retention-plan"
VERIFY_ARTIFACT = "retention-verify"


def publish_plan_report(report: RetentionPlanReport) -> Path:
    """The plan's per-rule summary as the keyed artifact `retention-plan` (and its file)."""
    from tasks.artifacts import publish_markdown

    return publish_markdown(PLAN_ARTIFACT, report.to_markdown(), "Retention sweep: the plan per rule")


def publish_verify_report(report: VerifyReport) -> Path:
    """The compliance summary as the keyed artifact `retention-verify`: its history shows compliance
    over time. Counts and dates per rule only, never a record id."""
    from tasks.artifacts import publish_markdown

    return publish_markdown(
        VERIFY_ARTIFACT, report.to_markdown(), "Retention compliance: records past their limit"
    )


def record_verification(conn: Connection, report: VerifyReport) -> None:
    """One audit record of the check's verdict (counts per rule), so compliance is in the audit trail."""
    from tasks.audit import write_audit

    write_audit(conn, "retention_verified", detail=report.summary())


# ------------------------------------------------------------------------------ Prefect task wrappers
# Thin wrappers for flows/retention.py. Results are not persisted: they name rows of personal tables.


@task(name="retention-load-rules", persist_result=False, cache_policy=NO_CACHE)
def load_sweep_task(today: date | None = None) -> Sweep:
    return Sweep.for_today(today=today)


@task(name="retention-resume-plans", persist_result=False, cache_policy=NO_CACHE)
def resume_plans_task(sweep: Sweep) -> dict[str, Any]:
    from tasks.db import get_engine

    results = resume_retention_plans(get_engine(), sweep.today)
    return {
        "plans": [result.plan_id for result in results],
        "items_done": sum(result.items_done for result in results),
        "items_deferred": sum(result.items_deferred for result in results),
    }


@task(name="retention-plan", persist_result=False, cache_policy=NO_CACHE)
def plan_task(sweep: Sweep) -> int:
    from tasks.db import begin

    with begin() as conn:
        return plan_retention(conn, sweep)


@task(name="retention-waiting-plans", persist_result=False, cache_policy=NO_CACHE)
def waiting_plans_task() -> list[int]:
    from tasks.db import get_engine

    with get_engine().connect() as conn:
        return waiting_plans(conn)


@task(name="retention-check-plan", persist_result=False, cache_policy=NO_CACHE)
def check_plan_task(plan_id: int, sweep: Sweep, dry_run: bool = False) -> PlanCheck:
    from tasks.db import begin

    with begin() as conn:
        check = check_retention_plan(conn, plan_id, today=sweep.today)
        if dry_run:
            supersede_unapplied_plans(conn, plan_id)
    return check


@task(name="retention-plan-contract", persist_result=False, cache_policy=NO_CACHE)
def validate_plan_task(plan_id: int) -> dict[str, Any]:
    result = validate_retention_plan(plan_id)
    return {"rows": result.rows, "chunks": result.chunks}


@task(name="retention-apply-plan", persist_result=False, cache_policy=NO_CACHE)
def apply_plan_task(plan_id: int, sweep: Sweep) -> dict[str, Any]:
    from tasks.plans import apply_plan

    return apply_plan(plan_id, today=sweep.today).as_dict()


@task(name="retention-plan-report", persist_result=False, cache_policy=NO_CACHE)
def plan_report_task(plan_id: int, sweep: Sweep) -> dict[str, Any]:
    from tasks.db import get_engine

    with get_engine().connect() as conn:
        report = summarise_retention_plan(conn, plan_id, sweep)
    publish_plan_report(report)
    return {"status": report.status, **report.totals}


@task(name="retention-verify", persist_result=False, cache_policy=NO_CACHE)
def verify_task(sweep: Sweep, list_limit: int = 100) -> dict[str, Any]:
    from tasks.db import begin

    report = verify_retention(sweep, list_limit=list_limit)
    with begin() as conn:
        record_verification(conn, report)
    publish_verify_report(report)
    return report.summary()

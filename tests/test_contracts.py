"""Contracts: each fact of the schema is said once (the contracts agree with tasks/schema.py), the loader
refuses what it does not understand, validation finds each kind of bad data under the right rule id,
and no value from the data ever reaches a report, a message or a GX result."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import sqlalchemy as sa
import yaml

from tasks.contracts import (
    CLASSIFICATIONS,
    TABLES_DIR,
    Contract,
    ContractError,
    ContractViolation,
    load_contract,
    parse_contract_file,
    run_suite_on_frame,
    table_contracts,
    validate_frame,
)
from tasks.schema import metadata

SENTINEL = "leak-sentinel-7731@example.org"
HEX64 = r"^[0-9a-f]{64}$"
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


def _logical_type(column: sa.Column) -> str:
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return "boolean"
    if isinstance(kind, sa.Integer):
        return "integer"
    if isinstance(kind, sa.Float):
        return "number"
    if isinstance(kind, sa.DateTime):
        return "timestamp"
    if isinstance(kind, sa.Date):
        return "date"
    if isinstance(kind, sa.String):
        return "string"
    raise AssertionError(f"{column}: no logical type for {kind!r}")


def _single_column_unique(table: sa.Table) -> set[str]:
    names = {c.name for c in table.columns if c.unique}
    for constraint in table.constraints:
        if (
            isinstance(constraint, sa.UniqueConstraint | sa.PrimaryKeyConstraint)
            and len(constraint.columns) == 1
        ):
            names |= {c.name for c in constraint.columns}
    return names


# ------------------------------------------------------------------------- the schema, said once


def test_every_table_has_a_contract_and_every_contract_a_table() -> None:
    assert set(table_contracts()) == set(metadata.tables)


@pytest.mark.parametrize("table_name", sorted(metadata.tables))
def test_contract_agrees_with_the_schema(table_name: str) -> None:
    table = metadata.tables[table_name]
    contract = load_contract(table_name)
    assert contract.kind == "table"
    assert contract.physical_name == table_name
    assert contract.column_names == tuple(c.name for c in table.columns), "columns, in table order"
    unique = _single_column_unique(table)
    for column in table.columns:
        prop = contract.column(column.name)
        where = f"{table_name}.{column.name}"
        assert prop.logical_type == _logical_type(column), where
        assert prop.required == (not column.nullable), f"{where}: required"
        assert prop.primary_key == column.primary_key, f"{where}: primaryKey"
        assert prop.unique == (column.name in unique), f"{where}: unique"
        if isinstance(column.type, sa.String) and not isinstance(column.type, sa.Text):
            assert prop.max_length == column.type.length, f"{where}: maxLength"
        else:
            assert prop.max_length is None, f"{where}: maxLength on a column without a length"
    composite = {
        tuple(c.name for c in constraint.columns)
        for constraint in table.constraints
        if isinstance(constraint, sa.UniqueConstraint) and len(constraint.columns) > 1
    }
    declared = {rule.properties for rule in contract.quality if rule.metric == "duplicateValues"}
    assert declared == composite, "composite unique constraints are schema-level duplicateValues rules"


def test_every_column_is_classified() -> None:
    for name, contract in table_contracts().items():
        for prop in contract.properties:
            assert prop.classification in CLASSIFICATIONS, f"{name}.{prop.name}"


def test_rule_ids_are_unique_and_stable() -> None:
    accounts = load_contract("accounts")
    ids = accounts.rule_ids()
    assert len(ids) == len(set(ids))
    for rule_id in (
        "accounts.email.pattern",
        "accounts.email.required",
        "accounts.rowCount",
        "accounts.columns",
    ):
        assert rule_id in ids
    assert {c.severity for c in accounts.checks if c.rule_id == "accounts.rowCount"} == {"warning"}


def test_request_register_values_agree_with_the_request_module() -> None:
    from tasks import requests

    contract = load_contract("request_register")
    kinds = contract.column("kind").quality[0].valid_values
    statuses = contract.column("status").quality[0].valid_values
    assert set(kinds or ()) == set(requests.KINDS)
    assert set(statuses or ()) == set(requests.OPEN_STATUSES) | set(requests.CLOSED_STATUSES)


# ------------------------------------------------------------------------------- good frames pass

_PATTERN_SAMPLES = {EMAIL: "person{i}@example.org", HEX64: "{i:064x}"}


def good_frame(contract: Contract, n: int = 3) -> pd.DataFrame:
    """Rows that satisfy every rule of `contract`, typed as validate_frame expects."""
    columns: dict[str, Any] = {}
    for prop in contract.properties:
        valid = next((r.valid_values for r in prop.quality if r.valid_values), None)
        pattern = prop.pattern or next((r.pattern for r in prop.quality if r.pattern), None)
        if prop.logical_type == "integer":
            start = int(prop.minimum or 1)
            values: Any = pd.array([start + i for i in range(n)], dtype="int64")
        elif prop.logical_type == "number":
            values = [float(prop.minimum or 0) + 1.5 + i for i in range(n)]
        elif prop.logical_type == "boolean":
            values = [False] * n
        elif prop.logical_type == "date":
            values = [dt.date(2024, 1, 1 + i) for i in range(n)]
        elif prop.logical_type == "timestamp":
            values = pd.Series([dt.datetime(2024, 1, 1, 12, 0, i) for i in range(n)], dtype="datetime64[us]")
        elif valid:
            values = [valid[0]] * n
        elif pattern:
            assert pattern in _PATTERN_SAMPLES, f"add a sample for pattern {pattern!r}"
            values = [_PATTERN_SAMPLES[pattern].format(i=i) for i in range(n)]
        else:
            values = [f"{prop.name[:3]}{i}"[: prop.max_length or None] for i in range(n)]
        columns[prop.name] = values
    return pd.DataFrame(columns)


@pytest.mark.parametrize("table_name", sorted(metadata.tables))
def test_a_good_frame_passes_every_rule(table_name: str) -> None:
    report = validate_frame(table_name, good_frame(load_contract(table_name)))
    not_passed = [r.describe() for r in report.results if r.status != "passed"]
    assert not_passed == []
    assert report.passed
    assert report.row_count == 3


# -------------------------------------------------------------------------- each kind of bad data


def _failed(report: Any) -> dict[str, Any]:
    return {r.rule_id: r for r in report.results if r.status == "failed"}


def test_null_in_a_required_column() -> None:
    df = good_frame(load_contract("accounts"))
    df.loc[1, "first_name"] = None
    report = validate_frame("accounts", df)
    assert set(_failed(report)) == {"accounts.first_name.required"}
    failure = _failed(report)["accounts.first_name.required"]
    assert (failure.unexpected_count, failure.severity, failure.blocking) == (1, "error", True)
    assert not report.passed


def test_duplicate_in_a_unique_column() -> None:
    df = good_frame(load_contract("accounts"))
    df.loc[2, "email"] = df.loc[0, "email"]
    report = validate_frame("accounts", df)
    assert set(_failed(report)) == {"accounts.email.unique"}
    assert _failed(report)["accounts.email.unique"].unexpected_count == 2


def test_duplicate_composite_key() -> None:
    df = good_frame(load_contract("email_events"))
    df.loc[1, ["source_file", "source_line"]] = df.loc[0, ["source_file", "source_line"]].to_list()
    report = validate_frame("email_events", df)
    assert set(_failed(report)) == {"email_events.duplicateValues"}


def test_invalid_value() -> None:
    df = good_frame(load_contract("cpd_bookings"))
    df.loc[0, "status"] = "maybe"
    report = validate_frame("cpd_bookings", df)
    assert set(_failed(report)) == {"cpd_bookings.status.invalidValues"}
    assert _failed(report)["cpd_bookings.status.invalidValues"].unexpected_percent == pytest.approx(
        100 / 3, 0.01
    )


def test_pattern_miss_blocking_and_warning() -> None:
    df = good_frame(load_contract("audit_log"))
    df.loc[0, "subject_hash"] = "not-a-hash"
    report = validate_frame("audit_log", df)
    assert set(_failed(report)) == {"audit_log.subject_hash.pattern"}
    assert not report.passed

    df = good_frame(load_contract("accounts"))
    df.loc[0, "email"] = "no-at-sign"
    report = validate_frame("accounts", df)
    assert set(_failed(report)) == {"accounts.email.pattern"}
    assert report.passed, "a malformed address is a warning"
    assert [w.rule_id for w in report.warnings] == ["accounts.email.pattern"]


def test_out_of_range_number_and_too_long_string() -> None:
    df = good_frame(load_contract("ambassador_activities"))
    df.loc[1, "hours"] = -2.0
    df.loc[2, "region"] = "x" * 41
    report = validate_frame("ambassador_activities", df)
    assert set(_failed(report)) == {
        "ambassador_activities.hours.minimum",
        "ambassador_activities.region.maxLength",
    }


def test_wrong_type() -> None:
    df = good_frame(load_contract("ambassador_activities"))
    df["hours"] = ["1", "2", "3"]
    report = validate_frame("ambassador_activities", df)
    assert "ambassador_activities.hours.type" in _failed(report)


def test_missing_column_and_unexpected_column() -> None:
    df = good_frame(load_contract("accounts")).drop(columns=["phone"])
    df["shoe_size"] = 42
    report = validate_frame("accounts", df)
    assert set(_failed(report)) == {"accounts.phone.exists", "accounts.columns"}
    assert {r.rule_id for r in report.skipped} == {"accounts.phone.type", "accounts.phone.maxLength"}
    assert not report.passed


def test_empty_table_passes_with_a_warning() -> None:
    df = good_frame(load_contract("accounts")).iloc[0:0]
    report = validate_frame("accounts", df)
    assert report.passed
    assert report.row_count == 0
    assert [w.rule_id for w in report.warnings] == ["accounts.rowCount"]
    assert report.result("accounts.rowCount").observed == 0


def test_percent_thresholds_and_operators(tmp_path: Path) -> None:
    document = _accounts_document()
    props = document["schema"][0]["properties"]
    phone = next(p for p in props if p["name"] == "phone")
    phone["quality"] = [{"metric": "nullValues", "mustBeLessThan": 50, "unit": "percent"}]
    document["schema"][0]["quality"] = [{"metric": "rowCount", "mustBeBetween": [2, 4]}]
    contract = parse_contract_file(_write(tmp_path, document))
    df = good_frame(contract, n=4)
    df["phone"] = [None, "1", "2", "3"]
    report = validate_frame(contract, df)
    assert report.passed, [r.describe() for r in report.blocking_failures]
    assert report.result("accounts.phone.nullValues").unexpected_count == 1
    df["phone"] = [None, None, "2", "3"]
    assert "accounts.phone.nullValues" in _failed(validate_frame(contract, df))
    assert "accounts.rowCount" in _failed(validate_frame(contract, good_frame(contract, n=5)))


# ------------------------------------------------------------------- the loader refuses, by name


def _accounts_document() -> dict[str, Any]:
    return yaml.safe_load((TABLES_DIR / "accounts.yaml").read_text())


def _write(tmp_path: Path, document: Any, text: str | None = None) -> Path:
    folder = tmp_path / "tables"
    folder.mkdir(exist_ok=True)
    path = folder / "accounts.yaml"
    path.write_text(text if text is not None else yaml.safe_dump(document, sort_keys=False))
    return path


def _refused(tmp_path: Path, document: Any = None, text: str | None = None) -> str:
    path = _write(tmp_path, document, text)
    with pytest.raises(ContractError) as caught:
        parse_contract_file(path)
    message = str(caught.value)
    assert str(path) in message, "the message names the file"
    return message


def test_unknown_metric_names_file_and_rule(tmp_path: Path) -> None:
    document = _accounts_document()
    document["schema"][0]["properties"][1]["quality"][0]["metric"] = "foo"
    message = _refused(tmp_path, document)
    assert "schema[0].properties[1].quality[0]: unknown metric 'foo'" in message


def test_unknown_logical_type_classification_operator_and_key(tmp_path: Path) -> None:
    document = _accounts_document()
    document["schema"][0]["properties"][2]["logicalType"] = "uuid"
    assert "schema[0].properties[2].logicalType: unknown logicalType 'uuid'" in _refused(tmp_path, document)

    document = _accounts_document()
    document["schema"][0]["properties"][3]["classification"] = "secret"
    assert "schema[0].properties[3].classification: unknown classification 'secret'" in _refused(
        tmp_path, document
    )

    document = _accounts_document()
    rule = document["schema"][0]["quality"][0]
    del rule["mustBeGreaterThan"]
    rule["mustBeAbout"] = 10
    assert "schema[0].quality[0]: unknown key 'mustBeAbout'" in _refused(tmp_path, document)

    document = _accounts_document()
    document["schema"][0]["properties"][0]["nullable"] = False
    assert "schema[0].properties[0]: unknown key 'nullable'" in _refused(tmp_path, document)

    document = _accounts_document()
    document["schema"][0]["properties"][1]["logicalTypeOptions"]["format"] = "email"
    assert "unknown option 'format'" in _refused(tmp_path, document)

    document = _accounts_document()
    document["schema"][0]["customProperties"].append({"property": "owner", "value": "dpo"})
    assert "unknown custom property 'owner'" in _refused(tmp_path, document)


def test_rules_that_cannot_run_are_refused(tmp_path: Path) -> None:
    document = _accounts_document()
    document["schema"][0]["properties"][1]["quality"][0]["arguments"] = {
        "validValues": ["a"],
        "pattern": "^a$",
    }
    assert "exactly one of validValues or pattern" in _refused(tmp_path, document)

    document = _accounts_document()
    document["schema"][0]["properties"][2]["quality"][0]["arguments"]["pattern"] = "(["
    assert "invalid regular expression" in _refused(tmp_path, document)

    document = _accounts_document()
    document["schema"][0]["quality"][0]["unit"] = "percent"
    assert "schema[0].quality[0].unit" in _refused(tmp_path, document)

    document = _accounts_document()
    document["schema"][0]["quality"].append({"metric": "rowCount", "mustBeGreaterThan": 1})
    assert "give this rule an `id`" in _refused(tmp_path, document)


def test_malformed_files_are_refused(tmp_path: Path) -> None:
    text = (TABLES_DIR / "accounts.yaml").read_text()
    assert "duplicate key 'name'" in _refused(
        tmp_path, text=text.replace("name: accounts\n", "name: accounts\nname: x\n", 1)
    )
    assert "malformed YAML" in _refused(tmp_path, text=text + "\n  - [unclosed\n")
    assert "expected 'v3.1.0'" in _refused(tmp_path, text=text.replace("v3.1.0", "v2.2.0"))


# ----------------------------------------------------------------------------- no values leak


def test_no_values_leak_from_a_frame() -> None:
    contract = load_contract("accounts")
    df = good_frame(contract, n=4)
    df.loc[0, "email"] = SENTINEL
    df.loc[1, "email"] = SENTINEL  # duplicate
    df.loc[2, "email"] = "leak-sentinel-7731"  # pattern miss
    df.loc[3, "account_type"] = SENTINEL  # invalid value
    df.loc[0, "last_name"] = SENTINEL * 5  # too long
    df.loc[1, "first_name"] = None
    report = validate_frame("accounts", df)
    assert not report.passed
    with pytest.raises(ContractViolation) as caught:
        report.raise_for_blocking()
    gx_results = json.dumps(run_suite_on_frame(contract, df).to_json_dict(), default=str)
    for text in (repr(report), report.to_markdown(), str(caught.value), repr(report.summary()), gx_results):
        assert "leak-sentinel" not in text
    # and the message still says what failed, and how many rows
    assert "accounts.email.unique (2 row(s) failed" in str(caught.value)
    assert "accounts.account_type.invalidValues (1 row(s) failed" in str(caught.value)

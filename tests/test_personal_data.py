"""The personal-data map covers every column of the schema, its links and erasure columns exist and
make sense against the schema, and a map entry that cannot work is refused when the map is loaded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tasks.contracts import TABLES_DIR, ContractError, parse_contract_file
from tasks.personal_data import (
    LEGAL_BASES,
    map_entry,
    personal_data_map,
    table_map,
)
from tasks.schema import metadata


def test_the_map_covers_every_column_of_the_schema() -> None:
    entries = personal_data_map()
    assert set(entries) == set(metadata.tables)
    for name, table in metadata.tables.items():
        assert list(entries[name].classifications) == [c.name for c in table.columns], name
        assert entries[name].key == tuple(c.name for c in table.primary_key.columns), name


def test_links_and_erasure_columns_exist_and_fit_the_schema() -> None:
    for name, entry in personal_data_map().items():
        table = metadata.tables[name]
        for link in entry.links:
            column = table.c[link.column]
            assert entry.classifications[link.column] != "not_personal", f"{name}.{link.column}"
            if link.kind == "account":
                assert all(fk.column.table.name == "accounts" for fk in column.foreign_keys), (
                    f"{name}.{link.column}"
                )
            if link.kind == "parent":
                targets = {fk.column.table.name for fk in column.foreign_keys}
                assert targets == {link.parent}, f"{name}.{link.column} is a foreign key to {link.parent}"
        for column_name, action in entry.erasure.columns.items():
            column = table.c[column_name]
            assert action == "pseudonymise" or column.nullable, f"{name}.{column_name}"


def test_every_table_about_people_says_why_on_which_basis_and_for_how_long() -> None:
    for name, entry in personal_data_map().items():
        if entry.personal_columns:
            assert entry.legal_basis in LEGAL_BASES, name
            assert entry.purpose.strip(), name
        if entry.about_people:
            assert entry.erasure.strategy != "none", name
        else:
            assert entry.erasure.strategy == "none", name


def test_what_the_policies_say_is_in_the_map() -> None:
    special = {
        (name, column)
        for name, entry in personal_data_map().items()
        for column in entry.columns_of("special_category")
    }
    assert special == {
        ("ambassador_profiles", "ethnicity"),
        ("cpd_bookings", "dietary_requirements"),
        ("cpd_bookings", "accessibility_needs"),
    }
    holding_dob_or_gender = {
        name for name, table in metadata.tables.items() if {"date_of_birth", "gender"} & set(table.c.keys())
    }
    assert holding_dob_or_gender == {"ambassador_profiles"}

    moderation = table_map("moderation_cases")
    decided_by = next(link for link in moderation.links if link.column == "decided_by")
    assert decided_by.third_party and not decided_by.resolvable
    assert moderation.third_party_erasure(decided_by) == "nullify"

    reports = table_map("content_reports")
    reporter = next(link for link in reports.links if link.column == "reporter_account_id")
    assert (reporter.kind, reporter.role, reporter.third_party) == ("account", "reporter", True)
    assert [link.parent for link in reports.subject_links] == ["posts"]

    invoices = table_map("invoices")
    assert invoices.retention_rule == "finance_regulatory"
    assert invoices.erasure.strategy == "retain" and invoices.erasure.rule == "finance_regulatory"
    assert set(invoices.erasure.columns) == {"account_id", "booking_id", "billing_email"}

    assert table_map("accounts").links[0].kind == "self"
    assert table_map("job_applications").retention_rule == "short_term_6m"
    assert table_map("cpd_courses").about_people is False


# ------------------------------------------------------------------------- refused when loaded


def _accounts_with(tmp_path: Path, property_name: str, value: Any) -> Path:
    document = yaml.safe_load((TABLES_DIR / "accounts.yaml").read_text())
    for entry in document["schema"][0]["customProperties"]:
        if entry["property"] == property_name:
            entry["value"] = value
    folder = tmp_path / "tables"
    folder.mkdir(exist_ok=True)
    path = folder / "accounts.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


@pytest.mark.parametrize(
    ("property_name", "value", "expected"),
    [
        ("subject", [{"link": "account", "column": "acount_id"}], "subject[0].column: no column 'acount_id'"),
        ("subject", [{"link": "friend", "column": "id"}], "subject[0].link: unknown link 'friend'"),
        ("subject", [{"link": "self", "column": "email"}], "a self link must name the table's key"),
        ("subject", [{"link": "staff", "column": "last_name"}], "a staff link names a third party"),
        ("erasure", {"strategy": "anonymise", "columns": {"nickname": "nullify"}}, "no column 'nickname'"),
        ("erasure", {"strategy": "anonymise", "columns": {"email": "nullify"}}, "'email' is required"),
        (
            "erasure",
            {"strategy": "anonymise", "columns": {"registered_at": "pseudonymise"}},
            "only string columns",
        ),
        ("erasure", {"strategy": "anonymise", "columns": {"account_type": "nullify"}}, "is required"),
        ("erasure", {"strategy": "shred"}, "unknown strategy 'shred'"),
        ("erasure", {"strategy": "retain"}, "strategy retain needs the regulatory rule"),
        ("erasure", {"strategy": "none"}, "strategy none is for tables about nobody"),
        ("legalBasis", "because", "unknown legal basis 'because'"),
        ("retentionRule", "engagment_2y", "unknown retention rule 'engagment_2y'"),
    ],
)
def test_a_map_entry_that_cannot_work_is_refused(
    tmp_path: Path, property_name: str, value: Any, expected: str
) -> None:
    path = _accounts_with(tmp_path, property_name, value)
    with pytest.raises(ContractError) as caught:
        map_entry(parse_contract_file(path))
    message = str(caught.value)
    assert str(path) in message
    assert f"customProperties.{property_name}" in message
    assert expected in message


def test_the_map_agrees_with_foreign_keys_to_accounts() -> None:
    """Every column that is a foreign key to accounts.id is a link to that account (or the self key)."""
    entries = personal_data_map()
    for name, table in metadata.tables.items():
        for column in table.columns:
            if any(fk.column.table.name == "accounts" for fk in column.foreign_keys):
                linked = {link.column for link in entries[name].links}
                assert column.name in linked, f"{name}.{column.name} points at an account but is not a link"


def test_parents_first_puts_each_parent_before_its_children_and_names_a_cycle() -> None:
    from tasks.personal_data import ParentCycle, parents_first

    parents_of = {"attachments": ["posts"], "posts": ["threads"], "threads": [], "reports": ["posts"]}
    order = parents_first(parents_of, ["attachments", "reports", "threads", "posts"])
    assert order == ["threads", "posts", "attachments", "reports"]
    with pytest.raises(ParentCycle, match="cycle: posts -> threads -> posts") as cycle:
        parents_first({"posts": ["threads"], "threads": ["posts"]}, ["posts"])
    assert cycle.value.table == "posts"


def test_the_real_map_orders_every_parent_first() -> None:
    from tasks.personal_data import parents_first

    entries = personal_data_map()
    order = parents_first({name: entry.parents for name, entry in entries.items()}, entries)
    assert sorted(order) == sorted(entries)
    for name, entry in entries.items():
        assert all(order.index(parent) < order.index(name) for parent in entry.parents)

"""The retention rules file: loaded, checked against the personal-data map and the queries, errors named."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from steward import PROJECT_ROOT
from tasks.retention import RetentionRulesError, load_rules, unswept_tables

RULES = PROJECT_ROOT / "data_contracts" / "retention_rules.yaml"
POLICY_LINES = {
    "short_term_6m": {"unsuccessful_job_applications", "closed_information_requests"},
    "engagement_2y": {
        "survey_responses",
        "never_signed_in_accounts",
        "inactive_ambassador_profiles",
        "inactive_accounts",
    },
    "activity_8y": {"cpd_bookings", "ambassador_activities", "impact_records"},
    "finance_regulatory": {"invoices_regulatory", "payments_regulatory"},
}


def test_the_rules_cover_every_line_of_the_policy() -> None:
    rules = load_rules(RULES)
    by_map_rule: dict[str, set[str]] = {}
    for rule in rules.rules:
        by_map_rule.setdefault(rule.implements, set()).add(rule.id)
        assert rule.policy and rule.applies_to
    for map_rule, expected in POLICY_LINES.items():
        assert expected <= by_map_rule[map_rule]
    assert set(rules.map_rules) == set(POLICY_LINES)
    periods = {rule.id: str(rule.period) for rule in rules.rules}
    assert periods["unsuccessful_job_applications"] == "6 months"
    assert periods["inactive_accounts"] == "2 years" and periods["cpd_bookings"] == "8 years"
    finance = rules.get("invoices_regulatory")
    assert finance.counts_from == "financialYearEnd" and finance.action == "anonymise_row"
    assert rules.get("inactive_ambassador_profiles").table == "ambassador_profiles"
    # every table the map puts under a retention rule is swept by a rule or goes with its account
    assert {table for table, _ in unswept_tables(rules)} <= {
        "community_threads",
        "content_reports",
        "data_shares",
        "post_attachments",
        "posts",
    }


def test_cutoffs_follow_the_financial_year_end_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from steward.settings import reset_settings_cache

    rules = load_rules(RULES)
    invoices = rules.get("invoices_regulatory")
    assert invoices.cutoff(date(2026, 6, 15), (3, 31)) == date(2020, 4, 1)
    assert invoices.cutoff(date(2026, 6, 15), (12, 31)) == date(2020, 1, 1)
    monkeypatch.setenv("STEWARD_FINANCIAL_YEAR_END", "12-31")
    reset_settings_cache()
    try:
        assert invoices.cutoff(date(2026, 6, 15)) == date(2020, 1, 1)
    finally:
        monkeypatch.delenv("STEWARD_FINANCIAL_YEAR_END")
        reset_settings_cache()


def _edited(tmp_path: Path, rule: str, old: str, new: str) -> Path:
    """The rules file with `old` replaced by `new` inside one rule's block."""
    text = RULES.read_text()
    head, marker, rest = text.partition(f"  - id: {rule}\n")
    assert marker, rule
    block, sep, tail = rest.partition("\n\n")
    assert old in block, (rule, old)
    path = tmp_path / "retention_rules.yaml"
    path.write_text(head + marker + block.replace(old, new, 1) + sep + tail)
    return path


@pytest.mark.parametrize(
    ("rule", "old", "new", "expected"),
    [
        (
            "survey_responses",
            "table: survey_responses",
            "table: survey_answers",
            "table 'survey_answers' is not in",
        ),
        (
            "survey_responses",
            "anchor: submitted_at",
            "anchor: submitted_on",
            "column 'submitted_on' is not in",
        ),
        ("cpd_bookings", "anchor: cpd_courses.ends_on", "anchor: cpd_courses.finished_on", "'finished_on'"),
        ("survey_responses", "action: delete_row", "action: shred", "action 'shred' is not one of"),
        ("survey_responses", "period: 2 years", "period: 2 decades", "is not '<n> months' or '<n> years'"),
        ("survey_responses", "implements: engagement_2y", "implements: forever", "implements 'forever'"),
        ("survey_responses", "action: delete_row", "action: erase_subject", "erase_subject applies to"),
        (
            "email_events",
            "anchor: occurred_at",
            "anchor: ingested_at",
            "does not appear in sql/retention__email_events.sql",
        ),
        ("email_events", "anchor: occurred_at", "anchor: event_type", "is not a date or timestamp"),
        (
            "unsuccessful_job_applications",
            "      outcome: unsuccessful",
            "      result: unsuccessful",
            "binds",
        ),
        (
            "survey_responses",
            "query: retention__survey_responses",
            "query: retention__nothing",
            "does not exist",
        ),
        ("survey_responses", "period: 2 years", "period: 2 years\n    owner: dpo", "unknown field(s) owner"),
        (
            "survey_responses",
            "action: delete_row",
            "action: delete_row\n    countsFrom: birthday",
            "countsFrom 'birthday'",
        ),
    ],
)
def test_a_wrong_rule_is_an_error_naming_the_file_and_the_rule(
    tmp_path: Path, rule: str, old: str, new: str, expected: str
) -> None:
    path = _edited(tmp_path, rule, old, new)
    with pytest.raises(RetentionRulesError) as error:
        load_rules(path)
    message = str(error.value)
    assert message.startswith("retention_rules.yaml")
    assert expected in message
    assert f"rule '{rule}'" in message


def test_a_rule_declared_twice_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "retention_rules.yaml"
    path.write_text(RULES.read_text().replace("  - id: email_events\n", "  - id: survey_responses\n"))
    with pytest.raises(
        RetentionRulesError, match="retention_rules.yaml: rule 'survey_responses' is declared twice"
    ):
        load_rules(path)


def test_a_file_that_is_not_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "retention_rules.yaml"
    path.write_text("mapRules:\n  short_term_6m: [unclosed\nrules: []\n")
    with pytest.raises(RetentionRulesError, match=r"retention_rules.yaml line \d+: not valid YAML"):
        load_rules(path)


def test_a_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(RetentionRulesError, match="cannot be read"):
        load_rules(tmp_path / "nowhere.yaml")

"""The content_rescan flow under the Prefect test harness, on both databases: it bootstraps the demo list
on a database with none, opens cases, publishes its SLA artifact without post text, and a re-run changes
nothing. Also its deployment in prefect.yaml."""

from __future__ import annotations

import pytest
from content_rows import SENTINEL, Community
from sqlalchemy import Engine

from steward.settings import get_settings
from tasks.deployments import PREFECT_YAML, load_deployments


@pytest.mark.flow
def test_the_flow_scans_queues_and_reports(engine: Engine, prefect_harness: None) -> None:
    from prefect.artifacts import Artifact

    from flows.content_rescan import content_rescan

    community = Community(engine)
    held = community.post(f"{SENTINEL} here: crypto giveaway, DM me")
    place = community.post("Shout out to the technicians in Scunthorpe and Killamarsh")
    reported = community.post("nothing listed")
    community.report(reported, "harassment")

    first = content_rescan()  # no list yet: the demo list and allow-list (settings) are imported
    assert first["list_version"] == 1 and first["list_imported"] is True
    assert first["posts_scanned"] == 3 and first["cases_opened"] == 2 and first["posts_hidden"] == 2
    assert community.hidden(held) == (True, "moderation")
    assert community.hidden(place) == (False, None)  # allow-listed place names
    assert community.hits(place) == []

    again = content_rescan()
    assert again["posts_scanned"] == 0 and again["new_hits"] == 0 and again["cases_opened"] == 0
    assert again["open_cases"] == 2

    artifact = Artifact.get("moderation-sla")
    assert artifact is not None and "2** open" in str(artifact.data)
    assert SENTINEL not in str(artifact.data)
    report = get_settings().output_dir / "reports" / "moderation-sla.md"
    assert report.is_file() and SENTINEL not in report.read_text()


def test_the_deployment_runs_nightly_in_london() -> None:
    import yaml

    deployment = load_deployments()["content-rescan"]
    assert deployment.entrypoint == "flows/content_rescan.py:content_rescan"
    assert deployment.parameters == {"keyword_list": None, "allow_list": None, "workers": None}
    assert deployment.load_flow().name == "content_rescan"
    document = yaml.safe_load(PREFECT_YAML.read_text(encoding="utf-8"))
    (entry,) = [d for d in document["deployments"] if d["name"] == "content-rescan"]
    assert entry["concurrency_limit"] == 1 and entry["enforce_parameter_schema"] is True
    (schedule,) = entry["schedules"]
    assert schedule["timezone"] == "Europe/London" and schedule["cron"].endswith("* * *")

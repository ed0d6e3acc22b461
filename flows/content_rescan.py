"""The content rescan: new and edited posts scanned with the keyword list, every earlier post rescanned
with the terms a new list version adds, and the moderation queue kept to its 3-business-day promise."""

from __future__ import annotations

from typing import Any

from prefect import flow

from tasks.content.pipeline import (
    check_hits_task,
    clear_withdrawn_task,
    ensure_keyword_list_task,
    finish_task,
    plan_task,
    scan_task,
    sla_report_task,
    update_queue_task,
)


@flow(name="content_rescan", log_prints=False)
def content_rescan(
    keyword_list: str | None = None, allow_list: str | None = None, workers: int | None = None
) -> dict[str, Any]:
    """Scan the community's posts and keep the moderation queue.

    1. import `keyword_list` (and `allow_list`) when given, all or nothing; with no list in force yet,
       the bootstrap list of the settings (the demo list by default);
    2. plan what to scan: posts new or edited since the last run with the whole list, every earlier post
       with the terms new list versions added; hits of withdrawn terms are cleared;
    3. scan (titles, bodies, link domains, attachment file names), in `workers` processes for big scans;
    4. check the new hits against the `scan_hits` contract: a blocking failure stops here, before any post
       is hidden;
    5. open, join and close cases (hold hits, members' and trusted flaggers' reports), check them against
       the `moderation_cases` contract (blocking), hide and show posts;
    6. move the watermark, and publish the SLA report as the keyed artifact `moderation-sla`.

    A re-run finds nothing new and changes nothing. Returns counts only.
    """
    keyword_result = ensure_keyword_list_task(keyword_list, allow_list)
    scan_plan = plan_task()
    cleared = clear_withdrawn_task(scan_plan)
    steps = scan_task(scan_plan, workers)
    hits = check_hits_task()
    queue = update_queue_task(scan_plan)
    finish_task(scan_plan)
    sla = sla_report_task()
    return {
        "list_version": keyword_result["version"],
        "list_imported": keyword_result["imported"],
        "posts_scanned": sum(step["posts"] for step in steps),
        "new_hits": sum(step["new_hits"] + step["reactivated"] for step in steps),
        "hits_cleared": cleared + sum(step["cleared"] for step in steps),
        "hits_checked": hits["rows"],
        **queue,
        "open_cases": sla["open"],
        "overdue_cases": sla["overdue"],
    }

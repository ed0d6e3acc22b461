"""The content-rescan job in stages, as plain functions with thin Prefect task wrappers (flows/content_rescan.py).

1. `ensure_keyword_list`: import the list given (or, on a database with none yet, the bootstrap list from
   settings: the demo list), checked line by line and against the `keyword_import` contract;
2. `plan` and `clear_withdrawn`: what to scan; hits of withdrawn terms cleared;
3. `scan`: every step of the plan (workers in parallel for big ones), hits written;
4. `check_pending_hits`: the hits not yet in the queue against the `scan_hits` contract (blocking);
5. `update_queue`: cases opened, joined and closed, checked against the `moderation_cases` contract
   (blocking, before any post is hidden), posts hidden and shown, in one transaction;
6. `finish`: the watermark and list version move; 7. the SLA report is published.

Each stage returns counts and ids only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import select

from steward.progress import ProgressCallback
from steward.settings import get_settings
from tasks.audit import current_run_id
from tasks.content.keywords import current_version, import_keyword_list
from tasks.content.moderation import QueueResult
from tasks.content.moderation import update_queue as _update_queue
from tasks.content.scanner import (
    ScanPlan,
    StepResult,
    clear_withdrawn_hits,
    finish_scan,
    plan_scan,
    run_step,
)
from tasks.content.sla import publish_sla, sla_report
from tasks.db import begin, get_engine
from tasks.schema import scan_hits


def _logger() -> Any:
    try:
        return get_run_logger()
    except Exception:  # outside a flow run (CLI, tests): no run logger
        import logging

        return logging.getLogger("steward.content")


def _url(url: str | None) -> str:
    return url or get_settings().database_url


def ensure_keyword_list(
    keyword_list: str | None = None, allow_list: str | None = None, url: str | None = None
) -> dict[str, Any]:
    """Import `keyword_list` (and `allow_list`) if given; on a database with no list yet, the bootstrap
    list from settings (keyword_list_bootstrap, the demo list by default). A list already in force is not
    imported again (an unchanged file creates no version)."""
    settings = get_settings()
    with begin(_url(url)) as conn:
        version = current_version(conn)
        terms_file: Path | None = Path(keyword_list) if keyword_list else None
        allow_file: Path | None = Path(allow_list) if allow_list else None
        bootstrap = False
        if terms_file is None and version is None:
            candidate = settings.keyword_list_bootstrap
            if candidate is not None and Path(candidate).is_file():
                terms_file, bootstrap = Path(candidate), True
                allow = settings.allow_list_bootstrap
                allow_file = Path(allow) if allow is not None and Path(allow).is_file() else None
        if terms_file is None and allow_file is None:
            return {"version": version, "imported": False, "bootstrap": False}
        result = import_keyword_list(conn, terms_file, allow_file)
    if bootstrap and terms_file is not None:
        _logger().warning(
            "no keyword list was in force: imported %s as version %s (setting keyword_list_bootstrap)",
            terms_file.name,
            result.version,
        )
    return {
        "version": result.version,
        "imported": result.changed,
        "bootstrap": bootstrap,
        "added": result.added,
        "removed": result.removed,
    }


def plan(url: str | None = None) -> ScanPlan:
    with begin(_url(url)) as conn:
        return plan_scan(conn)


def clear_withdrawn(plan: ScanPlan, url: str | None = None) -> int:
    with begin(_url(url)) as conn:
        return clear_withdrawn_hits(conn, plan)


def scan(
    plan: ScanPlan,
    url: str | None = None,
    *,
    workers: int | None = None,
    min_parallel: int | None = None,
    progress: ProgressCallback | None = None,
) -> list[StepResult]:
    results = []
    for step in plan.steps:
        result = run_step(
            _url(url),
            plan,
            step,
            workers=workers,
            min_parallel=min_parallel,
            progress=progress,
            run_id=current_run_id(),
        )
        _logger().info(
            "scan step %s: %s posts, %s characters, %s terms, %s workers, %s new hits, %s cleared, %.1f s",
            result.kind,
            result.posts,
            result.characters,
            result.terms,
            result.workers,
            result.new_hits,
            result.cleared,
            result.seconds,
        )
        results.append(result)
    return results


def pending_hits_frame(url: str | None = None) -> Any:
    """The hits the queue has not taken in yet, as the scan_hits contract describes them."""
    import pandas as pd

    with get_engine(_url(url)).connect() as conn:
        rows = conn.execute(
            select(scan_hits).where(scan_hits.c.applied_at.is_(None), scan_hits.c.cleared_at.is_(None))
        ).all()
    columns = [c.name for c in scan_hits.columns]
    frame = pd.DataFrame([tuple(r) for r in rows], columns=columns)
    for name in (
        "id",
        "scan_id",
        "post_id",
        "source_id",
        "term_id",
        "list_version",
        "start_offset",
        "end_offset",
    ):
        frame[name] = frame[name].astype("int64")
    for name in ("case_id", "cleared_in_version"):
        frame[name] = frame[name].astype("Int64")
    for name in ("field", "category", "action", "cleared_reason"):
        frame[name] = frame[name].astype("str").where(frame[name].notna(), None)
    for name in ("found_at", "applied_at", "cleared_at"):
        frame[name] = pd.to_datetime(frame[name]).astype("datetime64[us]")
    return frame


def check_pending_hits(url: str | None = None) -> dict[str, Any]:
    """Validate the hits not yet in the queue (blocking: raises ContractViolation, and nothing is hidden)."""
    from tasks.contracts import validate_frame

    frame = pending_hits_frame(url)
    if frame.empty:
        return {"rows": 0, "passed": True}
    report = validate_frame("scan_hits", frame)
    report.raise_for_blocking()
    return {"rows": len(frame), "passed": report.passed}


def update_queue(plan: ScanPlan, url: str | None = None, *, check_contract: bool = True) -> QueueResult:
    with begin(_url(url)) as conn:
        return _update_queue(conn, version=plan.version, check_contract=check_contract)


def finish(plan: ScanPlan, url: str | None = None) -> None:
    with begin(_url(url)) as conn:
        finish_scan(conn, plan)


def publish_sla_report(url: str | None = None) -> dict[str, Any]:
    with get_engine(_url(url)).connect() as conn:
        report = sla_report(conn)
    path = publish_sla(report)
    return {**report.as_dict(), "report": str(path)}


@dataclass
class RescanResult:
    keyword_list: dict[str, Any]
    steps: list[StepResult] = field(default_factory=list)
    withdrawn_hits_cleared: int = 0
    hits_checked: int = 0
    queue: dict[str, int] = field(default_factory=dict)
    sla: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "list_version": self.keyword_list.get("version"),
            "steps": [
                {
                    k: v
                    for k, v in asdict(s).items()
                    if k in ("kind", "posts", "new_hits", "cleared", "workers")
                }
                for s in self.steps
            ],
            "withdrawn_hits_cleared": self.withdrawn_hits_cleared,
            "hits_checked": self.hits_checked,
            **self.queue,
            "open_cases": self.sla.get("open"),
            "overdue_cases": self.sla.get("overdue"),
        }


def content_rescan_once(
    url: str | None = None,
    *,
    keyword_list: str | None = None,
    allow_list: str | None = None,
    workers: int | None = None,
    min_parallel: int | None = None,
    check_contracts: bool = True,
    publish: bool = True,
    progress: ProgressCallback | None = None,
) -> RescanResult:
    """The whole job without Prefect (the flow runs the same stages as tasks)."""
    result = RescanResult(ensure_keyword_list(keyword_list, allow_list, url))
    scan_plan = plan(url)
    result.withdrawn_hits_cleared = clear_withdrawn(scan_plan, url)
    result.steps = scan(scan_plan, url, workers=workers, min_parallel=min_parallel, progress=progress)
    if check_contracts:
        result.hits_checked = check_pending_hits(url)["rows"]
    result.queue = update_queue(scan_plan, url, check_contract=check_contracts).as_dict()
    finish(scan_plan, url)
    if publish:
        result.sla = publish_sla_report(url)
    return result


# ------------------------------------------------------------------------------------ Prefect tasks


@task(name="content-keyword-list", persist_result=False, cache_policy=NO_CACHE)
def ensure_keyword_list_task(keyword_list: str | None, allow_list: str | None) -> dict[str, Any]:
    return ensure_keyword_list(keyword_list, allow_list)


@task(name="content-plan", persist_result=False, cache_policy=NO_CACHE)
def plan_task() -> ScanPlan:
    return plan()


@task(name="content-clear-withdrawn", persist_result=False, cache_policy=NO_CACHE)
def clear_withdrawn_task(scan_plan: ScanPlan) -> int:
    return clear_withdrawn(scan_plan)


@task(name="content-scan", persist_result=False, cache_policy=NO_CACHE)
def scan_task(scan_plan: ScanPlan, workers: int | None) -> list[dict[str, Any]]:
    return [asdict(result) for result in scan(scan_plan, workers=workers)]


@task(name="content-check-hits", persist_result=False, cache_policy=NO_CACHE)
def check_hits_task() -> dict[str, Any]:
    return check_pending_hits()


@task(name="content-update-queue", persist_result=False, cache_policy=NO_CACHE)
def update_queue_task(scan_plan: ScanPlan) -> dict[str, int]:
    return update_queue(scan_plan).as_dict()


@task(name="content-finish", persist_result=False, cache_policy=NO_CACHE)
def finish_task(scan_plan: ScanPlan) -> None:
    finish(scan_plan)


@task(name="content-sla-report", persist_result=False, cache_policy=NO_CACHE)
def sla_report_task() -> dict[str, Any]:
    return publish_sla_report()

"""The steps of a bounce-reconciliation run, and its report (the flow calls these; so does the CLI).

files = ingest_inbox(paths)               # new export files only (sha256)
marks = reconcile_marks()                 # undeliverable / cleared / taken over
earlier = apply_released_plans()          # removal plans approved since the last run
planned = plan_and_check_removals()       # accounts past the grace period -> a checked plan
... the guard: pause for the DPO on a Prefect server, else stop and say so (tasks.plans)
applied = apply_removal_plan(plan_id)
report = bounce_report(...)               # markdown, published as a keyed artifact
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, bindparam

from steward.settings import get_settings
from tasks.artifacts import markdown_table
from tasks.bounces.classify import CLASSES, classify
from tasks.bounces.ingest import FileResult, inbox_files, ingest_file, summarise_quarantine
from tasks.bounces.reconcile import (
    PLAN_KIND,
    ReconcileResult,
    Thresholds,
    defer_no_longer_undeliverable,
    plan_removals,
    reconcile_accounts,
)
from tasks.calendar import utc_now
from tasks.db import get_engine, sql
from tasks.plans import ApplyResult, PlanCheck, apply_plan, check_plan, drop_plan, open_plans, validate_plan

REPORT_KEY = "bounce-reconciliation"


def inbox_folder() -> Path:
    settings = get_settings()
    return settings.bounce_inbox or settings.output_dir / "demo"


def ingest_inbox(
    paths: Sequence[str | Path] | None = None, *, engine: Engine | None = None
) -> list[FileResult]:
    """Ingest the given files and folders (default: the inbox folder), each new file once."""
    targets: list[Path] = []
    if not paths:
        targets = inbox_files(inbox_folder())  # an inbox not created yet holds no file
    for raw in paths or []:
        path = Path(raw)
        targets += inbox_files(path) if path.is_dir() else [path]
    return [ingest_file(path, engine=engine) for path in targets]


def reconcile_marks(*, engine: Engine | None = None, now: datetime | None = None) -> ReconcileResult:
    with (engine or get_engine()).begin() as conn:
        return reconcile_accounts(conn, now=now)


def apply_released_plans(*, engine: Engine | None = None) -> list[ApplyResult]:
    """Apply removal plans left ready, approved or half-applied by earlier runs."""
    engine = engine or get_engine()
    results = []
    with engine.connect() as conn:
        plans = [p for p in open_plans(conn, PLAN_KIND) if p["status"] in ("ready", "approved", "applying")]
    for plan in plans:
        with engine.begin() as conn:
            defer_no_longer_undeliverable(conn, int(plan["id"]))
        results.append(apply_plan(int(plan["id"]), engine=engine))
    return results


def waiting_plans(*, engine: Engine | None = None) -> list[int]:
    """Removal plans stopped by the guard, still waiting for the DPO."""
    with (engine or get_engine()).connect() as conn:
        return [int(p["id"]) for p in open_plans(conn, PLAN_KIND) if p["status"] == "awaiting_approval"]


@dataclass
class PlannedRemoval:
    plan_id: int | None
    candidates: int
    check: PlanCheck | None = None


def plan_and_check_removals(*, engine: Engine | None = None, now: datetime | None = None) -> PlannedRemoval:
    """Plan the removal of the accounts past the grace period and check the plan (blocks, guard)."""
    engine = engine or get_engine()
    with engine.begin() as conn:
        planning = plan_removals(conn, now=now)
        if planning.plan_id is None:
            return PlannedRemoval(plan_id=None, candidates=planning.candidates)
        check = check_plan(conn, planning.plan_id)
        validate_plan(conn, planning.plan_id)  # a plan failing its contract is never applied
    return PlannedRemoval(plan_id=planning.plan_id, candidates=planning.candidates, check=check)


def apply_removal_plan(plan_id: int, *, engine: Engine | None = None) -> ApplyResult:
    engine = engine or get_engine()
    with engine.begin() as conn:
        defer_no_longer_undeliverable(conn, plan_id)
    return apply_plan(plan_id, engine=engine)


# ------------------------------------------------------------------------------------------ report


@dataclass
class BounceRun:
    """Everything a run did, as counts, ids and rule names."""

    files: list[FileResult] = field(default_factory=list)
    reconcile: ReconcileResult | None = None
    earlier_plans: list[ApplyResult] = field(default_factory=list)
    waiting_plan_ids: list[int] = field(default_factory=list)
    planned: PlannedRemoval | None = None
    applied: ApplyResult | None = None
    approval: str | None = None  # approved | rejected | stopped | not_needed
    message: str | None = None
    finished_at: datetime = field(default_factory=utc_now)

    def summary(self) -> dict[str, Any]:
        """The flow's return value (counts only)."""
        reconcile = self.reconcile or ReconcileResult()
        return {
            "files_ingested": sum(1 for f in self.files if not f.already_ingested),
            "files_already_seen": sum(1 for f in self.files if f.already_ingested),
            "events": sum(f.events for f in self.files),
            "quarantined": sum(f.quarantined for f in self.files),
            "newly_undeliverable": sum(reconcile.newly_undeliverable.values()),
            "cleared": sum(reconcile.cleared.values()),
            "undeliverable": reconcile.undeliverable_total,
            "plan_id": self.planned.plan_id if self.planned else None,
            "planned": self.planned.check.pending + self.planned.check.deferred
            if self.planned and self.planned.check
            else 0,
            "deferred": self.planned.check.deferred if self.planned and self.planned.check else 0,
            "removed": (self.applied.subjects_erased if self.applied else 0)
            + sum(r.subjects_erased for r in self.earlier_plans),
            "approval": self.approval,
            "waiting_plans": self.waiting_plan_ids,
        }


def bounce_report(run: BounceRun) -> str:
    """The run's report in markdown: counts, rule ids, plan ids and file names; no address."""
    reconcile = run.reconcile or ReconcileResult()
    lines = [f"Run finished {run.finished_at.isoformat(sep=' ', timespec='seconds')} UTC."]
    if run.message:
        lines.append(f"**{run.message}**")
    new_files = [f for f in run.files if not f.already_ingested]
    lines.append("## Files")
    if run.files:
        lines.append(
            markdown_table(
                ["file", "format", "status", "events", "quarantined"],
                [
                    [
                        f.file_name,
                        f.format,
                        "already ingested (unchanged)" if f.already_ingested else "ingested",
                        f"{f.events:,}",
                        f"{f.quarantined:,}",
                    ]
                    for f in run.files
                ],
            )
        )
    else:
        lines.append("No export file found.")
    by_class: Counter[str] = Counter()
    for f in new_files:
        by_class.update(f.by_class)
    lines.append("## Events ingested, by class (RFC 3463)")
    lines.append(markdown_table(["class", "events"], [[c, f"{by_class.get(c, 0):,}"] for c in CLASSES]))
    quarantined = [(f, line) for f in new_files for line in summarise_quarantine(f.quarantined_lines)]
    total_quarantined = sum(f.quarantined for f in new_files)
    lines.append(f"## Quarantined rows: {total_quarantined:,}")
    if total_quarantined:
        reasons: Counter[str] = Counter()
        for f in new_files:
            reasons.update(f.quarantine_reasons)
        lines.append(
            markdown_table(["failed rules", "rows"], [[r, f"{n:,}"] for r, n in reasons.most_common()])
        )
        lines.append("First lines (see `steward bounces report` for all):")
        lines.append("\n".join(f"- {f.file_name}, {line}" for f, line in quarantined[:20]))
    lines.append("## Accounts")
    newly = (
        ", ".join(f"{reason}: {n:,}" for reason, n in sorted(reconcile.newly_undeliverable.items())) or "none"
    )
    cleared = ", ".join(f"{reason}: {n:,}" for reason, n in sorted(reconcile.cleared.items())) or "none"
    lines.append(
        f"- newly undeliverable: {sum(reconcile.newly_undeliverable.values()):,} ({newly})\n"
        f"- cleared: {sum(reconcile.cleared.values()):,} ({cleared})\n"
        f"- marks taken over from an earlier system: {reconcile.taken_over:,}\n"
        f"- undeliverable before the removal below: {reconcile.undeliverable_total:,}"
    )
    lines.append("## Removal")
    for result in run.earlier_plans:
        lines.append(
            f"- plan {result.plan_id} (released earlier): {result.status}, {result.subjects_erased:,} accounts "
            f"removed, {result.items_deferred:,} deferred"
        )
    for plan_id in run.waiting_plan_ids:
        lines.append(
            f"- plan {plan_id} is waiting for the DPO's approval (`steward plans show {plan_id}`); no new "
            "plan is made until it is approved or rejected"
        )
    planned = run.planned
    if planned is None or planned.plan_id is None:
        if planned is not None:
            lines.append(
                f"- no new plan: {planned.candidates:,} accounts past the grace period, all already planned"
            )
    else:
        check = planned.check
        assert check is not None
        lines.append(
            f"- plan {planned.plan_id}: {check.pending + check.deferred:,} accounts past the grace period, "
            f"{check.deferred:,} deferred"
        )
        if check.deferred_reasons:
            lines.append(
                markdown_table(
                    ["deferred because", "accounts"],
                    [[r, f"{n:,}"] for r, n in check.deferred_reasons.items()],
                )
            )
        if run.approval == "dry_run":
            lines.append("- dry run: nothing was deleted, and the plan was dropped")
        if run.approval == "stopped":
            lines.append(f"- stopped before deleting anything: {check.guard.explain()}")
        elif run.approval == "rejected":
            lines.append("- rejected by the DPO: nothing was deleted")
        if run.applied is not None:
            lines.append(
                f"- applied: {run.applied.subjects_erased:,} accounts removed, {run.applied.items_deferred:,} deferred "
                "while applying"
            )
    return "\n\n".join(lines)


# ------------------------------------------------------------------------------------ state report


def state_report(*, engine: Engine | None = None, quarantine_limit: int = 50) -> str:
    """`steward bounces report`: the state now, read from the database (no change made)."""
    thresholds = Thresholds.from_settings()
    engine = engine or get_engine()
    now = utc_now()
    with engine.connect() as conn:
        events = conn.execute(sql("bounces__event_code_counts", conn)).mappings().all()
        marks = (
            conn.execute(
                sql("bounces__undeliverable_by_reason", conn).bindparams(
                    bindparam("cutoff", type_=DateTime())
                ),
                {"cutoff": now - timedelta(days=thresholds.grace_days)},
            )
            .mappings()
            .all()
        )
        files = conn.execute(sql("bounces__files", conn)).mappings().all()
        lines_rows = (
            conn.execute(sql("bounces__quarantined_lines", conn), {"limit": quarantine_limit})
            .mappings()
            .all()
        )
        plans = open_plans(conn, PLAN_KIND)
    by_class: Counter[str] = Counter()
    if events:
        import pandas as pd

        frame = pd.DataFrame([dict(r) for r in events])
        frame["klass"] = classify(
            frame["event_type"], frame["enhanced_status"], frame["smtp_status"]
        ).to_numpy()
        for klass, count in zip(frame["klass"], frame["events"], strict=True):
            by_class[str(klass)] += int(count)
    out = [
        f"Settings: transient threshold {thresholds.score}, half-life {thresholds.half_life_days} days, window "
        f"{thresholds.window_days} days, grace period {thresholds.grace_days} days.",
        "## Staged events, by class (RFC 3463)",
        markdown_table(["class", "events"], [[c, f"{by_class.get(c, 0):,}"] for c in CLASSES]),
        "## Undeliverable accounts",
        markdown_table(
            ["reason", "accounts", "past the grace period"],
            [
                [r["reason"] or "unknown", f"{int(r['accounts']):,}", f"{int(r['past_grace'] or 0):,}"]
                for r in marks
            ],
        )
        if marks
        else "None.",
        "## Open removal plans",
        "\n".join(f"- plan {p['id']}: {p['status']} (`steward plans show {p['id']}`)" for p in plans)
        or "None.",
        "## Files ingested",
        markdown_table(
            ["file", "ingested at", "format", "events", "quarantined"],
            [
                [
                    f["file_name"],
                    str(f["ingested_at"])[:19],
                    f["format"],
                    f"{int(f['event_count']):,}",
                    f"{int(f['quarantined_count']):,}",
                ]
                for f in files
            ],
        )
        if files
        else "None yet.",
        "## Quarantined lines (rule ids that failed; the values stay in the file)",
        "\n".join(f"- {r['file_name']}, line {r['source_line']}: {r['reasons']}" for r in lines_rows)
        or "None.",
    ]
    return "\n\n".join(out)


def write_report(run: BounceRun) -> Path:
    from tasks.artifacts import publish_markdown

    return publish_markdown(REPORT_KEY, bounce_report(run), "Bounce reconciliation")


def as_paths(values: Iterable[str] | None) -> list[str] | None:
    return [str(v) for v in values] if values else None


# ------------------------------------------------------------------------------ Prefect task wrappers
# Thin wrappers for the flow; results are not persisted (they are counts, but the steps read addresses).


def _task(fn: Any, name: str, retries: int = 0) -> Any:
    from prefect import task

    return task(
        fn, name=name, persist_result=False, retries=retries, retry_delay_seconds=[2.0, 5.0, 15.0][:retries]
    )


ingest_inbox_task = _task(ingest_inbox, "ingest bounce exports")
reconcile_marks_task = _task(reconcile_marks, "reconcile undeliverable addresses")
apply_released_plans_task = _task(apply_released_plans, "apply released removal plans")
waiting_plans_task = _task(waiting_plans, "removal plans waiting for approval")
plan_and_check_removals_task = _task(plan_and_check_removals, "plan and check removals")
apply_removal_plan_task = _task(apply_removal_plan, "apply the removal plan")
drop_plan_task = _task(drop_plan, "drop the dry run's plan")
write_report_task = _task(write_report, "publish the bounce report", retries=2)

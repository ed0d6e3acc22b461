"""Prefect task wrappers of the subject access steps (tasks.subject_access.service).

Every task that touches personal data has result persistence and caching off (the extract travels
between tasks in memory only and is never hashed or stored); what a task returns for logs and the UI is
counts, ids, dates, paths and checksums. The package's password is printed to standard output once by
`write_package_task`, never logged (the flow keeps log_prints off) and never returned.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from tasks.db import begin as begin_transaction
from tasks.subject_access import service
from tasks.subject_access.model import Extract
from tasks.subject_access.package import PackageResult, announce_password, generate_password


@task(name="sar-register", persist_result=False, cache_policy=NO_CACHE)
def register_task(
    email: str | None, account_id: int | None, received: date | None, identity_verified: bool
) -> int:
    with begin_transaction() as conn:
        return service.register_from_parameters(
            conn, email, account_id=account_id, received_on=received, identity_verified=identity_verified
        )


@task(name="sar-begin", persist_result=False, cache_policy=NO_CACHE)
def begin_task(request_id: int) -> dict[str, Any]:
    """Mark the request in progress; `ready: False` (not an error) while identity is unchecked."""
    with begin_transaction() as conn:
        view = service.view(conn, request_id)
        if view.status == "awaiting_identity_check" and view.kind == "access":
            return {"ready": False, "status": view.status}
        view = service.begin(conn, request_id)
    return {"ready": True, "status": view.status}


@task(name="sar-extract", persist_result=False, cache_policy=NO_CACHE)
def extract_task(request_id: int) -> Extract:
    with begin_transaction() as conn:
        return service.build_extract(conn, request_id)


@task(name="sar-check-extract", persist_result=False, cache_policy=NO_CACHE)
def check_extract_task(extract: Extract) -> dict[str, Any]:
    """Validate the extract against data_contracts/datasets/sar_extract.yaml; raises when it fails."""
    return service.check_extract(extract).summary()


@task(name="sar-write-package", persist_result=False, cache_policy=NO_CACHE)
def write_package_task(extract: Extract, keep_plain: bool) -> PackageResult:
    password = generate_password()
    result = service.package(extract, password, keep_plain=keep_plain)
    announce_password(extract.request_id, password)
    return result


@task(name="sar-finish", persist_result=False, cache_policy=NO_CACHE)
def finish_task(extract: Extract, result: PackageResult, contract: dict[str, Any]) -> dict[str, Any]:
    """Record completion and the checksum in the register; publish the request's progress artifact."""
    with begin_transaction() as conn:
        view = service.finish(conn, extract, result)
    progress = service.Progress(
        view=view,
        counts=extract.counts(),
        redacted=extract.redaction_counts(),
        shared_free_text=extract.shared_free_text,
        data_held=extract.data_held,
        package_sha256=result.sha256,
        contract=contract,
    )
    service.publish_progress(progress)
    return {**progress.as_dict(), "package": str(result.zip_path)}


@task(name="sar-publish-progress", persist_result=False, cache_policy=NO_CACHE)
def publish_progress_task(request_id: int, note: str | None = None) -> dict[str, Any]:
    with begin_transaction() as conn:
        view = service.view(conn, request_id)
    progress = service.Progress(view=view, note=note)
    service.publish_progress(progress)
    return progress.as_dict()


@task(name="sar-demo-sample-account", persist_result=False, cache_policy=NO_CACHE)
def demo_sample_account_task() -> int | None:
    """The first account, when the database holds demo data (see service.demo_sample_account)."""
    with begin_transaction() as conn:
        return service.demo_sample_account(conn)

"""Subject access on demand: register (or pick up) a request, extract, check, package, complete."""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import flow

from tasks.subject_access.flow_tasks import (
    begin_task,
    check_extract_task,
    demo_sample_account_task,
    extract_task,
    finish_task,
    publish_progress_task,
    register_task,
    write_package_task,
)


@flow(name="subject_access", log_prints=False)
def subject_access(
    email: str | None = None,
    account_id: int | None = None,
    received: date | None = None,
    identity_verified: bool = False,
    request_id: int | None = None,
    keep_plain: bool = False,
) -> dict[str, Any]:
    """Answer a subject access request with an encrypted package, or register one.

    Give `request_id` for a request already in the register (no personal data in the run's
    parameters), or `email` and/or `account_id` (and `received`, default today) to register a new one;
    `identity_verified` records that the DPO has checked who is asking. A request whose identity is
    not yet checked is registered and left waiting (`steward sar verify ID`), without a package.

    The package goes to <output_dir>/sar/<request id>/; its password is printed once on standard
    output. The extract is checked against its contract before anything is written: a failure stops
    the run with the request still in progress, and a rerun completes it.

    Args:
        email: The requester's address (to register a new request).
        account_id: Their account id, when known (to register a new request).
        received: The date the request arrived (default today).
        identity_verified: The DPO has checked the requester's identity.
        request_id: A request already in the register (then the fields above are not needed).
        keep_plain: Also leave the unencrypted files, owner-only, for the DPO to review.
    """
    if request_id is None:
        request_id = register_task(email, account_id, received, identity_verified)
    started = begin_task(request_id)
    if not started["ready"]:
        note = "Waiting for the identity check (`steward sar verify ID`); no package yet."
        return {**publish_progress_task(request_id, note), "package": None}
    extract = extract_task(request_id)
    contract = check_extract_task(extract)
    package = write_package_task(extract, keep_plain)
    return finish_task(extract, package, contract)


@flow(name="subject_access_demo_sample", log_prints=False)
def subject_access_demo_sample() -> dict[str, Any] | None:
    """One sample request for the first demo account, in `make demo`; on real data it does nothing
    (the first account's address must be at a domain reserved for examples)."""
    account_id = demo_sample_account_task()
    if account_id is None:
        return None
    return subject_access(account_id=account_id, identity_verified=True)

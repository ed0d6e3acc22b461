"""`steward erasure`: erasure requests ("Delete my account") and the replay after a restore."""

from __future__ import annotations

from datetime import date, datetime

import typer

from steward.errors import ConfigurationError

erasure_app = typer.Typer(
    help="Erasure: register erasure requests, process them (once no active CPD booking, legal hold or open "
    "subject access request blocks them), and re-erase after a database restore. See docs/erasure.md.",
    no_args_is_help=True,
)


def _date(option: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigurationError(f"{option} {value!r}: expected a date as YYYY-MM-DD") from None


@erasure_app.command("request")
def request(
    email: str = typer.Option(None, "--email", help="The requester's email address."),
    account_id: int = typer.Option(
        None, "--account-id", help="The requester's account id (checked against --email)."
    ),
    received: str = typer.Option(
        None, "--received", help="Date the request was received (YYYY-MM-DD; default today)."
    ),
    identity_verified: bool = typer.Option(
        False, "--identity-verified", help="The requester's identity is already checked (e.g. signed in)."
    ),
) -> None:
    """Register an erasure request with its one-month deadline. `steward erasure run` (or the nightly
    job) carries it out once the identity is checked."""
    from tasks.db import begin
    from tasks.rights import RightsError, request_erasure, request_summary, resolve_account

    with begin() as conn:
        address = email
        if not address:
            if account_id is None:
                raise RightsError("name the requester: --email and/or --account-id")
            _id, address = resolve_account(conn, None, account_id)
        request_id = request_erasure(
            conn,
            address,
            account_id=account_id,
            received_on=_date("--received", received),
            identity_verified=identity_verified,
        )
        summary = request_summary(conn, request_id)
    typer.echo(
        f"erasure request {request_id} registered: {summary['status']}, due {summary['due_on']}"
        + (f", account {summary['account_id']}" if summary["account_id"] else ", no account found")
    )
    if not identity_verified:
        typer.echo(f"check the requester's identity, then: steward erasure verify {request_id}")


@erasure_app.command("verify")
def verify(
    request_id: int = typer.Argument(..., help="The erasure request."),
    on: str = typer.Option(None, "--on", help="Date of the identity check (YYYY-MM-DD; default today)."),
) -> None:
    """Record that the requester's identity was checked (the deadline runs from then if later)."""
    from tasks.db import begin
    from tasks.requests import verify_identity

    with begin() as conn:
        view = verify_identity(conn, request_id, _date("--on", on))
    typer.echo(f"request {request_id}: identity checked; status {view.status}, due {view.due_on}")


@erasure_app.command("list")
def list_() -> None:
    """Open erasure requests, the nearest deadline first (ids, dates, statuses, reasons; no addresses)."""
    from tasks.calendar import today_local
    from tasks.db import begin
    from tasks.requests import open_requests

    today = today_local()
    with begin() as conn:
        views = open_requests(conn, "erasure")
    if not views:
        typer.echo("no open erasure request")
    for v in views:
        late = " OVERDUE" if v.is_overdue(today) else f" ({v.days_left(today)} days left)"
        reason = f" - {v.deferred_reason}" if v.deferred_reason else ""
        typer.echo(f"request {v.id}: {v.status}, received {v.received_on}, due {v.due_on}{late}{reason}")


@erasure_app.command("run")
def run(
    dry_run: bool = typer.Option(False, "--dry-run", help="Plan and check only: nothing is erased."),
) -> None:
    """Erase every open, identity-checked request now. Blocked requests are deferred with the reason and
    complete on the first run after the block ends. A plan past the guard stops with its id."""
    from steward.progress import progress_bar
    from tasks.rights import process_erasure_requests

    with progress_bar("erasing") as advance:
        result = process_erasure_requests(apply=not dry_run, progress=advance)
    if result.plan_id is None and not result.earlier_plans:
        typer.echo("no erasure request is due")
    if result.plan_id is not None:
        typer.echo(f"plan {result.plan_id}" + (" (dry run: nothing erased)" if dry_run else ""))
    for request_id in sorted(result.completed):
        typer.echo(f"request {request_id}: completed")
    for request_id, reason in sorted(result.deferred.items()):
        typer.echo(f"request {request_id}: deferred ({reason})")
    if result.awaiting_identity:
        typer.echo(f"awaiting an identity check: {', '.join(map(str, result.awaiting_identity))}")


@erasure_app.command("replay")
def replay(
    since: str = typer.Option(
        None, "--since", help="Only erasures recorded from this date (the backup's, YYYY-MM-DD)."
    ),
) -> None:
    """After restoring the database from a backup: erase again every subject and row the erasure
    journal says was erased (found by the keyed hashes of the identifiers now in the database; the
    secret key must be the same). Run it before reopening the system."""
    from tasks.erasure import journal_path, replay_erasures

    day = _date("--since", since)
    result = replay_erasures(since=datetime.combine(day, datetime.min.time()) if day else None)
    typer.echo(
        f"journal {journal_path()}: {result.journal_entries:,} erasures recorded, {result.considered:,} considered"
    )
    typer.echo(f"found again: {result.subjects_found:,} subjects, {result.rows_found:,} rows")
    if result.plan_id is not None:
        typer.echo(f"plan {result.plan_id}: {result.items_done:,} erased again")
        for reason, count in result.deferred.items():
            typer.echo(f"  deferred ({reason}): {count:,}")


def register(app: typer.Typer) -> None:
    app.add_typer(erasure_app, name="erasure")

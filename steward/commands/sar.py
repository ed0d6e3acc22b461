"""`steward sar`: the subject access register and its packages."""

from __future__ import annotations

from datetime import date
from typing import Any

import typer

from steward.errors import ConfigurationError

sar_app = typer.Typer(
    help="Subject access requests: register them, record identity checks and extensions, list them "
    "with their legal deadlines, and produce each person's encrypted package.",
    no_args_is_help=True,
)


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigurationError(f"{option} {value!r}: expected a date as YYYY-MM-DD") from None


def _publish(view: Any) -> None:
    """Record the request's progress in its report (the artifact's file; no personal data)."""
    from tasks.subject_access.service import Progress, publish_progress

    if view.kind == "access":
        publish_progress(Progress(view=view))


def _days_left(days: int) -> str:
    if days < 0:
        return f"[red]{-days} overdue[/red]"
    if days <= 7:
        return f"[yellow]{days}[/yellow]"
    return str(days)


@sar_app.command("request")
def request(
    email: str = typer.Option(None, "--email", "-e", help="The requester's email address."),
    account_id: int = typer.Option(
        None, "--account-id", help="Their account id, when known (found from the address otherwise)."
    ),
    received: str = typer.Option(None, "--received", help="Date the request arrived, YYYY-MM-DD (today)."),
    verified: bool = typer.Option(
        False, "--verified", help="Their identity is already checked (the deadline runs from receipt)."
    ),
) -> None:
    """Register a subject access request and print its id and legal deadline.

    The deadline is one calendar month from receipt (or from the identity check when that comes later),
    moved past weekends and England-and-Wales bank holidays. Give --email, --account-id or both.
    """
    from tasks.db import begin
    from tasks.subject_access.service import register_from_parameters, view

    with begin() as conn:
        request_id = register_from_parameters(
            conn,
            email,
            account_id=account_id,
            received_on=_date(received, "--received"),
            identity_verified=verified,
        )
        registered = view(conn, request_id)
    typer.echo(
        f"registered subject access request {request_id}: {registered.status}, due {registered.due_on}"
    )
    if registered.status == "awaiting_identity_check":
        typer.echo(f"next: check their identity, then `steward sar verify {request_id}`")
    else:
        typer.echo(f"next: `steward sar run {request_id}` produces the package")


@sar_app.command("verify")
def verify(
    request_id: int = typer.Argument(..., help="The request's id (see `steward sar list`)."),
    on: str = typer.Option(None, "--on", help="Date the identity was checked, YYYY-MM-DD (today)."),
) -> None:
    """Record that the requester's identity was checked; the deadline runs from then if later."""
    from tasks.db import begin
    from tasks.requests import verify_identity

    with begin() as conn:
        checked = verify_identity(conn, request_id, _date(on, "--on"))
    _publish(checked)
    typer.echo(
        f"request {request_id}: identity checked on {checked.identity_verified_on}, due {checked.due_on}"
    )


@sar_app.command("extend")
def extend(
    request_id: int = typer.Argument(..., help="The request's id."),
    reason: str = typer.Option(
        ..., "--reason", help="Why the request is complex (recorded in the register)."
    ),
) -> None:
    """Extend the deadline by two further months for a complex request (tell the person within the
    first month, with the reason)."""
    from tasks.db import begin
    from tasks.requests import extend_request

    with begin() as conn:
        extended = extend_request(conn, request_id, reason)
    _publish(extended)
    typer.echo(f"request {request_id}: extended, now due {extended.due_on}")


@sar_app.command("list")
def list_requests(
    all_kinds: bool = typer.Option(
        False, "--all-kinds", help="Also the other rights' requests (erasure, rectification...)."
    ),
    emails: bool = typer.Option(False, "--emails", help="Also print the requesters' email addresses."),
) -> None:
    """Open requests, nearest deadline first (overdue ones lead), with the days left."""
    from rich.console import Console
    from rich.table import Table

    from tasks.calendar import today_local
    from tasks.db import begin
    from tasks.requests import get_request, open_requests

    today = today_local()
    with begin() as conn:
        views = open_requests(conn, kind=None if all_kinds else "access")
        addresses = {v.id: get_request(conn, v.id)["email"] for v in views} if emails else {}
    console = Console()
    if not views:
        console.print("no open requests")
        return
    table = Table(title=f"Open {'requests' if all_kinds else 'subject access requests'} on {today}")
    headings = ["id", *(["kind"] if all_kinds else []), "status", "account", "received", "verified"]
    headings += ["due", "days left", *(["email"] if emails else [])]
    for heading in headings:
        table.add_column(
            heading, justify="right" if heading in ("id", "account") else "left", overflow="fold"
        )
    for v in views:
        status = v.status.replace("awaiting_identity_check", "awaiting identity check")
        status += " (extended)" if v.extended and v.status != "extended" else ""
        row = [
            str(v.id),
            *([v.kind] if all_kinds else []),
            status,
            str(v.account_id or ""),
            str(v.received_on),
            str(v.identity_verified_on or "[yellow]not yet[/yellow]"),
            str(v.due_on),
            _days_left(v.days_left(today)),
        ]
        if emails:
            row.append(addresses.get(v.id) or "")
        table.add_row(*row)
    console.print(table)
    overdue = sum(1 for v in views if v.is_overdue(today))
    if overdue:
        console.print(f"[red]{overdue} request(s) overdue[/red]")


@sar_app.command("run")
def run(
    request_id: int = typer.Argument(..., help="The request's id."),
    keep_plain: bool = typer.Option(
        False,
        "--keep-plain",
        help="Also leave the unencrypted files in the package folder's plain/ (owner-only), for "
        "review. Delete them once the package is sent.",
    ),
) -> None:
    """Produce the person's package: every record about them, redacted, in an AES-256 encrypted ZIP.

    Prints the ZIP's password once: send it to the person separately from the package (another
    channel). It is stored nowhere; a lost password means producing a new package. The register
    records the completion and the package's SHA-256.
    """
    from steward.progress import progress_bar
    from tasks.subject_access.package import announce_password
    from tasks.subject_access.service import PRODUCE_STEPS, produce_package

    with progress_bar(f"subject access request {request_id}", total=PRODUCE_STEPS) as advance:
        result = produce_package(
            request_id, announce_password=announce_password, keep_plain=keep_plain, progress=advance
        )
    records = sum(result.records.values())
    if result.data_held:
        typer.echo(f"request {request_id}: {records} records in {len(result.records)} categories")
    else:
        typer.echo(f"request {request_id}: no data held (the package says so)")
    redacted = sum(result.redacted.values())
    if redacted:
        typer.echo(f"  {redacted} values identifying other people were redacted")
    typer.echo(f"  package: {result.zip_path}")
    typer.echo(f"  sha256:  {result.sha256}")
    if result.plain_directory:
        typer.secho(f"  unencrypted copy: {result.plain_directory} (delete it once sent)", fg="yellow")
    typer.echo(f"  register: {result.status}")


@sar_app.command("show")
def show(
    request_id: int = typer.Argument(..., help="The request's id."),
    emails: bool = typer.Option(False, "--emails", help="Also print the requester's email address."),
) -> None:
    """Show one request: status, dates, days left, extension, completion, and whether its package
    on disk still matches the checksum the register recorded."""
    import hashlib

    from steward.settings import get_settings
    from tasks.calendar import today_local
    from tasks.db import begin
    from tasks.requests import get_request
    from tasks.subject_access.package import package_directory

    with begin() as conn:
        row = get_request(conn, request_id)
    today = today_local()
    due = row["due_on"] if isinstance(row["due_on"], date) else date.fromisoformat(str(row["due_on"]))
    lines = [
        ("request", str(request_id)),
        ("kind", row["kind"]),
        ("status", row["status"]),
        ("account", str(row["account_id"] or "none found")),
        ("received", str(row["received_on"])),
        ("identity checked", str(row["identity_verified_on"] or "not yet")),
        ("due", str(due)),
    ]
    if emails:
        lines.insert(3, ("email", row["email"] or ""))
    if row["status"] not in ("completed", "rejected"):
        days = (due - today).days
        lines.append(("days left", str(days) if days >= 0 else f"{-days} overdue"))
    if row["extended"]:
        lines.append(("extended", row["extension_reason"] or "yes"))
    if row["deferred_reason"]:
        lines.append(("reason", row["deferred_reason"]))
    if row["completed_at"]:
        lines.append(("completed", str(row["completed_at"])))
    if row["package_sha256"]:
        lines.append(("package sha256", row["package_sha256"]))
        zip_path = package_directory(get_settings().output_dir, request_id) / f"sar-{request_id}.zip"
        if zip_path.is_file():
            matches = hashlib.sha256(zip_path.read_bytes()).hexdigest() == row["package_sha256"]
            lines.append(
                ("package", f"{zip_path} ({'matches' if matches else 'DOES NOT MATCH'} the register)")
            )
        else:
            lines.append(("package", f"{zip_path} (no longer on disk)"))
    width = max(len(label) for label, _ in lines)
    for label, value in lines:
        typer.echo(f"{label:<{width}}  {value}")


def register(app: typer.Typer) -> None:
    app.add_typer(sar_app, name="sar")

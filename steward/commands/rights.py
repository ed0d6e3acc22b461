"""`steward rights`: restriction of processing, rectification, marketing unsubscribe."""

from __future__ import annotations

import typer

rights_app = typer.Typer(
    help="The data subject's other rights, each recorded in the request register. Erasure is "
    "`steward erasure`; subject access is `steward sar`. See docs/erasure.md.",
    no_args_is_help=True,
)

_EMAIL = typer.Option(None, "--email", help="The person's email address.")
_ACCOUNT = typer.Option(None, "--account-id", help="The person's account id.")


@rights_app.command("restrict")
def restrict(email: str = _EMAIL, account_id: int = _ACCOUNT) -> None:
    """Restrict processing: the account is kept but left out of statistics, research extracts and
    marketing, and no job removes or reduces it (only the person's own erasure request can)."""
    from tasks.db import begin
    from tasks.rights import restrict as restrict_account

    with begin() as conn:
        request_id = restrict_account(conn, email, account_id)
    typer.echo(f"processing restricted (request {request_id}, completed)")


@rights_app.command("unrestrict")
def unrestrict(email: str = _EMAIL, account_id: int = _ACCOUNT) -> None:
    """Lift a restriction of processing."""
    from tasks.db import begin
    from tasks.rights import restrict as restrict_account

    with begin() as conn:
        request_id = restrict_account(conn, email, account_id, lift=True)
    typer.echo(f"restriction lifted (request {request_id}, completed)")


@rights_app.command("rectify")
def rectify(
    email: str = _EMAIL,
    account_id: int = _ACCOUNT,
    set_: list[str] = typer.Option(
        [],
        "--set",
        help="FIELD=VALUE to correct (repeatable), e.g. --set last_name=Smith --set postcode='YO1 7HH'.",
    ),
) -> None:
    """Correct account fields (checked against the accounts contract), record it in the register, and
    list who received the person's data and must be told (the data-share log)."""
    from steward.errors import ConfigurationError
    from tasks.db import begin
    from tasks.rights import rectify as rectify_account

    changes: dict[str, str] = {}
    for pair in set_:
        field, sep, value = pair.partition("=")
        if not sep or not field.strip():
            raise ConfigurationError(
                f"--set: expected FIELD=VALUE, got a value without '=' for {field.strip()!r}"
            )
        changes[field.strip()] = value
    with begin() as conn:
        result = rectify_account(conn, email, account_id, changes)
    typer.echo(f"rectified {', '.join(result.fields)} (request {result.request_id}, completed)")
    if result.recipients:
        typer.echo("tell these recipients of the correction (UK GDPR art. 19):")
        for r in result.recipients:
            typer.echo(f"  {r['recipient']} - {r['dataset']}, last shared {str(r['last_shared_at'])[:10]}")
    else:
        typer.echo("the data-share log shows no recipient to tell")


@rights_app.command("unsubscribe")
def unsubscribe(email: str = _EMAIL, account_id: int = _ACCOUNT) -> None:
    """Withdraw marketing consent."""
    from tasks.db import begin
    from tasks.rights import unsubscribe as unsubscribe_account

    with begin() as conn:
        request_id = unsubscribe_account(conn, email, account_id)
    typer.echo(f"unsubscribed from marketing (request {request_id}, completed)")


def register(app: typer.Typer) -> None:
    app.add_typer(rights_app, name="rights")

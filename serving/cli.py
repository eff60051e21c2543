"""Serving commands: ``serve`` and the ``partners`` key sub-app (add-key, revoke, list).

The ``propensity`` CLI mounts :func:`serve` as ``propensity serve`` and :data:`partners_app`
as ``propensity partners``; ``python -m serving`` runs the same commands.
"""

from __future__ import annotations

from pathlib import Path

import typer

from propensity.settings import load_settings

partners_app = typer.Typer(
    name="partners",
    help="Partner API keys: made once and shown once, stored only as hashes.",
    no_args_is_help=True,
)

LAKE = typer.Option(None, "--lake", help="lake root (default: settings, $PROPENSITY_LAKE, "
                    "./lake)")


def _db(lake: Path | None) -> Path:
    from serving.keys import keys_db_path

    s = load_settings(lake=lake)
    return keys_db_path(s.lake, s.serving.keys_db)


def serve(
    port: int = typer.Option(3000, "--port", help="TCP port"),
    host: str = typer.Option("127.0.0.1", "--host", help="address to listen on"),
    lake: Path = LAKE,
) -> None:
    """Serve partners' reports, look-ups, CRM matching and on-demand scoring over HTTP."""
    from serving import run

    settings = load_settings(lake=lake)
    typer.echo(f"serving {settings.lake} on http://{host}:{port} (hub at /, API docs at /docs)",
               err=True)
    raise typer.Exit(run.serve(settings.lake, port=port, host=host))


@partners_app.command("add-key")
def add_key_cmd(
    partner: str = typer.Option(None, "--partner", help="partner GlobalID"),
    admin: bool = typer.Option(False, "--admin", help="an admin key (reads every partner)"),
    label: str = typer.Option("", "--label", help="a note kept with the key (who holds it)"),
    lake: Path = LAKE,
) -> None:
    """Make an API key and print it once: it cannot be shown again."""
    from serving.keys import add_key

    if not admin and not partner:
        raise typer.BadParameter("give --partner GLOBAL_ID (or --admin)")
    key = add_key(_db(lake), partner or "", admin=admin, label=label)
    typer.echo(key)


@partners_app.command("revoke")
def revoke_cmd(
    key: str = typer.Argument(None, help="the key, or its id (the part after 'pk_')"),
    partner: str = typer.Option(None, "--partner", help="revoke every key of this partner"),
    lake: Path = LAKE,
) -> None:
    """Revoke one key, or every key of a partner; takes effect on the next request."""
    from serving.keys import revoke

    if (key is None) == (partner is None):
        raise typer.BadParameter("give a key (or key id), or --partner, not both")
    try:
        n = revoke(_db(lake), key_or_id=key, partner=partner)
    except FileNotFoundError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"revoked {n} key(s)")
    if n == 0:
        raise typer.Exit(1)


@partners_app.command("list")
def list_cmd(
    partner: str = typer.Option(None, "--partner", help="only this partner's keys"),
    lake: Path = LAKE,
) -> None:
    """List keys (ids, partner, state), never their secrets."""
    from serving.keys import list_keys

    for k in list_keys(_db(lake), partner=partner):
        state = f"revoked {k.revoked_at}" if k.revoked_at else "active"
        kind = "admin" if k.admin else f"partner {k.partner}"
        typer.echo(f"{k.key_id}\t{kind}\t{state}\tcreated {k.created_at}\t{k.label}")


app = typer.Typer(name="serving", help="The partner-facing service.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
app.command("serve")(serve)
app.add_typer(partners_app, name="partners")

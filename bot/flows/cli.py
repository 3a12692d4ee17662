"""`flask flows ...`: commands for the admin who edits the flows file."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from bot.flows.loader import FlowsError, load_flows

flows_cli = AppGroup("flows", help="Check the keyword flows file.")


@flows_cli.command("check")
@click.argument("path", required=False)
def check(path: str | None) -> None:
    """Validate a flows file (default: the app's FLOWS_PATH); exit 1 on any problem."""
    path = path or current_app.config.get("FLOWS_PATH", "config/flows.yaml")
    try:
        flows = load_flows(path)
    except FlowsError as error:
        for problem in error.problems:
            click.echo(str(problem))
        raise SystemExit(1) from None
    locales = ", ".join(flows.locales)
    click.echo(f"{path}: OK ({len(flows.flows)} flows, locales {locales})")

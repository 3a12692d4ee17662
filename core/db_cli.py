"""`flask --app app db ...`: schema migrations (Alembic, see core/schema.py).

A small click group over Alembic's public API rather than Flask-Migrate, which
expects Flask-SQLAlchemy; the engine is the app's own (core/db.py).
"""

from __future__ import annotations

import click
from alembic import command
from alembic.util import CommandError
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.engine import Engine

from core import schema

db_cli = AppGroup("db", help="Database schema migrations (Alembic).")


def _engine() -> Engine:
    return current_app.extensions["runtime"].engine


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def upgrade(revision: str) -> None:
    """Migrate the database to REVISION (default: the newest). Run once per deploy
    (the Procfile's release step); safe to run from several processes at once."""
    engine = _engine()
    try:
        schema.upgrade(engine, revision)
    except (schema.SchemaError, CommandError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"database schema at {_shown(schema.database_heads(engine))}")


@db_cli.command("current")
def current() -> None:
    """The database's revision, and whether it is the newest this code knows."""
    engine = _engine()
    at, head = schema.database_heads(engine), schema.code_heads()
    state = "(head)" if at == head else f"(behind: code needs {_shown(head)})"
    click.echo(f"{_shown(at)} {state}")


@db_cli.command("stamp")
@click.argument("revision")
def stamp(revision: str) -> None:
    """Record REVISION as the database's version without running any migration."""
    try:
        schema.stamp(_engine(), revision)
    except CommandError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"database schema stamped at {revision}")


@db_cli.command("revision")
@click.option("-m", "--message", required=True, help="What the revision changes.")
@click.option("--autogenerate", is_flag=True,
              help="Compare the models with the (upgraded) database and write the difference.")
def revision(message: str, autogenerate: bool) -> None:
    """For developers: write a new revision under migrations/versions/ (read it before committing)."""
    with _engine().connect() as connection:
        try:
            written = command.revision(schema.alembic_config(connection), message,
                                       autogenerate=autogenerate)
        except CommandError as exc:  # e.g. "Target database is not up to date."
            raise click.ClickException(f"{exc} Run `db upgrade` first.") from None
    for script in written if isinstance(written, list) else [written]:
        if script is not None:
            click.echo(f"wrote {script.path}")


def _shown(revisions: tuple[str, ...] | None) -> str:
    return ", ".join(revisions) if revisions else "none (empty or unversioned database)"

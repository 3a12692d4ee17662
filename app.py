"""Support Desk for Messenger: the app factory and the WSGI `app`.

`create_app` reads like a table of contents; nothing is built at import.
`app` (for gunicorn `app:app`) is created on first access. `python app.py`
runs the real service when Messenger credentials are set, else the local
preview: the whole service in one process, no Redis, no Facebook needed.
"""

from __future__ import annotations

import sys

import click
from flask import Flask

import features
from bot.flows.cli import flows_cli
from bot.flows.loader import FlowsError
from config.pages import PagesError
from config.pages_cli import pages_cli
from config.settings import ConfigError, Settings, load_settings, require_app_id
from core import runtime
from core.db_cli import db_cli
from core.jobs_cli import jobs_cli
from core.logs import configure_logging
from core.schema import SchemaError
from messenger.setup_cli import messenger_cli
from preview.chat import make_chat_command
from tickets.cli import tickets_cli
from tickets.users_cli import users_cli


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or load_settings()
    configure_logging(settings)
    app = Flask(__name__, instance_path=_absolute(settings.instance_path))
    app.config.update(SECRET_KEY=settings.secret_key, FLOWS_PATH=settings.flows_path,
                      SETTINGS=settings)
    features.register_all()  # before the runtime: the features' tables and seams
    serving = click.get_current_context(silent=True) is None  # else a `flask` command
    pages = runtime.pages_store(settings)  # a broken pages file stops the server and the CLI
    rt = runtime.build_runtime(settings, check_schema=serving)  # `db upgrade` runs in the CLI
    rt.pages_store = pages
    runtime.install(rt)
    app.extensions["runtime"] = rt
    if serving:
        for account in rt.pages.accounts():  # a broken flows file stops a server at start
            rt.flows_for(account.id).current  # noqa: B018
    _register_blueprints(app)
    app.cli.add_command(db_cli)
    app.cli.add_command(flows_cli)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(messenger_cli)
    app.cli.add_command(pages_cli)
    app.cli.add_command(make_chat_command(create_app))
    app.cli.add_command(tickets_cli)
    app.cli.add_command(users_cli)
    return app


def _register_blueprints(app: Flask) -> None:
    from bot import webhook
    from core.health import bp as health_bp
    from core.metrics_http import bp as metrics_bp

    webhook.install(app)  # GET /webhook a view; POST /webhook in front of Flask, for speed
    app.register_blueprint(health_bp)
    app.register_blueprint(metrics_bp)
    from tickets import api, inbound_http, login, unmatched, web

    for tickets_bp in (web.bp, login.bp, api.bp, inbound_http.bp, unmatched.bp):
        app.register_blueprint(tickets_bp)
    from satisfaction import web as ratings

    app.register_blueprint(ratings.bp)


def _absolute(path: str) -> str:
    from pathlib import Path

    return str(Path(path).resolve())


def boot(settings: Settings | None = None) -> Flask:
    """create_app, but bad configuration ends the process with one clear line."""
    try:
        settings = settings or load_settings()
        if click.get_current_context(silent=True) is None:  # serving; CLI commands set their own
            require_app_id(settings)
        return create_app(settings)
    except PagesError as exc:
        sys.exit("pages file refused:\n" + "\n".join(exc.problems))
    except ConfigError as exc:
        sys.exit(f"configuration error: {exc}")
    except FlowsError as exc:
        sys.exit("flows file refused:\n" + "\n".join(str(p) for p in exc.problems))
    except SchemaError as exc:
        sys.exit(str(exc))


def __getattr__(name: str) -> Flask:
    if name == "app":
        globals()["app"] = wsgi_app = boot()
        return wsgi_app
    raise AttributeError(name)


def main() -> None:
    """`python app.py [--port N]`: with Messenger credentials, the real service under one
    supervisor (see serve/); without, the local preview (see preview/)."""
    from serve.cli import main as serve

    serve(boot)


if __name__ == "__main__":
    main()

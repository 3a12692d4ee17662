"""`python app.py [--port N]`: the real service when Messenger credentials are set,
else the local preview. The port: `--port`, else `$PORT`, else 5000."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from config.settings import ConfigError, Settings, load_settings
from preview.cli import run_preview
from preview.local import AppFactory

DEFAULT_PORT = 5000
PAGES_FILE = "config/pages.yaml"


def parse_args(argv: Sequence[str] | None,
               environ: Mapping[str, str] = os.environ) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python app.py",
        description="Run Support Desk: with Messenger credentials set, the real service "
                    "(the Procfile's processes under one supervisor); without, the local "
                    "preview (no Facebook, no Redis).")
    parser.add_argument("--host", default="127.0.0.1",
                        help="the preview's address: loopback only (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None,
                        help=f"default $PORT, else {DEFAULT_PORT}")
    args = parser.parse_args(argv)
    if args.port is None:
        args.port = _env_port(parser, environ.get("PORT", "").strip())
    return args


def _env_port(parser: argparse.ArgumentParser, raw: str) -> int:
    if not raw:
        return DEFAULT_PORT
    if not raw.isdigit():
        parser.error(f"PORT: expected a port number, got {raw!r}")
    return int(raw)


def credentials_problem(settings: Settings, environ: Mapping[str, str] = os.environ
                        ) -> tuple[bool, str | None]:
    """(real service wanted, what is missing for it). A Page token (or a pages file)
    with the app secret means the real service; one without the other is refused."""
    pages = environ.get("PAGES_PATH") or (PAGES_FILE if Path(PAGES_FILE).exists() else None)
    page = settings.messenger_page_access_token or pages
    if page and settings.messenger_app_secret:
        return True, None
    if page:
        name = "MESSENGER_PAGE_ACCESS_TOKEN" if settings.messenger_page_access_token else pages
        return True, (f"{name} is set but MESSENGER_APP_SECRET is not: set it for the real "
                      "service (README, \"Setting up your Facebook Page\"), or unset the Page "
                      "token for the local preview")
    return False, None


def main(factory: AppFactory, argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        sys.exit(f"configuration error: {exc}")
    real, problem = credentials_problem(settings)
    if problem:
        sys.exit(f"cannot start: {problem}")
    if not real:
        run_preview(factory, settings, host=args.host, port=args.port)
        return
    from serve.redis_server import RedisStartError
    from serve.supervisor import ReleaseFailed, supervise

    try:
        sys.exit(supervise(settings, port=args.port))
    except (RedisStartError, ReleaseFailed) as exc:
        sys.exit(f"cannot start: {exc}")

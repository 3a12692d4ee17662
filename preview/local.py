"""Local mode: our app and the Graph API stand-in on one loopback server, wired together.

`start_local` refuses production settings (`LocalModeRefused`, one line), generates
throwaway credentials, builds the app with the caller's factory (nothing imports app.py),
mounts the stand-in at `/_graph`, serves both in a background thread and sets the
Messenger profile from the flows file, over HTTP, as `messenger setup-profile` would.
"""

from __future__ import annotations

import ipaddress
import logging
import secrets
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from flask import Flask
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from config.settings import Settings
from core.runtime import Runtime
from core.schema import SchemaError, upgrade_database
from messenger.standin import Standin, create_standin_app
from preview.demo import ACCOUNTS_PREFIX, DEMO_PAGES, DemoAccount, demo_accounts, issue_tokens
from preview.profile_sync import ProfileSync

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

GRAPH_PREFIX = "/_graph"
AppFactory = Callable[[Settings], Flask]
log = logging.getLogger(__name__)


class LocalModeRefused(Exception):
    """Local mode would be unsafe or cannot start; the message is one line for the user."""


def refuse_reason(settings: Settings, host: str) -> str | None:
    """Why local mode must not start with these settings on this host (None: it may)."""
    if settings.messenger_page_access_token:
        return ("local mode runs without Facebook, but MESSENGER_PAGE_ACCESS_TOKEN is set: "
                "unset it here, or run the production processes (Procfile)")
    if settings.redis_url:
        return ("local mode uses an in-process Redis, but REDIS_URL is set: unset it, or run "
                "the production processes (Procfile)")
    if not is_loopback(host):
        return (f"local mode serves a fake Facebook without any login, so it only binds to "
                f"loopback (127.0.0.1, localhost), not {host}")
    return None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Credentials:
    """Throwaway ids and secrets, shared by the stand-in and our app for one process."""

    page_id: str
    app_id: str
    app_secret: str
    access_token: str
    verify_token: str

    @classmethod
    def generate(cls) -> Credentials:
        return cls(page_id=_numeric_id(), app_id=_numeric_id(), app_secret=secrets.token_hex(16),
                   access_token="EAAL" + secrets.token_hex(24),
                   verify_token=secrets.token_urlsafe(16))


def _numeric_id() -> str:
    return str(10**14 + secrets.randbelow(9 * 10**14))


def local_settings(base: Settings, url: str, creds: Credentials) -> Settings:
    """`base` pointed at the stand-in on `url`, with the throwaway credentials and the
    demo Pages (their tokens: `issue_tokens`)."""
    return base.with_(
        messenger_app_secret=creds.app_secret, messenger_verify_token=creds.verify_token,
        messenger_page_access_token=None, messenger_app_id=creds.app_id,
        pages_path=str(DEMO_PAGES),
        graph_api_url=url + GRAPH_PREFIX, public_url=url, redis_url=None,
        attachment_hosts=f"{base.attachment_hosts},{url}",  # the stand-in's CDN, on loopback
        drain_threads=min(base.drain_threads, 4))


class _QuietHandler(WSGIRequestHandler):
    """The preview polls several times a second: only failed requests are logged."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if str(code).isdigit() and int(code) >= 400:
            super().log_request(code, size)


@dataclass
class LocalService:
    app: Flask
    standin: Standin
    server: BaseWSGIServer
    url: str
    profile: ProfileSync
    accounts: list[DemoAccount] = field(default_factory=list)

    @property
    def runtime(self) -> Runtime:
        return self.app.extensions["runtime"]

    @property
    def preview_url(self) -> str:
        return self.url + "/preview"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        for account in self.accounts:
            account.standin.close()
        shutdown = getattr(self.runtime.dispatcher, "shutdown", None)
        if shutdown is not None:
            shutdown()
        self.runtime.engine.dispose()


def start_local(base: Settings, factory: AppFactory, *, host: str = "127.0.0.1",
                port: int = 5000) -> LocalService:
    """Serve the whole service and the stand-in on `host:port` (0: any free port)."""
    reason = refuse_reason(base, host)
    if reason:
        raise LocalModeRefused(reason)
    try:
        server = make_server(host, port, _not_ready, threaded=True, request_handler=_QuietHandler)
    except OSError as exc:
        raise LocalModeRefused(f"cannot listen on {host}:{port} ({exc.strerror}): "
                               "choose another port with --port") from None
    try:
        return _serve(server, base, factory, f"http://{host}:{server.port}")
    except BaseException:
        server.server_close()
        raise


def _serve(server: BaseWSGIServer, base: Settings, factory: AppFactory, url: str) -> LocalService:
    creds = Credentials.generate()
    settings = local_settings(base, url, creds)
    issue_tokens()
    try:
        upgrade_database(settings.database_url)  # the preview owns its database: no release step
    except SchemaError as exc:
        raise LocalModeRefused(str(exc)) from None
    app = factory(settings)
    rt = app.extensions["runtime"]
    rt.flows.current  # noqa: B018 - a broken file stops local mode too
    accounts = demo_accounts(rt.pages, app_id=creds.app_id, app_secret=creds.app_secret,
                             inbox_app_id=settings.page_inbox_app_id, webhook_url=url + "/webhook")
    for account in accounts:
        account.standin.base_url = url + GRAPH_PREFIX  # where the CDN serves customers' files
    profile = ProfileSync(rt)
    _mount(app, accounts, profile)
    server.app = app
    threading.Thread(target=server.serve_forever, args=(0.05,), name="local-http",
                     daemon=True).start()
    service = LocalService(app, accounts[0].standin, server, url, profile, accounts)
    profile.refresh()
    return service


def _mount(app: Flask, accounts: list[DemoAccount], profile: ProfileSync) -> None:
    """The Graph API of every demo Page at /_graph (by token), and each account's control
    endpoints at /_graph/_accounts/<id>/_standin (the first's at /_graph/_standin too)."""
    from preview.views import bp

    first, *others = (account.standin for account in accounts)
    app.extensions["standin"] = first
    app.extensions["preview_accounts"] = accounts
    app.extensions["preview_profile"] = profile
    app.register_blueprint(bp)
    mounts = {GRAPH_PREFIX: create_standin_app(first, others=others)}
    for account in accounts:
        mounts[f"{GRAPH_PREFIX}{ACCOUNTS_PREFIX}/{account.id}"] = create_standin_app(account.standin)
    graph = DispatcherMiddleware(app.wsgi_app, mounts)
    app.wsgi_app = _loopback_hosts_only(graph)  # type: ignore[method-assign]


def _loopback_hosts_only(wsgi: WSGIApplication) -> WSGIApplication:
    """Refuse requests naming another host: a web page cannot reach the stand-in's control
    endpoints by pointing its own domain at 127.0.0.1 (DNS rebinding)."""
    def guarded(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        host = urlsplit("//" + environ.get("HTTP_HOST", "")).hostname or ""
        if is_loopback(host):
            return wsgi(environ, start_response)
        start_response("403 Forbidden", [("Content-Type", "text/plain")])
        return [b"local mode answers requests to 127.0.0.1 or localhost only"]

    return guarded


def _not_ready(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"starting"]

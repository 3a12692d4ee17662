"""Typed, frozen settings read once from the environment (and `.env`).

A missing or malformed value stops the process at boot with one line naming every bad
variable (`ConfigError`); tests build `Settings(...)` directly. Not pydantic-settings: its
errors span lines, name the field rather than the variable, and quote the input (a
REDIS_URL's password, a SENTRY_DSN's key), so they would be rewritten into that line
anyway, while our own checks and the `__repr__` that hides secrets would stay: it would not
make this module simpler.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values

DEFAULT_GRAPH_API_URL = "https://graph.facebook.com"
DEFAULT_GRAPH_API_VERSION = "v27.0"
PAGE_INBOX_APP_ID = "263902037430900"
LOG_FORMATS = ("text", "json")


class ConfigError(Exception):
    """A configuration value that stops the process at start (one line)."""


@dataclass(frozen=True)
class Settings:
    messenger_app_secret: str | None = None
    messenger_verify_token: str | None = None
    messenger_page_access_token: str | None = None
    messenger_app_id: str | None = None
    graph_api_url: str = DEFAULT_GRAPH_API_URL
    graph_api_version: str = DEFAULT_GRAPH_API_VERSION
    page_inbox_app_id: str = PAGE_INBOX_APP_ID
    database_url: str = "sqlite:///instance/support_desk.db"
    redis_url: str | None = None
    flows_path: str = "config/flows.yaml"
    pages_path: str | None = None  # None: config/pages.yaml if it exists (config.pages)
    smtp_url: str | None = None
    support_email_from: str = "support@localhost"
    inbound_email_token: str | None = None
    admin_api_token: str | None = None
    secret_key: str = field(default="", repr=False)
    public_url: str = "http://localhost:5000"
    instance_path: str = "instance"
    metrics_token: str | None = None
    sentry_dsn: str | None = None
    log_format: str = "text"
    # Tuning, not in SPEC's table: safe defaults, overridable for big pages.
    drain_jobs: int = 4
    drain_threads: int = 32
    lease_ms: int = 30_000
    # How long after a send whose outcome a crash left unknown its echo is awaited
    # before it is sent again (bot.echoes).
    echo_wait_ms: int = 30_000
    send_rate_per_page: int = 250
    # Hosts customers' files are fetched from (attachments.fetch.AllowList)
    attachment_hosts: str = "fbcdn.net,fbsbx.com,cdninstagram.com"
    page_pause_ms: int | None = None  # first Page-wide pause, every state (core.page_health)
    trusted_proxies: int | None = None  # reverse proxies in front: X-Forwarded-For hops to trust
    testing: bool = False

    def __repr__(self) -> str:  # never print secrets
        shown = {f.name: getattr(self, f.name) for f in fields(self) if not _is_secret(f.name)}
        return f"Settings({shown})"

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)


_SECRET_NAMES = ("secret", "token", "password", "dsn")


def _is_secret(name: str) -> bool:
    return any(part in name for part in _SECRET_NAMES)


# env variable -> (field, parser)
_ENV: dict[str, str] = {
    "MESSENGER_APP_SECRET": "messenger_app_secret",
    "MESSENGER_VERIFY_TOKEN": "messenger_verify_token",
    "MESSENGER_PAGE_ACCESS_TOKEN": "messenger_page_access_token",
    "MESSENGER_APP_ID": "messenger_app_id",
    "GRAPH_API_URL": "graph_api_url",
    "GRAPH_API_VERSION": "graph_api_version",
    "PAGE_INBOX_APP_ID": "page_inbox_app_id",
    "DATABASE_URL": "database_url",
    "REDIS_URL": "redis_url",
    "FLOWS_PATH": "flows_path",
    "PAGES_PATH": "pages_path",
    "SMTP_URL": "smtp_url",
    "SUPPORT_EMAIL_FROM": "support_email_from",
    "INBOUND_EMAIL_TOKEN": "inbound_email_token",
    "ADMIN_API_TOKEN": "admin_api_token",
    "SECRET_KEY": "secret_key",
    "PUBLIC_URL": "public_url",
    "SUPPORT_DESK_DRAIN_JOBS": "drain_jobs",
    "SUPPORT_DESK_DRAIN_THREADS": "drain_threads",
    "SEND_RATE_PER_PAGE": "send_rate_per_page",
    "SUPPORT_DESK_LEASE_MS": "lease_ms",
    "SUPPORT_DESK_ECHO_WAIT_MS": "echo_wait_ms",
    "SUPPORT_DESK_PAGE_PAUSE_MS": "page_pause_ms",
    "METRICS_TOKEN": "metrics_token",
    "SENTRY_DSN": "sentry_dsn",
    "LOG_FORMAT": "log_format",
    "ATTACHMENT_HOSTS": "attachment_hosts",
    "TRUSTED_PROXIES": "trusted_proxies",
}

_URL_SCHEMES: dict[str, tuple[str, ...]] = {
    "graph_api_url": ("http", "https"),
    "redis_url": ("redis", "rediss", "unix"),
    "smtp_url": ("smtp", "smtps"),
    "public_url": ("http", "https"),
}


def load_settings(environ: Mapping[str, str] | None = None, *, dotenv: str = ".env") -> Settings:
    """Read settings from `environ` (default: os.environ) over a `.env` file."""
    source: dict[str, str] = {k: v for k, v in dotenv_values(dotenv).items() if v is not None}
    source.update(os.environ if environ is None else environ)
    values: dict[str, object] = {}
    problems: list[str] = []  # every bad variable at once: one restart fixes them all
    for env_name, attr in _ENV.items():
        raw = source.get(env_name, "").strip()
        try:
            if raw:
                values[attr] = _parse(env_name, attr, raw)
        except ConfigError as exc:
            problems.append(str(exc))
    settings = Settings(**values)  # type: ignore[arg-type]
    problems += _check(settings)
    if problems:
        raise ConfigError("; ".join(problems))
    if not settings.secret_key:
        settings = settings.with_(secret_key=instance_secret_key(Path(settings.instance_path)))
    return settings


def _parse(env_name: str, attr: str, raw: str) -> object:
    kind = next(f.type for f in fields(Settings) if f.name == attr)
    if kind in ("int", "int | None"):
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(f"{env_name}: expected a whole number, got {raw!r}") from None
        if value < 1:
            raise ConfigError(f"{env_name}: must be at least 1, got {value}")
        return value
    if attr in _URL_SCHEMES:
        _check_url(env_name, raw, _URL_SCHEMES[attr])
    if attr == "graph_api_version" and not (raw.startswith("v") and _is_version(raw[1:])):
        raise ConfigError(f"{env_name}: expected a version like v27.0, got {raw!r}")
    if attr == "log_format" and raw not in LOG_FORMATS:
        raise ConfigError(f"{env_name}: expected one of {', '.join(LOG_FORMATS)}, got {raw!r}")
    if attr == "sentry_dsn":
        _check_url(env_name, raw, ("http", "https"))
    if attr == "database_url" and "://" not in raw:
        raise ConfigError(f"{env_name}: not an SQLAlchemy URL (e.g. postgresql+psycopg://...)")
    return raw


def _is_version(text: str) -> bool:
    major, _, minor = text.partition(".")
    return major.isdigit() and minor.isdigit()


def _check_url(env_name: str, raw: str, schemes: tuple[str, ...]) -> None:
    try:
        parts = urlsplit(raw)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise ConfigError(f"{env_name}: not a valid URL ({exc})") from None
    if parts.scheme not in schemes or not (parts.netloc or parts.scheme == "unix"):
        wanted = ", ".join(f"{s}://" for s in schemes)
        raise ConfigError(f"{env_name}: expected a URL starting with {wanted}")


def _check(settings: Settings) -> list[str]:
    problems = []
    if settings.messenger_app_id and not settings.messenger_app_id.isdigit():
        problems.append("MESSENGER_APP_ID: expected the numeric app id")
    if not settings.page_inbox_app_id.isdigit():
        problems.append("PAGE_INBOX_APP_ID: expected a numeric app id")
    if not settings.secret_key and settings.redis_url:  # processes on other machines: one key
        problems.append("SECRET_KEY: required when REDIS_URL is set (the same value on "
                        "every process and machine)")
    return problems


def require_app_id(settings: Settings) -> None:
    """The web and the worker serve a real Page only knowing this app's id: without it, this
    app's own echoes, the Page Inbox's and other apps' cannot be told apart."""
    if settings.messenger_app_id:
        return
    if settings.messenger_page_access_token:
        raise ConfigError("MESSENGER_APP_ID: required when MESSENGER_PAGE_ACCESS_TOKEN is set "
                          "(this app's id, from the App Dashboard)")
    if settings.pages_path or Path("config/pages.yaml").exists():
        raise ConfigError("MESSENGER_APP_ID: required when a pages file is used "
                          "(this app's id, from the App Dashboard)")


def instance_secret_key(instance: Path) -> str:
    """SECRET_KEY default on one machine: generated once into instance/ and kept there.

    Processes started together all end up with the first key written: each writes its
    own candidate to a private temporary file (mode 0600 from creation) and links it
    into place, which fails if a key is already there; then all read the one in place.
    The file is never world-readable nor half-written."""
    path = instance / "secret_key"
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        fd, candidate = tempfile.mkstemp(dir=instance, prefix=".secret_key.")  # mode 0600
        try:
            with os.fdopen(fd, "w") as file:
                file.write(secrets.token_hex(32))
                file.flush()
                os.fsync(file.fileno())
            try:
                os.link(candidate, path)  # never replaces: the first starter's key wins
            except FileExistsError:
                pass
        finally:
            os.unlink(candidate)
    if path.stat().st_mode & 0o077:  # written by an older version: not for others' eyes
        path.chmod(0o600)
    key = path.read_text().strip()
    if not key:
        raise ConfigError(f"SECRET_KEY: not set and {path} is empty (delete it, or set SECRET_KEY)")
    return key


def as_environ(settings: Settings) -> dict[str, str]:
    """The environment that `load_settings` reads back as `settings` (for
    starting worker processes from tests and benchmarks)."""
    environ = {}
    for env_name, attr in _ENV.items():
        value = getattr(settings, attr)
        if value is not None and value != "":
            environ[env_name] = str(value)
    return environ

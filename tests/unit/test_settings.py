"""Bad configuration stops a process at boot with one line naming every bad variable
(SPEC "Configuration"): never a traceback, never only the first of several mistakes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from config.settings import ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[2]

BAD = {
    "SEND_RATE_PER_PAGE": ("fast", "SEND_RATE_PER_PAGE: expected a whole number, got 'fast'"),
    "SUPPORT_DESK_DRAIN_JOBS": ("0", "SUPPORT_DESK_DRAIN_JOBS: must be at least 1, got 0"),
    "REDIS_URL": ("http://cache:6379",
                  "REDIS_URL: expected a URL starting with redis://, rediss://, unix://"),
    "PUBLIC_URL": ("https://desk:port", "PUBLIC_URL: not a valid URL"),
    "SMTP_URL": ("mail.example.com", "SMTP_URL: expected a URL starting with smtp://, smtps://"),
    "GRAPH_API_VERSION": ("27", "GRAPH_API_VERSION: expected a version like v27.0, got '27'"),
    "LOG_FORMAT": ("xml", "LOG_FORMAT: expected one of text, json, got 'xml'"),
    "DATABASE_URL": ("desk.db", "DATABASE_URL: not an SQLAlchemy URL"),
    "SENTRY_DSN": ("sentry.example.com/1", "SENTRY_DSN: expected a URL starting with http://"),
    "MESSENGER_APP_ID": ("my-app", "MESSENGER_APP_ID: expected the numeric app id"),
    "PAGE_INBOX_APP_ID": ("inbox", "PAGE_INBOX_APP_ID: expected a numeric app id"),
}


def _load(tmp_path: Path, **environ: str) -> None:
    load_settings({"SECRET_KEY": "k", **environ}, dotenv=str(tmp_path / "none.env"))


@pytest.mark.parametrize("name", sorted(BAD))
def test_a_bad_value_is_one_line_naming_its_variable(tmp_path: Path, name: str) -> None:
    value, expected = BAD[name]
    with pytest.raises(ConfigError) as refused:
        _load(tmp_path, **{name: value})
    assert str(refused.value).startswith(expected)
    assert "\n" not in str(refused.value)


def test_every_bad_value_is_reported_at_once(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as refused:
        _load(tmp_path, **{name: value for name, (value, _) in BAD.items()})
    reported = str(refused.value).split("; ")
    assert sorted(problem.split(":")[0] for problem in reported) == sorted(BAD)
    for problem in reported:
        assert problem.startswith(BAD[problem.split(":")[0]][1])
    assert "\n" not in str(refused.value)


def test_a_secret_is_never_quoted_in_the_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as refused:
        _load(tmp_path, MESSENGER_PAGE_ACCESS_TOKEN="EAAG-very-secret", LOG_FORMAT="xml")
    assert "very-secret" not in str(refused.value)


def test_the_web_process_stops_with_one_line_naming_both_bad_variables(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "REDIS_URL")}
    env.update(PYTHONPATH=str(ROOT), SECRET_KEY="k", LOG_FORMAT="xml", SEND_RATE_PER_PAGE="fast")
    done = subprocess.run([sys.executable, "-c", "import app; app.app"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "configuration error: SEND_RATE_PER_PAGE: expected a whole number, got 'fast'; "
        "LOG_FORMAT: expected one of text, json, got 'xml'"]

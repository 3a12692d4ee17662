"""`flask messenger setup-profile | subscribe | status` against the Graph API stand-in over HTTP."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result
from flask import Flask

from bot.flows.loader import load_flows
from core import runtime
from messenger.profile import build_profile
from messenger.standin import Standin
from messenger.standin.validate_profile import profile_body
from messenger.subscription import WEBHOOK_FIELDS
from tests.conftest import ROOT, make_settings
from tests.support import payloads as p

pytestmark = pytest.mark.e2e
Cli = Callable[..., Result]


@pytest.fixture
def make_app(tmp_path: Path, standin: tuple[Standin, str]) -> Iterator[Callable[..., Flask]]:
    from app import create_app

    apps: list[Flask] = []

    def make(**overrides: object) -> Flask:
        settings = make_settings(tmp_path, graph_api_url=standin[1], **overrides)
        apps.append(create_app(settings))
        return apps[-1]

    yield make
    runtime.install(None)
    for app in apps:
        app.extensions["runtime"].engine.dispose()


@pytest.fixture
def cli(make_app: Callable[..., Flask]) -> Cli:
    app = make_app()
    return lambda *args: app.test_cli_runner().invoke(args=["messenger", *args])


def test_dry_run_prints_a_profile_within_messengers_limits_and_sends_nothing(
        cli: Cli, standin: tuple[Standin, str]) -> None:
    fake, _ = standin
    result = cli("setup-profile", "--dry-run")
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert profile_body(body, {}) is None  # what Facebook would refuse, checked by the stand-in
    greetings = {entry["locale"]: entry["text"] for entry in body["greeting"]}
    assert list(greetings) == ["default", "pt_BR", "pt_PT", "en_US", "en_GB", "es_LA", "es_ES"]
    assert greetings["pt_PT"] == greetings["pt_BR"] and greetings["pt_BR"].startswith("Olá")
    assert all(len(entry["text"]) <= 160 for entry in body["greeting"])
    for menu in body["persistent_menu"]:
        assert 1 <= len(menu["call_to_actions"]) <= 20
        assert all(len(item["title"]) <= 30 for item in menu["call_to_actions"])
    assert fake.calls == []


def test_setup_profile_sets_it_once_and_then_sees_it_is_up_to_date(
        cli: Cli, standin: tuple[Standin, str]) -> None:
    fake, _ = standin
    result = cli("setup-profile")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Messenger profile set: Get Started; greeting (default, pt_BR, pt_PT, "
                                    "en_US, en_GB, es_LA, es_ES); persistent menu in 7 locales")
    assert fake.messenger_profile == build_profile(load_flows(ROOT / "config" / "flows.yaml"))
    again = cli("setup-profile")
    assert again.output.startswith("Messenger profile already up to date")
    posts = [call for call in fake.calls if call[0] == "POST"]
    assert posts == [("POST", "/v27.0/me/messenger_profile", 200)]  # Meta allows 10 per 10 min


def test_a_profile_messenger_would_refuse_is_reported_and_nothing_is_sent(
        make_app: Callable[..., Flask], standin: tuple[Standin, str], tmp_path: Path) -> None:
    fake, _ = standin
    app = make_app(flows_path=str(_with_locale_xx(tmp_path)))
    result = app.test_cli_runner().invoke(args=["messenger", "setup-profile"])
    assert result.exit_code == 1
    assert "'xx' is not a Messenger locale" in result.output
    assert result.output.rstrip().endswith(
        "error: the Messenger profile breaks Messenger's limits; nothing was sent")
    assert fake.calls == []


def _with_locale_xx(tmp_path: Path) -> Path:
    """A valid flows file whose second language Messenger does not know."""
    path = tmp_path / "xx.yaml"
    path.write_text("""\
default_locale: en
locales: [en, xx]
greeting: {en: "Hi {first_name}!", xx: "Xi {first_name}!"}
menu: {text: {en: Pick, xx: Pik}, items: [restart]}
fallback: {en: Sorry, xx: Sori}
flows:
  restart: {title: {en: Restart, xx: Ristart}, action: restart}
""")
    return path


def test_without_a_page_token_the_commands_say_so_in_one_line(
        make_app: Callable[..., Flask]) -> None:
    app = make_app(messenger_page_access_token=None)
    for command in ("setup-profile", "subscribe", "status"):
        result = app.test_cli_runner().invoke(args=["messenger", command])
        assert result.exit_code == 1
        assert result.output.startswith("error: MESSENGER_PAGE_ACCESS_TOKEN is not set")
        assert len(result.output.strip().splitlines()) == 1


def test_status_shows_each_set_up_mistake_then_all_clear_after_subscribe_and_setup(
        cli: Cli, standin: tuple[Standin, str]) -> None:
    fake, _ = standin
    before = cli("status")
    assert before.exit_code == 1
    assert f"Page {p.PAGE_ID}" in before.output
    assert f"[!!] webhook: app {p.APP_ID} is not subscribed" in before.output
    assert "[ok] routing: Conversation Routing (hop_v2=false, msgr_multi_app=true" in before.output
    assert "[!!] profile: get_started, greeting, persistent_menu not set" in before.output

    subscribed = cli("subscribe")
    assert subscribed.output == f"Page {p.PAGE_ID}: this app now receives {', '.join(WEBHOOK_FIELDS)}\n"
    assert fake.subscribed_fields == list(WEBHOOK_FIELDS)
    assert cli("setup-profile").exit_code == 0

    fake.add_user("777")
    fake.customer_says("777", "hello")
    fake.agent_says("777", "Hi, I'm Marta")
    after = cli("status", "--psid", "777")
    assert after.exit_code == 0, after.output
    assert "[ok] webhook: app 2000000002 receives messages, messaging_postbacks" in after.output
    assert "777's thread: the Page Inbox" in after.output
    assert "[ok] profile: as in" in after.output
    assert "[!!]" not in after.output


def test_a_refused_call_is_one_line_without_the_token(make_app: Callable[..., Flask]) -> None:
    app = make_app(messenger_page_access_token="EAAwrong-token-1234567890abcdef")
    result = app.test_cli_runner().invoke(args=["messenger", "subscribe", "--page-id", p.PAGE_ID])
    assert result.exit_code == 1
    assert result.output.startswith("error: subscribing: Facebook refused:")
    assert "EAAwrong" not in result.output and len(result.output.strip().splitlines()) == 1

"""The Messenger profile built from the flows file, and the limits it is checked against."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from bot.flows.loader import load_flows
from bot.flows.schema import Flows
from messenger.profile import build_profile, check_profile, menu_flows
from messenger.standin.validate_profile import profile_body
from tests.conftest import ROOT

SMALL_FLOWS = """\
default_locale: en
locales: [en, {second}]
greeting: {{en: "Hi {{first_name}}!", {second}: "Olá {{first_name}}!"}}
menu:
  text: {{en: Pick one, {second}: Escolha}}
  items: [restart]
fallback: {{en: Sorry, {second}: Desculpe}}
flows:
  restart:
    title: {{en: Start again, {second}: Recomeçar}}
    action: restart
"""


@pytest.fixture(scope="module")
def flows() -> Flows:
    return load_flows(ROOT / "config" / "flows.yaml")


def small_flows(tmp_path: Path, second: str) -> Flows:
    path = tmp_path / "flows.yaml"
    path.write_text(SMALL_FLOWS.format(second=second))
    return load_flows(path)


def test_the_shipped_flows_make_a_profile_messenger_accepts(flows: Flows) -> None:
    body = build_profile(flows)
    assert check_profile(body) == []
    assert profile_body(body, {}) is None  # the stand-in checks it as Facebook would
    assert body["get_started"] == {"payload": "GET_STARTED"}
    locales = [entry["locale"] for entry in body["greeting"]]
    assert locales == ["default", "pt_BR", "pt_PT", "en_US", "en_GB", "es_LA", "es_ES"]
    greetings = {entry["locale"]: entry["text"] for entry in body["greeting"]}
    assert greetings["es_LA"].startswith("¡Hola {{user_first_name}}!")
    assert greetings["pt_BR"].startswith("Olá, {{user_first_name}}!")
    assert greetings["pt_PT"] == greetings["pt_BR"]
    assert greetings["default"].startswith("Hi {{user_first_name}}!")
    assert all(len(text) <= 160 and "{first_name}" not in text for text in greetings.values())


def test_the_menu_offers_the_fixed_actions_in_every_locale_with_routable_payloads(flows: Flows) -> None:
    body = build_profile(flows)
    chosen = menu_flows(flows)
    assert [flow.action for flow in chosen] == [
        action for action in ("live_agent", "resume_bot", "restart", "create_ticket")
        if any(f.action == action for f in flows.flows.values())]
    menus = {menu["locale"]: menu["call_to_actions"] for menu in body["persistent_menu"]}
    assert list(menus) == ["default", "pt_BR", "pt_PT", "en_US", "en_GB", "es_LA", "es_ES"]
    assert [item["title"] for item in menus["es_LA"]] == [flows.title(f.id, "es") for f in chosen]
    assert [item["title"] for item in menus["pt_PT"]] == [flows.title(f.id, "pt_BR") for f in chosen]
    assert [item["title"] for item in menus["default"]] == [flows.title(f.id, "en") for f in chosen]
    for items in menus.values():
        assert 1 <= len(items) <= 20
        for item in items:
            assert item["type"] == "postback" and 1 <= len(item["title"]) <= 30
            assert item["payload"].removeprefix("flow:") in flows.flows


def test_a_locale_written_as_messenger_names_it_is_used_as_is(tmp_path: Path) -> None:
    body = build_profile(small_flows(tmp_path, "pt_BR"))
    # pt_PT customers are answered in pt_BR by the bot, so their greeting is the pt_BR one
    assert [entry["locale"] for entry in body["greeting"]] == ["default", "pt_BR", "pt_PT", "en_US", "en_GB"]
    assert body["persistent_menu"][1]["call_to_actions"][0]["title"] == "Recomeçar"
    assert check_profile(body) == []


def test_a_language_messenger_does_not_know_is_reported(tmp_path: Path) -> None:
    problems = check_profile(build_profile(small_flows(tmp_path, "xx")))
    assert "greeting: 'xx' is not a Messenger locale" in problems[0]
    assert any(problem.startswith("persistent_menu: 'xx'") for problem in problems)


def test_each_messenger_limit_is_reported_before_sending(flows: Flows) -> None:
    good = build_profile(flows)

    def problems_after(change) -> list[str]:  # type: ignore[no-untyped-def]
        body = copy.deepcopy(good)
        change(body)
        return check_profile(body)

    assert problems_after(lambda b: b.pop("get_started")) == ["get_started.payload: required"]
    assert problems_after(lambda b: b["greeting"].pop(0)) == [
        "greeting: an entry with locale default is required"]
    long_greeting = problems_after(lambda b: b["greeting"][1].update(text="x" * 161))
    assert long_greeting == ["greeting[pt_BR]: 161 characters; Messenger allows at most 160"]
    long_title = problems_after(
        lambda b: b["persistent_menu"][0]["call_to_actions"][0].update(title="t" * 31))
    assert long_title == [f"persistent_menu[default]: title {'t' * 31!r} has 31 characters; "
                          "1 to 30 allowed"]
    many = problems_after(lambda b: b["persistent_menu"][0].update(
        call_to_actions=b["persistent_menu"][0]["call_to_actions"] * 21))
    assert many[0].startswith("persistent_menu[default]: ") and "1 to 20" in many[0]
    twice = problems_after(lambda b: b["greeting"].append(dict(b["greeting"][0])))
    assert twice == ["greeting: locale default appears twice"]

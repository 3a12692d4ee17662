"""Instagram's ice breakers from the flows: the menu's first four keywords, every locale."""

from __future__ import annotations

import json

import pytest
import responses
from responses import matchers

from bot.flows.loader import load_flows
from bot.flows.schema import Flows
from messenger.graph import GraphClient
from messenger.ice_breakers import (
    QUESTIONS_MAX,
    build_ice_breakers,
    check_ice_breakers,
    set_ice_breakers,
)
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def flows() -> Flows:
    return load_flows(ROOT / "config" / "flows.yaml")


def test_the_shipped_flows_make_ice_breakers_instagram_accepts(flows: Flows) -> None:
    body = build_ice_breakers(flows)
    assert check_ice_breakers(body) == []
    assert body["platform"] == "instagram"
    assert not {"get_started", "greeting", "persistent_menu"} & set(body)
    default, *others = body["ice_breakers"]
    assert default["locale"] == "default"
    assert [a["payload"] for a in default["call_to_actions"]] == [
        f"flow:{fid}" for fid in flows.menu.items[:QUESTIONS_MAX]]
    spanish = next(e for e in others if e["locale"] == "es_LA")
    assert [a["question"] for a in spanish["call_to_actions"]] == [
        flows.title(fid, "es") for fid in flows.menu.items[:QUESTIONS_MAX]]


def test_what_instagram_refuses_is_named(flows: Flows) -> None:
    body = build_ice_breakers(flows)
    too_many = {**body, "ice_breakers": [{**body["ice_breakers"][0], "call_to_actions":
                                          body["ice_breakers"][0]["call_to_actions"] * 2}]}
    assert any("8 questions" in p for p in check_ice_breakers(too_many))
    no_default = {**body, "ice_breakers": body["ice_breakers"][1:]}
    assert any("locale default is required" in p for p in check_ice_breakers(no_default))
    with_greeting = {**body, "greeting": [{"locale": "default", "text": "Hi"}]}
    assert any(p.startswith("greeting: Instagram has none") for p in check_ice_breakers(with_greeting))


PROFILE = "https://graph.facebook.com/v27.0/me/messenger_profile"


def test_setting_them_asks_instagram_first_and_sends_only_a_change(flows: Flows) -> None:
    client = GraphClient(access_token="PAGE-TOKEN-x", app_secret="secret", sleep=lambda _: None)
    platform = matchers.query_param_matcher({"platform": "instagram"}, strict_match=False)
    with responses.RequestsMock() as mocked:
        mocked.get(PROFILE, json={"data": []}, match=[platform])
        mocked.post(PROFILE, json={"result": "success"}, match=[platform])
        body, sent = set_ice_breakers(client, flows)
        assert sent and json.loads(mocked.calls[1].request.body) == body
    with responses.RequestsMock() as mocked:
        mocked.get(PROFILE, json={"data": [{"ice_breakers": body["ice_breakers"]}]},
                   match=[platform])
        assert set_ice_breakers(client, flows) == (body, False)  # no POST: already set

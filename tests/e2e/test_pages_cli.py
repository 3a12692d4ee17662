"""`flask pages list | check` and `flask messenger ...` per Page, against a two-Page stand-in."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from flask import Flask
from flask.testing import FlaskCliRunner

from bot.flows import load_flows
from bot.page_checks import check_pages_if_due
from core import runtime
from messenger.profile import build_profile
from messenger.standin import Standin, serve_standin
from messenger.subscription import WEBHOOK_FIELDS
from tests.conftest import ROOT, make_settings
from tests.support import payloads as p

pytestmark = pytest.mark.e2e
Cli = Callable[..., Result]
FLOWS = ROOT / "config" / "flows.yaml"


@pytest.fixture
def pages() -> Iterator[tuple[Standin, Standin, str]]:
    spain, france = (Standin(page_id=page_id, app_id=p.APP_ID, app_secret=p.APP_SECRET,
                             access_token=token)
                     for page_id, token in (("1001", "token-es"), ("1002", "token-fr")))
    spain.page_name, france.page_name = "Shop Spain", "Shop France"
    spain.link_instagram("1784001")  # the pages file lists it: status reads its ice breakers
    server, url = serve_standin(spain, others=[france])
    yield spain, france, url
    server.shutdown()
    spain.close()
    france.close()


def _app(tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch, pages_yaml: str,
         env: dict[str, str]) -> Iterator[Flask]:
    from app import create_app

    (tmp_path / "pages.yaml").write_text(pages_yaml)
    for name, value in env.items():  # Page tokens come from the environment
        monkeypatch.setenv(name, value)
    app = create_app(make_settings(tmp_path, graph_api_url=url, messenger_page_access_token=None,
                                   pages_path=str(tmp_path / "pages.yaml")))
    yield app
    runtime.install(None)
    app.extensions["runtime"].engine.dispose()


def _cli(*args: Any) -> Iterator[Cli]:
    for app in _app(*args):
        yield partial(_invoke, app.test_cli_runner())


def _invoke(runner: FlaskCliRunner, *words: str) -> Result:
    return runner.invoke(args=list(words))


TWO = """\
pages:
  - id: "1001"
    name: Shop Spain
    token_env: ES_TOKEN
    instagram_id: "1784001"
    instagram_username: shop_es
  - id: "1002"
    name: Shop France
    token_env: FR_TOKEN
"""


@pytest.fixture
def cli(tmp_path: Path, pages, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:  # type: ignore[no-untyped-def]
    yield from _cli(tmp_path, pages[2], monkeypatch, TWO, {"ES_TOKEN": "token-es", "FR_TOKEN": "token-fr"})


def test_pages_list_shows_each_page_and_never_a_token(cli: Cli) -> None:
    result = cli("pages", "list")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].endswith("pages.yaml: 2 Page(s), 1 Instagram account(s)")
    assert lines[1].split("\t") == ["1001", "Shop Spain", "token: $ES_TOKEN", f"flows: {FLOWS}",
                                    "instagram: 1784001 (@shop_es)"]
    assert lines[2].startswith("1002\tShop France\ttoken: $FR_TOKEN")
    assert "token-es" not in result.output and "token-fr" not in result.output


def test_pages_check_says_each_token_works(cli: Cli) -> None:
    result = cli("pages", "check")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["[ok] 1001 Shop Spain: token works (Shop Spain)",
                                          "[ok] 1002 Shop France: token works (Shop France)"]


def test_pages_check_finds_a_swapped_and_an_invalid_token(
        tmp_path: Path, pages, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    three = TWO + '  - id: "1003"\n    name: Shop Italy\n    token_env: IT_TOKEN\n'
    # Spain's and France's tokens swapped; Italy's token is unknown to Facebook
    env = {"ES_TOKEN": "token-fr", "FR_TOKEN": "token-es", "IT_TOKEN": "token-it"}
    for cli in _cli(tmp_path, pages[2], monkeypatch, three, env):
        result = cli("pages", "check")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == ("[!!] 1001 Shop Spain: token is for Page 1002 (Shop France), not 1001: "
                        "check $ES_TOKEN")
    assert lines[2].startswith("[!!] 1003 Shop Italy: token invalid ($IT_TOKEN: code 190")
    assert lines[1].startswith("[!!] 1002 Shop France: token is for Page 1001 (Shop Spain)")
    assert "3 Page(s) with a problem" in result.output
    assert "token-it" not in result.output


def test_messenger_commands_run_for_each_page_or_one(cli: Cli, pages) -> None:  # type: ignore[no-untyped-def]
    spain, france, _ = pages
    result = cli("messenger", "subscribe")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "Page 1001 (Shop Spain):"
    assert spain.subscribed_fields == list(WEBHOOK_FIELDS) == france.subscribed_fields

    only = cli("messenger", "setup-profile", "--page", "1002")
    assert only.exit_code == 0, only.output
    assert france.messenger_profile == build_profile(load_flows(FLOWS))
    assert spain.messenger_profile == {}

    status = cli("messenger", "status")
    assert status.exit_code == 1  # Spain has no profile yet
    assert "[ok] token: is Page 1001's" in status.output
    assert "1 of 2 Page(s) failed" in status.output

    unknown = cli("messenger", "status", "--page", "999")
    assert unknown.exit_code == 1 and "--page 999: not a Page of" in unknown.output


def test_the_workers_page_check_and_healthz_report_each_page(
        tmp_path: Path, pages, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    spain, _france, url = pages
    spain.page.subscribe(list(WEBHOOK_FIELDS))
    three = TWO + '  - id: "1003"\n    name: Shop Italy\n    token_env: IT_TOKEN\n'
    env = {"ES_TOKEN": "token-es", "FR_TOKEN": "token-es", "IT_TOKEN": "token-it"}
    for app in _app(tmp_path, url, monkeypatch, three, env):
        rt = app.extensions["runtime"]
        rt.redis.flushall()
        assert check_pages_if_due(rt)
        health = app.test_client().get("/healthz").get_json()["pages"]
    assert health["1001"] == {"name": "Shop Spain", "state": "ok", "instagram_id": "1784001"}
    assert health["1002"]["state"] == "ok"  # answers go out, but with the wrong Page's token
    assert "is the token of Page 1001, not 1002" in health["1002"]["token_mismatch"]
    assert health["1003"]["state"] == "token_invalid" and health["1003"]["name"] == "Shop Italy"

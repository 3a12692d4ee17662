"""`flask messenger setup-profile` for a Page with a linked Instagram account: the Page gets
its Messenger profile, the Instagram account only ice breakers (stand-in over HTTP)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.flows import load_flows
from messenger.ice_breakers import build_ice_breakers
from messenger.profile import build_profile
from messenger.standin import Standin, serve_standin
from tests.conftest import ROOT
from tests.e2e.test_pages_cli import TWO, Cli, _cli
from tests.support import payloads as p

pytestmark = pytest.mark.e2e
FLOWS = ROOT / "config" / "flows.yaml"


@pytest.fixture
def spain() -> Iterator[tuple[Standin, str]]:
    page = Standin(page_id="1001", app_id=p.APP_ID, app_secret=p.APP_SECRET,
                   access_token="token-es")
    page.link_instagram("1784001")
    server, url = serve_standin(page)
    yield page, url
    server.shutdown()
    page.close()


@pytest.fixture
def cli(tmp_path: Path, spain: tuple[Standin, str], monkeypatch: pytest.MonkeyPatch
        ) -> Iterator[Cli]:
    yield from _cli(tmp_path, spain[1], monkeypatch, TWO,
                    {"ES_TOKEN": "token-es", "FR_TOKEN": "token-fr"})


def test_setup_profile_sets_instagram_ice_breakers_and_nothing_else_there(
        cli: Cli, spain: tuple[Standin, str]) -> None:
    page, _ = spain
    flows = load_flows(FLOWS)
    result = cli("messenger", "setup-profile", "--page", "1001")
    assert result.exit_code == 0, result.output
    assert page.messenger_profile == build_profile(flows)
    assert page.instagram is not None
    expected = {k: v for k, v in build_ice_breakers(flows).items() if k != "platform"}
    assert page.instagram.messenger_profile == expected  # no Get Started, greeting or menu
    assert "Instagram 1784001: Instagram ice breakers in" in result.output
    again = cli("messenger", "setup-profile", "--page", "1001")
    assert "already up to date" in again.output.splitlines()[-1]
    posts = [c for c in page.calls if c[0] == "POST" and c[1].endswith("messenger_profile")]
    assert len(posts) == 2  # one per profile, none the second time


def test_dry_run_prints_the_ice_breakers_and_sends_nothing(
        cli: Cli, spain: tuple[Standin, str]) -> None:
    result = cli("messenger", "setup-profile", "--page", "1001", "--dry-run")
    assert result.exit_code == 0, result.output
    assert '"ice_breakers"' in result.output and '"platform": "instagram"' in result.output
    assert spain[0].instagram is not None and spain[0].instagram.messenger_profile == {}


def test_status_checks_the_instagram_ice_breakers(cli: Cli, spain: tuple[Standin, str]) -> None:
    before = cli("messenger", "status", "--page", "1001")
    assert "[!!] instagram 1784001: ice breakers not set" in before.output
    cli("messenger", "setup-profile", "--page", "1001")
    after = cli("messenger", "status", "--page", "1001")
    assert "[ok] instagram 1784001: ice breakers as in the flows" in after.output

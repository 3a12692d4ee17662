"""Local mode without a browser: what it refuses, what production never serves, and the
preview's server side (the real pipeline behind the stand-in, live flows problems)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from core import runtime
from preview.local import LocalService, refuse_reason, start_local
from tests.conftest import ROOT, make_settings
from tests.support.servers import wait_until


def start(tmp_path: Path, **overrides: object) -> LocalService:
    from app import create_app

    settings = make_settings(tmp_path, messenger_page_access_token=None, **overrides)
    return start_local(settings, create_app, port=0)


@pytest.fixture
def local(tmp_path: Path) -> Iterator[LocalService]:
    flows = tmp_path / "flows.yaml"
    shutil.copy(ROOT / "config" / "flows.yaml", flows)
    service = start(tmp_path, flows_path=str(flows))
    yield service
    service.stop()
    runtime.install(None)


def test_local_mode_refuses_real_credentials_redis_and_public_addresses(tmp_path: Path) -> None:
    safe = make_settings(tmp_path, messenger_page_access_token=None)
    assert refuse_reason(safe, "127.0.0.1") is None
    assert refuse_reason(safe, "localhost") is None
    assert refuse_reason(safe, "::1") is None
    assert "MESSENGER_PAGE_ACCESS_TOKEN" in str(refuse_reason(make_settings(tmp_path), "127.0.0.1"))
    with_redis = safe.with_(redis_url="redis://127.0.0.1:6379/0")
    assert "REDIS_URL" in str(refuse_reason(with_redis, "127.0.0.1"))
    assert "loopback" in str(refuse_reason(safe, "0.0.0.0"))
    assert "loopback" in str(refuse_reason(safe, "192.168.1.20"))


def test_python_app_py_with_a_page_token_stops_with_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "MESSENGER_PAGE_ACCESS_TOKEN": "EAAreal-token-value-123", "PYTHONPATH": str(ROOT)}
    env.pop("REDIS_URL", None)
    done = subprocess.run([sys.executable, str(ROOT / "app.py"), "--port", "0"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [  # a token without the app secret
        "cannot start: MESSENGER_PAGE_ACCESS_TOKEN is set but MESSENGER_APP_SECRET is not: set it "
        "for the real service (README, \"Setting up your Facebook Page\"), or unset the Page token "
        "for the local preview"]
    assert "EAAreal" not in done.stdout + done.stderr


def test_production_app_serves_neither_the_stand_in_nor_the_preview(tmp_path: Path) -> None:
    from app import create_app

    app = create_app(make_settings(tmp_path))
    try:
        client = app.test_client()
        for path in ("/preview", "/preview/api/status", "/_graph/_standin/config",
                     "/_graph/v27.0/me/messenger_profile"):
            assert client.get(path).status_code == 404, path
    finally:
        runtime.install(None)
        app.extensions["runtime"].engine.dispose()


def test_preview_page_and_a_customer_through_the_real_pipeline(local: LocalService) -> None:
    page = requests.get(local.url + "/", timeout=5)
    assert page.url == local.preview_url and "Page Inbox" in page.text
    status = requests.get(local.url + "/preview/api/status", timeout=5).json()
    assert status["problems"] == [] and [x["meta"] for x in status["locales"]] == ["en_US", "es_LA", "pt_BR"]
    assert status["profile"]["get_started"] == {"payload": "GET_STARTED"}

    control = local.url + "/_graph/_standin"
    requests.post(control + "/users", json={"psid": "42", "first_name": "Lucía", "locale": "es_LA"},
                  timeout=5).raise_for_status()
    requests.post(control + "/customer_says", json={"psid": "42", "text": "hola"},
                  timeout=5).raise_for_status()
    sent = requests.get(control + "/sent/42", params={"count": 1}, timeout=15).json()["data"]
    assert "¡Hola Lucía!" in sent[0]["message"]["text"]
    assert "Facturación" in [q["title"] for q in sent[0]["message"]["quick_replies"]]
    # The stand-in delivered a signed webhook to our /webhook, and our app answered it.
    assert local.standin.delivery_failures == []
    assert any(call[1].endswith("/me/messages") for call in local.standin.calls)


def test_requests_naming_another_host_are_refused(local: LocalService) -> None:
    for path in ("/preview", "/_graph/_standin/config", "/webhook"):
        rebound = requests.get(local.url + path, headers={"Host": "attacker.example:5000"}, timeout=5)
        assert rebound.status_code == 403, path
    assert requests.get(local.url + "/_graph/_standin/config", timeout=5).status_code == 200


def test_a_broken_flows_file_shows_file_and_line_and_a_fixed_one_updates_the_menu(
        local: LocalService) -> None:
    path = Path(local.runtime.settings.flows_path)
    good = path.read_text()
    status_url = local.url + "/preview/api/status"

    path.write_text(good.replace("menu:\n", "menu:\n  - [broken\n", 1))
    problems = wait_until(lambda: requests.get(status_url, timeout=5).json()["problems"], timeout=10)
    assert problems[0].startswith(f"{path}:") and problems[0].split(":")[1].isdigit()

    restart = "title: {en: Restart, es: Reiniciar, pt_BR: Recomeçar}"
    assert restart in good
    path.write_text(good.replace(restart, "title: {en: Start over, es: Empezar de nuevo, pt_BR: Recomeçar}"))

    def menu_titles() -> list[str]:
        status = requests.get(status_url, timeout=5).json()
        menus = status["profile"]["persistent_menu"]
        return [] if status["problems"] else [i["title"] for i in menus[0]["call_to_actions"]]

    assert "Start over" in wait_until(lambda: "Start over" in menu_titles() and menu_titles())

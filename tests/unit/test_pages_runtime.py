"""Runtime per Page: each account's Graph client and flows, the pages file's reload."""

from __future__ import annotations

import io
import logging
import os
from pathlib import Path

import pytest
from redis import Redis

from config.pages import UnknownAccount
from config.pages_store import PagesStore
from core.logs import configure_logging
from core.runtime import Runtime, build_runtime
from tests.conftest import ROOT, make_settings
from tests.unit.test_logs import lines  # noqa: F401, F811 - the fixture

FLOWS = str(ROOT / "config" / "flows.yaml")
ENV = {"ES_TOKEN": "EAAes-token", "FR_TOKEN": "EAAfr-token"}
PAGES = """\
pages:
  - id: "1001"
    name: Shop Spain
    token_env: ES_TOKEN
    instagram_id: "1784001"
  - id: "1002"
    name: Shop France
    token_env: FR_TOKEN
    flows: {flows}
"""


@pytest.fixture
def rt(tmp_path: Path, redis: Redis, redis_url: str) -> Runtime:
    other_flows = tmp_path / "flows-fr.yaml"
    other_flows.write_text(Path(FLOWS).read_text())
    pages = tmp_path / "pages.yaml"
    pages.write_text(PAGES.format(flows=other_flows))
    settings = make_settings(tmp_path, redis_url=redis_url, pages_path=str(pages))
    runtime = build_runtime(settings)
    runtime.pages_store = PagesStore(settings, ENV)
    yield runtime
    runtime.engine.dispose()


def test_each_account_gets_its_own_pages_token(rt: Runtime) -> None:
    spain, france = rt.graph_for("1001"), rt.graph_for("1002")
    assert spain.access_token == "EAAes-token" and france.access_token == "EAAfr-token"
    assert rt.graph_for("1784001") is spain  # Instagram answers through its linked Page
    assert rt.graph_for("1001") is spain  # one pooled client per Page, not one per call


def test_an_account_not_served_is_a_named_error(rt: Runtime) -> None:
    with pytest.raises(UnknownAccount, match="9999"):
        rt.graph_for("9999")
    with pytest.raises(UnknownAccount):
        rt.account("9999")
    assert rt.account("1784001").channel == "instagram"


def test_each_page_has_its_flows_file(rt: Runtime, tmp_path: Path) -> None:
    assert rt.flows_for("1001") is rt.flows  # no file of its own: FLOWS_PATH
    assert rt.flows_for("1002").path == tmp_path / "flows-fr.yaml"
    assert rt.flows_for("1002") is rt.flows_for("1002")


def test_single_page_mode_serves_any_page_with_the_one_token(tmp_path: Path, redis: Redis,
                                                             redis_url: str) -> None:
    runtime = build_runtime(make_settings(tmp_path, redis_url=redis_url))
    try:
        assert runtime.pages.single
        assert runtime.graph_for("555") is runtime.graph
        assert runtime.flows_for("555") is runtime.flows
    finally:
        runtime.engine.dispose()


def test_a_broken_edit_keeps_the_last_good_pages(tmp_path: Path, caplog) -> None:
    path = tmp_path / "pages.yaml"
    path.write_text(PAGES.format(flows=FLOWS))
    now = [0.0]
    store = PagesStore(make_settings(tmp_path, pages_path=str(path)), ENV, clock=lambda: now[0])
    path.write_text(PAGES.format(flows=FLOWS).replace("FR_TOKEN", "UNSET_TOKEN"))
    os.utime(path, ns=(1, 1))  # a different signature even within the same clock tick
    now[0] = 5.0
    with caplog.at_level(logging.WARNING, logger="config.pages"):
        assert [p.id for p in store.current.pages] == ["1001", "1002"]
    assert "UNSET_TOKEN is not set" in caplog.text and "last good" in caplog.text
    assert store.last_problems

    path.write_text(PAGES.format(flows=FLOWS).split("  - id: \"1002\"")[0])
    now[0] = 10.0
    assert [p.id for p in store.current.pages] == ["1001"]
    assert store.last_problems == []



def test_page_tokens_are_redacted_from_logs_once_the_pages_are_loaded(
        tmp_path: Path, lines: io.StringIO, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    path = tmp_path / "pages.yaml"
    path.write_text(PAGES.format(flows=FLOWS))
    for name, token in ENV.items():
        monkeypatch.setenv(name, token)
    settings = make_settings(tmp_path, pages_path=str(path))
    configure_logging(settings)
    runtime = Runtime(settings, None, None, None, None)  # type: ignore[arg-type]
    assert len(runtime.pages.pages) == 2  # loading them teaches the loggers their tokens
    logging.getLogger("tests.pages").warning("refused EAAfr-token for page 1002")
    assert "EAAfr-token" not in lines.getvalue() and "refused [redacted]" in lines.getvalue()


def test_an_instagram_account_is_throttled_and_paused_as_its_page(rt: Runtime) -> None:
    assert rt.page_id_of("1784001") == "1001" and rt.page_id_of("1002") == "1002"


def test_a_broken_pages_file_stops_the_server_with_its_problems(tmp_path: Path) -> None:
    from app import boot

    path = tmp_path / "pages.yaml"
    path.write_text('pages:\n  - id: "1001"\n    token_env: NOT_SET_ANYWHERE_42\n')
    with pytest.raises(SystemExit) as stopped:
        boot(make_settings(tmp_path, pages_path=str(path)))
    assert str(stopped.value) == (f"pages file refused:\n{path}:3: pages[0].token_env: "
                                  "the environment variable NOT_SET_ANYWHERE_42 is not set")


def test_a_broken_pages_file_stops_the_worker_with_its_problems(tmp_path: Path, redis_url: str) -> None:
    import subprocess
    import sys

    from tests.unit.test_secret_key import clean_environ

    path = tmp_path / "pages.yaml"
    path.write_text('pages:\n  - id: "1001"\n    token_env: NOT_SET_ANYWHERE_42\n')
    rq = Path(sys.executable).parent / "rq"
    done = subprocess.run([str(rq), "worker", "--burst", "--worker-class", "worker.DeskWorker",
                           "--url", redis_url, "events"], cwd=tmp_path, capture_output=True,
                          env=clean_environ(REDIS_URL=redis_url, SECRET_KEY="k" * 32,
                                            PAGES_PATH=str(path), MESSENGER_APP_ID="2002"),
                          text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "pages file refused:",
        f"{path}:3: pages[0].token_env: the environment variable NOT_SET_ANYWHERE_42 is not set"]

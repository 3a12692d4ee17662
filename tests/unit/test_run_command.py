"""`python app.py`: which port, which mode, the release step first, Redis of its own,
and the SECRET_KEY every process shares."""

from __future__ import annotations

import os
import signal
import stat
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from redis import Redis

from config.settings import instance_secret_key
from serve.cli import credentials_problem, parse_args
from serve.redis_server import RedisStartError, start_redis
from serve.supervisor import Plan, ReleaseFailed, child_environ, read_procfile, supervise
from tests.conftest import ROOT, make_settings
from tests.support import payloads as p
from tests.support.servers import wait_until


def test_port_is_the_flag_then_PORT_then_5000() -> None:
    assert parse_args(["--port", "8001"], {"PORT": "9001"}).port == 8001
    assert parse_args([], {"PORT": "9001"}).port == 9001
    assert parse_args([], {}).port == 5000


def test_a_malformed_PORT_is_refused_by_name(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args([], {"PORT": "http"})
    assert "PORT: expected a port number, got 'http'" in capsys.readouterr().err


def test_credentials_choose_the_real_service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no config/pages.yaml here
    assert credentials_problem(make_settings(tmp_path), {}) == (True, None)
    preview = make_settings(tmp_path, messenger_page_access_token=None, messenger_app_secret=None)
    assert credentials_problem(preview, {}) == (False, None)
    real, problem = credentials_problem(make_settings(tmp_path, messenger_app_secret=None), {})
    assert real and problem is not None and problem.startswith(
        "MESSENGER_PAGE_ACCESS_TOKEN is set but MESSENGER_APP_SECRET is not")
    assert credentials_problem(preview.with_(messenger_app_secret="s"),
                               {"PAGES_PATH": "pages.yaml"}) == (True, None)


def test_the_procfile_release_line_runs_first_and_is_not_supervised(tmp_path: Path) -> None:
    procfile = tmp_path / "Procfile"
    procfile.write_text("# comment\nrelease: flask --app app db upgrade\nweb: gunicorn app:app\n"
                        "worker: rq worker\n")
    assert read_procfile(procfile) == Plan(release="flask --app app db upgrade",
                                           processes={"web": "gunicorn app:app",
                                                      "worker": "rq worker"})
    assert read_procfile(ROOT / "Procfile").processes.keys() >= {"web", "worker"}


def test_processes_start_after_the_release_step(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                redis_url: str, capsys: pytest.CaptureFixture[str]
                                                ) -> None:
    monkeypatch.chdir(tmp_path)
    settings = make_settings(tmp_path, redis_url=redis_url, public_url="https://desk.example.com")
    plan = Plan(release="sleep 0.3 && echo upgraded > schema",
                processes={"web": 'test "$(cat schema)" = upgraded && echo "$PORT $REDIS_URL" > seen'})
    assert supervise(settings, port=8123, plan=plan) == 0
    assert (tmp_path / "seen").read_text().strip() == f"8123 {redis_url}"
    banner = capsys.readouterr().out
    assert "web listens on 0.0.0.0:8123" in banner
    assert "webhook URL for Meta's app dashboard: https://desk.example.com/webhook" in banner
    assert "PUBLIC_URL is" not in banner and p.ACCESS_TOKEN not in banner


def test_a_failed_release_step_starts_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             redis_url: str) -> None:
    monkeypatch.chdir(tmp_path)
    plan = Plan(release="exit 3", processes={"web": "touch started"})
    with pytest.raises(ReleaseFailed, match=r"the release step failed \(exit 3\): exit 3"):
        supervise(make_settings(tmp_path, redis_url=redis_url), port=8123, plan=plan)
    assert not (tmp_path / "started").exists()


def test_every_process_gets_the_same_secret_key_and_this_checkout(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, secret_key="")
    env = child_environ(settings, port=5001, redis_url="redis://127.0.0.1:1/0",
                        base={"PATH": "/usr/bin"})
    key = (tmp_path / "instance" / "secret_key").read_text()
    assert env["SECRET_KEY"] == key and len(key) == 64
    assert env["PORT"] == "5001" and env["REDIS_URL"] == "redis://127.0.0.1:1/0"
    assert env["PYTHONPATH"] == str(ROOT) and env["PATH"].endswith(os.pathsep + "/usr/bin")
    assert child_environ(settings.with_(secret_key="mine"), port=1, redis_url="x",
                         base={})["SECRET_KEY"] == "mine"


def test_the_secret_key_is_made_once_private_and_whole(tmp_path: Path) -> None:
    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: instance_secret_key(tmp_path / "instance"), range(16)))
    assert len(keys) == 1
    path = tmp_path / "instance" / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert os.listdir(tmp_path / "instance") == ["secret_key"]  # no temporary files left


def test_own_redis_is_append_only_and_a_second_one_is_refused(tmp_path: Path) -> None:
    server = start_redis(tmp_path / "redis")
    try:
        client = Redis.from_url(server.url)
        assert client.config_get("append*") == {"appendonly": "yes", "appendfsync": "always",
                                                 "appenddirname": "appendonlydir",
                                                 "appendfilename": "appendonly.aof"}
        assert client.config_get("bind") == {"bind": "127.0.0.1"}
        client.close()
        with pytest.raises(RedisStartError, match="still running on"):
            start_redis(tmp_path / "redis")
    finally:
        server.stop()
    start_redis(tmp_path / "redis").stop()  # the lock went with it


def test_without_redis_server_one_clear_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RedisStartError, match=r"redis-server is not installed .*set REDIS_URL"):
        start_redis(tmp_path / "redis")


def test_when_its_redis_dies_everything_stops_with_one_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    pidfile = tmp_path / "instance" / "redis" / "redis.pid"

    def kill_redis_once_web_runs() -> None:
        wait_until(lambda: (tmp_path / "started").exists() and pidfile.exists())
        os.kill(int(pidfile.read_text()), signal.SIGKILL)

    killer = threading.Thread(target=kill_redis_once_web_runs, daemon=True)
    killer.start()
    plan = Plan(release=None, processes={"web": "touch started; exec sleep 30"})
    started = time.monotonic()
    assert supervise(make_settings(tmp_path, redis_url=None), port=8123, plan=plan) != 0
    assert time.monotonic() - started < 10
    assert "redis-server exited unexpectedly (code -9" in capsys.readouterr().out

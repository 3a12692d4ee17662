"""SECRET_KEY: required with REDIS_URL (web and worker may be on other machines, and
a sign-in link the worker signs must open on the web); otherwise generated once into
instance/, the same for every process started together, readable by its owner only."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from config.settings import ConfigError, instance_secret_key, load_settings

ROOT = Path(__file__).resolve().parents[2]
STARTERS = 3
TRIES = 10

# Imports first, then every starter reads its settings at the same instant.
_STARTER = """
import sys, time
from config.settings import load_settings
start = float(sys.argv[1])
time.sleep(max(0.0, start - time.time()))
print(load_settings({}, dotenv="none.env").secret_key)
"""


def clean_environ(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "REDIS_URL")}
    return {**env, "PYTHONPATH": str(ROOT), **extra}


def test_processes_started_together_all_get_the_one_key_written(tmp_path: Path) -> None:
    for attempt in range(TRIES):
        workdir = tmp_path / str(attempt)
        workdir.mkdir()
        start = time.time() + 1.0  # after every interpreter has started and imported
        starters = [subprocess.Popen([sys.executable, "-c", _STARTER, str(start)], cwd=workdir,
                                     env=clean_environ(), stdout=subprocess.PIPE, text=True)
                    for _ in range(STARTERS)]
        keys = {starter.communicate(timeout=60)[0].strip() for starter in starters}
        key_file = workdir / "instance" / "secret_key"
        assert keys == {key_file.read_text().strip()}, f"try {attempt}: {len(keys)} keys"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert [p.name for p in key_file.parent.iterdir()] == ["secret_key"]  # no leftovers


def test_the_key_is_kept_across_starts_and_an_old_loose_file_is_tightened(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "secret_key").write_text("kept-key\n")
    (instance / "secret_key").chmod(0o644)
    assert instance_secret_key(instance) == "kept-key"
    assert stat.S_IMODE((instance / "secret_key").stat().st_mode) == 0o600


def test_redis_url_without_secret_key_is_refused_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="^SECRET_KEY: required when REDIS_URL is set"):
        load_settings({"REDIS_URL": "redis://127.0.0.1:6379/0"}, dotenv=str(tmp_path / "none.env"))


def test_the_web_process_stops_with_one_line_naming_secret_key(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", "import app; app.app"], cwd=tmp_path,
                          env=clean_environ(REDIS_URL="redis://127.0.0.1:9/0"),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "configuration error: SECRET_KEY: required when REDIS_URL is set "
        "(the same value on every process and machine)"]


def test_the_worker_stops_with_one_line_naming_secret_key(tmp_path: Path, redis_url: str) -> None:
    rq = Path(sys.executable).parent / "rq"
    done = subprocess.run([str(rq), "worker", "--burst", "--worker-class", "worker.DeskWorker",
                           "--url", redis_url, "events"], cwd=tmp_path,
                          env=clean_environ(REDIS_URL=redis_url), capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "configuration error: SECRET_KEY: required when REDIS_URL is set "
        "(the same value on every process and machine)"]

"""The Procfile's processes under one honcho supervisor, on this machine.

Order: our own redis-server (when REDIS_URL is unset), then the Procfile's
`release` command once (the schema upgrade), then every other process type at
once under `honcho.manager.Manager`, which multiplexes their output, stops them
all when one exits and forwards Ctrl+C / SIGTERM to each (SIGKILL after 5 s).
Redis is stopped last, after the processes that use it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from honcho.environ import parse_procfile
from honcho.manager import Manager

from config.settings import Settings, instance_secret_key
from serve.redis_server import LocalRedis, start_redis

ROOT = Path(__file__).resolve().parent.parent
PROCFILE = ROOT / "Procfile"
RELEASE = "release"


class ReleaseFailed(Exception):
    """The Procfile's release command (the schema upgrade) failed; nothing else started."""


@dataclass(frozen=True)
class Plan:
    release: str | None
    processes: dict[str, str]  # process type -> command, in Procfile order


def read_procfile(path: Path = PROCFILE) -> Plan:
    processes = dict(parse_procfile(path.read_text()).processes)
    return Plan(release=processes.pop(RELEASE, None), processes=processes)


def child_environ(settings: Settings, *, port: int, redis_url: str,
                  base: Mapping[str, str] = os.environ) -> dict[str, str]:
    """What every process gets: the caller's environment, the port, the Redis they
    share, the SECRET_KEY they share, and this checkout's code and tools."""
    path = os.pathsep.join(p for p in (str(Path(sys.executable).parent), base.get("PATH")) if p)
    python_path = os.pathsep.join(p for p in (str(ROOT), base.get("PYTHONPATH")) if p)
    secret = settings.secret_key or instance_secret_key(Path(settings.instance_path))
    return {**base, "PORT": str(port), "REDIS_URL": redis_url, "SECRET_KEY": secret,
            "PATH": path, "PYTHONPATH": python_path, "PYTHONUNBUFFERED": "1"}


def supervise(settings: Settings, *, port: int, plan: Plan | None = None) -> int:
    """Run the real service until Ctrl+C or a process exits; returns the exit code."""
    plan = plan or read_procfile()
    redis: LocalRedis | None = None
    previous = {sig: signal.signal(sig, _interrupt)  # clean up if stopped while starting
                for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        if settings.redis_url is None:
            redis = start_redis(Path(settings.instance_path).resolve() / "redis")
        env = child_environ(settings, port=port, redis_url=settings.redis_url or redis.url)
        _print_banner(settings, port=port, redis=redis, plan=plan)
        if plan.release:
            _release(plan.release, env)
        manager = Manager()
        for name, command in plan.processes.items():
            manager.add_process(name, command, env=env, cwd=os.getcwd())
        if redis is not None:
            _stop_all_if_redis_dies(redis)
        manager.loop()  # honcho handles SIGINT/SIGTERM from here on
        code = manager.returncode or 0
        return 128 - code if code < 0 else code  # a process killed by signal N: 128 + N
    except KeyboardInterrupt:
        return 130
    finally:
        if redis is not None:
            print("stopping redis-server", flush=True)
            redis.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _release(command: str, env: dict[str, str]) -> None:
    print(f"release: {command}", flush=True)
    done = subprocess.run(command, shell=True, env=env, check=False)
    if done.returncode != 0:
        raise ReleaseFailed(f"the release step failed (exit {done.returncode}): {command}")


def _stop_all_if_redis_dies(redis: LocalRedis) -> None:
    """Redis gone means no event can be acknowledged: stop everything, loudly."""

    def watch() -> None:
        code = redis.process.wait()
        if redis.stopping:
            return
        print(f"redis-server exited unexpectedly (code {code}, see {redis.data_dir}/redis.log); "
              "stopping", flush=True)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="redis-watch", daemon=True).start()


def _print_banner(settings: Settings, *, port: int, redis: LocalRedis | None, plan: Plan) -> None:
    webhook = settings.public_url.rstrip("/") + "/webhook"
    store = (f"redis-server of its own on 127.0.0.1:{redis.port}, data in {redis.data_dir} "
             "(append-only, fsync always)" if redis else "REDIS_URL (your Redis)")
    lines = [
        "Support Desk, the real service for your Page (Ctrl+C stops everything)",
        f"  web listens on 0.0.0.0:{port}: put your HTTPS tunnel or proxy in front of it",
        f"  webhook URL for Meta's app dashboard: {webhook}  (PUBLIC_URL + /webhook)",
        f"  processes: {', '.join(([RELEASE] if plan.release else []) + list(plan.processes))}"
        f" from {PROCFILE.name}; Redis: {store}",
    ]
    if not settings.public_url.startswith("https://"):
        lines.append(f"  PUBLIC_URL is {settings.public_url}: set it to the HTTPS address Facebook "
                     "reaches (Meta calls HTTPS webhooks only)")
    if not settings.messenger_verify_token:
        lines.append("  MESSENGER_VERIFY_TOKEN is unset: Meta cannot verify the webhook until you set it")
    print("\n".join(lines), flush=True)

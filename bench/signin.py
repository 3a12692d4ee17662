"""Agent sign-in under parallel guessing (issue 15 item 7), with werkzeug's real
scrypt hash: how many password checks run, how many at once, and how fast the
refused attempts are answered.

- `one account`: N parallel wrong passwords for one agent from one address;
- `spray`: N parallel attempts for N unknown emails from N addresses.

Talks HTTP only (Flask's test client, one per thread), so it runs against any
revision. In-process Redis unless --redis-url. Not run in CI; the figures go to
docs/RELIABILITY.md.

    .venv/bin/python -m bench.signin [--parallel 20] [--redis-url redis://...]
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from werkzeug.security import check_password_hash, generate_password_hash

from config.settings import Settings
from core.db import session_scope
from tickets import auth
from tickets.models import Agent

ROOT = Path(__file__).resolve().parents[1]


class Watch:
    """Wraps the password check: calls and the most running at once."""

    def __init__(self) -> None:
        self.calls = self.running = self.most = 0
        self._lock = threading.Lock()

    def __call__(self, pwhash: str, password: str) -> bool:
        with self._lock:
            self.calls, self.running = self.calls + 1, self.running + 1
            self.most = max(self.most, self.running)
        try:
            return check_password_hash(pwhash, password)
        finally:
            with self._lock:
                self.running -= 1


def attempt(app, address: str, email: str, password: str):  # type: ignore[no-untyped-def]
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]

    def post() -> tuple[int, float]:
        began = time.perf_counter()
        status = client.post("/login", data={"csrf_token": token, "email": email,
                                             "password": password}).status_code
        return status, time.perf_counter() - began

    return post


def together(posts) -> tuple[list[tuple[int, float]], float]:  # type: ignore[no-untyped-def]
    barrier, results = threading.Barrier(len(posts)), [(0, 0.0)] * len(posts)

    def run(i: int) -> None:
        barrier.wait()
        results[i] = posts[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(posts))]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, time.perf_counter() - began


def report(name: str, watch: Watch, results: list[tuple[int, float]], wall: float) -> None:
    counts = Counter(status for status, _ in results)
    print(f"{name}: {dict(sorted(counts.items()))}; checks {watch.calls}, most at once {watch.most}; "
          f"all answered in {wall * 1000:.0f} ms")
    for status in sorted(counts):
        took = sorted(seconds * 1000 for code, seconds in results if code == status)
        print(f"  {status}: p50 {statistics.median(took):.0f} ms, max {took[-1]:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parallel", type=int, default=20)
    parser.add_argument("--redis-url", default=None)
    args = parser.parse_args()
    from app import create_app

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(Settings(database_url=f"sqlite:///{tmp}/bench.db", instance_path=tmp,
                                  flows_path=str(ROOT / "config" / "flows.yaml"), secret_key="bench",
                                  redis_url=args.redis_url, testing=True))
        with session_scope(app.extensions["runtime"].engine) as session:
            session.add(Agent(email="eva@example.com", name="Eva",
                              password_hash=generate_password_hash("correct horse battery")))
        hashed = generate_password_hash("x")
        began = time.perf_counter()
        check_password_hash(hashed, "y")
        print(f"one scrypt check: {(time.perf_counter() - began) * 1000:.0f} ms")
        for name, posts in (
                ("one account", [attempt(app, "203.0.113.66", "eva@example.com", f"guess {i}")
                                 for i in range(args.parallel)]),
                ("spray", [attempt(app, f"198.51.100.{i}", f"nobody{i}@example.com", "guess")
                           for i in range(args.parallel)])):
            watch = Watch()
            auth.check_password_hash = watch  # type: ignore[assignment]
            report(name, watch, *together(posts))


if __name__ == "__main__":
    main()

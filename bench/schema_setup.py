"""What a fresh database's schema costs (docs/RELIABILITY.md, "Schema upgrades"):
`db upgrade` (Alembic, every revision) against the tests' create_all + stamp at
head, on SQLite and PostgreSQL; and the check web and worker run at start.
Not run in CI.

    .venv/bin/python -m bench.schema_setup [--rounds 20]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg
from sqlalchemy.engine import Engine

from core import schema
from core.db import make_engine
from features import import_models

POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
WAYS: dict[str, Callable[[Engine], None]] = {
    "db upgrade": schema.upgrade, "create_all + stamp": schema.create_current}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    rounds = parser.parse_args().rounds
    import_models()
    schema.script()  # read once per process, as the services do
    with tempfile.TemporaryDirectory() as tmp:
        for backend in ("sqlite", "postgresql"):
            for way, build in WAYS.items():
                builds, checks = measure(backend, build, rounds, Path(tmp) / way[:2])
                print(f"{backend:10} {way:18} {spread(builds)}; check at start: {spread(checks)}")


def measure(backend: str, build: Callable[[Engine], None], rounds: int,
            folder: Path) -> tuple[list[float], list[float]]:
    builds: list[float] = []
    checks: list[float] = []
    for n in range(rounds):
        url, drop = fresh(backend, folder, n)
        engine = make_engine(url, pool_size=2)
        started = time.perf_counter()
        build(engine)
        builds.append(time.perf_counter() - started)
        for _ in range(5):
            started = time.perf_counter()
            schema.check(engine)
            checks.append(time.perf_counter() - started)
        engine.dispose()
        drop()
    return builds, checks


def fresh(backend: str, folder: Path, n: int) -> tuple[str, Callable[[], None]]:
    if backend == "sqlite":
        folder.mkdir(exist_ok=True)
        return f"sqlite:///{folder / f'{n}.db'}", lambda: None
    name = f"desk_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(POSTGRES, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}", drop


def spread(seconds: list[float]) -> str:
    return f"median {statistics.median(seconds) * 1000:.1f} ms, max {max(seconds) * 1000:.1f} ms"


if __name__ == "__main__":
    main()

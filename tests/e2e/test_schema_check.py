"""Web and worker processes refuse to start, with one line saying to run `db upgrade`,
when the database's schema is not the code's; the local preview upgrades its own."""

from __future__ import annotations

from pathlib import Path

import pytest
from redis import Redis
from sqlalchemy import text

from app import boot, create_app
from core import runtime, schema
from core.db import make_engine
from preview.local import start_local
from tests.conftest import make_settings
from tests.support.migrations import flask_db
from tests.support.service import Service

pytestmark = pytest.mark.e2e
HEAD = ", ".join(schema.code_heads())
BEHIND_EMPTY = f'database schema is behind (at none, code needs {HEAD}): run "flask --app app db upgrade"'


def _production(tmp_path: Path, **overrides: object):  # type: ignore[no-untyped-def]
    """Settings as a deployed process reads them: the schema is not the test's to create."""
    return make_settings(tmp_path, testing=False, **overrides)


def _refusal(tmp_path: Path) -> str:
    with pytest.raises(SystemExit) as exited:
        boot(_production(tmp_path))
    runtime.install(None)
    return str(exited.value.code)


def test_web_refuses_an_empty_database_until_db_upgrade_has_run(tmp_path: Path) -> None:
    assert _refusal(tmp_path) == BEHIND_EMPTY

    engine = make_engine(_production(tmp_path).database_url)
    upgraded = flask_db(engine, tmp_path, "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    app = boot(_production(tmp_path))
    assert app.test_client().get("/healthz").status_code == 200
    runtime.install(None)
    app.extensions["runtime"].engine.dispose()
    engine.dispose()


def test_web_refuses_a_database_one_revision_behind(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    schema.upgrade(make_engine(_production(tmp_path).database_url))
    monkeypatch.setattr(schema, "code_heads", lambda: ("0099_next",))  # a release adding one

    assert _refusal(tmp_path) == (f'database schema is behind (at {HEAD}, code needs '
                                  '0099_next): run "flask --app app db upgrade"')


def test_web_refuses_a_database_migrated_by_a_newer_release(tmp_path: Path) -> None:
    engine = make_engine(_production(tmp_path).database_url)
    schema.upgrade(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0099_later'"))

    assert _refusal(tmp_path) == ("database schema is newer than this code (at 0099_later, code "
                                  f"knows up to {HEAD}): deploy the newer release")


def test_worker_refuses_an_empty_database_with_one_line(tmp_path: Path, redis: Redis,
                                                        redis_url: str) -> None:
    service = Service(_production(tmp_path, redis_url=redis_url), tmp_path)
    worker = service.start_worker()
    try:
        assert worker.wait(timeout=60) == 1
    finally:
        service.stop()
    log = (tmp_path / "worker-0.log").read_text()
    assert log.strip().splitlines()[-1] == BEHIND_EMPTY
    assert "Traceback" not in log


def test_flask_commands_still_load_so_db_upgrade_can_run(tmp_path: Path) -> None:
    engine = make_engine(_production(tmp_path).database_url)
    current = flask_db(engine, tmp_path, "current")
    assert current.returncode == 0, current.stderr
    assert current.stdout.strip() == f"none (empty or unversioned database) (behind: code needs {HEAD})"
    engine.dispose()


def test_the_local_preview_upgrades_its_own_database(tmp_path: Path) -> None:
    service = start_local(_production(tmp_path, messenger_page_access_token=None), create_app,
                          port=0)
    try:
        assert schema.database_heads(service.runtime.engine) == schema.code_heads()
    finally:
        service.stop()
        runtime.install(None)

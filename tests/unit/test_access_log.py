"""The web process's access line: what an operator reads, and never the verify token."""

from __future__ import annotations

import datetime
from pathlib import Path
from types import SimpleNamespace

from gunicorn.config import Config

from core.access_log import AccessLogger


def logged(tmp_path: Path, resp: object, environ: dict[str, str], ms: int) -> str:
    cfg = Config()
    cfg.set("accesslog", str(tmp_path / "access.log"))
    logger = AccessLogger(cfg)
    logger.access(resp, None, environ, datetime.timedelta(milliseconds=ms))
    for handler in logger.access_log.handlers:
        handler.close()
    return (tmp_path / "access.log").read_text()


def test_one_line_per_request_as_the_procfile_format_gave(tmp_path: Path) -> None:
    environ = {"REMOTE_ADDR": "10.0.0.7", "REQUEST_METHOD": "POST", "PATH_INFO": "/webhook"}
    line = logged(tmp_path, SimpleNamespace(status="200 OK", sent=12), environ, 3)
    assert line == '10.0.0.7 "POST /webhook" 200 12 3ms\n'


def test_the_query_string_and_its_verify_token_are_left_out(tmp_path: Path) -> None:
    environ = {"REMOTE_ADDR": "10.0.0.7", "REQUEST_METHOD": "GET", "PATH_INFO": "/webhook",
               "QUERY_STRING": "hub.mode=subscribe&hub.verify_token=s3cret-token&hub.challenge=1",
               "RAW_URI": "/webhook?hub.verify_token=s3cret-token"}
    line = logged(tmp_path, SimpleNamespace(status="403 FORBIDDEN", sent=None), environ, 1250)
    assert line == '10.0.0.7 "GET /webhook" 403 - 1250ms\n'
    assert "s3cret-token" not in line


"""The service as production runs it, on loopback: the web app over real HTTP
and RQ worker processes started like the Procfile's, against real Redis."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from config.settings import Settings, as_environ

ROOT = Path(__file__).resolve().parents[2]
RQ = str(Path(sys.executable).parent / "rq")


class Service:
    def __init__(self, settings: Settings, logs: Path) -> None:
        self.settings = settings
        self.logs = logs
        self.workers: list[subprocess.Popen[bytes]] = []
        self._logs: list[IO[bytes]] = []
        self._server: BaseWSGIServer | None = None
        self.app: Flask | None = None

    def start_web(self) -> str:
        from app import create_app

        self.app = create_app(self.settings)
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_port}"

    def start_worker(self) -> subprocess.Popen[bytes]:
        env = {**os.environ, **as_environ(self.settings), "PYTHONUNBUFFERED": "1"}
        log = open(self.logs / f"worker-{len(self.workers)}.log", "ab")  # noqa: SIM115
        self._logs.append(log)
        process = subprocess.Popen(
            [RQ, "worker", "--worker-class", "worker.DeskWorker", "--url",
             str(self.settings.redis_url), "--with-scheduler", "mail", "attachments",
             "events"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        self.workers.append(process)
        return process

    def kill_worker(self, process: subprocess.Popen[bytes]) -> None:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def stop(self) -> None:
        for process in self.workers:
            if process.poll() is None:
                process.terminate()
        for process in self.workers:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        for log in self._logs:
            log.close()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self.app is not None:
            self.app.extensions["runtime"].engine.dispose()

"""The yardstick for `bench.ack`: a bare Flask endpoint that returns 200, served
by the Procfile's own `web` command line with `app:app` swapped for this."""

from __future__ import annotations

from flask import Flask

app = Flask(__name__)


@app.post("/webhook")
def webhook() -> tuple[str, int]:
    return "", 200


@app.get("/healthz")
def healthz() -> tuple[str, int]:
    """Lets the benchmark tell this server from another one on a reused port."""
    return "bare", 200

"""The classic tutorial bot, as a peer for `bench.e2e`: Flask + pymessenger,
answering each message with a Send API call made inside the webhook request.

    GRAPH_API_URL=http://127.0.0.1:8999 MESSENGER_APP_SECRET=... \\
    MESSENGER_PAGE_ACCESS_TOKEN=... gunicorn --workers 4 'bench.peers.naive:app'

Nothing is queued: the 200 waits for every reply, a slow Send API slows the
acknowledgement, and a failed call is lost.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from flask import Flask, request
from pymessenger.bot import Bot

app = Flask(__name__)
bot = Bot(os.environ.get("MESSENGER_PAGE_ACCESS_TOKEN", ""))
bot.graph_url = f"{os.environ.get('GRAPH_API_URL', 'https://graph.facebook.com')}/v27.0"
SECRET = os.environ.get("MESSENGER_APP_SECRET", "").encode()
MENU = [{"content_type": "text", "title": title, "payload": title.upper()}
        for title in ("Billing", "Technical help", "Opening hours", "Talk to a human")]


@app.post("/webhook")
def webhook() -> tuple[str, int]:
    expected = "sha256=" + hmac.new(SECRET, request.get_data(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, request.headers.get("X-Hub-Signature-256", "")):
        return "forbidden", 403
    for entry in request.get_json().get("entry", []):
        for event in entry.get("messaging", []):
            text = event.get("message", {}).get("text")
            if text and not event["message"].get("is_echo"):
                bot.send_raw({"recipient": {"id": event["sender"]["id"]},
                              "messaging_type": "RESPONSE",
                              "message": {"text": f"You said: {text}", "quick_replies": MENU}})
    return "ok", 200


@app.get("/healthz")
def healthz() -> tuple[str, int]:
    return "naive", 200

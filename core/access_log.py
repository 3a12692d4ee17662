"""gunicorn's logger with a lean access line, for the Procfile's `web` process.

One line per request, as `--access-logformat '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'`
gave before:

    127.0.0.1 "POST /webhook" 200 12 3ms

gunicorn's own `access` first builds a dictionary of every request and response
header and environ entry for whatever format is configured (~35 µs of a webhook
POST's ~550 µs of CPU); this one reads the six values it prints. The path is
printed without its query string: Meta's `GET /webhook` carries the verify token.
"""

from __future__ import annotations

import datetime
from typing import Any

from gunicorn import glogging


class AccessLogger(glogging.Logger):
    def access(self, resp: Any, req: Any, environ: dict[str, Any],
               request_time: datetime.timedelta) -> None:
        if not self.access_log_enabled:
            return
        sent = getattr(resp, "sent", None)
        self.access_log.info(
            '%s "%s %s" %s %s %dms',
            environ.get("REMOTE_ADDR", "-"), environ.get("REQUEST_METHOD", "-"),
            environ.get("PATH_INFO", "-"), _status(resp), "-" if sent is None else sent,
            request_time.total_seconds() * 1000)


def _status(resp: Any) -> str:
    status = getattr(resp, "status", None)
    if isinstance(status, str):
        return status.split(None, 1)[0]
    return str(getattr(resp, "status_code", status) or "-")

"""`serve_standin`: a `Standin` on a real HTTP port, in a background thread."""

from __future__ import annotations

import threading

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from messenger.standin.http import create_standin_app
from messenger.standin.world import Standin

# Hundreds of clients may connect at once (benchmarks); the default backlog is 128.
LISTEN_BACKLOG = 1024
# How often serve_forever looks for `shutdown()`; the default 0.5 s slows every test teardown.
SHUTDOWN_POLL = 0.05


class _QuietHandler(WSGIRequestHandler):
    """No access log line per request: benchmarks make thousands of them.

    HTTP/1.1 keeps connections open between calls, as Graph does: a client's
    pool then pays no TCP set-up per call, as it would not in production."""

    protocol_version = "HTTP/1.1"

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def serve_standin(standin: Standin, host: str = "127.0.0.1", port: int = 0
                  ) -> tuple[BaseWSGIServer, str]:
    """Serve the stand-in (one thread per request) until `server.shutdown()`; port 0 picks one.

    Returns the server and its base URL, e.g. `http://127.0.0.1:43123`.
    """
    server = make_server(host, port, create_standin_app(standin), threaded=True,
                         request_handler=_QuietHandler)
    server.socket.listen(LISTEN_BACKLOG)
    thread = threading.Thread(target=server.serve_forever, args=(SHUTDOWN_POLL,),
                              name=f"standin-{server.port}", daemon=True)
    thread.start()
    return server, f"http://{host}:{server.port}"

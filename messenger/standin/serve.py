"""`serve_standin`: a `Standin` on a real HTTP port, in a background thread.

Served by cheroot (CherryPy's WSGI server), not werkzeug's development
server: werkzeug answers every request with `Connection: close`, so each
Graph call of a benchmark paid a TCP connect and close that production, on
Graph's keep-alive connections, does not. cheroot keeps HTTP/1.1
connections open and watches idle ones without holding a thread for each.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from cheroot import wsgi

from messenger.standin.http import create_standin_app
from messenger.standin.world import Standin

# Hundreds of clients may connect at once (benchmarks); the default backlog is 5.
LISTEN_BACKLOG = 1024
# Requests served at once: the stand-in sleeps its added latency inside a request, so
# this bounds the calls in flight. Enough for one worker's 32 drain threads and a test;
# benchmarks with several worker processes start it with more (`--threads`).
THREADS = 64
# Seconds an idle keep-alive connection stays open (Graph keeps them for minutes).
KEEP_ALIVE_SECONDS = 300
# How often the server looks for `shutdown()` (a test teardown waits up to this long).
SHUTDOWN_POLL = 0.05


class StandinServer:
    """A running stand-in: `port`, then `shutdown()` and `server_close()` when done."""

    def __init__(self, server: wsgi.Server, thread: threading.Thread) -> None:
        self._server = server
        self._thread = thread
        self.port: int = server.bind_addr[1]

    def shutdown(self) -> None:
        """Stop serving and close the listening socket and open connections."""
        if self._server.ready:
            self._server.stop()
        self._thread.join(timeout=5)

    def server_close(self) -> None:
        """Kept for callers written against `socketserver`: `shutdown()` closed everything."""
        self.shutdown()


def serve_standin(standin: Standin, host: str = "127.0.0.1", port: int = 0, *,
                  threads: int = THREADS, others: Sequence[Standin] = ()
                  ) -> tuple[StandinServer, str]:
    """Serve the stand-in (and `others`: more Pages, each with its own token) until
    `server.shutdown()`; port 0 picks a free one.

    Returns the server and its base URL, e.g. `http://127.0.0.1:43123`.
    """
    server = wsgi.Server((host, port), create_standin_app(standin, others=others), numthreads=threads,
                         request_queue_size=LISTEN_BACKLOG, timeout=KEEP_ALIVE_SECONDS,
                         server_name="graph-standin", accepted_queue_timeout=SHUTDOWN_POLL)
    server.expiration_interval = SHUTDOWN_POLL  # its select() timeout: how soon stop() is seen
    server.keep_alive_conn_limit = None  # cheroot closes all but 10 idle connections otherwise
    server.prepare()  # binds now, so the port is known before the URL is handed out
    thread = threading.Thread(target=server.serve, name=f"standin-{server.bind_addr[1]}",
                              daemon=True)
    thread.start()
    wrapped = StandinServer(server, thread)
    for page in (standin, *others):
        page.base_url = f"http://{host}:{wrapped.port}"
    return wrapped, f"http://{host}:{wrapped.port}"

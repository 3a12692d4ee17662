"""`python -m messenger.standin.green`: the stand-in's command (same arguments as
`python -m messenger.standin`) served by gevent's WSGI server, for benchmarks.

A benchmark runs the stand-in on the same two cores as the service it measures, so
what the stand-in burns per call is taken from the service. cheroot (the default)
reads and writes through pure-Python buffered I/O in a thread per request in flight;
here each call is a greenlet and the added latency a gevent sleep. The Graph API it
serves is the same Flask app (`create_standin_app`): same validation, errors, records.
Monkey-patching comes first, before anything imports `threading` or `socket`.
"""

from gevent import monkey

monkey.patch_all()

import logging  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
from collections.abc import Sequence  # noqa: E402

from gevent.pywsgi import WSGIHandler, WSGIServer  # noqa: E402

from messenger.standin.cli import announce, build, parse_args  # noqa: E402
from messenger.standin.http import create_standin_app  # noqa: E402
from messenger.standin.serve import LISTEN_BACKLOG  # noqa: E402


class _NoDelayHandler(WSGIHandler):
    """Answers go out at once: without TCP_NODELAY, a response written in two parts
    waits for the client's delayed ACK (up to 40 ms on Linux), as Graph's never do."""

    def handle(self) -> None:
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().handle()


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    standin, others = build(args)
    app = create_standin_app(standin, others=others)
    server = WSGIServer((args.host, args.port), app, log=None, backlog=LISTEN_BACKLOG,
                        handler_class=_NoDelayHandler)
    server.start()
    url = f"http://{args.host}:{server.server_port}"
    for page in (standin, *others):
        page.base_url = url
    announce(standin, others, url)
    signal.signal(signal.SIGTERM, lambda *_: server.stop(timeout=1))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        server.stop(timeout=1)
    logging.getLogger(__name__).info("stopping")


if __name__ == "__main__":
    main()

"""`python -m messenger.standin`: run the Graph API stand-in on its own, for benchmarks and
the local preview."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from collections.abc import Sequence

from messenger.standin.serve import serve_standin
from messenger.standin.world import PAGE_INBOX_APP_ID, Standin


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m messenger.standin",
                                     description="A fake Facebook Graph API on loopback.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8999)
    parser.add_argument("--page-id", required=True)
    parser.add_argument("--app-id", required=True, help="our app's id")
    parser.add_argument("--app-secret", required=True, help="signs the webhooks")
    parser.add_argument("--access-token", required=True, help="the Page token clients must use")
    parser.add_argument("--other-page", action="append", default=[], metavar="ID=TOKEN",
                        help="another Page behind the same Graph API, reached with its own token "
                             "(repeat for more; its control endpoints take ?page=ID)")
    parser.add_argument("--inbox-app-id", default=PAGE_INBOX_APP_ID)
    parser.add_argument("--instagram-id", help="a linked Instagram account, served with the "
                                               "Page's token (object instagram webhooks)")
    parser.add_argument("--webhook-url", help="our app's webhook; none: webhooks are recorded only")
    parser.add_argument("--latency-ms", type=float, default=0.0,
                        help="added to every Send API call")
    parser.add_argument("--rate-limit", type=int, help="Send API calls per second per Page")
    parser.add_argument("--no-echoes", action="store_true", help="skip echoes of our sends")
    parser.add_argument("--threads", type=int, default=256,
                        help="requests served at once (each sleeps the added latency)")
    args = parser.parse_args(argv)
    if args.latency_ms < 0 or (args.rate_limit is not None and args.rate_limit < 1):
        parser.error("--latency-ms must be >= 0 and --rate-limit >= 1")
    if args.threads < 1:
        parser.error("--threads must be >= 1")
    if not all(_other_page(value) for value in args.other_page):
        parser.error("--other-page takes ID=TOKEN")
    return args


def _other_page(value: str) -> tuple[str, str] | None:
    page_id, _, token = value.partition("=")
    return (page_id, token) if page_id and token else None


def build(args: argparse.Namespace) -> tuple[Standin, list[Standin]]:
    """The first Page's stand-in and the others, set up as the arguments say."""
    pages = [(args.page_id, args.access_token),
             *(page for value in args.other_page if (page := _other_page(value)))]
    standin, *others = (
        Standin(page_id=page_id, app_id=args.app_id, app_secret=args.app_secret,
                access_token=token, inbox_app_id=args.inbox_app_id,
                webhook_url=args.webhook_url, echoes=not args.no_echoes)
        for page_id, token in pages)
    for page in (standin, *others):
        page.latency = args.latency_ms / 1000
        page.rate_limit_per_second = args.rate_limit
    if args.instagram_id:
        standin.link_instagram(args.instagram_id)
    return standin, others


def announce(standin: Standin, others: Sequence[Standin], url: str) -> None:
    pages = ", ".join(page.page_id for page in (standin, *others))
    print(f"Graph API stand-in for Page{'s' * bool(others)} {pages} at {url}", flush=True)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    standin, others = build(args)
    server, url = serve_standin(standin, args.host, args.port, threads=args.threads,
                                others=others)
    announce(standin, others, url)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        print("stopping", flush=True)
        server.shutdown()

"""`python app.py`: the whole service in one process, Facebook replaced by the local stand-in."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence

from config.settings import ConfigError, load_settings
from preview.local import AppFactory, LocalModeRefused, start_local


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python app.py",
        description="Run Support Desk locally with a Messenger preview; no Facebook, no Redis.")
    parser.add_argument("--host", default="127.0.0.1", help="loopback only (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=5000, help="default 5000")
    return parser.parse_args(argv)


def run(factory: AppFactory, argv: Sequence[str] | None = None) -> None:
    """Start local mode and serve until Ctrl+C or SIGTERM; refusals end in one line."""
    args = parse_args(argv)
    try:
        service = start_local(load_settings(), factory, host=args.host, port=args.port)
    except (ConfigError, LocalModeRefused) as exc:
        sys.exit(f"cannot start: {exc}")
    flows = service.runtime.settings.flows_path
    print(f"Support Desk, local mode: open {service.preview_url}  (Ctrl+C to stop)\n"
          f"  Facebook is replaced by a stand-in at {service.url}/_graph; flows: {flows} "
          "(reloaded when you save it)", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        print("stopping", flush=True)
        service.stop()

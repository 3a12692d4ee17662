"""The local preview: the whole service in one process, Facebook replaced by the
local stand-in (`python app.py` without Messenger credentials, see serve/cli.py)."""

from __future__ import annotations

import signal
import sys
import threading

from config.settings import ConfigError, Settings
from preview.local import AppFactory, LocalModeRefused, start_local


def run_preview(factory: AppFactory, settings: Settings, *, host: str, port: int) -> None:
    """Start local mode and serve until Ctrl+C or SIGTERM; refusals end in one line."""
    try:
        service = start_local(settings, factory, host=host, port=port)
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

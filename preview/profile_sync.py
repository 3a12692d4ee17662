"""Keeps the stand-in Pages' Messenger profiles equal to the flows file in local mode.

The profile goes over HTTP through our Graph client, exactly as `messenger setup-profile`
sends it, and again whenever the flows store serves a new version of the file.
"""

from __future__ import annotations

import logging
import threading

from bot.flows.schema import Flows
from core.runtime import Runtime
from messenger import ice_breakers
from messenger.errors import GraphError
from messenger.graph import GraphClient
from messenger.profile import ProfileError, build_profile, check_profile

log = logging.getLogger(__name__)


class ProfileSync:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.problems: list[str] = []
        self._pushed_for: Flows | None = None
        self._lock = threading.Lock()

    def refresh(self) -> list[str]:
        """Push the profile if the flows changed since the last push; the problems, if any."""
        flows = self.runtime.flows.current
        with self._lock:
            if flows is not self._pushed_for:
                self._pushed_for = flows
                self.problems = self._push(flows)
            return list(self.problems)

    def _push(self, flows: Flows) -> list[str]:
        body = build_profile(flows)
        problems = check_profile(body)
        if problems:
            log.warning("Messenger profile not set: %s", "; ".join(problems))
            return [f"{flows.source}: {problem}" for problem in problems]
        try:
            for graph, instagram in self._graphs():
                graph.set_messenger_profile(body)
                if "persistent_menu" not in body:
                    graph.delete_messenger_profile(["persistent_menu"])
                if instagram:  # its linked account's ice breakers, as setup-profile sets them
                    ice_breakers.set_ice_breakers(graph, flows)
        except GraphError as exc:
            log.warning("Messenger profile refused by the stand-in: %s", exc)
            return [f"Messenger profile refused: {exc}"]
        except ProfileError as exc:
            return [f"{flows.source}: {problem}" for problem in exc.problems]
        return []

    def _graphs(self) -> list[tuple[GraphClient, bool]]:
        """Each demo Page's client (its own token) and whether it has an Instagram account."""
        pages = self.runtime.pages
        if pages.single:
            return [(self.runtime.graph, False)]
        return [(self.runtime.graph_for(page.id), bool(page.instagram_id)) for page in pages.pages]

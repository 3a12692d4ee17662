"""The Graph calls that set a Page up (`messenger setup-profile`, `subscribe`, `status`,
`pages check`), mixed into `messenger.graph.GraphClient`, which provides `_request`."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

_NODE_ID = re.compile(r"[A-Za-z0-9_-]+")
Json = dict[str, Any]


class PageSetupCalls:
    """Messenger profile, app subscription and who-am-I calls."""

    def _request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                 json: Mapping[str, Any] | None = None) -> Json:
        raise NotImplementedError  # GraphClient's

    def get_messenger_profile(self, fields: Sequence[str], *, platform: str | None = None) -> Json:
        """The Page's profile; `platform="instagram"`: its linked Instagram account's."""
        params = {"fields": csv_fields(fields), **({"platform": platform} if platform else {})}
        return self._request("GET", "/me/messenger_profile", params=params)

    def set_messenger_profile(self, body: Mapping[str, Any], *, platform: str | None = None) -> Json:
        params = {"platform": platform} if platform else None
        return self._request("POST", "/me/messenger_profile", json=body, params=params)

    def delete_messenger_profile(self, fields: Sequence[str]) -> Json:
        return self._request("DELETE", "/me/messenger_profile",
                             json={"fields": csv_fields(fields).split(",")})

    def subscribe_app(self, page_id: str, fields: Sequence[str]) -> Json:
        return self._request("POST", f"/{node_path(page_id)}/subscribed_apps",
                             params={"subscribed_fields": csv_fields(fields)})

    def subscribed_apps(self, page_id: str) -> Json:
        return self._request("GET", f"/{node_path(page_id)}/subscribed_apps")

    def whoami(self) -> Json:
        """The token's Page: {"id", "name"} (`pages check` compares it with the pages file)."""
        return self._request("GET", "/me", params={"fields": "id,name"})

    def messaging_feature_status(self) -> Json:
        return self._request("GET", "/me", params={"fields": "messaging_feature_status"})


def node_path(node_id: str) -> str:
    """An id safe to put in a URL path: no slashes or query characters sneak in."""
    if not _NODE_ID.fullmatch(node_id):
        raise ValueError(f"not a Graph node id: {node_id!r}")
    return node_id


def csv_fields(fields: Sequence[str]) -> str:
    return fields if isinstance(fields, str) else ",".join(fields)

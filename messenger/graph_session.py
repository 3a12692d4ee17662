"""The pooled `requests.Session` every Graph call goes through: requests' own
`HTTPAdapter` (its public API only), one urllib3 pool sized for the drain threads."""

from __future__ import annotations

import requests
from requests.adapters import HTTPAdapter


def pooled_session(pool_size: int, url: str = "") -> requests.Session:
    """A session keeping up to `pool_size` connections per host alive between calls."""
    session = requests.Session()
    # Proxy settings for the Graph host are read from the environment once, here
    # (NO_PROXY honoured): with trust_env, requests scans the whole environment
    # on every call (~2 ms of CPU each).
    if url:
        session.proxies.update(requests.utils.get_environ_proxies(url))
    session.trust_env = False
    adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session

"""The HTTP adapter under every Graph call: requests' `HTTPAdapter`, lean on the hot path.

A Graph call is a small JSON request to one host, read whole. For that case `send`
skips what requests redoes per call (proxy matching, URL parsing and the pool
lookup, certificate-path checks, timeout objects, a header copy, cookies) and
calls the urllib3 pool itself, with requests' own settings (no retries, no
redirects) and requests' exceptions for every failure. Anything else (a proxy,
a client certificate, streaming, an odd URL or timeout) goes through
`HTTPAdapter.send` unchanged.
"""

from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter
from requests.exceptions import (
    ChunkedEncodingError,
    ConnectTimeout,
    ContentDecodingError,
    InvalidHeader,
    InvalidURL,
    ReadTimeout,
    RetryError,
)
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers
from urllib3 import HTTPConnectionPool, HTTPResponse, Timeout
from urllib3.exceptions import (
    ClosedPoolError,
    ConnectTimeoutError,
    DecodeError,
    HTTPError,
    LocationValueError,
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    ProxyError,
    ReadTimeoutError,
    ResponseError,
    SSLError,
)
from urllib3.exceptions import InvalidHeader as Urllib3InvalidHeader

# A URL the lean path sends as is: the path after the host is what requests would
# send (`path_url`), with no fragment or characters urlsplit would strip.
_NOT_LEAN = ("#", "\t", "\r", "\n")


class GraphAdapter(HTTPAdapter):
    """requests' adapter with a lean `send` for plain calls, and minus the cookie jar:
    Graph sets no cookie we send back, and parsing `Set-Cookie` costs CPU per call."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        # Also run on unpickling: the caches below belong to one pool manager.
        super().init_poolmanager(*args, **kwargs)
        self._pools: dict[tuple[str, Any], HTTPConnectionPool] = {}
        self._timeouts: dict[tuple[Any, Any], Timeout] = {}

    def close(self) -> None:
        super().close()
        self._pools.clear()

    def send(  # type: ignore[override]
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: bool | str = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        """`HTTPAdapter.send`; without streaming, the body is read (and its errors raised) here."""
        url = request.url
        start = _path_start(url) if isinstance(url, str) else -1
        if (stream or proxies or cert is not None or start < 0
                or type(timeout) is not tuple or len(timeout) != 2):
            return super().send(request, stream, timeout, verify, cert, proxies)
        pool = self._pool(request, url[:start], verify)
        try:
            answer = pool.urlopen(
                request.method, url[start:], body=request.body, headers=request.headers,
                redirect=False, assert_same_host=False, preload_content=False,
                decode_content=False, retries=self.max_retries, timeout=self._timeout(timeout),
                chunked=not (request.body is None or "Content-Length" in request.headers))
        except (ProtocolError, OSError, MaxRetryError, ClosedPoolError, HTTPError) as exc:
            error = _send_error(exc, request)
            if error is exc:
                raise
            raise error from exc
        return self._read(request, answer)

    def build_response(self, req: requests.PreparedRequest, resp: Any) -> requests.Response:
        response = self._response(req, resp, CaseInsensitiveDict(getattr(resp, "headers", {})))
        response.encoding = get_encoding_from_headers(response.headers)
        return response

    def request_url(self, request: requests.PreparedRequest, proxies: Any) -> str:
        """The path to request: without a proxy, requests' proxy matching is skipped."""
        if proxies:
            return super().request_url(request, proxies)
        url = request.path_url
        return f"/{url.lstrip('/')}" if url.startswith("//") else url

    def _pool(self, request: requests.PreparedRequest, origin: str,
              verify: bool | str) -> HTTPConnectionPool:
        """The urllib3 pool for an origin, looked up and TLS-checked by requests once."""
        pool = self._pools.get((origin, verify))
        if pool is None or pool.pool is None:  # a pool the manager closed is looked up again
            try:
                pool = self.get_connection_with_tls_context(request, verify)
            except LocationValueError as exc:
                raise InvalidURL(exc, request=request) from exc
            self.cert_verify(pool, request.url, verify, None)  # type: ignore[arg-type]
            self._pools[(origin, verify)] = pool
        return pool

    def _timeout(self, timeout: tuple[Any, Any]) -> Timeout:
        """urllib3 copies the Timeout for each request, so one object serves every call."""
        resolved = self._timeouts.get(timeout)
        if resolved is None:
            resolved = self._timeouts[timeout] = Timeout(connect=timeout[0], read=timeout[1])
        return resolved

    def _read(self, request: requests.PreparedRequest, answer: HTTPResponse) -> requests.Response:
        """The response, its body read whole; a broken body raises what
        `Response.content` would."""
        try:
            content = answer.read(decode_content=True)
        except ProtocolError as exc:
            raise ChunkedEncodingError(exc) from exc
        except DecodeError as exc:
            raise ContentDecodingError(exc) from exc
        except ReadTimeoutError as exc:
            raise requests.ConnectionError(exc) from exc
        except SSLError as exc:
            raise requests.exceptions.SSLError(exc) from exc
        # urllib3's headers as they are: case-insensitive like requests' copy of them.
        response = self._response(request, answer, answer.headers)
        response.encoding = get_encoding_from_headers(response.headers)
        response._content = content
        response._content_consumed = True
        return response

    def _response(self, req: requests.PreparedRequest, resp: Any, headers: Any) -> requests.Response:
        response = requests.Response()
        response.status_code = getattr(resp, "status", None)  # type: ignore[assignment]
        response.headers = headers
        response.raw = resp
        response.reason = resp.reason
        response.url = req.url.decode() if isinstance(req.url, bytes) else req.url  # type: ignore[assignment]
        response.request = req
        response.connection = self  # type: ignore[attr-defined]
        return response


def pooled_session(pool_size: int, url: str = "") -> requests.Session:
    session = requests.Session()
    # Proxy settings for the Graph host are read from the environment once, here
    # (NO_PROXY honoured): with trust_env, requests scans the whole environment
    # on every call (~2 ms of CPU each).
    if url:
        session.proxies.update(requests.utils.get_environ_proxies(url))
    session.trust_env = False
    adapter = GraphAdapter(pool_connections=pool_size, pool_maxsize=pool_size)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


def _path_start(url: str) -> int:
    """Where the path of a plain `scheme://host/path?query` URL starts, else -1."""
    host = url.find("://") + 3
    start = url.find("/", host) if host > 2 else -1
    if (start < 0 or url.startswith("//", start) or url.endswith("?")
            or any(c in url for c in _NOT_LEAN)):
        return -1
    return start


def _send_error(exc: Exception, request: requests.PreparedRequest) -> Exception:
    """The exception `HTTPAdapter.send` raises for a urllib3 failure (itself if none)."""
    if isinstance(exc, MaxRetryError):
        reason = exc.reason
        if isinstance(reason, ConnectTimeoutError) and not isinstance(reason, NewConnectionError):
            return ConnectTimeout(exc, request=request)
        if isinstance(reason, ResponseError):
            return RetryError(exc, request=request)
        if isinstance(reason, ProxyError):
            return requests.exceptions.ProxyError(exc, request=request)
        if isinstance(reason, SSLError):
            return requests.exceptions.SSLError(exc, request=request)
        return requests.ConnectionError(exc, request=request)
    if isinstance(exc, (ProtocolError, OSError, ClosedPoolError)):
        return requests.ConnectionError(exc, request=request)
    if isinstance(exc, ProxyError):
        return requests.exceptions.ProxyError(exc)
    if isinstance(exc, SSLError):
        return requests.exceptions.SSLError(exc, request=request)
    if isinstance(exc, ReadTimeoutError):
        return ReadTimeout(exc, request=request)
    if isinstance(exc, Urllib3InvalidHeader):
        return InvalidHeader(exc, request=request)
    return exc

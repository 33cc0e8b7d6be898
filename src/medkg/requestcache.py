"""Repeated GET requests answered from memory before Flask runs (a WSGI middleware).

The answer cache (:class:`~medkg.executor.ResultCache`, used by :func:`medkg.sparql.respond`)
saves running a query again, but a hit still pays for Flask's request handling, parsing the
query string, inspecting the query and negotiating its format. This cache sits in front: it
keys the finished response by the raw request (query string, ``Accept``, scheme, host, path)
and the build now served, so a request byte-for-byte like one already answered gets the same
status, headers (``X-Medkg-Cache: hit``) and body with none of that work.

Only responses their route marks as repeatable are stored: a 200 from ``/sparql`` or a named
query for a cacheable query (``respond`` marks it in the WSGI environ with its build id), and
a 200 page, list, chart or download made from the build alone (``web`` marks those that carry
an ``X-Medkg-Build`` header; they depend only on the build and the request). The same raw request always
meets the same checks (guard, limits, negotiation), so nothing refused is ever replayed;
requests with ``If-None-Match`` and anything but a plain GET go through Flask as before.
Entries are bounded like the answer cache and dropped when a new build takes over.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .executor import ResultCache

#: set by medkg.sparql.respond on a response this cache may keep: the answer's build id
MARK = "medkg.repeatable"


class _Stored:
    __slots__ = ("status", "headers", "body")

    def __init__(self, status: str, headers: list[tuple[str, str]], body: bytes):
        self.status, self.headers, self.body = status, headers, body


class RequestCache:
    """WSGI middleware: ``app.wsgi_app = RequestCache(app.wsgi_app, build_id=...)``."""

    def __init__(self, app: Callable, build_id: Callable[[], str], *,
                 store: ResultCache | None = None):
        self.app = app
        self.build_id = build_id
        self.store = store if store is not None else ResultCache()
        self._build: str | None = None

    def _key(self, environ: dict, build_id: str) -> tuple:
        return (build_id, environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", ""),
                environ.get("HTTP_ACCEPT"), environ.get("HTTP_ACCEPT_ENCODING"),
                environ.get("wsgi.url_scheme"), environ.get("HTTP_HOST"),
                environ.get("SERVER_NAME"), environ.get("SERVER_PORT"),
                environ.get("SCRIPT_NAME", ""))

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "GET" or "HTTP_IF_NONE_MATCH" in environ:
            return self.app(environ, start_response)
        try:
            build_id = self.build_id()
        except Exception:  # noqa: BLE001 - no build or no executor: Flask renders the error
            return self.app(environ, start_response)
        if build_id != self._build:
            self._build = build_id
            self.store.clear()
        key = self._key(environ, build_id)
        stored = self.store.get(key)
        if stored is not None:
            start_response(stored.status, list(stored.headers))
            return [stored.body]
        seen: list = []

        def capture(status, headers, exc_info=None):
            seen[:] = [status, headers]
            return start_response(status, headers, exc_info)

        body = self.app(environ, capture)
        answered = environ.get(MARK)
        if answered is None or not seen or not seen[0].startswith("200"):
            return body
        try:
            data = b"".join(body)
        finally:
            if hasattr(body, "close"):
                body.close()
        headers = [(name, value) for name, value in seen[1] if name.lower() != "x-medkg-cache"]
        headers.append(("X-Medkg-Cache", "hit"))
        self.store.put(self._key(environ, answered), _Stored(seen[0], headers, data))
        return [data]

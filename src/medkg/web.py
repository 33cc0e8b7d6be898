"""The web application: ``create_app(...)``, its blueprints, one error renderer, healthz, CORS.

Blueprints come from :data:`BLUEPRINTS` ("module:attribute" strings, imported when an app is
made), so another part of medkg adds its pages by appending one line. Every error, ours
(:class:`~medkg.errors.MedkgError`, by its ``status``) or Flask's (404, 405, 413), is rendered
by :func:`render_error` in one shape: JSON ``{"error": {"status", "type", "message", ...}}``,
or the same as one text line when the client prefers text/plain.
"""

from __future__ import annotations

import importlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask, Response, current_app, render_template, request
from werkzeug.exceptions import HTTPException

from . import paths
from .paths import is_remote
from .errors import FormatNotAcceptable, MedkgError, QuerySyntaxError
from .executor import Executor, ResultCache
from .formats import Kind, negotiate
from .pool import ExecutorPool
from .requestcache import MARK, RequestCache

#: blueprints every app registers, as "module:attribute"; add yours here
BLUEPRINTS: list[str] = ["medkg.sparql:bp", "medkg.urls:bp", "medkg.pages:bp"]
BLUEPRINTS.append("medkg.browse:bp")  # /datasets (+ .json, .csv), /stats
BLUEPRINTS.append("medkg.querypage:bp")  # /query
BLUEPRINTS.append("medkg.downloads:bp")  # /download/, /.well-known/void, /catalog, croissant, .bib
BLUEPRINTS.append("medkg.named:bp")  # /queries, /queries/<name>: the named queries

EXPOSED_HEADERS = "ETag, X-Medkg-Build, X-Medkg-Rows, X-Medkg-Truncated, X-Medkg-Cache"


@dataclass(frozen=True)
class Settings:
    """How the endpoint behaves; every limit in one place."""

    store_dir: Path | str  # a store folder, or an engine's query URL (medkg.remote)
    timeout: float = 30.0  # seconds a query may run
    max_rows: int = 10_000  # rows (solutions or triples) in one answer; more are cut
    max_result_bytes: int = 32 * 1024 * 1024  # a larger serialized answer is refused (422)
    max_query_length: int = 64 * 1024  # characters
    max_body: int = 1024 * 1024  # bytes of a request body (413 past it)
    cache: bool = True
    allow_service: tuple[str, ...] = ()  # SERVICE endpoints allowed; none by default
    union_default_graph: bool = False  # the default graph as the union of all graphs
    check_interval: float = 0.5  # seconds between two reads of <store>/current
    processes: int = 1  # query processes (one per request thread; medkg.pool when over 1)


@dataclass
class Endpoint:
    settings: Settings
    executor: Executor
    cache: ResultCache | None
    started: float = field(default_factory=time.monotonic)


def endpoint() -> Endpoint:
    return current_app.extensions["medkg"]


def create_app(store_dir: Path | str | None = None, *, blueprints: list | None = None,
               **options) -> Flask:
    """Make the app for the store at ``store_dir`` (default: paths.default_store_dir()).

    ``options`` are :class:`Settings` fields (timeout, max_rows, cache, allow_service, ...).
    No store is opened here: each process starts its executor on first use (or from the
    server's post-fork hook), so the app can be made before gunicorn forks its workers.
    """
    store = store_dir or paths.default_store_dir()
    settings = Settings(store_dir=store if is_remote(store) else Path(store), **{
        k: (tuple(v) if k == "allow_service" else v) for k, v in options.items()})
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body
    app.json.sort_keys = False
    if is_remote(settings.store_dir):  # an external SPARQL engine (medkg.remote)
        from .proxy import RemoteExecutor

        executor = RemoteExecutor(settings.store_dir, timeout=settings.timeout,
                                  check_interval=settings.check_interval)
    elif settings.processes > 1:
        executor = ExecutorPool(settings.store_dir, size=settings.processes,
                                timeout=settings.timeout, check_interval=settings.check_interval)
    else:
        executor = Executor(settings.store_dir, timeout=settings.timeout,
                            check_interval=settings.check_interval)
    app.extensions["medkg"] = Endpoint(settings=settings, executor=executor,
                                       cache=ResultCache() if settings.cache else None)
    for spec in BLUEPRINTS if blueprints is None else blueprints:
        if isinstance(spec, str):
            module, _, attr = spec.partition(":")
            spec = getattr(importlib.import_module(module), attr)
        app.register_blueprint(spec)
    app.register_error_handler(MedkgError, _medkg_error)
    app.register_error_handler(HTTPException, _http_error)
    app.after_request(_cors)
    app.after_request(_repeatable)
    app.add_url_rule("/healthz", "healthz", healthz)
    if settings.cache:  # repeated GET requests answered before Flask runs
        app.wsgi_app = RequestCache(app.wsgi_app, lambda: executor.build()["build_id"])
    return app


def healthz() -> Response:
    ep = endpoint()
    build = ep.executor.build()
    body = {
        "status": "ok",
        "build_id": build.get("build_id"),
        "triples": build.get("triples"),
        "built_at": build.get("built_at"),
        "uptime_seconds": round(time.monotonic() - ep.started, 3),
        "pid": os.getpid(),
    }
    response = Response(json.dumps(body), content_type="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


def render_error(status: int, kind: str, message: str, extra: dict | None = None,
                 headers: dict | None = None) -> Response:
    """The one error renderer: JSON (default), text/plain, or an HTML page for browsers."""
    if _prefers_html():
        try:
            html = render_template("error.html", status_code=status, title=_TITLES.get(status, kind),
                                   message=message)
        except Exception:  # noqa: BLE001 - a broken page must not hide the error itself
            html = None
        if html is not None:
            response = Response(html, status=status, content_type="text/html; charset=utf-8")
            response.headers["Cache-Control"] = "no-store"
            for name, value in (headers or {}).items():
                response.headers[name] = value
            return response
    try:
        fmt = negotiate(request.headers.get("Accept"), None, Kind.ERROR)
    except MedkgError:
        fmt = None
    if fmt is not None and fmt.key == "error-text":
        body, content_type = f"{status} {kind}: {message}\n", "text/plain; charset=utf-8"
    else:
        error = {"status": status, "type": kind, "message": message, **(extra or {})}
        body, content_type = json.dumps({"error": error}), "application/json"
    response = Response(body, status=status, content_type=content_type)
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


_TITLES = {400: "Bad request", 403: "Forbidden", 404: "Not found", 405: "Method not allowed",
           406: "Not acceptable", 413: "Request too large", 415: "Unsupported media type",
           422: "Result too large", 503: "Service unavailable", 504: "Gateway timeout"}


def _prefers_html() -> bool:
    """True for browsers: text/html ranked above JSON and plain text (a bare */* is not)."""
    accept = request.accept_mimetypes
    explicit = any(value == "text/html" for value, _ in accept)
    return explicit and accept.best_match(["application/json", "text/plain", "text/html"]) == "text/html"


def _medkg_error(exc: MedkgError) -> Response:
    extra: dict = {}
    if isinstance(exc, FormatNotAcceptable):
        extra["acceptable"] = exc.acceptable
    if isinstance(exc, QuerySyntaxError) and exc.line is not None:
        extra.update(line=exc.line, column=exc.column)
    return render_error(exc.status, type(exc).__name__, exc.message, extra)


def _http_error(exc: HTTPException) -> Response:
    headers = {k: v for k, v in exc.get_headers() if k.lower() == "allow"}
    name = type(exc).__name__
    return render_error(exc.code or 500, name, exc.description or name, headers=headers)


#: routes that decide themselves what may be replayed (volatile queries must not be)
_SELF_MARKING = ("/sparql", "/query", "/queries")


def _repeatable(response: Response) -> Response:
    """Mark a 200 GET answer made from the build alone (it carries X-Medkg-Build) for the
    request cache in front of the app (medkg.requestcache)."""
    build = response.headers.get("X-Medkg-Build")
    if (build and request.method == "GET" and response.status_code == 200
            and not request.path.startswith(_SELF_MARKING)):
        request.environ.setdefault(MARK, build)
    return response


def _cors(response: Response) -> Response:
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = (
            "Accept, Content-Type, If-None-Match, Cache-Control")
        response.headers["Access-Control-Max-Age"] = "86400"
    return response

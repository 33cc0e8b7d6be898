"""Routes for the standard exports: dumps, VoID, the DCAT-AP catalogue, Croissant and BibTeX.

    /download/                      the list of dumps (HTML or JSON)
    /download/medkg.{ttl,nt,nq,jsonld}[.gz]   the whole graph of the current build
    /.well-known/void               VoID description (Turtle by default; negotiated)
    /catalog.ttl, /catalog.jsonld   DCAT-AP 3.0.1 catalogue (/catalog negotiates)
    /dataset/<id>/croissant         Croissant 1.1 JSON-LD of one dataset
    /croissant.json                 Croissant of every dataset (a JSON array)
    /datasets.bib?id=a&id=b         BibTeX (or ?<the /datasets filters>; every dataset without either)

Everything is computed from the build the endpoint serves (its id from the executor), on a
read-only open of that build, and cached per build id: a new build gives new answers, the same
build the same bytes (ETag = build id + name).
"""

from __future__ import annotations

import hashlib
import html
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
from flask import Blueprint, Response, request

from . import store as stores
from .export import citations, croissant_bytes, dcat_bytes
from .export.void import DUMPS, dump_bytes, parse_dump_name, void_graph
from .formats import Kind, negotiate
from .web import endpoint

bp = Blueprint("downloads", __name__)

CACHE_BYTES = 96 * 1024 * 1024


class _Cache:
    """Bytes per (store, build, name), least recently used first out; read-only store handles."""

    def __init__(self, max_bytes: int = CACHE_BYTES):
        self.max_bytes = max_bytes
        self.items: OrderedDict[tuple, bytes] = OrderedDict()
        self.handles: dict[tuple[str, str], ox.Store] = {}
        self.lock = threading.Lock()

    def handle(self, store_dir: Path, build_id: str) -> ox.Store:
        key = (str(store_dir), build_id)
        with self.lock:
            if key not in self.handles:
                path = stores.builds_dir(store_dir) / build_id
                handle = (ox.Store.read_only(str(path)) if path.is_dir()
                          else stores.open_read_only(store_dir)[0])
                self.handles = {k: v for k, v in self.handles.items() if k[0] != key[0]}
                self.handles[key] = handle
            return self.handles[key]

    def get(self, key: tuple, make: Callable[[], bytes]) -> bytes:
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        body = make()
        with self.lock:
            self.items[key] = body
            while sum(len(b) for b in self.items.values()) > self.max_bytes and len(self.items) > 1:
                self.items.popitem(last=False)
        return body


CACHE = _Cache()


def current() -> tuple[ox.Store, str, Path]:
    """The store of the build now served, its build id and the store folder."""
    ep = endpoint()
    build_id = str(ep.executor.build().get("build_id") or "")
    store_dir = ep.settings.store_dir
    return CACHE.handle(store_dir, build_id), build_id, store_dir


def cached(name: str, make: Callable[[ox.Store], bytes]) -> tuple[bytes, str]:
    handle, build_id, store_dir = current()
    return CACHE.get((str(store_dir), build_id, name), lambda: make(handle)), build_id


def respond(body: bytes, content_type: str, build_id: str, name: str,
            filename: str | None = None) -> Response:
    etag = f'"{build_id}-{name}"'
    if request.headers.get("If-None-Match") == etag:
        response = Response(status=304)
    else:
        response = Response(body, content_type=content_type)
    response.headers["ETag"] = etag
    response.headers["X-Medkg-Build"] = build_id
    response.headers["Cache-Control"] = "public, max-age=300"
    if filename:
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# -- dumps and VoID ---------------------------------------------------------------------------

@bp.get("/download/")
@bp.get("/download")
def download_index() -> Response:
    fmt = negotiate(request.headers.get("Accept"), request.args.get("format"),
                    [Kind.HTML, Kind.ERROR])
    _, build_id, _ = current()
    names = [d.file_name(None, gz) for d in DUMPS.values() for gz in (False, True)]
    if fmt.key == "html":
        items = "".join(f'<li><a href="/download/{n}">{n}</a></li>' for n in names)
        body = (f"<!doctype html><title>medkg downloads</title><h1>Downloads</h1>"
                f"<p>Build {html.escape(build_id)}.</p><ul>{items}</ul>"
                '<p><a href="/.well-known/void">VoID</a> · <a href="/catalog.ttl">DCAT-AP</a> · '
                '<a href="/croissant.json">Croissant</a> · <a href="/datasets.bib">BibTeX</a></p>')
        return respond(body.encode(), "text/html; charset=utf-8", build_id, "download-index")
    doc = {"build_id": build_id, "dumps": [f"/download/{n}" for n in names]}
    return respond(json.dumps(doc).encode(), "application/json", build_id, "download-index.json")


@bp.get("/download/<name>")
def download(name: str) -> Response:
    dump, compressed = parse_dump_name(name)
    body, build_id = cached(f"dump:{dump.name}:{compressed}",
                            lambda h: dump_bytes(h, dump, compressed))
    content_type = "application/gzip" if compressed else _textual(dump.media_type)
    return respond(body, content_type, build_id, name, dump.file_name(build_id, compressed))


def _textual(media_type: str) -> str:
    return f"{media_type}; charset=utf-8"


@bp.get("/.well-known/void")
def void() -> Response:
    fmt = negotiate(request.headers.get("Accept"), request.args.get("format"), Kind.GRAPH)
    base = request.host_url

    def make(handle: ox.Store) -> bytes:
        graph = void_graph(handle, base, current()[1])
        return graph.serialize(format=_rdflib_name(fmt.key), encoding="utf-8")

    body, build_id = cached(f"void:{fmt.key}:{base}", make)
    return respond(body, fmt.content_type, build_id, f"void.{fmt.extension}")


def _rdflib_name(key: str) -> str:
    return {"turtle": "turtle", "ntriples": "nt", "rdfxml": "xml", "jsonld": "json-ld"}[key]


# -- DCAT-AP ----------------------------------------------------------------------------------

def _catalog(fmt_key: str) -> Response:
    from .formats import BY_KEY

    fmt = BY_KEY[fmt_key]
    body, build_id = cached(f"dcat:{fmt_key}", lambda h: dcat_bytes(h, _rdflib_name(fmt_key)))
    return respond(body, fmt.content_type, build_id, f"catalog.{fmt.extension}")


@bp.get("/catalog.ttl")
def catalog_ttl() -> Response:
    return _catalog("turtle")


@bp.get("/catalog.jsonld")
def catalog_jsonld() -> Response:
    return _catalog("jsonld")


@bp.get("/catalog")
def catalog() -> Response:
    fmt = negotiate(request.headers.get("Accept"), request.args.get("format"), Kind.GRAPH)
    return _catalog(fmt.key)


# -- Croissant --------------------------------------------------------------------------------

@bp.get("/dataset/<ident>/croissant")
def dataset_croissant(ident: str) -> Response:
    body, build_id = cached(f"croissant:{ident}", lambda h: croissant_bytes(h, ident))
    return respond(body, "application/ld+json; charset=utf-8", build_id, f"croissant-{ident}")


@bp.get("/croissant.json")
def catalogue_croissant() -> Response:
    body, build_id = cached("croissant", lambda h: croissant_bytes(h))
    return respond(body, "application/ld+json; charset=utf-8", build_id, "croissant")


# -- BibTeX -----------------------------------------------------------------------------------

def bibtex_response(ids: list[str] | None) -> Response:
    """BibTeX for a list of dataset ids (None: every dataset). The hook for /datasets filters:
    any filter that yields ids can answer ``.bib`` through this one function."""
    handle, build_id, _ = current()
    if ids is None:
        from .export.facts import known_ids

        ids = sorted(known_ids(handle))
    key = "bib:" + ",".join(ids)
    body, build_id = cached(key, lambda h: citations.bibtex_for_ids(h, ids).encode("utf-8"))
    return respond(body, "application/x-bibtex; charset=utf-8", build_id,
                   "bib-" + hashlib.sha1(key.encode()).hexdigest()[:12])


@bp.get("/datasets.bib")
def datasets_bib() -> Response:
    """BibTeX for ``?id=a&id=b``, or for the datasets the /datasets filters select
    (``/datasets.bib?anatomy=liver&modality=ct``, same parameters and errors), or for all."""
    ids = request.args.getlist("id")
    if ids:
        return bibtex_response(ids)
    if not any(key not in ("format", "page", "per_page", "sort") for key in request.args):
        return bibtex_response(None)
    from .search import DatasetFilter, search

    flt = DatasetFilter.from_args(request.args, ignore=("format", "page", "per_page"))
    result = search(endpoint().executor, flt)
    return bibtex_response([entry.id for entry in result.entries])

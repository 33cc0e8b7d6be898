"""An external SPARQL engine as the store: the SPARQL 1.1 Protocol and Graph Store Protocol client.

``--store http(s)://...`` selects this instead of a store folder. The engine holds each build
in a named graph of its own, ``https://w3id.org/medkg/graph/<build-id>``; a pointer graph,
``https://w3id.org/medkg/graph/current``, names the one now served::

    GRAPH <.../graph/current> {
        <.../graph/current> sd:name <.../graph/<build-id>> .
        <.../graph/<build-id>> void:triples 12345 ; prov:generatedAtTime "..."^^xsd:dateTime .
    }

A build is PUT (Graph Store Protocol) into its new graph, its triple count checked, and only
then is the pointer rewritten by one SPARQL Update DELETE/INSERT operation: readers see the
old graph or the new one, never a half-loaded one. Older graphs beyond the newest
``KEEP_BUILDS`` are dropped after the switch.

Queries go to the engine with ``default-graph-uri`` = the current graph (and no named graphs),
which replaces any FROM / FROM NAMED in the query text, exactly as the embedded store (whose
build is all in its default graph) answers them. Parameters of named queries are bound by a
``VALUES`` block injected at the start of the query's WHERE group, from terms serialized by
pyoxigraph (the same meaning as pyoxigraph's ``substitutions``: bound before evaluation).
Answers are read as SPARQL JSON results or N-Triples, parsed by pyoxigraph as they stream,
and re-serialized by :mod:`medkg.results` with the same row and byte limits as the embedded
store.

Endpoint URLs: ``--store`` (or ``MEDKG_QUERY_URL``) is the query URL; ``MEDKG_UPDATE_URL`` and
``MEDKG_GSP_URL`` the update and Graph Store URLs. When not given they are derived, Oxigraph's
layout: a URL ending in ``/query`` has ``/update`` and ``/store`` beside it; a bare
``http://host:port`` gets all three. Credentials come from ``MEDKG_STORE_USER`` /
``MEDKG_STORE_PASSWORD`` (HTTP Basic), never the command line. ``MEDKG_ENGINE_TIMEOUT_PARAM``
(e.g. ``timeout={s}`` for Fuseki, ``timeout={ms}`` for Virtuoso) adds the engine's own
time-limit parameter to each query.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

import pyoxigraph as ox
import requests

from .paths import is_remote  # noqa: F401 - re-exported
from .errors import (EngineTimeout, EngineError, MedkgError, QueryError, QuerySyntaxError,
                     ResultTooLarge, StoreNotBuilt)

log = logging.getLogger(__name__)

GRAPH_NS = "https://w3id.org/medkg/graph/"
POINTER = GRAPH_NS + "current"
SD_NAME = "http://www.w3.org/ns/sparql-service-description#name"
VOID_TRIPLES = "http://rdfs.org/ns/void#triples"
GENERATED = "http://www.w3.org/ns/prov#generatedAtTime"
XSD = "http://www.w3.org/2001/XMLSchema#"
KEEP_BUILDS = 3

RESULTS_JSON = "application/sparql-results+json"
NTRIPLES = "application/n-triples"
ACCEPT = f"{RESULTS_JSON}, {NTRIPLES};q=0.9, application/sparql-results+xml;q=0.5"


def graph_iri(build_id: str) -> str:
    return GRAPH_NS + build_id


def build_id_of(graph: str) -> str:
    return graph[len(GRAPH_NS):] if graph.startswith(GRAPH_NS) else graph


@dataclass(frozen=True)
class Endpoints:
    """Where the engine answers: query, update and Graph Store URLs; credentials; options."""

    query: str
    update: str | None = None
    gsp: str | None = None
    user: str | None = None
    password: str | None = None
    timeout_param: str | None = None  # e.g. "timeout={s}" or "timeout={ms}"

    @classmethod
    def from_url(cls, url: str, env: Mapping[str, str] | None = None) -> "Endpoints":
        env = os.environ if env is None else env
        query = env.get("MEDKG_QUERY_URL") or url
        parts = urlsplit(query)
        path = parts.path.rstrip("/")
        update = gsp = None
        if path == "" or path.endswith("/query"):
            root = path[: -len("/query")] if path.endswith("/query") else path

            def sibling(name: str) -> str:
                return urlunsplit((parts.scheme, parts.netloc, f"{root}/{name}", "", ""))

            query = query if path else sibling("query")
            update, gsp = sibling("update"), sibling("store")
        return cls(query=query, update=env.get("MEDKG_UPDATE_URL") or update,
                   gsp=env.get("MEDKG_GSP_URL") or gsp, user=env.get("MEDKG_STORE_USER") or None,
                   password=env.get("MEDKG_STORE_PASSWORD"),
                   timeout_param=env.get("MEDKG_ENGINE_TIMEOUT_PARAM") or None)

    def __str__(self) -> str:  # never shows credentials
        return self.query


@dataclass(frozen=True)
class Current:
    """The build the pointer graph names."""

    build_id: str
    graph: str
    triples: int
    built_at: str | None

    def info(self) -> dict:
        return {"build_id": self.build_id, "triples": self.triples, "built_at": self.built_at,
                "graph": self.graph}


class _Limited:
    """A response body read through a deadline and a byte cap (pyoxigraph parses from it)."""

    def __init__(self, response: requests.Response, deadline: float, max_bytes: int):
        self.response, self.deadline, self.max_bytes, self.read_bytes = (
            response, deadline, max_bytes, 0)

    def read(self, size: int = -1) -> bytes:
        if time.monotonic() > self.deadline:
            raise EngineTimeout("the engine's answer took longer than the time limit")
        try:
            chunk = self.response.raw.read(65536 if size is None or size < 0 else size,
                                           decode_content=True)
        except requests.exceptions.RequestException as exc:
            raise _transport_error(exc) from None
        except Exception as exc:  # urllib3 read timeouts and protocol errors
            raise _transport_error(exc) from None
        self.read_bytes += len(chunk)
        if self.read_bytes > self.max_bytes:
            raise ResultTooLarge(f"the engine's answer is over {self.max_bytes} bytes; add a LIMIT")
        return chunk

    def readable(self) -> bool:
        return True


def _read_error(exc: BaseException) -> MedkgError:
    """An error raised while pyoxigraph parsed the engine's answer (ours come back wrapped)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, MedkgError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return EngineError(f"the SPARQL engine's answer could not be read: {exc}")


def _transport_error(exc: BaseException) -> MedkgError:
    text = str(exc)
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return EngineError(f"the SPARQL engine did not accept the connection in time ({text})")
    if "timed out" in text.lower() or isinstance(exc, requests.exceptions.Timeout):
        return EngineTimeout("the SPARQL engine did not answer within the time limit; "
                             "narrow the query (LIMIT, more specific patterns) and retry")
    return EngineError(f"the SPARQL engine is unreachable ({type(exc).__name__})")


class RemoteStore:
    """A client of one engine: run queries on the current graph, load and switch builds."""

    def __init__(self, endpoints: Endpoints, *, timeout: float = 30.0, connect_timeout: float = 5.0):
        self.endpoints = endpoints
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self._local = threading.local()

    @classmethod
    def from_url(cls, url: str, **options) -> "RemoteStore":
        return cls(Endpoints.from_url(url), **options)

    def __str__(self) -> str:
        return str(self.endpoints)

    # -- HTTP -----------------------------------------------------------------------------

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None or getattr(self._local, "pid", None) != os.getpid():
            session = requests.Session()
            session.trust_env = False  # no proxy settings from the environment for the engine
            if self.endpoints.user:
                token = f"{self.endpoints.user}:{self.endpoints.password or ''}"
                session.headers["Authorization"] = "Basic " + base64.b64encode(
                    token.encode("utf-8")).decode("ascii")
            self._local.session, self._local.pid = session, os.getpid()
        return session

    def _send(self, method: str, url: str | None, *, what: str, timeout: float | None = None,
              stream: bool = False, **kwargs) -> requests.Response:
        if not url:
            raise MedkgError(f"no {what} URL for the engine at {self.endpoints.query}: set "
                             f"MEDKG_{'UPDATE' if what == 'update' else 'GSP'}_URL")
        limit = self.timeout if timeout is None else timeout
        try:
            response = self._session().request(method, url, timeout=(self.connect_timeout, limit),
                                               stream=stream, allow_redirects=False, **kwargs)
        except requests.exceptions.RequestException as exc:
            raise _transport_error(exc) from None
        if response.status_code >= 400:
            body = response.text[:2000] if not stream else response.raw.read(2000).decode(
                "utf-8", "replace")
            response.close()
            raise self._status_error(response.status_code, body, what)
        return response

    @staticmethod
    def _status_error(status: int, body: str, what: str) -> MedkgError:
        message = " ".join(body.split())[:500] or f"HTTP {status}"
        if status in (401, 403):
            return EngineError(f"the SPARQL engine refused the {what} ({status}): check "
                                     "MEDKG_STORE_USER / MEDKG_STORE_PASSWORD")
        if status in (408, 504):
            return EngineTimeout(f"the SPARQL engine stopped the {what} at its time limit: {message}")
        if status == 400 and what == "query":
            return QuerySyntaxError(f"the SPARQL engine rejected the query: {message}")
        if 400 <= status < 500:
            return QueryError(f"the SPARQL engine refused the {what} ({status}): {message}")
        return EngineError(f"the SPARQL engine failed ({status}): {message}")

    # -- queries --------------------------------------------------------------------------

    def current(self) -> Current:
        """The build the pointer graph names; StoreNotBuilt when there is none."""
        text = (f"SELECT ?g ?n ?t WHERE {{ GRAPH <{POINTER}> {{ <{POINTER}> <{SD_NAME}> ?g "
                f"OPTIONAL {{ ?g <{VOID_TRIPLES}> ?n }} OPTIONAL {{ ?g <{GENERATED}> ?t }} }} }}")
        rows = self.select(text, timeout=min(self.timeout, 10.0))
        if not rows:
            raise StoreNotBuilt(self.endpoints.query)
        row = rows[0]
        graph = row["g"].value
        triples = int(row["n"].value) if row.get("n") is not None else 0
        built = row["t"].value if row.get("t") is not None else None
        return Current(build_id=build_id_of(graph), graph=graph, triples=triples, built_at=built)

    def select(self, text: str, *, graphs: tuple[str, ...] | None = None,
               timeout: float | None = None) -> list[dict]:
        """A small SELECT read whole (for medkg's own bookkeeping queries)."""
        def rows(result) -> list[dict]:
            names = [v.value for v in result.variables]
            return [dict(zip(names, solution)) for solution in result]

        return self.query(text, default_graphs=graphs, timeout=timeout, consume=rows)

    def query(self, text: str, *, default_graphs: tuple[str, ...] | None = None,
              named_graphs: tuple[str, ...] | None = None, substitutions=None,
              base_iri: str | None = None, prefixes: Mapping[str, str] | None = None,
              timeout: float | None = None, max_bytes: int = 1 << 40, consume=None):
        """Run a query: a pyoxigraph result (QuerySolutions, QueryBoolean or triples) parsed as
        the engine's answer streams in, read within ``timeout`` seconds and ``max_bytes``.

        With ``consume``, returns ``consume(result)`` and closes the answer afterwards (a read
        error or a parse error on the way is an EngineError)."""
        limit = self.timeout if timeout is None else timeout
        text = prepare(text, substitutions=substitutions, base_iri=base_iri, prefixes=prefixes)
        form: list[tuple[str, str]] = [("query", text)]
        form += [("default-graph-uri", g) for g in default_graphs or ()]
        form += [("named-graph-uri", g) for g in named_graphs or ()]
        if self.endpoints.timeout_param:
            name, _, value = self.endpoints.timeout_param.partition("=")
            form.append((name, value.format(s=max(1, int(limit)), ms=int(limit * 1000))))
        deadline = time.monotonic() + limit
        response = self._send("POST", self.endpoints.query, what="query", timeout=limit,
                              stream=True, data=urlencode(form).encode("utf-8"),
                              headers={"Content-Type": "application/x-www-form-urlencoded",
                                       "Accept": ACCEPT})
        body = _Limited(response, deadline, max_bytes)
        if consume is None:
            return self._parse(response, body)
        try:
            return consume(self._parse(response, body))
        except (OSError, SyntaxError, ValueError) as exc:
            raise _read_error(exc) from None
        finally:
            response.close()

    @staticmethod
    def _parse(response: requests.Response, body: _Limited):
        media = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        try:
            if media in (RESULTS_JSON, "application/json"):
                return ox.parse_query_results(body, ox.QueryResultsFormat.JSON)
            if media in ("application/sparql-results+xml", "application/xml"):
                return ox.parse_query_results(body, ox.QueryResultsFormat.XML)
            if media in (NTRIPLES, "text/plain"):
                return (quad.triple for quad in ox.parse(body, ox.RdfFormat.N_TRIPLES))
            if media == "text/turtle":
                return (quad.triple for quad in ox.parse(body, ox.RdfFormat.TURTLE))
        except (SyntaxError, ValueError) as exc:
            response.close()
            raise EngineError(f"the SPARQL engine's answer does not parse: {exc}") from None
        response.close()
        raise EngineError(f"the SPARQL engine answered in an unexpected format '{media}'")

    # -- builds ---------------------------------------------------------------------------

    def update(self, text: str, *, timeout: float | None = None) -> None:
        self._send("POST", self.endpoints.update, what="update", timeout=timeout,
                   data=text.encode("utf-8"),
                   headers={"Content-Type": "application/sparql-update"}).close()

    def load(self, graph: str, ntriples: bytes, *, timeout: float = 600.0) -> None:
        """Replace ``graph`` with ``ntriples`` (Graph Store Protocol PUT)."""
        self._send("PUT", _with_graph(self.endpoints.gsp, graph), what="graph store",
                   timeout=timeout, data=ntriples, headers={"Content-Type": NTRIPLES}).close()

    def count(self, graph: str) -> int:
        rows = self.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}",
                           timeout=max(self.timeout, 120.0))
        return int(rows[0]["n"].value) if rows else 0

    def switch(self, graph: str, triples: int, built_at: str) -> None:
        """Point ``current`` at ``graph``: one DELETE/INSERT operation, so one transaction."""
        self.update(
            f"DELETE {{ GRAPH <{POINTER}> {{ ?s ?p ?o }} }}\n"
            f"INSERT {{ GRAPH <{POINTER}> {{ <{POINTER}> <{SD_NAME}> <{graph}> .\n"
            f"  <{graph}> <{VOID_TRIPLES}> {int(triples)} ;\n"
            f"    <{GENERATED}> {ox.Literal(built_at, datatype=ox.NamedNode(XSD + 'dateTime'))} }} }}\n"
            f"WHERE {{ OPTIONAL {{ GRAPH <{POINTER}> {{ ?s ?p ?o }} }} }}")
        log.info("engine %s now serves %s", self, graph)

    def build_graphs(self) -> list[str]:
        """The medkg build graphs the engine holds, newest first (build ids sort by time)."""
        rows = self.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { } }")
        found = [r["g"].value for r in rows if r.get("g") is not None]
        return sorted((g for g in found if g.startswith(GRAPH_NS) and g != POINTER), reverse=True)

    def drop(self, graph: str) -> None:
        self.update(f"DROP SILENT GRAPH <{graph}>", timeout=max(self.timeout, 120.0))

    def prune(self, keep: int = KEEP_BUILDS) -> None:
        """Drop build graphs beyond the newest ``keep``, never the current one."""
        current = self.current().graph
        for graph in self.build_graphs()[keep:]:
            if graph != current:
                self.drop(graph)

    def dump(self, graph: str) -> bytes:
        """The whole of ``graph`` as N-Triples (Graph Store Protocol GET)."""
        response = self._send("GET", _with_graph(self.endpoints.gsp, graph), what="graph store",
                              timeout=max(self.timeout, 300.0), headers={"Accept": NTRIPLES})
        return response.content

    def open_in_memory(self):
        """The current build copied into an in-memory pyoxigraph store, and its build info."""
        from .store import BuildInfo

        current = self.current()
        memory = ox.Store()
        memory.bulk_load(self.dump(current.graph), ox.RdfFormat.N_TRIPLES)
        return memory, BuildInfo(build_id=current.build_id, path=Path(current.graph),
                                 info=current.info())


def _with_graph(url: str | None, graph: str) -> str | None:
    if not url:
        return None
    return f"{url}{'&' if '?' in url else '?'}{urlencode({'graph': graph})}"


# -- query text --------------------------------------------------------------------------------

_SKIP = re.compile(r"""\#[^\n\r]*|'''.*?'''|\"\"\".*?\"\"\"|'(?:[^'\\\n\r]|\\.)*'"""
                   r"""|"(?:[^"\\\n\r]|\\.)*"|<[^<>"{}|^`\\\x00-\x20]*>""", re.DOTALL)
_KEYWORD = re.compile(r"[A-Za-z_][\w-]*")


def where_brace(text: str) -> int | None:
    """Offset of the ``{`` opening the query's WHERE group (outside strings, IRIs, comments).

    SELECT, ASK and DESCRIBE: the first ``{``; CONSTRUCT: the first ``{`` after ``WHERE``, or
    the first one for the short form (``CONSTRUCT WHERE { ... }``).
    """
    pos, construct, seen_where = 0, False, False
    while pos < len(text):
        char = text[pos]
        skip = _SKIP.match(text, pos) if char in "#'\"<" else None
        if skip:
            pos = skip.end()
            continue
        word = _KEYWORD.match(text, pos) if char.isalpha() else None
        if word:
            lowered = word.group().lower()
            construct = construct or lowered == "construct"
            seen_where = seen_where or lowered == "where"
            pos = word.end()
            continue
        if char == "{" and (not construct or seen_where):
            return pos
        if char == "{" and construct:  # skip the template
            depth = 0
            while pos < len(text):
                skip = _SKIP.match(text, pos) if text[pos] in "#'\"<" else None
                if skip:
                    pos = skip.end()
                    continue
                depth += {"{": 1, "}": -1}.get(text[pos], 0)
                pos += 1
                if depth == 0:
                    break
            continue
        pos += 1
    return None


def prepare(text: str, *, substitutions=None, base_iri: str | None = None,
            prefixes: Mapping[str, str] | None = None) -> str:
    """The query text the engine gets: base IRI and default prefixes declared, parameters bound
    by a VALUES block (of terms serialized by pyoxigraph) at the start of the WHERE group."""
    if substitutions:
        items = [(getattr(k, "value", k), v) for k, v in dict(substitutions).items()]
        for name, term in items:
            if not re.fullmatch(r"\w+", name) or not isinstance(
                    term, (ox.NamedNode, ox.Literal)):
                raise QueryError(f"cannot bind ?{name} to {term!r}")
        brace = where_brace(text)
        if brace is None:
            raise QueryError("cannot bind the parameters: the query has no WHERE group")
        block = (" VALUES (" + " ".join(f"?{n}" for n, _ in items) + ") { ("
                 + " ".join(str(t) for _, t in items) + ") } ")
        text = text[: brace + 1] + block + text[brace + 1:]
    head = []  # on the query's first line, so engines' error line numbers stay right
    if base_iri:
        head.append(f"BASE <{base_iri}>")
    for name, iri in (prefixes or {}).items():
        if not re.search(rf"(?im)^\s*prefix\s+{re.escape(name)}:", text):
            head.append(f"PREFIX {name}: <{iri}>")
    return " ".join(head + [text]) if head else text


def publish(url: str, ntriples: bytes, info: dict) -> int:
    """Load a build into a new graph of the engine at ``url``, check it, switch to it, prune.

    Returns the triple count. On any failure before the switch the new graph is dropped (when
    the engine still answers) and the pointer is unchanged: the old build keeps serving.
    """
    engine = RemoteStore.from_url(url, timeout=600.0)
    graph = graph_iri(info["build_id"])
    try:
        engine.load(graph, ntriples)
        count = engine.count(graph)
        if count != info["triples"]:
            raise EngineError(f"the engine holds {count} triples in {graph}, "
                              f"{info['triples']} were sent; not switching")
        engine.switch(graph, count, info["built_at"])
    except BaseException:
        try:
            engine.drop(graph)
        except MedkgError as exc:
            log.warning("could not drop the unfinished graph %s: %s", graph, exc)
        raise
    try:
        engine.prune()
    except MedkgError as exc:
        log.warning("old build graphs not pruned: %s", exc)
    return count

"""The SPARQL 1.1 Protocol query operation at ``/sparql`` (read-only), as a Flask blueprint.

GET ``?query=``, POST form-urlencoded, POST ``application/sparql-query`` (UTF-8);
``default-graph-uri`` / ``named-graph-uri`` override FROM / FROM NAMED; ``?format=`` or
``Accept`` picks the format. ``GET /sparql`` without a query describes the service (RDF) or,
for browsers, shows a query page. Answers carry an ETag derived from (build, query, format,
graphs, limits): a matching If-None-Match gets a 304 without running anything, and repeated
queries are answered from a per-worker cache until the next build takes over.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import parse_qsl

import pyoxigraph as ox
from flask import Blueprint, Response, request
from werkzeug.datastructures import MultiDict

from . import guard, requestcache
from .errors import BadRequest, UnsupportedMediaType, UpdateRefused
from .executor import Job
from .formats import BY_KEY, FORMATS, Kind, negotiate
from .web import endpoint

bp = Blueprint("sparql", __name__)

FORM = "application/x-www-form-urlencoded"
DIRECT = "application/sparql-query"


@dataclass(frozen=True)
class ProtocolRequest:
    query: str
    default_graphs: tuple[str, ...] | None
    named_graphs: tuple[str, ...] | None
    format_param: str | None


def parse_qs(raw: bytes, where: str) -> MultiDict:
    """Parse a query string or form body strictly: non-UTF-8 is a 400, not silent U+FFFD."""
    try:
        text = raw.decode("utf-8")
        pairs = parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise BadRequest(f"the {where} is not UTF-8 (percent-encoded UTF-8 is required)") from None
    return MultiDict(pairs)


def _iris(values: list[str], name: str) -> tuple[str, ...]:
    for value in values:
        try:
            ox.NamedNode(value)
        except ValueError:
            raise BadRequest(f"{name} '{value}' is not an absolute IRI") from None
    return tuple(values)


def read_request() -> ProtocolRequest | None:
    """The protocol request in this HTTP request; None for a GET without a query."""
    args = parse_qs(request.query_string, "query string")
    if request.method == "GET":
        params, bodies = args, []
    else:
        mimetype = request.mimetype.lower()
        charset = (request.mimetype_params.get("charset") or "utf-8").lower()
        if mimetype in (FORM, DIRECT) and charset not in ("utf-8", "utf8"):
            raise BadRequest(f"charset {charset} is not supported: send UTF-8")
        if mimetype == FORM:
            form = parse_qs(request.get_data(cache=False), "form body")
            params = MultiDict(list(args.items(multi=True)) + list(form.items(multi=True)))
            bodies = []
        elif mimetype == DIRECT:
            try:
                bodies = [request.get_data(cache=False).decode("utf-8")]
            except UnicodeDecodeError:
                raise BadRequest("the query is not valid UTF-8") from None
            params = args
        elif mimetype == "application/sparql-update":
            raise UpdateRefused("SPARQL Update is not allowed: this endpoint is read-only")
        else:
            raise UnsupportedMediaType(
                f"cannot read a query sent as '{request.mimetype or 'no content type'}': POST it "
                f"as {FORM} (query=...) or as {DIRECT}")
    if "update" in params:
        raise UpdateRefused("SPARQL Update is not allowed: this endpoint is read-only")
    queries = params.getlist("query") + bodies
    if not queries:
        if request.method == "GET":
            return None
        raise BadRequest("no query: send one in the 'query' parameter or the request body")
    if len(queries) > 1:
        raise BadRequest(f"{len(queries)} queries given: send exactly one")
    if not queries[0].strip():
        raise BadRequest("the query is empty")
    defaults = params.getlist("default-graph-uri")
    named = params.getlist("named-graph-uri")
    dataset = bool(defaults or named)
    return ProtocolRequest(
        query=queries[0],
        default_graphs=_iris(defaults, "default-graph-uri") if dataset else None,
        named_graphs=_iris(named, "named-graph-uri") if dataset else None,
        format_param=params.get("format") or params.get("output"),
    )


@bp.route("/sparql", methods=["GET", "POST"], strict_slashes=False)
def query() -> Response:
    preq = read_request()
    if preq is None:
        return service_description()
    ep = endpoint()
    settings = ep.settings
    inspection = guard.inspect(preq.query, max_length=settings.max_query_length,
                               allow_service=settings.allow_service)
    fmt = None
    if inspection.kind is not None:
        fmt = negotiate(request.headers.get("Accept"), preq.format_param, inspection.kind)
    job = Job(query=preq.query, format_key=fmt.key if fmt else None,
              default_graphs=preq.default_graphs, named_graphs=preq.named_graphs,
              union_default_graph=settings.union_default_graph, base_iri=_endpoint_url(),
              max_rows=settings.max_rows,
              max_bytes=settings.max_result_bytes)
    key = (job.query, job.format_key, job.default_graphs, job.named_graphs,
           job.union_default_graph, job.base_iri, job.max_rows, job.max_bytes)
    return respond(job, key, cacheable=inspection.cacheable and fmt is not None)


def respond(job: Job, key: tuple, *, cacheable: bool) -> Response:
    """Run ``job`` (or answer from the cache, or 304 on a matching ETag) and make the response.

    ``key`` identifies the answer within a build (everything the body depends on); the named
    queries (medkg.named) answer through here too.
    """
    ep = endpoint()
    settings = ep.settings
    answer, status = None, "off"
    if cacheable:
        build_id = ep.executor.build()["build_id"]
        etag = _etag(build_id, key)
        if request.if_none_match.contains_weak(etag):
            response = Response(status=304)
            response.set_etag(etag, weak=True)
            return _decorate(response, build_id)
        if ep.cache is not None:
            answer = ep.cache.get((build_id, *key))
            status = "hit" if answer else "miss"
    if answer is None:
        answer = ep.executor.run(job)
        if cacheable and ep.cache is not None:
            ep.cache.put((answer.build_id, *key), answer)
    response = Response(answer.body, content_type=BY_KEY[answer.format_key].content_type)
    if cacheable:
        response.set_etag(_etag(answer.build_id, key), weak=True)
    response.headers["X-Medkg-Rows"] = str(answer.rows)
    response.headers["X-Medkg-Cache"] = status
    if answer.truncated:
        response.headers["X-Medkg-Truncated"] = (
            f"true; limit={settings.max_rows}; the answer was cut to {answer.rows} rows")
    if cacheable and ep.cache is not None:  # the same raw request may be replayed
        request.environ[requestcache.MARK] = answer.build_id
    return _decorate(response, answer.build_id)


def _endpoint_url() -> str:
    """This endpoint's URL (werkzeug's base_url is slow: it IRI-decodes the whole URL)."""
    return f"{request.scheme}://{request.host}{request.script_root}{request.path}"


def _etag(build_id: str, key: tuple) -> str:
    return hashlib.blake2b(repr((build_id, key)).encode("utf-8"), digest_size=16).hexdigest()


def _decorate(response: Response, build_id: str) -> Response:
    response.headers["X-Medkg-Build"] = build_id
    response.headers["Cache-Control"] = "no-cache"  # store, but revalidate (ETag)
    response.headers["Vary"] = "Accept"
    return response


SD = "http://www.w3.org/ns/sparql-service-description#"
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")


def service_description() -> Response:
    """A SPARQL Service Description (RDF by Accept) or, for browsers, the query page."""
    args = parse_qs(request.query_string, "query string")
    fmt = negotiate(request.headers.get("Accept"), args.get("format"), (Kind.GRAPH, Kind.HTML))
    ep = endpoint()
    if fmt.key == "html":
        from .querypage import render  # the query page for people (named-query examples)

        html = render(endpoint=request.base_url, build=ep.executor.build())
        response = Response(html, content_type=fmt.content_type)
    else:
        response = Response(ox.serialize(_sd_triples(ep), format=fmt.rdf),
                            content_type=fmt.content_type)
    response.headers["Vary"] = "Accept"
    return response


def _sd_triples(ep) -> list[ox.Triple]:
    def sd(name: str) -> ox.NamedNode:
        return ox.NamedNode(SD + name)

    service, dataset, graph = ox.BlankNode(), ox.BlankNode(), ox.BlankNode()
    triples = [
        ox.Triple(service, RDF_TYPE, sd("Service")),
        ox.Triple(service, sd("endpoint"), ox.NamedNode(_endpoint_url())),
        ox.Triple(service, sd("supportedLanguage"), sd("SPARQL11Query")),
        ox.Triple(service, sd("defaultDataset"), dataset),
        ox.Triple(dataset, RDF_TYPE, sd("Dataset")),
        ox.Triple(dataset, sd("defaultGraph"), graph),
        ox.Triple(graph, RDF_TYPE, sd("Graph")),
        ox.Triple(graph, ox.NamedNode("http://rdfs.org/ns/void#triples"),
                  ox.Literal(str(ep.executor.build().get("triples") or 0),
                             datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))),
    ]
    if ep.settings.union_default_graph:
        triples.append(ox.Triple(service, sd("feature"), sd("UnionDefaultGraph")))
    if ep.settings.allow_service:
        triples.append(ox.Triple(service, sd("feature"), sd("BasicFederatedQuery")))
    for fmt in FORMATS:
        if fmt.results is not None or Kind.GRAPH in fmt.kinds:
            triples.append(ox.Triple(service, sd("resultFormat"), ox.NamedNode(fmt.iri)))
    return triples

"""Pages for people and dereferenceable IRIs: ``/{kind}/{id}``, ``/ontology``, the concept
schemes (``/anatomy`` ...) and the home page ``/``.

Each entity IRI ``https://w3id.org/medkg/{kind}/{id}`` is served at ``/{kind}/{id}``: HTML for
browsers, RDF (Turtle, N-Triples, JSON-LD, RDF/XML) by ``Accept``, ``?format=`` or a file
extension (``/dataset/acdc.ttl``); the extension wins over ``?format=``, which wins over
``Accept``. Every answer says ``Vary: Accept`` and lists its alternates in ``Link``. Only the
known kinds are routed, so ``/sparql``, ``/datasets``, ``/download`` ... are never shadowed.
All data comes from the executor (timeouts, build following); the queries are in
:mod:`medkg.describe`, the view models in :mod:`medkg.views`.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, render_template, request
from markupsafe import Markup
from rdflib import Graph
from werkzeug.exceptions import NotFound

from . import describe
from .errors import BadFormat, MedkgError
from .executor import Answer, Job
from .facts import Facts, script_json
from .formats import BY_KEY, Format, Kind, by_name, negotiate
from .urls import CONCEPT_KINDS, KINDS, ONTOLOGY_IRI, entity_path, iri, scheme_iri, scheme_path, section
from .views import ontology_view, view
from .web import endpoint

bp = Blueprint("pages", __name__)

#: the RDF formats an entity is offered in, in the order the Link header lists them
RDF_FORMATS: tuple[str, ...] = ("turtle", "ntriples", "jsonld", "rdfxml")
PAGE_KINDS = (Kind.HTML, Kind.GRAPH)
PAGE_ROWS = 200_000  # triples a page graph may hold (pages are ours, not client queries)


# -- running queries --------------------------------------------------------------------------

def run(query: str, format_key: str | None) -> Answer:
    settings = endpoint().settings
    return endpoint().executor.run(Job(query=query, format_key=format_key, max_rows=PAGE_ROWS,
                                       max_bytes=settings.max_result_bytes))


def graph(query: str) -> tuple[Graph, str]:
    answer = run(query, "ntriples")
    g = Graph()
    g.parse(data=answer.body.decode("utf-8"), format="nt")
    return g, answer.build_id


def select(query: str) -> list[dict]:
    """SELECT rows as dicts of plain values (IRIs and literals as strings)."""
    body = json.loads(run(query, "results-json").body)
    return [{k: v["value"] for k, v in row.items()} for row in body["results"]["bindings"]]


# -- negotiation and responses ----------------------------------------------------------------

def choose(ext: str | None) -> Format:
    """The response format: file extension, else ``?format=``, else ``Accept``."""
    if ext is not None:
        try:
            return by_name(ext, PAGE_KINDS)
        except BadFormat:
            raise NotFound(f"no such document: unknown extension '.{ext}'") from None
    return negotiate(request.headers.get("Accept"), request.args.get("format"), PAGE_KINDS)


def split_ext(name: str) -> tuple[str, str | None]:
    stem, dot, ext = name.rpartition(".")
    return (stem, ext) if dot else (name, None)


def alternates(path: str) -> str:
    base = request.host_url.rstrip("/") + path
    links = [f'<{base}>; rel="alternate"; type="text/html"']
    links += [f'<{base}.{BY_KEY[k].extension}>; rel="alternate"; type="{BY_KEY[k].media_type}"'
              for k in RDF_FORMATS]
    return ", ".join(links)


def finish(response: Response, path: str, canonical: str | None, build_id: str) -> Response:
    response.headers["Vary"] = "Accept"
    link = alternates(path)
    if canonical:
        link += f', <{canonical}>; rel="canonical"'
    response.headers["Link"] = link
    response.headers["X-Medkg-Build"] = build_id
    response.headers["Cache-Control"] = "no-cache"
    return response


def rdf_response(query: str, fmt: Format, path: str, canonical: str | None,
                 missing: str) -> Response:
    answer = run(query, fmt.key)
    if answer.rows == 0:
        raise NotFound(missing)
    return finish(Response(answer.body, content_type=fmt.content_type), path, canonical,
                  answer.build_id)


def html_response(template: str, path: str, canonical: str | None, build_id: str,
                  status: int = 200, **context) -> Response:
    html = render_template(template, alternates=[(BY_KEY[k], f"{path}.{BY_KEY[k].extension}")
                                                 for k in RDF_FORMATS], **context)
    return finish(Response(html, status=status, content_type=BY_KEY["html"].content_type),
                  path, canonical, build_id)


def not_found(message: str, path: str, fmt: Format | None = None) -> Response:
    """A 404 page for browsers; other clients get the one error renderer's shape."""
    if fmt is None:
        try:
            fmt = negotiate(request.headers.get("Accept"), None, PAGE_KINDS)
        except MedkgError:
            fmt = None
    if fmt is None or fmt.key != "html":
        raise NotFound(message)
    return html_response("error.html", path, None, "", status=404, status_code=404,
                         title="Not found", message=message)


# -- routes -----------------------------------------------------------------------------------

ENTITY_RULE = "/<any({}):kind>/<name>".format(", ".join(KINDS))
SCHEME_RULE = "/<any({}):scheme>".format(", ".join(CONCEPT_KINDS))


@bp.route(ENTITY_RULE)
def entity(kind: str, name: str) -> Response:
    ident, ext = split_ext(name)
    path = entity_path(kind, ident)
    canonical = iri(kind, ident)
    missing = f"no {kind} '{ident}' in medkg"
    try:
        fmt = choose(ext)
    except NotFound as exc:
        return not_found(exc.description, path)
    if not describe.valid_id(ident):
        return not_found(missing, path, fmt)
    if fmt.key != "html":
        return rdf_response(describe.description(kind, ident), fmt, path, canonical, missing)
    g, build_id = graph(describe.page_graph(kind, ident))
    facts = Facts(g, canonical)
    if not facts.exists():
        return not_found(missing, path, fmt)
    page = view(kind, ident, facts, request.host_url.rstrip("/") + path)
    jsonld = page.pop("schema_org", None)
    return html_response("entity.html", path, canonical, build_id, page=page,
                         jsonld=Markup(script_json(jsonld)) if jsonld else None)


@bp.route(SCHEME_RULE)
@bp.route(SCHEME_RULE + ".<ext>")
def scheme(scheme: str, ext: str | None = None) -> Response:
    fmt = choose(ext)
    path, canonical = scheme_path(scheme), scheme_iri(scheme)
    if fmt.key != "html":
        return rdf_response(describe.scheme_rdf(scheme), fmt, path, canonical,
                            f"no concept scheme '{scheme}'")
    info = select(describe.scheme_info(scheme))
    rows = select(describe.scheme_tree(scheme))
    tree = concept_tree(rows, select(describe.scheme_links(scheme)))
    return html_response("scheme.html", path, canonical, _build_id(), scheme=scheme,
                         scheme_iri=canonical,
                         info=info[0] if info else {}, tree=tree, concepts=len(
                             {r["c"] for r in rows}))


def concept_tree(rows: list[dict], links: list[dict]) -> list[dict]:
    """Nested nodes ``{iri, id, label, zh, direct, total, children}``, roots first.

    ``direct`` counts the datasets tagged with the term, ``total`` those tagged with it or a
    narrower term (each dataset once).
    """
    nodes: dict[str, dict] = {}
    parents: dict[str, set] = {}
    for row in rows:
        nodes.setdefault(row["c"], {"iri": row["c"], "id": row["id"], "label": row["label"],
                                    "zh": row.get("zh")})
        parents.setdefault(row["c"], set())
        if row.get("broader"):
            parents[row["c"]].add(row["broader"])
    tagged: dict[str, set] = {}
    for link in links:
        tagged.setdefault(link["c"], set()).add(link["d"])
    children: dict[str, list] = {}
    for child, ps in parents.items():
        for parent in ps & nodes.keys():
            children.setdefault(parent, []).append(child)

    def build(key: str, trail: frozenset) -> dict:
        kids = [build(c, trail | {c}) for c in sorted(
            (c for c in children.get(key, ()) if c not in trail),
            key=lambda c: nodes[c]["label"].casefold())]
        datasets = set(tagged.get(key, ()))
        for kid in kids:
            datasets |= kid.pop("_datasets")
        return {**nodes[key], "direct": len(tagged.get(key, ())), "total": len(datasets),
                "children": kids, "_datasets": datasets}

    def clean(node: dict) -> dict:
        node.pop("_datasets", None)
        for kid in node["children"]:
            clean(kid)
        return node

    roots = sorted((c for c, ps in parents.items() if not (ps & nodes.keys())),
                   key=lambda c: nodes[c]["label"].casefold())
    return [clean(build(c, frozenset({c}))) for c in roots]


@bp.route("/ontology")
@bp.route("/ontology.<ext>")
def ontology(ext: str | None = None) -> Response:
    fmt = choose(ext)
    path = section("ontology")
    if fmt.key != "html":
        return rdf_response(describe.ontology(), fmt, path, ONTOLOGY_IRI, "no ontology loaded")
    g, build_id = graph(describe.ontology())
    return html_response("ontology.html", path, ONTOLOGY_IRI, build_id,
                         active_section="ontology", **ontology_view(g))


@bp.route("/")
def home() -> Response:
    fmt = negotiate(request.headers.get("Accept"), request.args.get("format"), Kind.HTML)
    by_class = {row["class"]: int(row["n"]) for row in select(describe.counts())}
    counts = {name: by_class.get(cls, 0) for name, cls in describe.COUNTED.items()}
    html = render_template("home.html", counts=counts, active_section="home",
                           schemes=CONCEPT_KINDS)
    response = Response(html, content_type=fmt.content_type)
    response.headers["Vary"] = "Accept"
    return response


def _build_id() -> str:
    return str(endpoint().executor.build().get("build_id", ""))


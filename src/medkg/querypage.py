"""The query page for people: ``/query`` (and ``/sparql`` for browsers, via :func:`render`).

An editor with the graph's prefixes filled in, the named queries of queries/ as examples
(their parameters bound to their defaults by a ``VALUES`` line at the top of the WHERE block,
terms made by :func:`medkg.queries.to_term`), and ``/query?query=...`` as a permalink that
opens with the query filled in and run. The page's script (static/query.js) sends the query to
/sparql and draws the answer; without JavaScript the form still submits to /sparql.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, render_template, request

from . import queries
from .errors import BadRequest, MedkgError
from .formats import Kind, negotiate
from .paths import BASE_IRI, ONTOLOGY_NS
from .rdf import PREFIXES
from .urls import KINDS, section
from .web import endpoint

log = logging.getLogger(__name__)
bp = Blueprint("querypage", __name__)

PREFIX_ORDER = ("mkg", "dcat", "dcterms", "schema", "skos", "prov", "foaf", "rdfs", "rdf",
                "owl", "xsd")
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"


def prefixes() -> dict[str, str]:
    """Prefix -> namespace, in the order the editor lists them."""
    known = {name: str(ns) for name, ns in PREFIXES.items()}
    known.setdefault("rdf", RDF_NS)
    return {name: known[name] for name in PREFIX_ORDER if name in known}


def prologue() -> str:
    return "".join(f"PREFIX {name}: <{ns}>\n" for name, ns in prefixes().items())


def default_query() -> str:
    return prologue() + """
# Datasets with their modalities and case counts, largest first
SELECT ?dataset ?name (GROUP_CONCAT(DISTINCT ?modality_label; separator=", ") AS ?modalities) ?cases
WHERE {
  ?dataset a mkg:Dataset ;
           rdfs:label ?name .
  OPTIONAL { ?dataset mkg:caseCount ?cases }
  OPTIONAL { ?dataset mkg:modality/rdfs:label ?modality_label }
}
GROUP BY ?dataset ?name ?cases
ORDER BY DESC(?cases) ?name
LIMIT 25
"""


def _body_start(text: str) -> int | None:
    """Offset just after the ``{`` opening the outermost WHERE group (comments, IRIs and
    strings skipped); None when there is none."""
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
        elif ch == "<":
            end = text.find(">", i)
            i = n if end < 0 else end + 1
        elif ch in "\"'":
            end = text.find(ch, i + 1)
            i = n if end < 0 else end + 1
        elif ch == "{":
            return i + 1
        else:
            i += 1
    return None


def bound_text(named: queries.NamedQuery) -> str:
    """The query text with each parameter bound to its default by a VALUES line."""
    text = named.text
    lines = []
    for param in named.params:
        if param.default is None:
            continue
        term = queries.to_term(param, param.default)
        lines.append(f"  VALUES ?{param.name} {{ {term} }}  # parameter {param.name}: {param.doc}"
                     if param.doc else f"  VALUES ?{param.name} {{ {term} }}")
    start = _body_start(text)
    if not lines or start is None:
        return text
    return text[:start] + "\n" + "\n".join(lines) + text[start:]


def examples() -> list[dict[str, str]]:
    """The named queries as editor examples (name, title, question, text)."""
    try:
        found = queries.discover()
    except (MedkgError, OSError) as exc:
        log.warning("named queries not listed on the query page: %s", exc)
        return []
    out = []
    for name, named in sorted(found.items(), key=lambda kv: kv[1].title.casefold()):
        try:
            text = bound_text(named)
        except MedkgError as exc:
            log.warning("named query %s: default not usable (%s)", name, exc)
            text = named.text
        out.append({"name": name, "title": named.title, "question": named.question,
                    "text": text})
    return out


def render(*, endpoint: str, query: str | None = None, autorun: bool = False,
           build: dict | None = None, example: str | None = None) -> str:
    """The page's HTML; ``query`` None shows the default query."""
    listed = examples()
    if query is None and example:
        match = next((e for e in listed if e["name"] == example), None)
        if match is None:
            raise BadRequest(f"parameter 'example': no named query {example!r}")
        query, autorun = match["text"], True
    config = {
        "endpoint": endpoint,
        "autorun": bool(autorun and query),
        "baseIri": BASE_IRI,
        "ontologyNs": ONTOLOGY_NS,
        "kinds": list(KINDS),
        "ontologyPath": section("ontology"),
        "queryPath": section("query"),
        "prefixes": prefixes(),
        "examples": listed,
    }
    return render_template("query.html", endpoint=endpoint, config=config,
                           query=query if query is not None else default_query(),
                           examples=listed, build=build, active_section="query",
                           prefixes=prefixes(), selected_example=example)


@bp.route("/query", strict_slashes=False)
def query_page() -> Response:
    negotiate(request.headers.get("Accept"), request.args.get("format"), Kind.HTML)
    unknown = set(request.args) - {"query", "example", "format", "run"}
    if unknown:
        raise BadRequest(f"unknown parameter '{sorted(unknown)[0]}' (known: query, example, run)")
    query = request.args.get("query")
    if query is not None and not query.strip():
        query = None
    run = request.args.get("run", "true").lower() not in ("false", "0", "no")
    try:
        build = endpoint().executor.build()
    except MedkgError:
        build = None  # the page still loads; running a query will report the problem
    html = render(endpoint=section("sparql"), query=query, autorun=run and query is not None,
                  example=request.args.get("example"), build=build)
    response = Response(html, content_type="text/html; charset=utf-8")
    response.headers["Vary"] = "Accept"
    return response

"""The named queries of queries/ over HTTP, as a Flask blueprint.

``GET /queries`` lists them (HTML for browsers, JSON otherwise). ``GET /queries/NAME?key=value``
runs one: each parameter is parsed as its declared type and bound as an RDF term by
pyoxigraph's ``substitutions`` (:func:`medkg.queries.bind`), never pasted into the query
text; a bad value is a 400 naming the parameter, an unknown query a 404. The answer goes
through the same path as ``/sparql`` (:func:`medkg.sparql.respond`: executor with its time
limit, result cache, ETag) with the same content negotiation (``Accept`` or ``?format=``);
browsers get a page with the result table. Errors take the one shape of :mod:`medkg.web`.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, render_template, request

from . import guard, queries
from .errors import BadParameter, FormatNotAcceptable
from .executor import Job
from .formats import BY_KEY, Kind, negotiate
from .sparql import parse_qs, respond
from .web import endpoint

bp = Blueprint("named", __name__)

#: query-string keys that are not parameters
RESERVED = ("format",)


def _values() -> tuple[dict[str, str], str | None]:
    """(parameter values, ?format=) from the query string; a repeated parameter is a 400."""
    args = parse_qs(request.query_string, "query string")
    values: dict[str, str] = {}
    for key in args:
        if key in RESERVED:
            continue
        given = args.getlist(key)
        if len(given) > 1:
            raise BadParameter(f"parameter '{key}' is given {len(given)} times: give it once")
        values[key] = given[0]
    return values, args.get("format")


@bp.route("/queries", strict_slashes=False)
def listing() -> Response:
    fmt = negotiate(request.headers.get("Accept"), request.args.get("format"),
                    (Kind.HTML, Kind.SOLUTIONS))
    described = [queries.describe(named) for named in queries.discover().values()]
    if fmt.key == "html":
        html = render_template("named_list.html", queries=described, active_section="query")
        response = Response(html, content_type=fmt.content_type)
    elif fmt.key == "results-json":
        response = Response(json.dumps({"queries": described}), content_type="application/json")
    else:
        raise FormatNotAcceptable(
            f"the list of named queries is not available as {fmt.media_type}; acceptable: html, json",
            acceptable=["text/html", "application/json"])
    response.headers["Vary"] = "Accept"
    return response


@bp.route("/queries/<name>")
def run(name: str) -> Response:
    named = queries.get(name)
    values, format_param = _values()
    substitutions = queries.bind(named, values)
    ep = endpoint()
    settings = ep.settings
    inspection = guard.inspect(named.text, max_length=settings.max_query_length,
                               allow_service=settings.allow_service)
    kinds = (inspection.kind or Kind.SOLUTIONS, Kind.HTML)
    fmt = negotiate(request.headers.get("Accept"), format_param, kinds)
    bound = tuple((variable.value, term) for variable, term in substitutions.items())
    if fmt.key == "html":
        return _page(named, values, bound)
    job = Job(query=named.text, format_key=fmt.key, substitutions=bound,
              union_default_graph=settings.union_default_graph, max_rows=settings.max_rows,
              max_bytes=settings.max_result_bytes)
    key = ("named", named.name, named.text, tuple((n, str(t)) for n, t in bound), job.format_key,
           job.union_default_graph, job.max_rows, job.max_bytes)
    return respond(job, key, cacheable=inspection.cacheable)


def _page(named: queries.NamedQuery, values: dict[str, str], bound: tuple) -> Response:
    """The query, a form for its parameters and the result as a table (for browsers)."""
    settings = endpoint().settings
    answer = endpoint().executor.run(Job(
        query=named.text, format_key="results-json", substitutions=bound,
        union_default_graph=settings.union_default_graph, max_rows=settings.max_rows,
        max_bytes=settings.max_result_bytes))
    results = json.loads(answer.body)
    variables = results.get("head", {}).get("vars", [])
    rows = [[row.get(v) for v in variables] for row in results.get("results", {}).get("bindings", [])]
    current = {p.name: values.get(p.name, p.default) for p in named.params}
    downloads = [(label, queries.http_path(named, {**current, "format": key}))
                 for label, key in (("JSON", "json"), ("CSV", "csv"), ("TSV", "tsv"), ("XML", "xml"))]
    html = render_template("named_query.html", query=queries.describe(named), text=named.text,
                           current=current, variables=variables, rows=rows,
                           boolean=results.get("boolean"), truncated=answer.truncated,
                           downloads=downloads, active_section="query")
    response = Response(html, content_type=BY_KEY["html"].content_type)
    response.headers["Vary"] = "Accept"
    response.headers["X-Medkg-Build"] = answer.build_id
    response.headers["X-Medkg-Rows"] = str(answer.rows)
    return response

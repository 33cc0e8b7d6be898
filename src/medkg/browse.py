"""Pages to browse the catalogue: the dataset list (/datasets, with JSON and CSV) and /stats.

The work is in :mod:`medkg.search` (filter, search, facets) and :mod:`medkg.stats` /
:mod:`medkg.charts` (numbers and SVG); this module only parses the request, negotiates the
format (``?format=`` over ``Accept``; ``/datasets.json`` and ``/datasets.csv`` fix it) and
renders.
"""

from __future__ import annotations

import csv
import io
import json
from urllib.parse import urlencode

from flask import Blueprint, Response, render_template, request

from . import search as s
from . import stats as st
from .charts import bar_chart, column_chart
from .errors import FormatNotAcceptable
from .formats import Kind, negotiate
from .urls import section
from .web import endpoint

bp = Blueprint("browse", __name__)

#: what /datasets can answer: negotiated format key -> our name
LIST_FORMATS = {"html": "html", "results-json": "json", "csv": "csv"}
FACET_TITLES = {"category": "Category", "modality": "Modality", "anatomy": "Anatomy",
                "task": "Task", "dimensionality": "Dimensionality", "platform": "Platform",
                "license": "Licence", "challenge": "Challenge"}
FACET_SHOWN = 8  # values shown before "more"


def _list_format(fixed: str | None) -> str:
    if fixed:
        return fixed
    fmt = negotiate(request.headers.get("Accept"), request.args.get("format"),
                    (Kind.HTML, Kind.SOLUTIONS))
    if fmt.key not in LIST_FORMATS:
        raise FormatNotAcceptable(
            f"the dataset list is not available as {request.args.get('format') or fmt.media_type}"
            "; acceptable: html, json, csv",
            acceptable=["text/html", "application/json", "text/csv"])
    return LIST_FORMATS[fmt.key]


def _query_string(flt: s.DatasetFilter, **changes) -> str:
    from dataclasses import replace

    pairs = replace(flt, **changes).to_args() if changes else flt.to_args()
    return ("?" + urlencode(pairs)) if pairs else ""


@bp.route("/datasets", strict_slashes=False)
@bp.route("/datasets.<any(json, csv):ext>")
def datasets(ext: str | None = None) -> Response:
    kind = _list_format(ext)
    flt = s.DatasetFilter.from_args(request.args)
    result = s.search(endpoint().executor, flt)
    if kind == "json":
        response = Response(json.dumps(_json(result), ensure_ascii=False),
                            content_type="application/json; charset=utf-8")
    elif kind == "csv":
        response = Response(_csv(result), content_type="text/csv; charset=utf-8")
        response.headers["Content-Disposition"] = 'inline; filename="datasets.csv"'
    else:
        response = Response(_html(result), content_type="text/html; charset=utf-8")
    response.headers["X-Medkg-Build"] = result.build_id
    response.headers["X-Medkg-Rows"] = str(len(result.page))
    if ext is None:
        response.headers["Vary"] = "Accept"
    return response


def _json(result: s.SearchResult) -> dict:
    flt = result.filter
    return {
        "total": result.total,
        "page": flt.page,
        "per_page": flt.per_page,
        "pages": result.pages,
        "sort": flt.sort_key,
        "order": flt.sort_order,
        "filter": dict(_grouped(flt.to_args(page=False))),
        "build_id": result.build_id,
        "datasets": [{**s.row(hit.entry), **({"match": hit.match} if hit.match else {})}
                     for hit in result.page],
        "facets": {name: [{"value": v.value, "label": v.label, "count": v.count,
                           "selected": v.selected} for v in values]
                   for name, values in result.facets.items()},
    }


def _grouped(pairs: list[tuple[str, str]]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in pairs:
        if key in s.ID_FACETS or key in s.LITERAL_FACETS:
            out.setdefault(key, []).append(value)  # type: ignore[union-attr]
        else:
            out[key] = value
    return out


def _csv(result: s.SearchResult) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(s.CSV_COLUMNS)
    for hit in result.page:
        row = s.row(hit.entry)
        writer.writerow(["; ".join(v) if isinstance(v, list) else ("" if v is None else v)
                         for v in (row[c] for c in s.CSV_COLUMNS)])
    return buffer.getvalue()


def _html(result: s.SearchResult) -> str:
    flt = result.filter
    facets = []
    for name in s.FACETS:
        values = [v for v in result.facets[name] if v.count or v.selected]
        if not values:
            continue
        items = [(v, _query_string(flt.toggle(name, v.value))) for v in values]
        facets.append({"name": name, "title": FACET_TITLES[name], "items": items,
                       "shown": FACET_SHOWN, "selected": [v for v in values if v.selected]})
    chips = []
    for name in s.FACETS:
        for value in flt.selected(name):
            chips.append((FACET_TITLES[name], result.index.label(name, value),
                          _query_string(flt.toggle(name, value))))
    for name, label in (("year_min", "From"), ("year_max", "Until"), ("min_cases", "Cases ≥")):
        if getattr(flt, name) is not None:
            chips.append((label, str(getattr(flt, name)), _query_string(flt.without(name))))
    if flt.q:
        chips.append(("Search", flt.q, _query_string(flt.without("q", "sort"))))
    sorts = []
    for key in s.SORTS:
        if key == "relevance" and not flt.q:
            continue
        for order in ("asc", "desc"):
            sorts.append((key, order, key == flt.sort_key and order == flt.sort_order,
                          _query_string(flt, sort=key, order=order, page=1)))
    pages = _page_links(flt, result.pages)
    return render_template(
        "datasets.html", result=result, flt=flt, facets=facets, chips=chips, sorts=sorts,
        pages=pages, active_section="datasets", search_q=flt.q,
        formats=[(label, "/datasets." + ext + _query_string(flt))
                 for label, ext in (("JSON", "json"), ("CSV", "csv"))],
        reset=section("datasets") + (_query_string(s.DatasetFilter(q=flt.q)) if flt.q else ""),
        hidden=[(k, v) for k, v in flt.to_args(page=False)
                                     if k not in ("sort", "order", "q", "year_min", "year_max",
                                                  "min_cases", "per_page")])


def _page_links(flt: s.DatasetFilter, pages: int) -> list[tuple[str, str | None, bool]]:
    """(label, link or None for a gap, current?) for a short pager."""
    if pages <= 1:
        return []
    wanted = sorted({1, pages, flt.page - 1, flt.page, flt.page + 1} & set(range(1, pages + 1)))
    out: list[tuple[str, str | None, bool]] = []
    previous = 0
    for number in wanted:
        if number - previous > 1:
            out.append(("…", None, False))
        out.append((str(number), _query_string(flt, page=number), number == flt.page))
        previous = number
    return out


@bp.route("/stats", strict_slashes=False)
def stats() -> Response:
    negotiate(request.headers.get("Accept"), request.args.get("format"), Kind.HTML)
    idx = s.index(endpoint().executor)
    years, _ = st.by_year(idx)
    cases, _ = st.by_cases(idx)
    charts = [
        (st.by_category(idx), bar_chart),
        (st.by_modality(idx), bar_chart),
        (st.by_anatomy(idx), bar_chart),
        (years, column_chart),
        (cases, column_chart),
    ]
    rendered = [(series, draw(series)) for series, draw in charts]
    html = render_template("stats.html", charts=rendered, summary=st.summary(idx),
                           build_id=idx.build_id, active_section="stats")
    response = Response(html, content_type="text/html; charset=utf-8")
    response.headers["X-Medkg-Build"] = idx.build_id
    return response

"""Dataset browsing and search, independent of Flask: a filter -> SPARQL -> ranked, faceted list.

:class:`DatasetFilter` is parsed from request arguments (``DatasetFilter.from_args``); a bad
value is a :class:`~medkg.errors.BadParameter` (400) naming the parameter. Its structural part
(category, anatomy, modality and task, each with its narrower terms; dimensionality, year range,
minimum cases, challenge, platform, licence) becomes one SPARQL query whose values are RDF terms
built from validated ids and numbers (``VALUES`` blocks and typed literals), never request text.
The free-text part (``q``) is matched in Python over the per-build index
(:mod:`medkg.searchindex`) of names, aliases, descriptions and label classes, ranked
exact > prefix > word > substring.

Everything runs through the executor (time limit, build following); the index and the SPARQL
answers are cached per build id. :func:`search` returns the whole ordered list, the page asked
for and the facet counts of the filtered set, so /datasets, its JSON/CSV and /datasets.bib
share one implementation.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

import pyoxigraph as ox

from .errors import BadParameter
from .models import ID_PATTERN
from .paths import entity_iri
from .searchindex import (  # noqa: F401 - re-exported: search is the public face
    CACHE, FACETS, HIERARCHICAL, ID_FACETS, LITERAL_FACETS, PREFIXES,
    RANKS, Concept, Entry, Index, _Text, index, load_index, match_rank)

SORTS: dict[str, str] = {"relevance": "asc", "name": "asc", "year": "desc", "cases": "desc"}
PER_PAGE_DEFAULT = 50
PER_PAGE_MAX = 1000
MAX_VALUES = 50  # values of one facet in one request
_ID = re.compile(ID_PATTERN)
_DIM = re.compile(r"^[1-4]D(\+t)?$")
_YEAR = re.compile(r"^\d{4}$")
_INT = re.compile(r"^\d{1,12}$")
_ALIASES = {"licence": "license", "sort_by": "sort", "dir": "order", "challenge": "has_challenge",
            "year_from": "year_min", "year_to": "year_max"}


# -- the filter -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DatasetFilter:
    """What the dataset list shows: filters (AND across, OR within), search, order and page."""

    q: str = ""
    category: tuple[str, ...] = ()
    anatomy: tuple[str, ...] = ()
    modality: tuple[str, ...] = ()
    task: tuple[str, ...] = ()
    dimensionality: tuple[str, ...] = ()
    platform: tuple[str, ...] = ()
    license: tuple[str, ...] = ()
    year_min: int | None = None
    year_max: int | None = None
    min_cases: int | None = None
    has_challenge: bool | None = None
    sort: str = ""  # "" = relevance with q, else name
    order: str = ""  # "" = the sort's natural order
    page: int = 1
    per_page: int | None = PER_PAGE_DEFAULT  # None = all

    # .. parsing ..

    @classmethod
    def from_args(cls, args: Any, *, ignore: Iterable[str] = ("format",)) -> "DatasetFilter":
        """Parse request arguments (a MultiDict, or a mapping of str or list of str).

        Repeated parameters and comma-separated values both give several values. An unknown
        parameter or a malformed value raises BadParameter naming it.
        """
        pairs = _pairs(args)
        skip = set(ignore)
        values: dict[str, list[str]] = {}
        for key, value in pairs:
            name = _ALIASES.get(key, key)
            if key in skip:
                continue
            if name not in _FIELD_NAMES:
                raise BadParameter(
                    f"unknown parameter '{key}'; known: {', '.join(sorted(_FIELD_NAMES))}")
            values.setdefault(name, []).append(value)
        kw: dict[str, Any] = {}
        for name, raw in values.items():
            if name in ID_FACETS or name in LITERAL_FACETS:
                kw[name] = _parse_multi(name, raw)
                continue
            text = _single(name, raw)
            if text == "":
                continue
            kw[name] = _parse_scalar(name, text)
        flt = cls(**kw)
        if (flt.year_min is not None and flt.year_max is not None
                and flt.year_min > flt.year_max):
            raise BadParameter(f"parameter 'year_min' ({flt.year_min}) is after "
                               f"'year_max' ({flt.year_max})")
        if flt.sort == "relevance" and not flt.q:
            raise BadParameter("parameter 'sort': 'relevance' needs a search text (q)")
        return flt

    # .. derived values ..

    @property
    def sort_key(self) -> str:
        return self.sort or ("relevance" if self.q else "name")

    @property
    def sort_order(self) -> str:
        return self.order or SORTS[self.sort_key]

    @property
    def structural(self) -> bool:
        """True when some filter needs the graph (anything beyond q, order and page)."""
        return any((self.category, self.anatomy, self.modality, self.task, self.dimensionality,
                    self.platform, self.license, self.year_min is not None,
                    self.year_max is not None, self.min_cases is not None,
                    self.has_challenge is not None))

    @property
    def active(self) -> bool:
        return self.structural or bool(self.q)

    def selected(self, facet: str) -> tuple[str, ...]:
        if facet == "challenge":
            return () if self.has_challenge is None else (str(self.has_challenge).lower(),)
        return getattr(self, facet)

    # .. back to a URL ..

    def to_args(self, *, page: bool = True) -> list[tuple[str, str]]:
        """Canonical query-string pairs (defaults left out); parses back to an equal filter."""
        out: list[tuple[str, str]] = []
        if self.q:
            out.append(("q", self.q))
        for name in ("category", "modality", "anatomy", "task", "dimensionality", "platform",
                     "license"):
            out.extend((name, v) for v in getattr(self, name))
        for name in ("year_min", "year_max", "min_cases"):
            if getattr(self, name) is not None:
                out.append((name, str(getattr(self, name))))
        if self.has_challenge is not None:
            out.append(("has_challenge", str(self.has_challenge).lower()))
        if self.sort:
            out.append(("sort", self.sort))
        if self.order:
            out.append(("order", self.order))
        if page and self.page != 1:
            out.append(("page", str(self.page)))
        if self.per_page != PER_PAGE_DEFAULT:
            out.append(("per_page", "all" if self.per_page is None else str(self.per_page)))
        return out

    def toggle(self, facet: str, value: str) -> "DatasetFilter":
        """This filter with one facet value switched on or off (back to page 1)."""
        if facet == "challenge":
            flag = value == "true"
            return replace(self, has_challenge=None if self.has_challenge is flag else flag,
                           page=1)
        current = getattr(self, facet)
        new = tuple(v for v in current if v != value) if value in current else (*current, value)
        return replace(self, **{facet: new}, page=1)

    def without(self, *names: str) -> "DatasetFilter":
        defaults = {f.name: f.default for f in fields(self)}
        return replace(self, **{n: defaults[n] for n in names}, page=1)

    # .. SPARQL ..

    def sparql(self) -> str:
        """A SELECT of the ids of datasets passing the structural filters (not q).

        Only validated ids (as IRIs), validated dimensionality tokens, licence names known to
        the index (serialized as escaped literals) and integers reach the query text.
        """
        lines = ["SELECT DISTINCT ?id WHERE {",
                 "  ?d a mkg:Dataset ; dcterms:identifier ?id ."]
        for n, (name, (kind, path, narrower)) in enumerate(ID_FACETS.items()):
            ids = getattr(self, name)
            if not ids:
                continue
            terms = " ".join(str(ox.NamedNode(entity_iri(kind, i))) for i in ids)
            var = f"?{name}{n}"
            if narrower:
                lines.append(f"  ?d {path} ?{name}_v . ?{name}_v skos:broader* {var} .")
            else:
                lines.append(f"  ?d {path} {var} .")
            lines.append(f"  VALUES {var} {{ {terms} }}")
        for name, path in LITERAL_FACETS.items():
            vals = getattr(self, name)
            if vals:
                terms = " ".join(str(ox.Literal(v)) for v in vals)
                lines.append(f"  ?d {path} ?{name}_v . VALUES ?{name}_v {{ {terms} }}")
        if self.year_min is not None or self.year_max is not None:
            lines.append("  ?d dcterms:issued ?issued .")
            lines.append("  BIND(xsd:integer(SUBSTR(STR(?issued), 1, 4)) AS ?year)")
            if self.year_min is not None:
                lines.append(f"  FILTER(?year >= {int(self.year_min)})")
            if self.year_max is not None:
                lines.append(f"  FILTER(?year <= {int(self.year_max)})")
        if self.min_cases is not None:
            lines.append(f"  ?d mkg:caseCount ?cases . FILTER(?cases >= {int(self.min_cases)})")
        if self.has_challenge is True:
            lines.append("  FILTER EXISTS { ?d mkg:challenge ?challenge }")
        elif self.has_challenge is False:
            lines.append("  FILTER NOT EXISTS { ?d mkg:challenge ?challenge }")
        lines.append("}")
        return PREFIXES + "\n".join(lines) + "\n"


_FIELD_NAMES = {f.name for f in fields(DatasetFilter)}


def _pairs(args: Any) -> list[tuple[str, str]]:
    if hasattr(args, "items") and hasattr(args, "getlist"):
        return [(str(k), str(v)) for k, v in args.items(multi=True)]
    out: list[tuple[str, str]] = []
    items = args.items() if isinstance(args, Mapping) else args
    for key, value in items:
        for v in (value if isinstance(value, (list, tuple)) else [value]):
            out.append((str(key), "" if v is None else str(v)))
    return out


def _single(name: str, raw: list[str]) -> str:
    distinct = {v.strip() for v in raw}
    if len(distinct) > 1:
        raise BadParameter(f"parameter '{name}' given {len(raw)} times with different values")
    return raw[0].strip()


def _parse_multi(name: str, raw: list[str]) -> tuple[str, ...]:
    values: list[str] = []
    for item in raw:
        parts = [item] if name == "license" else item.split(",")
        for part in parts:
            value = part.strip()
            if not value or value in values:
                continue
            if name in ID_FACETS and not _ID.match(value):
                raise BadParameter(f"parameter '{name}': {value[:80]!r} is not an id "
                                   "(lowercase letters, digits and '-')")
            if name == "dimensionality" and not _DIM.match(value):
                raise BadParameter(f"parameter 'dimensionality': {value[:80]!r} is not one of "
                                   "1D, 2D, 3D, 4D (optionally +t)")
            if name == "license" and len(value) > 200:
                raise BadParameter("parameter 'license': longer than 200 characters")
            values.append(value)
    if len(values) > MAX_VALUES:
        raise BadParameter(f"parameter '{name}': more than {MAX_VALUES} values")
    return tuple(values)


def _parse_scalar(name: str, text: str) -> Any:
    if name == "q":
        if len(text) > 200:
            raise BadParameter("parameter 'q': longer than 200 characters")
        return text
    if name in ("year_min", "year_max"):
        if not _YEAR.match(text):
            raise BadParameter(f"parameter '{name}': {text[:40]!r} is not a four-digit year")
        return int(text)
    if name == "min_cases":
        if not _INT.match(text):
            raise BadParameter(f"parameter 'min_cases': {text[:40]!r} is not a whole number "
                               "of cases (0 or more)")
        return int(text)
    if name == "has_challenge":
        lowered = text.lower()
        if lowered not in ("true", "false", "yes", "no", "1", "0"):
            raise BadParameter(f"parameter 'has_challenge': {text[:40]!r} is not true or false")
        return lowered in ("true", "yes", "1")
    if name == "sort":
        if text not in SORTS:
            raise BadParameter(f"parameter 'sort': {text[:40]!r} is not one of "
                               + ", ".join(SORTS))
        return text
    if name == "order":
        if text not in ("asc", "desc"):
            raise BadParameter(f"parameter 'order': {text[:40]!r} is not asc or desc")
        return text
    if name == "page":
        if not _INT.match(text) or int(text) < 1:
            raise BadParameter(f"parameter 'page': {text[:40]!r} is not a page number (1 or more)")
        return int(text)
    if name == "per_page":
        if text == "all":
            return None
        if not _INT.match(text) or not 1 <= int(text) <= PER_PAGE_MAX:
            raise BadParameter(f"parameter 'per_page': {text[:40]!r} is not a number from 1 to "
                               f"{PER_PAGE_MAX} (or 'all')")
        return int(text)
    raise BadParameter(f"unknown parameter '{name}'")  # pragma: no cover - guarded above


# -- running a search -------------------------------------------------------------------------


@dataclass(frozen=True)
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool


@dataclass(frozen=True)
class Hit:
    entry: Entry
    rank: int | None  # None without q

    @property
    def match(self) -> str | None:
        return RANKS[self.rank] if self.rank is not None else None


@dataclass(frozen=True)
class SearchResult:
    filter: DatasetFilter
    build_id: str
    hits: tuple[Hit, ...]  # every match, in order
    facets: dict[str, tuple[FacetValue, ...]]
    index: Index

    @property
    def total(self) -> int:
        return len(self.hits)

    @property
    def pages(self) -> int:
        per = self.filter.per_page
        return 1 if not per else max(1, -(-self.total // per))

    @property
    def page(self) -> tuple[Hit, ...]:
        per = self.filter.per_page
        if per is None:
            return self.hits
        start = (self.filter.page - 1) * per
        return self.hits[start:start + per]

    @property
    def entries(self) -> list[Entry]:
        """Every matching dataset, in order (what an export takes)."""
        return [hit.entry for hit in self.hits]


def check_known(flt: DatasetFilter, idx: Index) -> None:
    """Every id or value in the filter exists in this build, else BadParameter naming it."""
    for facet in (*ID_FACETS, *LITERAL_FACETS):
        chosen = getattr(flt, facet)
        if not chosen:
            continue
        known = idx.known(facet)
        for value in chosen:
            if value not in known:
                close = difflib.get_close_matches(value, sorted(known), n=1, cutoff=0.6)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise BadParameter(f"parameter '{facet}': unknown value {value[:80]!r}{hint}")


def _sort(hits: list[Hit], flt: DatasetFilter) -> list[Hit]:
    key, desc = flt.sort_key, flt.sort_order == "desc"

    def name(hit: Hit) -> tuple:
        return (hit.entry.name.casefold(), hit.entry.id)

    if key in ("relevance", "name"):
        primary = (lambda h: (h.rank if h.rank is not None else 9,)) if key == "relevance" \
            else (lambda h: ())
        ordered = sorted(hits, key=lambda h: (*primary(h), *name(h)), reverse=desc)
        return ordered
    attr = "year" if key == "year" else "case_count"
    present = [h for h in hits if getattr(h.entry, attr) is not None]
    missing = [h for h in hits if getattr(h.entry, attr) is None]
    present.sort(key=name)
    present.sort(key=lambda h: getattr(h.entry, attr), reverse=desc)  # stable: ties by name
    missing.sort(key=name)
    return present + missing  # unknown values last in either order


def facet_counts(entries: Iterable[Entry], flt: DatasetFilter,
                 idx: Index) -> dict[str, tuple[FacetValue, ...]]:
    """For each facet, its values with the number of ``entries`` having each (most first)."""
    counts: dict[str, dict[str, int]] = {facet: {} for facet in FACETS}
    for entry in entries:
        for facet in FACETS:
            bucket = counts[facet]
            for value in idx.facet_values(entry, facet):
                bucket[value] = bucket.get(value, 0) + 1
    out = {}
    for facet, bucket in counts.items():
        chosen = flt.selected(facet)
        for value in chosen:
            bucket.setdefault(value, 0)
        items = [FacetValue(v, idx.label(facet, v), n, v in chosen) for v, n in bucket.items()]
        items.sort(key=lambda fv: (-fv.count, fv.label.casefold()))
        out[facet] = tuple(items)
    return out


def search(executor, flt: DatasetFilter) -> SearchResult:
    """Run ``flt`` on the build now served: matches in order, with facet counts."""
    idx = index(executor)
    check_known(flt, idx)
    if flt.structural:
        ids = CACHE.ids(executor, idx, flt.sparql())
        candidates = [idx.entries[i] for i in ids if i in idx.entries]
    else:
        candidates = list(idx.entries.values())
    hits = []
    for entry in candidates:
        rank = match_rank(idx.text(entry), flt.q) if flt.q else None
        if flt.q and rank is None:
            continue
        hits.append(Hit(entry, rank))
    ordered = _sort(hits, flt)
    facets = facet_counts((h.entry for h in ordered), flt, idx)
    return SearchResult(filter=flt, build_id=idx.build_id, hits=tuple(ordered), facets=facets,
                        index=idx)


# -- rows for JSON and CSV --------------------------------------------------------------------

CSV_COLUMNS: tuple[str, ...] = ("id", "name", "iri", "year", "release_date", "case_count",
                                "category", "modality", "anatomy", "task", "dimensionality",
                                "platform", "challenge", "license", "aliases", "description")


def row(entry: Entry) -> dict[str, Any]:
    """One dataset as a plain dict (lists for multi-valued fields)."""
    return {
        "id": entry.id, "name": entry.name, "iri": entry.iri, "year": entry.year,
        "release_date": entry.release_date or None, "case_count": entry.case_count,
        "category": list(entry.category), "modality": list(entry.modality),
        "anatomy": list(entry.anatomy), "task": list(entry.task),
        "dimensionality": list(entry.dimensionality), "platform": list(entry.platform),
        "challenge": list(entry.challenge), "license": entry.license or None,
        "aliases": list(entry.aliases), "description": entry.description or None,
    }

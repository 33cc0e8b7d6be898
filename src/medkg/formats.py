"""Media types <-> result and RDF formats, and the one content negotiation: ``negotiate()``.

A :class:`Format` knows its media types (the first is the one sent), its ``?format=`` names
(file extensions included) and its :class:`Kind` (what it can carry: SELECT solutions, an ASK
boolean, a graph, a dataset, a page or an error). Every route negotiates through
``negotiate(accept, format_param, kinds)``: ``?format=`` overrides ``Accept``; an unknown
``?format=`` is a 400, a known one that cannot carry this kind is a 406, and so is an
``Accept`` that nothing fits (the error lists what is acceptable).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

import pyoxigraph as ox

from .errors import BadFormat, FormatNotAcceptable


class Kind(Enum):
    SOLUTIONS = "solutions"  # SELECT
    BOOLEAN = "boolean"  # ASK
    GRAPH = "graph"  # CONSTRUCT / DESCRIBE, RDF documents
    DATASET = "dataset"  # quads: dumps and exports
    HTML = "html"  # pages for people
    ERROR = "error"  # error bodies


_RESULTS = frozenset({Kind.SOLUTIONS, Kind.BOOLEAN})
_RDF = frozenset({Kind.GRAPH, Kind.DATASET})


@dataclass(frozen=True)
class Format:
    key: str
    media_types: tuple[str, ...]
    names: tuple[str, ...]  # ?format= values and file extensions, lower case
    kinds: frozenset[Kind]
    results: ox.QueryResultsFormat | None = None
    rdf: ox.RdfFormat | None = None

    @property
    def media_type(self) -> str:
        return self.media_types[0]

    @property
    def extension(self) -> str:
        return self.names[0]

    @property
    def content_type(self) -> str:
        textual = self.media_type.startswith("text/") or self.media_type.endswith(("json", "xml"))
        return f"{self.media_type}; charset=utf-8" if textual else self.media_type

    @property
    def iri(self) -> str | None:
        """The W3C formats IRI (http://www.w3.org/ns/formats/...), when there is one."""
        native = self.results or self.rdf
        return native.iri if native is not None else None


def _f(key, media_types, names, kinds, **native) -> Format:
    return Format(key, tuple(media_types), tuple(names), frozenset(kinds), **native)


R = ox.QueryResultsFormat
G = ox.RdfFormat
#: every format, in server preference order within each kind
FORMATS: tuple[Format, ...] = (
    _f("results-json", ["application/sparql-results+json", "application/json"],
       ["srj", "json"], _RESULTS, results=R.JSON),
    _f("results-xml", ["application/sparql-results+xml", "application/xml", "text/xml"],
       ["srx", "xml"], _RESULTS, results=R.XML),
    _f("csv", ["text/csv"], ["csv"], _RESULTS, results=R.CSV),
    _f("tsv", ["text/tab-separated-values"], ["tsv"], _RESULTS, results=R.TSV),
    _f("turtle", ["text/turtle", "application/x-turtle"], ["ttl", "turtle", "n3"], {Kind.GRAPH},
       rdf=G.TURTLE),
    _f("ntriples", ["application/n-triples", "text/plain"], ["nt", "ntriples", "n-triples"],
       {Kind.GRAPH}, rdf=G.N_TRIPLES),
    _f("rdfxml", ["application/rdf+xml", "application/xml", "text/xml"], ["rdf", "rdfxml", "xml"],
       {Kind.GRAPH}, rdf=G.RDF_XML),
    _f("jsonld", ["application/ld+json", "application/json"], ["jsonld", "json-ld", "json"],
       {Kind.GRAPH}, rdf=G.JSON_LD),
    _f("nquads", ["application/n-quads"], ["nq", "nquads", "n-quads"], {Kind.DATASET},
       rdf=G.N_QUADS),
    _f("trig", ["application/trig"], ["trig"], {Kind.DATASET}, rdf=G.TRIG),
    _f("html", ["text/html", "application/xhtml+xml"], ["html", "htm"], {Kind.HTML}),
    _f("error-json", ["application/json", "application/problem+json"], ["json"], {Kind.ERROR}),
    _f("error-text", ["text/plain"], ["txt", "text"], {Kind.ERROR}),
)
BY_KEY: dict[str, Format] = {f.key: f for f in FORMATS}


def formats_for(kinds: Kind | Iterable[Kind]) -> list[Format]:
    """Formats able to carry ``kinds`` (all of them), in preference order (kinds order first)."""
    wanted = [kinds] if isinstance(kinds, Kind) else list(kinds)
    out: list[Format] = []
    for kind in wanted:
        out.extend(f for f in FORMATS if kind in f.kinds and f not in out)
    return out


def kind_of_result(result: object) -> Kind:
    if isinstance(result, ox.QuerySolutions):
        return Kind.SOLUTIONS
    if isinstance(result, ox.QueryBoolean):
        return Kind.BOOLEAN
    return Kind.GRAPH


@dataclass(frozen=True)
class MediaRange:
    type: str
    subtype: str
    q: float

    def specificity(self, media_type: str) -> int:
        """How specifically this range matches ``media_type``: 3 exact, 2 type/*, 1 */*, 0 no."""
        main, _, sub = media_type.partition("/")
        if self.type == "*":
            return 1 if self.subtype == "*" else 0
        if self.type != main:
            return 0
        if self.subtype == "*":
            return 2
        return 3 if self.subtype == sub else 0


def parse_accept(header: str | None) -> list[MediaRange]:
    """Media ranges of an Accept header; malformed parts are skipped, bad q-values read as 0."""
    ranges: list[MediaRange] = []
    for part in (header or "").split(","):
        fields = [p.strip() for p in part.split(";")]
        media = fields[0].lower()
        if "/" not in media:
            if media == "*":
                media = "*/*"
            else:
                continue
        main, _, sub = media.partition("/")
        if not main or not sub:
            continue
        q = 1.0
        for param in fields[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = min(max(float(value.strip()), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        ranges.append(MediaRange(main, sub, q))
    return ranges


def _quality(fmt: Format, ranges: list[MediaRange]) -> tuple[float, int]:
    """The q of ``fmt``: for each of its media types the most specific matching range decides."""
    best = (0.0, 0)
    for media_type in fmt.media_types:
        matches = [(r.specificity(media_type), r.q) for r in ranges]
        matches = [m for m in matches if m[0] > 0]
        if not matches:
            continue
        spec, q = max(matches)  # the most specific range wins, even with a lower q
        if spec == 3 and q == 0:
            return (0.0, 0)  # refused by name: no alias brings it back
        best = max(best, (q, spec))
    return best


def by_name(name: str, kinds: Kind | Iterable[Kind]) -> Format:
    """The format a ``?format=`` value names for ``kinds`` (a name, extension or media type)."""
    value = name.strip().lower()
    candidates = formats_for(kinds)
    for fmt in candidates:
        if value in fmt.names or value in fmt.media_types or value == fmt.key:
            return fmt
    if any(value in f.names or value in f.media_types or value == f.key for f in FORMATS):
        raise FormatNotAcceptable(
            f"format '{name}' cannot carry this response; acceptable: "
            + ", ".join(f.names[0] for f in candidates),
            acceptable=[f.media_type for f in candidates])
    raise BadFormat(f"unknown format '{name}'; known: "
                    + ", ".join(f.names[0] for f in candidates))


def negotiate(accept: str | None, format_param: str | None,
              kinds: Kind | Iterable[Kind]) -> Format:
    """Pick the response format: ``?format=`` first, else the best ``Accept`` match.

    No or empty ``Accept`` gives the first format of the first kind. Ties on q go to the more
    specific match, then to server preference. Raises BadFormat (400) or FormatNotAcceptable (406).
    """
    candidates = formats_for(kinds)
    if not candidates:
        raise ValueError(f"no format for {kinds}")
    if format_param:
        return by_name(format_param, kinds)
    ranges = parse_accept(accept)
    if not ranges:
        return candidates[0]
    scored = [(_quality(f, ranges), -i, f) for i, f in enumerate(candidates)]
    (q, _spec), _, best = max(scored, key=lambda item: (item[0], item[1]))
    if q <= 0:
        raise FormatNotAcceptable(
            "no acceptable format for Accept: " + (accept or "") + "; acceptable: "
            + ", ".join(f.media_type for f in candidates),
            acceptable=[f.media_type for f in candidates])
    return best

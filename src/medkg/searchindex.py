"""The per-build index behind dataset search: every dataset's names, facets and numbers, read
from the store through the executor with four SELECTs and cached per build id; free-text
matching over it (exact > prefix > word > substring). Flask-free; :mod:`medkg.search` builds
filters, facets and result lists on top of it.
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .executor import Job
from .paths import BASE_IRI, ONTOLOGY_NS, entity_iri

PREFIXES = f"""PREFIX mkg: <{ONTOLOGY_NS}>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
"""

#: id facets: parameter -> (vocabulary or record kind, predicate path, narrower terms included)
ID_FACETS: dict[str, tuple[str, str, bool]] = {
    "category": ("category", "mkg:category", True),
    "anatomy": ("anatomy", "mkg:anatomy", True),
    "modality": ("modality", "mkg:modality", True),
    "task": ("task", "mkg:task", True),
    "platform": ("platform", "mkg:hostedOn", False),
}
#: literal facets: parameter -> predicate
LITERAL_FACETS: dict[str, str] = {"dimensionality": "mkg:dimensionality",
                                  "license": "mkg:licenseName"}
#: facets over a concept scheme: a value counts (and matches) the narrower concepts too
HIERARCHICAL: frozenset[str] = frozenset(
    f for f, (_, _, narrower) in ID_FACETS.items() if narrower)
FACETS: tuple[str, ...] = ("category", "modality", "anatomy", "task", "dimensionality",
                           "platform", "license", "challenge")


# -- the per-build index ----------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One dataset as the list shows it."""

    id: str
    name: str
    aliases: tuple[str, ...] = ()
    description: str = ""
    release_date: str = ""
    case_count: int | None = None
    license: str = ""
    category: tuple[str, ...] = ()
    modality: tuple[str, ...] = ()
    anatomy: tuple[str, ...] = ()
    task: tuple[str, ...] = ()
    dimensionality: tuple[str, ...] = ()
    platform: tuple[str, ...] = ()
    challenge: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()

    @property
    def iri(self) -> str:
        return entity_iri("dataset", self.id)

    @property
    def year(self) -> int | None:
        return int(self.release_date[:4]) if self.release_date[:4].isdigit() else None


@dataclass(frozen=True)
class Concept:
    id: str
    scheme: str
    label: str
    broader: tuple[str, ...] = ()


@dataclass
class Index:
    """Everything the list, the facets and the search need, read once per build."""

    build_id: str
    entries: dict[str, Entry]
    concepts: dict[str, dict[str, Concept]]  # scheme -> id -> concept
    platforms: dict[str, str]  # id -> name
    _up: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict, repr=False)
    _text: dict[str, "_Text"] = field(default_factory=dict, repr=False)

    def label(self, facet: str, value: str) -> str:
        if facet == "platform":
            return self.platforms.get(value, value)
        if facet == "challenge":
            return {"true": "With a challenge", "false": "Without a challenge"}.get(value, value)
        concept = self.concepts.get(facet, {}).get(value)
        return concept.label if concept else value

    def ancestors(self, scheme: str, ident: str) -> frozenset[str]:
        """The concept and every broader concept (transitively)."""
        key = (scheme, ident)
        if key not in self._up:
            seen: set[str] = set()
            stack = [ident]
            while stack:
                current = stack.pop()
                if current in seen:
                    continue
                seen.add(current)
                concept = self.concepts.get(scheme, {}).get(current)
                stack.extend(concept.broader if concept else ())
            self._up[key] = frozenset(seen)
        return self._up[key]

    def facet_values(self, entry: Entry, facet: str) -> Iterable[str]:
        if facet in HIERARCHICAL:
            out: set[str] = set()
            for ident in getattr(entry, facet):
                out |= self.ancestors(facet, ident)
            return out
        if facet == "challenge":
            return ("true",) if entry.challenge else ("false",)
        if facet == "license":
            return (entry.license,) if entry.license else ()
        return set(getattr(entry, facet))

    def known(self, facet: str) -> set[str]:
        if facet == "platform":
            return set(self.platforms)
        if facet in ("dimensionality", "license"):
            return {v for e in self.entries.values() for v in self.facet_values(e, facet)}
        return set(self.concepts.get(facet, {}))

    def text(self, entry: Entry) -> "_Text":
        if entry.id not in self._text:
            self._text[entry.id] = _Text.of(entry)
        return self._text[entry.id]


INDEX_QUERIES: dict[str, str] = {
    "datasets": PREFIXES + """SELECT ?d ?name ?description ?issued ?cases ?license WHERE {
  ?d a mkg:Dataset ; rdfs:label ?name .
  OPTIONAL { ?d dcterms:description ?description }
  OPTIONAL { ?d dcterms:issued ?issued }
  OPTIONAL { ?d mkg:caseCount ?cases }
  OPTIONAL { ?d mkg:licenseName ?license }
}""",
    "values": PREFIXES + """SELECT ?d ?p ?v WHERE {
  ?d a mkg:Dataset .
  { ?d skos:altLabel ?v . BIND("aliases" AS ?p) }
  UNION { ?d mkg:category ?v . BIND("category" AS ?p) }
  UNION { ?d mkg:modality ?v . BIND("modality" AS ?p) }
  UNION { ?d mkg:anatomy ?v . BIND("anatomy" AS ?p) }
  UNION { ?d mkg:task ?v . BIND("task" AS ?p) }
  UNION { ?d mkg:dimensionality ?v . BIND("dimensionality" AS ?p) }
  UNION { ?d mkg:hostedOn ?v . BIND("platform" AS ?p) }
  UNION { ?d mkg:challenge ?v . BIND("challenge" AS ?p) }
  UNION { ?d mkg:labelClass/rdfs:label ?v . BIND("labels" AS ?p) }
}""",
    "concepts": PREFIXES + """SELECT ?c ?label ?broader WHERE {
  ?c a skos:Concept ; rdfs:label ?label .
  OPTIONAL { ?c skos:broader ?broader }
}""",
    "platforms": PREFIXES + """SELECT ?p ?label WHERE { ?p a mkg:Platform ; rdfs:label ?label }""",
}


def _local_id(iri: str, kind: str | None = None) -> tuple[str, str] | None:
    if not iri.startswith(BASE_IRI):
        return None
    found, _, ident = iri[len(BASE_IRI):].partition("/")
    if not ident or (kind is not None and found != kind):
        return None
    return found, ident


def _select(executor, query: str) -> tuple[str, list[dict[str, str]]]:
    """Run a SELECT through the executor -> (build id, rows of plain string values)."""
    answer = executor.run(Job(query=query, format_key="results-json", max_rows=1_000_000,
                              max_bytes=256 * 1024 * 1024))
    doc = json.loads(answer.body)
    rows = [{k: v["value"] for k, v in b.items()} for b in doc["results"]["bindings"]]
    return answer.build_id, rows


def load_index(executor) -> Index:
    """Read the index from the store now served (four SELECTs)."""
    answers = {name: _select(executor, q) for name, q in INDEX_QUERIES.items()}
    builds = {build for build, _ in answers.values()}
    if len(builds) > 1:  # a new build took over halfway: read again from it
        return load_index(executor)
    build_id = builds.pop()
    base: dict[str, dict[str, Any]] = {}
    for row in answers["datasets"][1]:
        local = _local_id(row["d"], "dataset")
        if local is None or local[1] in base:
            continue
        cases = row.get("cases")
        base[local[1]] = {"id": local[1], "name": row["name"],
                          "description": row.get("description", ""),
                          "release_date": row.get("issued", ""),
                          "case_count": int(cases) if cases and cases.isdigit() else None,
                          "license": row.get("license", "")}
    multi: dict[str, dict[str, list[str]]] = {}
    for row in answers["values"][1]:
        local = _local_id(row["d"], "dataset")
        if local is None or local[1] not in base:
            continue
        value = row["v"]
        if row["p"] not in ("aliases", "dimensionality", "labels"):
            ref = _local_id(value)
            if ref is None:
                continue
            value = ref[1]
        bucket = multi.setdefault(local[1], {}).setdefault(row["p"], [])
        if value not in bucket:
            bucket.append(value)
    entries = {}
    for ident, values in base.items():
        extra = {k: tuple(sorted(v) if k not in ("aliases", "labels") else v)
                 for k, v in multi.get(ident, {}).items()}
        entries[ident] = Entry(**values, **extra)
    concepts: dict[str, dict[str, Concept]] = {}
    broader: dict[tuple[str, str], list[str]] = {}
    labels: dict[tuple[str, str], str] = {}
    for row in answers["concepts"][1]:
        local = _local_id(row["c"])
        if local is None:
            continue
        labels.setdefault(local, row["label"])
        up = _local_id(row.get("broader", ""))
        items = broader.setdefault(local, [])
        if up is not None and up[0] == local[0] and up[1] not in items:
            items.append(up[1])
    for (scheme, ident), label in labels.items():
        concepts.setdefault(scheme, {})[ident] = Concept(
            ident, scheme, label, tuple(broader.get((scheme, ident), ())))
    platforms = {}
    for row in answers["platforms"][1]:
        local = _local_id(row["p"], "platform")
        if local is not None:
            platforms.setdefault(local[1], row["label"])
    return Index(build_id=build_id, entries=entries, concepts=concepts, platforms=platforms)


class _Cache:
    """The index and filter answers, per (store, build id); a few builds kept."""

    def __init__(self, max_answers: int = 512):
        self.lock = threading.Lock()
        self.indexes: OrderedDict[tuple[str, str], Index] = OrderedDict()
        self.answers: OrderedDict[tuple[str, str, str], frozenset[str]] = OrderedDict()
        self.max_answers = max_answers

    def index(self, executor) -> Index:
        store = str(getattr(executor, "store_dir", id(executor)))
        build_id = executor.build().get("build_id", "")
        key = (store, build_id)
        with self.lock:
            cached = self.indexes.get(key)
        if cached is not None:
            return cached
        index = load_index(executor)
        with self.lock:
            self.indexes[(store, index.build_id)] = index
            while len(self.indexes) > 4:
                self.indexes.popitem(last=False)
        return index

    def ids(self, executor, index: Index, query: str) -> frozenset[str]:
        store = str(getattr(executor, "store_dir", id(executor)))
        key = (store, index.build_id, query)
        with self.lock:
            if key in self.answers:
                self.answers.move_to_end(key)
                return self.answers[key]
        build_id, rows = _select(executor, query)
        ids = frozenset(row["id"] for row in rows)
        if build_id == index.build_id:
            with self.lock:
                self.answers[key] = ids
                while len(self.answers) > self.max_answers:
                    self.answers.popitem(last=False)
        return ids


CACHE = _Cache()


def index(executor) -> Index:
    """The index of the build now served (cached per build)."""
    return CACHE.index(executor)


# -- free-text matching -----------------------------------------------------------------------

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
RANKS = ("exact", "prefix", "word", "substring")


def _norm(text: str) -> str:
    return " ".join(_WORD.findall(text.casefold()))


def _compact(text: str) -> str:
    return "".join(_WORD.findall(text.casefold()))


@dataclass(frozen=True)
class _Text:
    names: tuple[str, ...]  # normalized name, aliases and id
    compact_names: tuple[str, ...]
    words: frozenset[str]  # every word of names, description and labels
    body: str  # all text, normalized, for substring matches
    compact_body: str

    @classmethod
    def of(cls, entry: Entry) -> "_Text":
        names = tuple(dict.fromkeys(_norm(n) for n in (entry.name, *entry.aliases, entry.id)))
        everything = " ".join((entry.name, *entry.aliases, entry.id, entry.description,
                               *entry.labels))
        body = _norm(everything)
        return cls(names=names, compact_names=tuple(_compact(n) for n in names),
                   words=frozenset(body.split()), body=body,
                   compact_body="".join(body.split()))


def match_rank(text: _Text, q: str) -> int | None:
    """0 exact name/alias/id, 1 prefix of one, 2 every word of q is a word, 3 substring; None."""
    norm, compact = _norm(q), _compact(q)
    if not compact:
        return None
    if norm in text.names or compact in text.compact_names:
        return 0
    if any(n.startswith(norm) for n in text.names) or any(
            c.startswith(compact) for c in text.compact_names):
        return 1
    tokens = norm.split()
    if tokens and all(t in text.words for t in tokens):
        return 2
    if norm in text.body or compact in text.compact_body or (
            tokens and all(t in text.body for t in tokens)):
        return 3
    return None

"""What an entity page shows, read from its page graph (see :func:`medkg.describe.page_graph`).

:class:`Facts` wraps the small rdflib graph gathered for one page and answers the questions
the templates ask: the label of a node, a link to it, the values of a predicate, the facts not
shown elsewhere on the page, what links here, the evaluations that name the entity. Values are
plain data for the templates (which escape everything); links go through :mod:`medkg.urls`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from rdflib import RDF, RDFS, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, PROV, SKOS

from .rdf import MKG, PREFIXES
from .urls import href, is_local, parse_iri


@dataclass(frozen=True)
class Ref:
    """A link to show: where it goes, its text, whether it stays on this site."""

    href: str
    label: str
    iri: str
    local: bool
    kind: str | None = None


@dataclass(frozen=True)
class Value:
    text: str
    ref: Ref | None = None
    lang: str | None = None


@dataclass(frozen=True)
class Fact:
    predicate: Ref
    values: tuple[Value, ...]


@dataclass
class EvaluationRow:
    ref: Ref
    method: Ref | None
    datasets: list[Ref]
    benchmark: Ref | None
    role: str
    metric: str
    value: str
    source: Ref | None


@dataclass
class Paper:
    node: object
    title: str
    doi: str | None
    arxiv: str | None
    year: str | None
    venue: str | None
    links: list[Ref] = field(default_factory=list)
    bibtex: str | None = None


def curie(iri: str) -> str:
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(str(namespace)):
            return f"{prefix}:{iri[len(str(namespace)):]}"
    return iri


def _sort_key(value: Value) -> tuple:
    return (value.text.casefold(), value.ref.iri if value.ref else "")


class Facts:
    """The facts about ``subject`` in ``graph``."""

    def __init__(self, graph: Graph, subject: str):
        self.g = graph
        self.s = URIRef(subject)

    # -- nodes ------------------------------------------------------------------------------

    def exists(self) -> bool:
        return (self.s, RDF.type, None) in self.g

    def label(self, node=None, lang: str = "en") -> str:
        node = self.s if node is None else node
        for predicate in (RDFS.label, SKOS.prefLabel, DCTERMS.title):
            values = list(self.g.objects(node, predicate))
            preferred = [v for v in values if getattr(v, "language", None) in (lang, None)]
            if preferred or values:
                return str(sorted(preferred or values)[0])
        if isinstance(node, URIRef):
            parsed = parse_iri(str(node))
            if parsed is not None:
                return parsed[1] + (f"#{parsed[2]}" if parsed[2] else "")
            return curie(str(node))
        return str(node)

    def ref(self, node) -> Ref:
        iri = str(node)
        parsed = parse_iri(iri)
        return Ref(href=href(iri), label=self.label(node), iri=iri, local=is_local(iri),
                   kind=parsed[0] if parsed else None)

    def value(self, term) -> Value:
        if isinstance(term, Literal):
            return Value(text=str(term), lang=term.language)
        if isinstance(term, URIRef):
            return Value(text=self.label(term), ref=self.ref(term))
        return Value(text=self.label(term))

    # -- predicates -------------------------------------------------------------------------

    def objects(self, predicate, subject=None) -> list:
        return sorted(self.g.objects(self.s if subject is None else subject, predicate),
                      key=lambda t: (self.label(t).casefold(), str(t)))

    def values(self, predicate, subject=None) -> list[Value]:
        return sorted((self.value(o) for o in self.g.objects(
            self.s if subject is None else subject, predicate)), key=_sort_key)

    def text(self, predicate, subject=None) -> str | None:
        values = self.values(predicate, subject)
        return values[0].text if values else None

    def refs(self, predicate, subject=None) -> list[Ref]:
        return [v.ref for v in self.values(predicate, subject) if v.ref is not None]

    def predicate_ref(self, predicate) -> Ref:
        label = next(iter(self.g.objects(predicate, RDFS.label)), None)
        return Ref(href=href(str(predicate)), label=str(label) if label else curie(str(predicate)),
                   iri=str(predicate), local=is_local(str(predicate)))

    def other_facts(self, shown: set) -> list[Fact]:
        """Every outgoing fact whose predicate the page does not show in a section of its own."""
        predicates = sorted({p for p in self.g.predicates(self.s, None) if p not in shown},
                            key=lambda p: self.predicate_ref(p).label.casefold())
        return [Fact(self.predicate_ref(p), tuple(self.values(p))) for p in predicates]

    def incoming(self, hidden: set = frozenset()) -> list[Fact]:
        """What links here, grouped by predicate, fragment nodes and ``hidden`` left out."""
        groups: dict = {}
        prefix = str(self.s) + "#"
        for s, p in self.g.subject_predicates(self.s):
            if p in hidden or str(s).startswith(prefix):
                continue
            groups.setdefault(p, []).append(self.value(s))
        return [Fact(self.predicate_ref(p), tuple(sorted(vs, key=_sort_key)))
                for p, vs in sorted(groups.items(),
                                    key=lambda kv: self.predicate_ref(kv[0]).label.casefold())]

    # -- structures -------------------------------------------------------------------------

    def broader_chain(self, node) -> list[Ref]:
        """The broader terms of ``node``, nearest first (first parent at each step)."""
        chain, seen = [], {node}
        parents = self.objects(SKOS.broader, node)
        while parents:
            parent = parents[0]
            if parent in seen:
                break
            seen.add(parent)
            chain.append(self.ref(parent))
            parents = self.objects(SKOS.broader, parent)
        return chain

    def evaluations(self) -> list[EvaluationRow]:
        rows = []
        for node in set(self.g.subjects(None, self.s)):
            if (node, RDF.type, MKG.Evaluation) not in self.g:
                continue
            method = self.objects(MKG.method, node)
            benchmark = self.objects(MKG.benchmark, node)
            source = self.objects(PROV.wasDerivedFrom, node)
            rows.append(EvaluationRow(
                ref=self.ref(node), method=self.ref(method[0]) if method else None,
                datasets=self.refs(MKG.dataset, node),
                benchmark=self.ref(benchmark[0]) if benchmark else None,
                role=self.text(MKG.role, node) or "", metric=self.text(MKG.metric, node) or "",
                value=_number(self.text(MKG.value, node)),
                source=self.ref(source[0]) if source else None))
        return sorted(rows, key=lambda r: (
            r.method.label.casefold() if r.method else "",
            r.datasets[0].label.casefold() if r.datasets else "", r.role, r.metric))

    def papers(self) -> list[Paper]:
        out = []
        for node in self.objects(DCTERMS.isReferencedBy):
            doi, arxiv = self.text(MKG.doi, node), self.text(MKG.arxivId, node)
            links = []
            if doi:
                links.append(Ref(f"https://doi.org/{doi}", f"doi:{doi}", f"https://doi.org/{doi}", False))
            if arxiv:
                links.append(Ref(f"https://arxiv.org/abs/{arxiv}", f"arXiv:{arxiv}",
                                 f"https://arxiv.org/abs/{arxiv}", False))
            if isinstance(node, URIRef) and not (doi or arxiv):
                links.append(Ref(str(node), str(node), str(node), False))
            for page in self.objects(FOAF.page, node):
                links.append(Ref(str(page), str(page), str(page), False))
            out.append(Paper(node=node, title=self.text(DCTERMS.title, node) or "(untitled)",
                             doi=doi, arxiv=arxiv, year=self.text(DCTERMS.issued, node),
                             venue=self.text(MKG.venue, node), links=links,
                             bibtex=self.text(MKG.bibtex, node)))
        return sorted(out, key=lambda p: (p.year or "9999", p.title.casefold()))

    def table(self, predicate, columns: dict) -> list[dict]:
        """Rows of fragment nodes (label classes, resolution statistics), each with its anchor,
        ordered by the first column (statistics from min to max)."""
        first = next(iter(columns.values()))

        def key(node) -> tuple:
            text = (self.text(first, node) or "").casefold()
            return (STATISTIC_ORDER.get(text, len(STATISTIC_ORDER)), text, str(node))

        return [{name: self.values(p, node) for name, p in columns.items()}
                | {"node": node, "anchor": str(node).partition("#")[2]}
                for node in sorted(self.g.objects(self.s, predicate), key=key)]


STATISTIC_ORDER = {"min": 0, "minimum": 0, "median": 1, "mean": 2, "average": 2, "max": 3,
                   "maximum": 3}


def _number(text: str | None) -> str:
    if text is None:
        return ""
    try:
        return f"{float(text):g}"
    except ValueError:
        return text


# -- citation and schema.org ------------------------------------------------------------------

def bibtex(facts: Facts, ident: str) -> str | None:
    """The dataset's citation as BibTeX: the source's entries, else one made from its papers."""
    papers = facts.papers()
    given = [p.bibtex.strip() for p in papers if p.bibtex]
    if given:
        return "\n\n".join(given)
    if not papers:
        return None
    entries = []
    for number, paper in enumerate(papers, start=1):
        key = re.sub(r"[^A-Za-z0-9]", "", ident) + (paper.year or "") + (
            f"_{number}" if len(papers) > 1 else "")
        fields = [("title", "{" + paper.title + "}")]
        if paper.venue:
            fields.append(("journal", paper.venue))
        if paper.year:
            fields.append(("year", paper.year))
        if paper.doi:
            fields.append(("doi", paper.doi))
        if paper.arxiv:
            fields += [("eprint", paper.arxiv), ("archivePrefix", "arXiv")]
        url = next((link.href for link in paper.links), None)
        if url:
            fields.append(("url", url))
        body = ",\n".join(f"  {name} = {{{_bib_escape(value)}}}" for name, value in fields)
        kind = "article" if paper.venue else "misc"
        entries.append(f"@{kind}{{{key},\n{body}\n}}")
    return "\n\n".join(entries)


def _bib_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("{", "\\{").replace("}", "\\}") if not (
        value.startswith("{") and value.endswith("}")) else value


def schema_org(facts: Facts, ident: str, page_url: str) -> dict:
    """A schema.org ``Dataset`` description of the dataset for search engines (JSON-LD)."""
    doc: dict = {
        "@context": {"@vocab": "https://schema.org/", "url": {"@type": "@id"},
                     "license": {"@type": "@id"}, "sameAs": {"@type": "@id"},
                     "contentUrl": {"@type": "@id"}, "citation": {"@type": "@id"}},
        "@type": "Dataset",
        "@id": str(facts.s),
        "name": facts.label(),
        "url": page_url,
        "identifier": [str(facts.s), ident],
    }
    description = facts.text(DCTERMS.description)
    doc["description"] = description or f"{facts.label()}: a public medical dataset listed in medkg."
    keywords = [v.text for p in (MKG.modality, MKG.anatomy, MKG.task, MKG.category)
                for v in facts.values(p)]
    if keywords:
        doc["keywords"] = sorted(set(keywords), key=str.casefold)
    licences = [str(o) for o in facts.objects(DCTERMS.license)]
    licence_name = facts.text(MKG.licenseName)
    if licences:
        doc["license"] = licences[0] if len(licences) == 1 else licences
    elif licence_name:
        doc["license"] = licence_name
    creators = [{"@type": "Organization", "name": r.label, "url": r.iri}
                for r in facts.refs(DCTERMS.creator)]
    creators += [{"@type": "Person", "name": v.text} for v in facts.values(MKG.authorName)]
    if creators:
        doc["creator"] = creators
    issued = facts.text(DCTERMS.issued)
    if issued:
        doc["datePublished"] = issued
    downloads = [str(o) for o in facts.objects(MKG.downloadPage)]
    formats = [v.text for v in facts.values(MKG.fileFormat)]
    if downloads:
        doc["distribution"] = [{"@type": "DataDownload", "contentUrl": url,
                                **({"encodingFormat": formats} if formats else {})}
                               for url in downloads]
    modalities = [v.text for v in facts.values(MKG.modality)]
    if modalities:
        doc["measurementTechnique"] = modalities
    anatomy = [{"@type": "Thing", "name": r.label, "url": r.iri} for r in facts.refs(MKG.anatomy)]
    if anatomy:
        doc["about"] = anatomy
    papers = facts.papers()
    citations = [p.links[0].href for p in papers if p.links]
    if citations:
        doc["citation"] = citations
    sizes = [(MKG.caseCount, "cases"), (MKG.imageCount, "images"), (MKG.qaPairCount, "QA pairs")]
    variables = [f"{facts.text(p)} {what}" for p, what in sizes if facts.text(p)]
    if variables:
        doc["size"] = ", ".join(variables)
    if licences and any("creativecommons.org" in l or "spdx.org/licenses/CC" in l for l in licences):
        doc["isAccessibleForFree"] = True
    return doc


def script_json(doc: dict) -> str:
    """JSON for a ``<script>`` element: ``<``, ``>`` and ``&`` escaped so no value breaks out."""
    text = json.dumps(doc, ensure_ascii=False, indent=1)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


"""What the exports need to know about each dataset, read from a built store.

Every standard export (DCAT-AP, Croissant, BibTeX) starts here, so they all describe the same
build: the facts come from the store's default graph by triple patterns (no SPARQL text), are
gathered into frozen dataclasses, and each exporter only maps them to its vocabulary.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pyoxigraph as ox

from ..errors import MedkgError
from ..paths import BASE_IRI, ONTOLOGY_NS

DCT = "http://purl.org/dc/terms/"
DCAT = "http://www.w3.org/ns/dcat#"
FOAF = "http://xmlns.com/foaf/0.1/"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
SKOS = "http://www.w3.org/2004/02/skos/core#"
SDO = "https://schema.org/"
PROV = "http://www.w3.org/ns/prov#"
MKG = ONTOLOGY_NS
DEFAULT = ox.DefaultGraph()

#: concept schemes whose concepts are dataset themes, and the predicate linking them
THEME_PREDICATES: dict[str, str] = {
    "anatomy": MKG + "anatomy", "modality": MKG + "modality", "task": MKG + "task",
    "category": MKG + "category",
}
COUNT_PREDICATES: dict[str, str] = {
    "cases": MKG + "caseCount", "images": MKG + "imageCount", "classes": MKG + "classCount",
    "qa_pairs": MKG + "qaPairCount", "texts": MKG + "textCount", "tokens": MKG + "tokenCount",
}


class NotFound(MedkgError):
    """A dataset id or a dump name that the build does not have."""

    status = 404


@dataclass(frozen=True)
class Agent:
    iri: str
    name: str
    homepage: str | None = None
    country: str | None = None

    @property
    def unknown(self) -> bool:
        """Placeholder organisations (``unknown-institute``) name no one."""
        return self.iri.rsplit("/", 1)[-1].startswith("unknown")


@dataclass(frozen=True)
class Concept:
    iri: str
    scheme: str
    label: str


@dataclass(frozen=True)
class PaperFacts:
    iri: str | None
    title: str | None = None
    doi: str | None = None
    arxiv: str | None = None
    url: str | None = None
    year: str | None = None
    venue: str | None = None
    bibtex: str | None = None


@dataclass(frozen=True)
class Dated:
    value: str
    datatype: str  # the XSD datatype IRI


@dataclass(frozen=True)
class DatasetFacts:
    iri: str
    id: str
    name: str
    description: str | None = None
    aliases: tuple[str, ...] = ()
    issued: Dated | None = None
    organizations: tuple[Agent, ...] = ()
    platforms: tuple[Agent, ...] = ()
    authors: tuple[str, ...] = ()
    themes: tuple[Concept, ...] = ()
    landing_pages: tuple[str, ...] = ()
    download_pages: tuple[str, ...] = ()
    code: tuple[str, ...] = ()
    other_pages: tuple[str, ...] = ()
    license_iri: str | None = None
    license_name: str | None = None
    languages: tuple[str, ...] = ()  # BCP 47 tags as curated
    language_iris: tuple[str, ...] = ()
    file_formats: tuple[str, ...] = ()
    size: str | None = None
    dimensionality: tuple[str, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)
    papers: tuple[PaperFacts, ...] = ()

    @property
    def page(self) -> str | None:
        """The one web page for the dataset: its homepage, else a download page."""
        pages = self.landing_pages or self.download_pages or self.other_pages
        return pages[0] if pages else None

    @property
    def year(self) -> str | None:
        if self.issued:
            return self.issued.value[:4]
        years = sorted(p.year for p in self.papers if p.year)
        return years[0] if years else None

    @property
    def creators(self) -> tuple[Agent, ...]:
        return tuple(a for a in self.organizations if not a.unknown)


class View:
    """Triple-pattern reads on the default graph of a store."""

    def __init__(self, store: ox.Store):
        self.store = store

    def objects(self, subject: str, predicate: str) -> list:
        quads = self.store.quads_for_pattern(ox.NamedNode(subject), ox.NamedNode(predicate), None,
                                             DEFAULT)
        return sorted((q.object for q in quads), key=str)

    def values(self, subject: str, predicate: str) -> tuple[str, ...]:
        return tuple(o.value for o in self.objects(subject, predicate))

    def value(self, subject: str, predicate: str) -> str | None:
        found = self.values(subject, predicate)
        return found[0] if found else None

    def literal(self, subject: str, predicate: str):
        found = [o for o in self.objects(subject, predicate) if isinstance(o, ox.Literal)]
        return found[0] if found else None

    def subjects_of_type(self, cls: str) -> list[str]:
        quads = self.store.quads_for_pattern(None, ox.NamedNode(RDF_TYPE), ox.NamedNode(cls),
                                             DEFAULT)
        return sorted({q.subject.value for q in quads if isinstance(q.subject, ox.NamedNode)})

    def label(self, subject: str) -> str:
        english = [o.value for o in self.objects(subject, SKOS + "prefLabel")
                   if isinstance(o, ox.Literal) and o.language == "en"]
        return (english or list(self.values(subject, RDFS + "label")) or [subject])[0]

    def agent(self, iri: str) -> Agent:
        return Agent(iri, self.label(iri), self.value(iri, FOAF + "homepage"),
                     self.value(iri, MKG + "country"))

    def paper(self, node) -> PaperFacts:
        s = node.value
        iri = s if isinstance(node, ox.NamedNode) else None
        if isinstance(node, ox.BlankNode):  # blank papers: read by the node itself
            quads = list(self.store.quads_for_pattern(node, None, None, DEFAULT))
            got = {}
            for q in quads:
                got.setdefault(q.predicate.value, q.object.value)
            return PaperFacts(None, got.get(DCT + "title"), got.get(MKG + "doi"),
                              got.get(MKG + "arxivId"), got.get(FOAF + "page"),
                              got.get(DCT + "issued"), got.get(SDO + "isPartOf"),
                              got.get(MKG + "bibtex"))
        doi, arxiv = self.value(s, MKG + "doi"), self.value(s, MKG + "arxivId")
        url = self.value(s, FOAF + "page") or (s if not (doi or arxiv) else None)
        return PaperFacts(iri, self.value(s, DCT + "title"), doi, arxiv, url,
                          self.value(s, DCT + "issued"), self.value(s, SDO + "isPartOf"),
                          self.value(s, MKG + "bibtex"))


def _concepts(view: View, iri: str) -> tuple[Concept, ...]:
    out = []
    for scheme, predicate in THEME_PREDICATES.items():
        for concept in view.values(iri, predicate):
            out.append(Concept(concept, scheme, view.label(concept)))
    return tuple(out)


def dataset_facts(view: View, iri: str) -> DatasetFacts:
    issued = view.literal(iri, DCT + "issued")
    counts = {}
    for name, predicate in COUNT_PREDICATES.items():
        value = view.value(iri, predicate)
        if value is not None:
            counts[name] = int(value)
    papers = tuple(sorted((view.paper(node) for node in view.objects(iri, DCT + "isReferencedBy")),
                          key=lambda p: (p.year or "", p.doi or "", p.arxiv or "", p.title or "")))
    return DatasetFacts(
        iri=iri,
        id=view.value(iri, DCT + "identifier") or iri.rsplit("/", 1)[-1],
        name=view.value(iri, DCT + "title") or view.label(iri),
        description=view.value(iri, DCT + "description"),
        aliases=view.values(iri, SKOS + "altLabel"),
        issued=Dated(issued.value, issued.datatype.value) if issued is not None else None,
        organizations=tuple(view.agent(o) for o in view.values(iri, DCT + "creator")),
        platforms=tuple(view.agent(o) for o in view.values(iri, MKG + "hostedOn")),
        authors=view.values(iri, MKG + "authorName"),
        themes=_concepts(view, iri),
        landing_pages=view.values(iri, DCAT + "landingPage"),
        download_pages=view.values(iri, MKG + "downloadPage"),
        code=view.values(iri, SDO + "codeRepository"),
        other_pages=view.values(iri, FOAF + "page") + view.values(iri, MKG + "challengePage"),
        license_iri=view.value(iri, DCT + "license"),
        license_name=view.value(iri, MKG + "licenseName"),
        languages=view.values(iri, SDO + "inLanguage"),
        language_iris=view.values(iri, DCT + "language"),
        file_formats=view.values(iri, MKG + "fileFormat"),
        size=view.value(iri, MKG + "downloadSize"),
        dimensionality=view.values(iri, MKG + "dimensionality"),
        counts=counts,
        papers=papers,
    )


def dataset_iri(ident: str) -> str:
    return f"{BASE_IRI}dataset/{ident}"


def all_datasets(store: ox.Store, ids: Iterable[str] | None = None) -> list[DatasetFacts]:
    """Facts of every dataset (or of ``ids``, in the order given), sorted by id."""
    view = View(store)
    known = view.subjects_of_type(MKG + "Dataset")
    if ids is None:
        return [dataset_facts(view, iri) for iri in known]
    present = set(known)
    return [dataset_facts(view, iri) for iri in map(dataset_iri, ids) if iri in present]


def known_ids(store: ox.Store) -> set[str]:
    return {iri.rsplit("/", 1)[-1] for iri in View(store).subjects_of_type(MKG + "Dataset")}


@dataclass(frozen=True)
class SchemeFacts:
    iri: str
    name: str
    title: str
    definition: str | None


def concept_schemes(store: ox.Store) -> list[SchemeFacts]:
    view = View(store)
    out = []
    for iri in view.subjects_of_type(SKOS + "ConceptScheme"):
        name = iri.rsplit("/", 1)[-1]
        out.append(SchemeFacts(iri, name, view.label(iri), view.value(iri, SKOS + "definition")))
    return out


def build_facts(store: ox.Store) -> dict[str, str]:
    """Build id and time of the store's build (from its provenance triples)."""
    view = View(store)
    catalog = BASE_IRI
    out = {"modified": view.value(catalog, DCT + "modified") or ""}
    activity = view.value(catalog, PROV + "wasGeneratedBy")
    if activity:
        out["build_id"] = view.value(activity, MKG + "buildId") or ""
        out["previous"] = view.value(activity, MKG + "previousBuild") or ""
    return out

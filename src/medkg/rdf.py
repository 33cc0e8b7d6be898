"""Records -> RDF: a pure function of the catalogue, no I/O.

Plain fields map to predicates through the tables below (data, not code paths); structured
fields (papers, links, label classes, licences, dates) have one small function each. Derived
triples (``mkg:evaluatedOn``, ``mkg:trainedOn``) come from the evaluation records.
"""

from __future__ import annotations

import re
from decimal import Decimal
from collections.abc import Iterable

from rdflib import RDF, RDFS, XSD, BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, OWL, PROV, SKOS

from .models import Concept, Dataset, Link, Paper, Record, Vocabulary, slugify
from .paths import BASE_IRI, ONTOLOGY_NS, entity_iri
from .records import Catalog

MKG = Namespace(ONTOLOGY_NS)
SDO = Namespace("https://schema.org/")
MEDKG = Namespace(BASE_IRI)

PREFIXES: dict[str, Namespace] = {
    "mkg": MKG, "dcat": DCAT, "dcterms": DCTERMS, "schema": SDO, "skos": SKOS, "prov": PROV,
    "foaf": FOAF, "rdfs": RDFS, "owl": OWL, "xsd": XSD,
}

#: record kind -> the RDF classes its entities get
CLASSES: dict[str, tuple[URIRef, ...]] = {
    "dataset": (MKG.Dataset, DCAT.Dataset, SDO.Dataset),
    "method": (MKG.Method,),
    "benchmark": (MKG.Benchmark,),
    "evaluation": (MKG.Evaluation,),
    "challenge": (MKG.Challenge,),
    "platform": (MKG.Platform,),
    "organization": (MKG.Organization, FOAF.Organization),
    "toolbox": (MKG.Toolbox,),
}

#: vocabulary scheme -> the class of its concepts
CONCEPT_CLASSES: dict[str, URIRef] = {
    "anatomy": MKG.Anatomy, "modality": MKG.Modality, "task": MKG.Task, "category": MKG.Category,
}

# field -> (predicate, target kind); target kind None means a literal of the field's type
REFERENCE_FIELDS: dict[str, tuple[URIRef, str]] = {
    "category": (MKG.category, "category"),
    "modality": (MKG.modality, "modality"),
    "anatomy": (MKG.anatomy, "anatomy"),
    "task": (MKG.task, "task"),
    "challenges": (MKG.challenge, "challenge"),
    "platforms": (MKG.hostedOn, "platform"),
    "organizations": (DCTERMS.creator, "organization"),
    "includes": (MKG.includesDataset, "dataset"),
    "method": (MKG.method, "method"),
    "dataset": (MKG.dataset, "dataset"),
    "test_sets": (MKG.dataset, "dataset"),
    "benchmark": (MKG.benchmark, "benchmark"),
    "toolbox": (MKG.toolbox, "toolbox"),
}

INTEGER_FIELDS: dict[str, URIRef] = {
    "case_count": MKG.caseCount, "class_count": MKG.classCount, "image_count": MKG.imageCount,
    "qa_pair_count": MKG.qaPairCount, "text_count": MKG.textCount, "token_count": MKG.tokenCount,
}

STRING_FIELDS: dict[str, URIRef] = {
    "dimensionality": MKG.dimensionality,
    "file_formats": MKG.fileFormat,
    "size": MKG.downloadSize,
    "architecture_family": MKG.architectureFamily,
    "venue": MKG.venue,
    "platform_type": MKG.platformType,
    "role": MKG.role,
    "metric": MKG.metric,
    "authors": MKG.authorName,
    "country": MKG.country,
    "notes": SKOS.editorialNote,
}

IRI_FIELDS: dict[str, URIRef] = {
    "code": SDO.codeRepository,
    "url": FOAF.homepage,
    "source": PROV.wasDerivedFrom,
    "license_url": DCTERMS.license,
}

LINK_ROLES: dict[str, URIRef] = {
    "homepage": DCAT.landingPage,
    "download": MKG.downloadPage,
    "code": SDO.codeRepository,
    "challenge": MKG.challengePage,
    "documentation": FOAF.page,
    "other": FOAF.page,
}

SPDX = "https://spdx.org/licenses/"


def concept_iri(scheme: str, ident: str) -> URIRef:
    return URIRef(entity_iri(scheme, ident))


def scheme_iri(scheme: str) -> URIRef:
    return URIRef(f"{BASE_IRI}{scheme}")


def record_iri(kind: str, ident: str) -> URIRef:
    return URIRef(entity_iri(kind, ident))


def date_literal(value: str) -> Literal:
    """YYYY -> xsd:gYear, YYYY-MM -> xsd:gYearMonth, YYYY-MM-DD -> xsd:date."""
    datatype = {4: XSD.gYear, 7: XSD.gYearMonth, 10: XSD.date}[len(value)]
    return Literal(value, datatype=datatype)


def decimal_literal(value: float) -> Literal:
    """An xsd:decimal in plain notation (0.00001, not 1e-05), from the float's shortest repr."""
    text = format(Decimal(repr(float(value))), "f")
    return Literal(Decimal(text), datatype=XSD.decimal)


def part_iri(subject: URIRef, kind: str, name: str, taken: set[str]) -> URIRef:
    """A stable IRI for a part of a record (#label-spleen): from its name, not its position."""
    base = f"{kind}-{slugify(name)}"
    fragment, n = base, 2
    while fragment in taken:
        fragment, n = f"{base}-{n}", n + 1
    taken.add(fragment)
    return URIRef(f"{subject}#{fragment}")


def language_iri(tag: str) -> URIRef:
    """A BCP 47 tag -> the Library of Congress ISO 639-1 (two letters) or 639-2 (three) IRI."""
    primary = tag.split("-")[0].lower()
    scheme = "iso639-1" if len(primary) == 2 else "iso639-2"
    return URIRef(f"http://id.loc.gov/vocabulary/{scheme}/{primary}")


def paper_iri(paper: Paper) -> URIRef | BNode:
    if paper.doi:
        return URIRef(f"https://doi.org/{paper.doi}")
    if paper.arxiv:
        return URIRef(f"https://arxiv.org/abs/{paper.arxiv}")
    if paper.url:
        return URIRef(paper.url)
    return BNode()


SPDX_LIKE = re.compile(r"(CC-BY(-NC)?(-SA|-ND)?-\d\.\d|CC0-1\.0|MIT|Apache-2\.0|BSD-[23]-Clause"
                       r"|[AL]?GPL-[23]\.0(-only|-or-later)?|ODbL-1\.0|PDDL-1\.0|ODC-By-1\.0)")


def license_iri(value: str) -> URIRef | None:
    """A licence given as an IRI or an SPDX id -> its IRI; a free-text name -> None."""
    if value.startswith(("http://", "https://")):
        return URIRef(value)
    if SPDX_LIKE.fullmatch(value):
        return URIRef(SPDX + value)
    return None


def _add_paper(g: Graph, subject: URIRef, paper: Paper) -> None:
    node = paper_iri(paper)
    g.add((subject, DCTERMS.isReferencedBy, node))
    g.add((node, RDF.type, SDO.ScholarlyArticle))
    if paper.title:
        g.add((node, DCTERMS.title, Literal(paper.title)))
    if paper.doi:
        g.add((node, MKG.doi, Literal(paper.doi)))
    if paper.arxiv:
        g.add((node, MKG.arxivId, Literal(paper.arxiv)))
        if paper.doi:
            g.add((node, SDO.sameAs, URIRef(f"https://arxiv.org/abs/{paper.arxiv}")))
    if paper.url and (paper.doi or paper.arxiv):
        g.add((node, FOAF.page, URIRef(paper.url)))
    if paper.year:
        g.add((node, DCTERMS.issued, Literal(str(paper.year), datatype=XSD.gYear)))
    if paper.venue:
        g.add((node, MKG.venue, Literal(paper.venue)))
    if paper.bibtex:
        g.add((node, MKG.bibtex, Literal(paper.bibtex)))


def _add_link(g: Graph, subject: URIRef, link: Link) -> None:
    g.add((subject, LINK_ROLES[link.role], URIRef(link.url)))


def _add_dataset_parts(g: Graph, subject: URIRef, record: Dataset) -> None:
    taken: set[str] = set()
    for label in record.label_classes:
        node = part_iri(subject, "label", label.name, taken)
        g.add((subject, MKG.labelClass, node))
        g.add((node, RDF.type, MKG.LabelClass))
        g.add((node, RDFS.label, Literal(label.name)))
        if label.anatomy:
            g.add((node, MKG.anatomy, concept_iri("anatomy", label.anatomy)))
        if label.case_count is not None:
            g.add((node, MKG.caseCount, Literal(label.case_count, datatype=XSD.integer)))
    for stat in record.resolution:
        node = part_iri(subject, "resolution", stat.statistic, taken)
        g.add((subject, MKG.resolution, node))
        g.add((node, RDF.type, MKG.ResolutionStatistic))
        g.add((node, MKG.statistic, Literal(stat.statistic)))
        if stat.spacing:
            g.add((node, MKG.spacing, Literal(" x ".join(f"{v:g}" for v in stat.spacing))))
        if stat.size:
            g.add((node, MKG.imageSize, Literal(" x ".join(str(v) for v in stat.size))))
    if record.release_date:
        g.add((subject, DCTERMS.issued, date_literal(record.release_date)))
    for language in record.languages:
        g.add((subject, DCTERMS.language, language_iri(language)))
        g.add((subject, SDO.inLanguage, Literal(language)))
    if record.license:
        iri = license_iri(record.license)
        if iri is not None and not record.license_url:
            g.add((subject, DCTERMS.license, iri))
        g.add((subject, MKG.licenseName, Literal(record.license)))
    g.add((subject, MKG.listedUpstream, Literal(record.listed_upstream)))


def record_triples(g: Graph, kind: str, record: Record) -> URIRef:
    """Add one record's triples to ``g``; returns its IRI."""
    subject = record_iri(kind, record.id)
    for cls in CLASSES[kind]:
        g.add((subject, RDF.type, cls))
    g.add((subject, RDFS.label, Literal(record.name)))
    g.add((subject, DCTERMS.identifier, Literal(record.id)))
    if kind == "dataset":
        g.add((subject, DCTERMS.title, Literal(record.name)))
    for alias in record.aliases:
        g.add((subject, SKOS.altLabel, Literal(alias)))
    if record.description:
        g.add((subject, DCTERMS.description, Literal(record.description)))
    for prov in record.provenance:
        if prov.url:
            g.add((subject, PROV.wasDerivedFrom, URIRef(prov.url)))
    values = {name: getattr(record, name) for name in type(record).model_fields}
    for name, value in values.items():
        if value is None or value == []:
            continue
        items = value if isinstance(value, list) else [value]
        if name in REFERENCE_FIELDS:
            predicate, target = REFERENCE_FIELDS[name]
            for item in items:
                g.add((subject, predicate, URIRef(entity_iri(target, item))))
        elif name in INTEGER_FIELDS:
            g.add((subject, INTEGER_FIELDS[name], Literal(value, datatype=XSD.integer)))
        elif name in STRING_FIELDS:
            for item in items:
                g.add((subject, STRING_FIELDS[name], Literal(item)))
        elif name in IRI_FIELDS:
            g.add((subject, IRI_FIELDS[name], URIRef(value)))
        elif name in ("papers",):
            for paper in items:
                _add_paper(g, subject, paper)
        elif name in ("websites",):
            for link in items:
                _add_link(g, subject, link)
    if kind == "dataset":
        _add_dataset_parts(g, subject, record)  # type: ignore[arg-type]
    if kind == "evaluation" and record.value is not None:  # type: ignore[attr-defined]
        g.add((subject, MKG.value, decimal_literal(record.value)))  # type: ignore[attr-defined]
    if kind in ("method", "challenge") and getattr(record, "year", None):
        g.add((subject, DCTERMS.issued, Literal(str(record.year), datatype=XSD.gYear)))  # type: ignore[attr-defined]
    if kind == "platform":
        for host in record.hosts:  # type: ignore[attr-defined]
            g.add((subject, MKG.host, Literal(host)))
    return subject


def concept_triples(g: Graph, vocab: Vocabulary) -> None:
    scheme = scheme_iri(vocab.scheme)
    g.add((scheme, RDF.type, SKOS.ConceptScheme))
    g.add((scheme, RDFS.label, Literal(vocab.label.en)))
    g.add((scheme, SKOS.prefLabel, Literal(vocab.label.en, lang="en")))
    if vocab.label.zh:
        g.add((scheme, SKOS.prefLabel, Literal(vocab.label.zh, lang="zh")))
    if vocab.definition:
        g.add((scheme, SKOS.definition, Literal(vocab.definition, lang="en")))
    for concept in vocab.concepts:
        _concept(g, vocab.scheme, scheme, concept)


def _concept(g: Graph, name: str, scheme: URIRef, concept: Concept) -> None:
    node = concept_iri(name, concept.id)
    g.add((node, RDF.type, SKOS.Concept))
    g.add((node, RDF.type, CONCEPT_CLASSES[name]))
    g.add((node, SKOS.inScheme, scheme))
    g.add((node, RDFS.label, Literal(concept.label.en)))
    g.add((node, DCTERMS.identifier, Literal(concept.id)))
    g.add((node, SKOS.prefLabel, Literal(concept.label.en, lang="en")))
    if concept.label.zh:
        g.add((node, SKOS.prefLabel, Literal(concept.label.zh, lang="zh")))
    for alt in concept.alt_labels:
        g.add((node, SKOS.altLabel, Literal(alt, lang="en")))
    if concept.definition:
        g.add((node, SKOS.definition, Literal(concept.definition, lang="en")))
    if concept.notation:
        g.add((node, SKOS.notation, Literal(concept.notation)))
    for iri in concept.exact_match:
        g.add((node, SKOS.exactMatch, URIRef(iri)))
    for iri in concept.close_match:
        g.add((node, SKOS.closeMatch, URIRef(iri)))
    if concept.broader:
        for broader in concept.broader:
            parent = concept_iri(name, broader)
            g.add((node, SKOS.broader, parent))
            g.add((parent, SKOS.narrower, node))
    else:
        g.add((scheme, SKOS.hasTopConcept, node))
        g.add((node, SKOS.topConceptOf, scheme))


#: evaluation role -> the derived method -> dataset predicate
ROLE_LINKS: dict[str, URIRef] = {
    "test": MKG.evaluatedOn, "benchmark": MKG.evaluatedOn,
    "train": MKG.trainedOn, "finetune": MKG.fineTunedOn,
}


def derived_triples(g: Graph, catalog: Catalog) -> None:
    """Method -> dataset links from the evaluations, and method -> benchmark links."""
    for evaluation in catalog.of("evaluation").values():
        method = record_iri("method", evaluation.method)  # type: ignore[attr-defined]
        predicate = ROLE_LINKS[evaluation.role]  # type: ignore[attr-defined]
        targets = [evaluation.dataset] if evaluation.dataset else []  # type: ignore[attr-defined]
        targets += list(evaluation.test_sets)  # type: ignore[attr-defined]
        for dataset in targets:
            g.add((method, predicate, record_iri("dataset", dataset)))
        if evaluation.benchmark:  # type: ignore[attr-defined]
            g.add((method, MKG.evaluatedOnBenchmark, record_iri("benchmark", evaluation.benchmark)))  # type: ignore[attr-defined]


def bind_prefixes(g: Graph) -> Graph:
    for prefix, namespace in PREFIXES.items():
        g.bind(prefix, namespace, replace=True)
    return g


def catalog_graph(catalog: Catalog, kinds: Iterable[str] | None = None) -> Graph:
    """The whole catalogue as one graph (without the ontology)."""
    g = bind_prefixes(Graph())
    for vocab in catalog.vocab.values():
        concept_triples(g, vocab)
    for kind, records in catalog.records.items():
        if kinds is not None and kind not in kinds:
            continue
        for record in records.values():
            record_triples(g, kind, record)
    derived_triples(g, catalog)
    return g

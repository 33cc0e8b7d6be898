"""Per-kind view models for entity pages: which facts a page shows, in which order, and the
sections of its own (label classes, papers, evaluations, datasets of a concept...).

Templates receive plain data from here and escape all of it. The order of facts is data (the
tables below); anything the graph says that no table names still shows, under "Other facts",
so a page never hides a triple.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rdflib import RDF, RDFS, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, PROV, SKOS

from .facts import Facts, Ref, Value, bibtex, schema_org
from .rdf import MKG, SDO
from .urls import CONCEPT_KINDS, scheme_iri, scheme_path

#: display names for predicates (the ontology labels mkg: terms; these are the reused ones)
LABELS: dict = {
    DCTERMS.creator: "Institutions", DCTERMS.issued: "Released", DCTERMS.license: "Licence text",
    DCTERMS.language: "Language (IRI)", SDO.inLanguage: "Languages",
    DCAT.landingPage: "Homepage", SDO.codeRepository: "Code", FOAF.page: "Web page",
    FOAF.homepage: "Homepage", SKOS.altLabel: "Also known as", SKOS.exactMatch: "Exact match",
    SKOS.closeMatch: "Close match", SKOS.notation: "Notation", SKOS.definition: "Definition",
    SKOS.inScheme: "In scheme", SKOS.broader: "Broader terms", SKOS.narrower: "Narrower terms",
    PROV.wasDerivedFrom: "Source", SKOS.editorialNote: "Curation notes",
    MKG.licenseName: "Licence", MKG.authorName: "Authors", MKG.hostedOn: "Platforms",
    MKG.challenge: "Challenges", MKG.fileFormat: "File formats",
}

#: predicates every page shows in its header or its own sections
HEADER = {RDF.type, RDFS.label, DCTERMS.title, DCTERMS.identifier, DCTERMS.description,
          SKOS.altLabel, SKOS.prefLabel, DCTERMS.isReferencedBy, SKOS.editorialNote,
          MKG.labelClass, MKG.resolution, PROV.wasDerivedFrom}

#: kind -> the facts its page lists first, in order
ORDER: dict[str, tuple] = {
    "dataset": (MKG.category, MKG.modality, MKG.anatomy, MKG.task, MKG.dimensionality,
                MKG.downloadSize, MKG.fileFormat, SDO.inLanguage, DCTERMS.issued, MKG.challenge,
                MKG.hostedOn, DCTERMS.creator, MKG.authorName, MKG.licenseName, DCTERMS.license,
                DCAT.landingPage, MKG.downloadPage, SDO.codeRepository, MKG.challengePage,
                FOAF.page, MKG.listedUpstream),
    "method": (MKG.architectureFamily, DCTERMS.issued, MKG.task, DCTERMS.creator,
               SDO.codeRepository, MKG.toolbox, MKG.evaluatedOn, MKG.trainedOn, MKG.fineTunedOn,
               MKG.evaluatedOnBenchmark),
    "benchmark": (MKG.includesDataset, MKG.task, MKG.modality, DCTERMS.creator,
                  DCAT.landingPage, SDO.codeRepository, FOAF.page),
    "evaluation": (MKG.method, MKG.dataset, MKG.benchmark, MKG.role, MKG.metric, MKG.value),
    "challenge": (MKG.venue, DCTERMS.issued, MKG.challengePage, DCAT.landingPage, FOAF.page),
    "platform": (MKG.platformType, FOAF.homepage, MKG.host),
    "organization": (MKG.country, FOAF.homepage),
    "toolbox": (DCTERMS.creator, SDO.codeRepository),
    "concept": (SKOS.definition, SKOS.notation, SKOS.exactMatch, SKOS.closeMatch, SKOS.inScheme),
}

#: (predicate, unit) of the size facts of a dataset
SIZES: tuple = ((MKG.caseCount, "cases"), (MKG.classCount, "classes"), (MKG.imageCount, "images"),
                (MKG.qaPairCount, "QA pairs"), (MKG.textCount, "texts"),
                (MKG.tokenCount, "tokens"))

#: incoming links shown in sections of their own, not again under "Referenced by"
INCOMING_SHOWN = {MKG.method, MKG.dataset, MKG.benchmark, MKG.includesDataset, SKOS.broader,
                  SKOS.hasTopConcept}

COMMIT = re.compile(r"/(?:blob|tree|commit)/([0-9a-f]{40})(?:/|$)")


@dataclass
class Row:
    label: str
    values: list[Value]
    chains: dict = field(default_factory=dict)  # value IRI -> broader terms (anatomy)
    predicate: str | None = None


def predicate_label(facts: Facts, predicate) -> str:
    if predicate in LABELS:
        return LABELS[predicate]
    label = facts.predicate_ref(predicate).label
    return label[:1].upper() + label[1:]


def fact_rows(facts: Facts, order: tuple) -> list[Row]:
    rows = []
    for predicate in order:
        values = facts.values(predicate)
        if values:
            rows.append(Row(predicate_label(facts, predicate), values, predicate=str(predicate)))
    return rows


def other_rows(facts: Facts, shown: set) -> list[Row]:
    return [Row(predicate_label(facts, URIRef(f.predicate.iri)), list(f.values),
                predicate=f.predicate.iri) for f in facts.other_facts(shown)]


def provenance(facts: Facts) -> list[dict]:
    out = []
    for value in facts.values(PROV.wasDerivedFrom):
        match = COMMIT.search(value.text) if value.ref else None
        out.append({"value": value, "commit": match.group(1) if match else None})
    return out


def view(kind: str, ident: str, facts: Facts, page_url: str) -> dict:
    """Everything the entity template shows for one entity."""
    group = "concept" if kind in CONCEPT_KINDS else kind
    order = ORDER.get(group, ())
    rows = fact_rows(facts, order)
    shown = set(HEADER) | set(order)
    out: dict = {
        "kind": kind, "ident": ident, "iri": str(facts.s), "label": facts.label(),
        "description": facts.text(DCTERMS.description),
        "aliases": [v.text for v in facts.values(SKOS.altLabel)],
        "rows": rows, "papers": facts.papers(), "evaluations": facts.evaluations(),
        "provenance": provenance(facts),
        "notes": [v.text for v in facts.values(SKOS.editorialNote)],
        "types": [facts.ref(t) for t in facts.objects(RDF.type)],
    }
    if kind == "dataset":
        _dataset(out, facts, ident, page_url, rows, shown)
    if kind in CONCEPT_KINDS:
        _concept(out, kind, facts, shown)
    out["other"] = other_rows(facts, shown)
    out["incoming"] = facts.incoming(INCOMING_SHOWN if kind != "evaluation" else set())
    return out


def _dataset(out: dict, facts: Facts, ident: str, page_url: str, rows: list[Row],
             shown: set) -> None:
    sizes = [Value(f"{int(float(facts.text(p))):,} {unit}") for p, unit in SIZES if facts.text(p)]
    shown.update(p for p, _ in SIZES)
    shown.add(DCTERMS.language)
    if sizes:
        at = next((i for i, r in enumerate(rows) if r.predicate == str(MKG.dimensionality)), 3)
        rows.insert(at + 1, Row("Size", sizes))
    for row in rows:
        if row.predicate == str(MKG.anatomy):
            row.chains = {v.ref.iri: facts.broader_chain(URIRef(v.ref.iri))
                          for v in row.values if v.ref}
    out["label_classes"] = facts.table(MKG.labelClass, {
        "name": RDFS.label, "anatomy": MKG.anatomy, "cases": MKG.caseCount})
    out["resolution"] = facts.table(MKG.resolution, {
        "statistic": MKG.statistic, "spacing": MKG.spacing, "size": MKG.imageSize})
    out["bibtex"] = bibtex(facts, ident)
    out["benchmarks"] = [v for v in facts.incoming()
                         if v.predicate.iri == str(MKG.includesDataset)]
    out["schema_org"] = schema_org(facts, ident, page_url)


def _concept(out: dict, scheme: str, facts: Facts, shown: set) -> None:
    from .describe import SCHEME_PREDICATES

    predicate = URIRef(SCHEME_PREDICATES[scheme])
    g = facts.g
    children: dict = {}
    for child, parent in g.subject_objects(SKOS.broader):
        children.setdefault(parent, set()).add(child)

    def subtree(node) -> set:
        seen, todo = set(), [node]
        while todo:
            current = todo.pop()
            if current not in seen:
                seen.add(current)
                todo.extend(children.get(current, ()))
        return seen

    def datasets_of(nodes: set) -> dict:
        found: dict = {}
        for d, c in g.subject_objects(predicate):
            if c in nodes and (d, RDF.type, MKG.Dataset) in g:
                found.setdefault(d, set()).add(c)
        return found

    mine = datasets_of(subtree(facts.s))
    out["datasets"] = sorted(
        ({"ref": facts.ref(d), "via": sorted((facts.ref(c) for c in via if c != facts.s),
                                             key=lambda r: r.label.casefold())}
         for d, via in mine.items()), key=lambda item: item["ref"].label.casefold())
    out["direct_count"] = sum(1 for via in mine.values() if facts.s in via)
    out["narrower"] = sorted(
        ({"ref": facts.ref(c), "count": len(datasets_of(subtree(c)))}
         for c in children.get(facts.s, ())), key=lambda item: item["ref"].label.casefold())
    out["broader"] = [facts.ref(b) for b in facts.objects(SKOS.broader)]
    out["chain"] = facts.broader_chain(facts.s)
    out["labels"] = sorted(((v.lang or "", v.text) for v in facts.values(SKOS.prefLabel)),
                           key=lambda lv: (lv[0] != "en", lv[0]))
    out["scheme"] = Ref(href=scheme_path(scheme), label=scheme.capitalize(), iri=scheme_iri(scheme),
                        local=True)
    shown.update({SKOS.broader, SKOS.narrower, SKOS.topConceptOf, SKOS.prefLabel})


def _refs_of(facts: Facts, node) -> list[Ref]:
    """IRIs named by ``node``: itself, or the members of an owl:unionOf class expression."""
    from rdflib import BNode
    from rdflib.collection import Collection
    from rdflib.namespace import OWL

    if isinstance(node, BNode):
        union = next(iter(facts.g.objects(node, OWL.unionOf)), None)
        if union is not None:
            return [facts.ref(m) for m in Collection(facts.g, union)]
        return []
    return [facts.ref(node)]


def ontology_view(g) -> dict:
    """Classes and properties of the ontology with label, definition, domain and range."""
    from rdflib.namespace import OWL

    from .paths import ONTOLOGY_NS
    from .urls import ONTOLOGY_IRI

    facts = Facts(g, ONTOLOGY_IRI)

    def term(node, kind: str) -> dict:
        local = str(node)[len(ONTOLOGY_NS):]
        return {
            "anchor": local, "iri": str(node), "curie": f"mkg:{local}", "kind": kind,
            "label": facts.label(node), "definition": facts.text(SKOS.definition, node)
            or facts.text(RDFS.comment, node),
            "domain": [r for d in facts.objects(RDFS.domain, node) for r in _refs_of(facts, d)],
            "range": [r for d in facts.objects(RDFS.range, node) for r in _refs_of(facts, d)],
            "parents": [r for d in (facts.objects(RDFS.subClassOf, node)
                                    + facts.objects(RDFS.subPropertyOf, node))
                        for r in _refs_of(facts, d)],
        }

    def terms(*types) -> list[dict]:
        found = {}
        for cls, kind in types:
            for node in g.subjects(RDF.type, cls):
                if isinstance(node, URIRef) and str(node).startswith(ONTOLOGY_NS):
                    found.setdefault(node, term(node, kind))
        return sorted(found.values(), key=lambda t: t["label"].casefold())

    return {
        "title": facts.text(DCTERMS.title) or "medkg ontology",
        "description": facts.text(DCTERMS.description),
        "version": facts.text(OWL.versionInfo),
        "license": facts.refs(DCTERMS.license),
        "classes": terms((OWL.Class, "class"), (RDFS.Class, "class")),
        "properties": terms((OWL.ObjectProperty, "object property"),
                            (OWL.DatatypeProperty, "datatype property"),
                            (OWL.AnnotationProperty, "annotation property"),
                            (RDF.Property, "property")),
    }

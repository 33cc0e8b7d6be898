"""Whole-graph dumps of a build and the VoID description of the graph.

Dumps are the store's default graph (``.nq`` carries every graph) in Turtle, N-Triples,
N-Quads or JSON-LD, optionally gzip-compressed. Their file names carry the build id
(``medkg-<build>.ttl.gz``). The VoID description counts triples, subjects, objects, classes and
properties, with a partition per class and per property, and points at the SPARQL endpoint
(whose Service Description it serves on GET) and at every dump. Both are pure functions of a
store; callers cache them by build id.
"""

from __future__ import annotations

import gzip
from collections import Counter
from dataclasses import dataclass

import pyoxigraph as ox
from rdflib import RDF, RDFS, XSD, BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, FOAF

from ..paths import BASE_IRI
from .facts import MKG, RDF_TYPE, NotFound

VOID = Namespace("http://rdfs.org/ns/void#")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")


@dataclass(frozen=True)
class Dump:
    name: str  # extension: ttl, nt, nq, jsonld
    rdf: ox.RdfFormat
    media_type: str

    def file_name(self, build_id: str | None, compressed: bool = False) -> str:
        stem = f"medkg-{build_id}" if build_id else "medkg"
        return f"{stem}.{self.name}" + (".gz" if compressed else "")


DUMPS: dict[str, Dump] = {
    "ttl": Dump("ttl", ox.RdfFormat.TURTLE, "text/turtle"),
    "nt": Dump("nt", ox.RdfFormat.N_TRIPLES, "application/n-triples"),
    "nq": Dump("nq", ox.RdfFormat.N_QUADS, "application/n-quads"),
    "jsonld": Dump("jsonld", ox.RdfFormat.JSON_LD, "application/ld+json"),
}


def parse_dump_name(file_name: str) -> tuple[Dump, bool]:
    """``medkg.ttl.gz`` -> (the Turtle dump, compressed); MedkgError(404) for anything else."""
    compressed = file_name.endswith(".gz")
    stem = file_name[:-3] if compressed else file_name
    base, _, ext = stem.rpartition(".")
    if not base.startswith("medkg") or ext not in DUMPS:
        raise NotFound(f"no dump named '{file_name}'; there are medkg.{{{','.join(DUMPS)}}}[.gz]")
    return DUMPS[ext], compressed


def dump_bytes(store: ox.Store, dump: Dump, compressed: bool = False) -> bytes:
    from ..rdf import PREFIXES

    kwargs: dict = {}
    if dump.rdf != ox.RdfFormat.N_QUADS:
        kwargs["from_graph"] = ox.DefaultGraph()
    if dump.rdf == ox.RdfFormat.TURTLE:
        kwargs["prefixes"] = {p: str(ns) for p, ns in PREFIXES.items()}
    body = store.dump(format=dump.rdf, **kwargs)
    return gzip.compress(body, compresslevel=6, mtime=0) if compressed else body


@dataclass(frozen=True)
class Statistics:
    triples: int
    subjects: int
    objects: int
    classes: Counter
    properties: Counter


def statistics(store: ox.Store) -> Statistics:
    """Counts over the default graph, in one pass."""
    triples = 0
    subjects: set = set()
    objects: set = set()
    classes: Counter = Counter()
    properties: Counter = Counter()
    for quad in store.quads_for_pattern(None, None, None, ox.DefaultGraph()):
        triples += 1
        subjects.add(quad.subject)
        objects.add(quad.object)
        properties[quad.predicate.value] += 1
        if quad.predicate.value == RDF_TYPE and isinstance(quad.object, ox.NamedNode):
            classes[quad.object.value] += 1
    return Statistics(triples, len(subjects), len(objects), classes, properties)


def void_graph(store: ox.Store, base_url: str = BASE_IRI, build_id: str | None = None) -> Graph:
    """The VoID description; ``base_url`` is where the endpoint and dumps are served."""
    base = base_url.rstrip("/") + "/"
    stats = statistics(store)
    g = Graph(bind_namespaces="none")
    for prefix, ns in {"void": VOID, "dct": DCTERMS, "sd": SD, "foaf": FOAF, "xsd": XSD}.items():
        g.bind(prefix, ns, replace=True)
    ds = URIRef(BASE_IRI)
    endpoint = URIRef(base + "sparql")
    g.add((ds, RDF.type, VOID.Dataset))
    g.add((ds, DCTERMS.title, Literal("medkg: public medical AI datasets", lang="en")))
    g.add((ds, FOAF.homepage, URIRef(base)))
    g.add((ds, VOID.sparqlEndpoint, endpoint))
    g.add((ds, RDFS.seeAlso, endpoint))  # GET /sparql without a query: the Service Description
    g.add((endpoint, RDF.type, SD.Service))
    g.add((endpoint, SD.endpoint, endpoint))
    for dump in DUMPS.values():
        for compressed in (False, True):
            g.add((ds, VOID.dataDump, URIRef(f"{base}download/{dump.file_name(None, compressed)}")))
    if build_id:
        g.add((ds, DCTERMS.identifier, Literal(build_id)))
    g.add((ds, VOID.uriSpace, Literal(BASE_IRI)))
    g.add((ds, VOID.vocabulary, URIRef(MKG)))
    g.add((ds, VOID.triples, Literal(stats.triples, datatype=XSD.integer)))
    g.add((ds, VOID.distinctSubjects, Literal(stats.subjects, datatype=XSD.integer)))
    g.add((ds, VOID.distinctObjects, Literal(stats.objects, datatype=XSD.integer)))
    g.add((ds, VOID.classes, Literal(len(stats.classes), datatype=XSD.integer)))
    g.add((ds, VOID.properties, Literal(len(stats.properties), datatype=XSD.integer)))
    g.add((ds, VOID.entities, Literal(sum(stats.classes.values()), datatype=XSD.integer)))
    for cls, count in sorted(stats.classes.items()):
        part = BNode()
        g.add((ds, VOID.classPartition, part))
        g.add((part, VOID["class"], URIRef(cls)))
        g.add((part, VOID.entities, Literal(count, datatype=XSD.integer)))
    for prop, count in sorted(stats.properties.items()):
        part = BNode()
        g.add((ds, VOID.propertyPartition, part))
        g.add((part, VOID.property, URIRef(prop)))
        g.add((part, VOID.triples, Literal(count, datatype=XSD.integer)))
    for example in _examples(store):
        g.add((ds, VOID.exampleResource, URIRef(example)))
    return g


def _examples(store: ox.Store, per_class: int = 2) -> list[str]:
    out: list[str] = []
    for cls in ("Dataset", "Method", "Benchmark", "Organization"):
        quads = store.quads_for_pattern(None, ox.NamedNode(RDF_TYPE), ox.NamedNode(MKG + cls),
                                        ox.DefaultGraph())
        out += sorted(q.subject.value for q in quads)[:per_class]
    return out

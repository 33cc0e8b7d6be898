"""The ontology: it parses, documents every term, declares every mkg: term rdf.py emits with
a domain and range that rdf.py's output respects, and the mini catalogue conforms to the shapes."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import RDF, RDFS, XSD, BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, OWL, SKOS

from medkg import paths
from medkg.rdf import catalog_graph
from medkg.records import load_catalog
from medkg.validate import load_ontology, validate_graph

MINI = Path(__file__).resolve().parent / "fixtures" / "mini" / "data"
MKG = Namespace(paths.ONTOLOGY_NS)
SDO = Namespace("https://schema.org/")
ONTOLOGY_IRI = URIRef("https://w3id.org/medkg/ontology")

ONTOLOGY = load_ontology()
TERMS = sorted(t for t in set(ONTOLOGY.subjects()) if isinstance(t, URIRef) and t.startswith(str(MKG)))
CLASSES = [t for t in TERMS if (t, RDF.type, OWL.Class) in ONTOLOGY]
PROPERTIES = [t for t in TERMS if (t, RDF.type, OWL.ObjectProperty) in ONTOLOGY
              or (t, RDF.type, OWL.DatatypeProperty) in ONTOLOGY]


@pytest.fixture(scope="module")
def mini():
    catalog = load_catalog(MINI)
    return catalog, catalog_graph(catalog)


def _name(term: URIRef) -> str:
    return term.removeprefix(str(MKG))


def _members(node) -> set[URIRef]:
    """A class expression -> its named classes (an owl:unionOf is expanded)."""
    union = ONTOLOGY.value(node, OWL.unionOf)
    if union is not None:
        return set(Graph.items(ONTOLOGY, union))
    return {node}


def _superclasses(cls: URIRef) -> set[URIRef]:
    return set(ONTOLOGY.transitive_objects(cls, RDFS.subClassOf))


def test_header():
    o = ONTOLOGY_IRI
    assert (o, RDF.type, OWL.Ontology) in ONTOLOGY
    assert ONTOLOGY.value(o, DCTERMS.title) and ONTOLOGY.value(o, DCTERMS.description)
    assert ONTOLOGY.value(o, OWL.versionInfo)
    assert ONTOLOGY.value(o, DCTERMS.license) == URIRef("https://creativecommons.org/licenses/by/4.0/")
    assert ONTOLOGY.value(o, DCTERMS.created) == Literal("2026-11-27", datatype=XSD.date)


def test_only_mkg_terms_are_minted():
    """No class or property outside the mkg: namespace is declared (external terms are reused)."""
    for kind in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty):
        for term in ONTOLOGY.subjects(RDF.type, kind):
            if isinstance(term, BNode):
                assert ONTOLOGY.value(term, OWL.unionOf) is not None, term
                continue
            assert term.startswith(str(MKG)), f"{term} declared in the ontology but not an mkg: term"


@pytest.mark.parametrize("term", CLASSES + PROPERTIES, ids=_name)
def test_term_is_documented(term):
    assert ONTOLOGY.value(term, RDFS.label) is not None, f"{_name(term)}: no rdfs:label"
    definition = ONTOLOGY.value(term, SKOS.definition) or ONTOLOGY.value(term, RDFS.comment)
    assert definition is not None and len(str(definition)) > 20, f"{_name(term)}: no definition"


@pytest.mark.parametrize("term", PROPERTIES, ids=_name)
def test_property_has_domain_and_range(term):
    assert ONTOLOGY.value(term, RDFS.domain) is not None, f"{_name(term)}: no rdfs:domain"
    assert ONTOLOGY.value(term, RDFS.range) is not None, f"{_name(term)}: no rdfs:range"
    kinds = {k for k in (OWL.ObjectProperty, OWL.DatatypeProperty) if (term, RDF.type, k) in ONTOLOGY}
    assert len(kinds) == 1, f"{_name(term)}: declare it an object or a datatype property, not both"


def test_every_term_is_a_class_or_property():
    assert set(TERMS) == set(CLASSES) | set(PROPERTIES)
    assert len(CLASSES) == 14


def test_class_alignments():
    assert {DCAT.Dataset, SDO.Dataset} <= _superclasses(MKG.Dataset)
    assert FOAF.Organization in _superclasses(MKG.Organization)
    for concept_class in (MKG.Anatomy, MKG.Modality, MKG.Task, MKG.Category):
        assert SKOS.Concept in _superclasses(concept_class)


def test_shared_properties_use_unions():
    assert _members(ONTOLOGY.value(MKG.task, RDFS.domain)) == {MKG.Dataset, MKG.Method, MKG.Benchmark}
    assert _members(ONTOLOGY.value(MKG.caseCount, RDFS.domain)) == {MKG.Dataset, MKG.LabelClass}


def test_derived_properties_say_so():
    for prop in (MKG.evaluatedOn, MKG.trainedOn, MKG.fineTunedOn, MKG.evaluatedOnBenchmark):
        assert "derived" in str(ONTOLOGY.value(prop, SKOS.definition)).lower(), _name(prop)


def test_every_mkg_term_emitted_is_declared(mini):
    _, graph = mini
    used = {t for triple in graph for t in triple if isinstance(t, URIRef) and t.startswith(str(MKG))}
    missing = sorted(_name(t) for t in used if t not in set(TERMS))
    assert not missing, f"rdf.py emits undeclared terms: {missing}"
    for cls in graph.objects(None, RDF.type):
        if cls.startswith(str(MKG)):
            assert cls in CLASSES, f"{_name(cls)} used as a class but not declared as one"


def test_emitted_triples_respect_domain_and_range(mini):
    """Every mkg: property triple has a subject typed (explicitly) in the property's domain and an
    object of the declared kind: an instance of the range class, or a literal of the range datatype."""
    _, graph = mini
    problems = []
    for prop in PROPERTIES:
        domain = _members(ONTOLOGY.value(prop, RDFS.domain))
        rng = ONTOLOGY.value(prop, RDFS.range)
        datatype_prop = (prop, RDF.type, OWL.DatatypeProperty) in ONTOLOGY
        for s, o in graph.subject_objects(prop):
            types = {c for t in graph.objects(s, RDF.type) for c in _superclasses(t) | {t}}
            if not types & domain:
                problems.append(f"{_name(prop)}: subject {s} is not in the domain")
            if datatype_prop:
                datatype = o.datatype if isinstance(o, Literal) else None
                if not isinstance(o, Literal) or (datatype or XSD.string) != rng:
                    problems.append(f"{_name(prop)}: object {o!r} is not a {rng} literal")
            elif rng != FOAF.Document:  # web pages are not typed by rdf.py
                otypes = {c for t in graph.objects(o, RDF.type) for c in _superclasses(t) | {t}}
                if not otypes & _members(rng):
                    problems.append(f"{_name(prop)}: object {o} is not a {rng}")
    assert not problems, "\n".join(problems[:20])


def test_mini_catalogue_conforms_to_the_shapes(mini):
    catalog, graph = mini
    violations = validate_graph(graph, ontology=ONTOLOGY, catalog=catalog)
    assert violations == [], "\n".join(v.line() for v in violations)

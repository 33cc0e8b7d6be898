"""The SPARQL that gathers what the pages and the RDF descriptions of entities show.

Every query here runs through the executor (timeouts and build switching apply). The only
values that reach a query are IRIs made by :mod:`medkg.urls` from a kind in the known list and
an id that matched the record id pattern, written as terms by pyoxigraph (``<...>``); nothing
a client sends is pasted into the text unchecked.

* :func:`description` -- the RDF description of an entity: its triples, those of its fragment
  nodes (``#label-N``, ``#resolution-N``) and of the papers it references.
* :func:`page_graph` -- a larger CONSTRUCT for its HTML page: the description, labels and types
  of everything it links to (broader terms of its concepts included), incoming links with their
  labels, the evaluations that name it (with the labels of their method, datasets and benchmark)
  and, for a concept, the datasets of the concept and of its narrower terms.
* :func:`scheme_tree`, :func:`counts`, :func:`ontology` -- the other pages.
"""

from __future__ import annotations

import re

import pyoxigraph as ox

from .models import ID_PATTERN
from .paths import ONTOLOGY_NS
from .rdf import CLASSES, CONCEPT_CLASSES, REFERENCE_FIELDS
from .urls import CONCEPT_KINDS, KINDS, ONTOLOGY_IRI, iri, scheme_iri

PREFIXES = f"""PREFIX mkg: <{ONTOLOGY_NS}>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
"""

_ID = re.compile(ID_PATTERN)


def valid_id(ident: str) -> bool:
    return bool(_ID.match(ident)) and len(ident) <= 200


def term(kind: str, ident: str) -> str:
    """The entity's IRI as a SPARQL term; ValueError for an unknown kind or a malformed id."""
    if kind not in KINDS or not valid_id(ident):
        raise ValueError(f"not an entity: {kind}/{ident}")
    return str(ox.NamedNode(iri(kind, ident)))


def scheme_term(scheme: str) -> str:
    if scheme not in CONCEPT_KINDS:
        raise ValueError(f"not a concept scheme: {scheme}")
    return str(ox.NamedNode(scheme_iri(scheme)))


#: the predicate that links a dataset to a concept of each scheme (the truth is rdf.py)
SCHEME_PREDICATES: dict[str, str] = {
    scheme: str(REFERENCE_FIELDS[scheme][0]) for scheme in CONCEPT_KINDS}

_DESCRIPTION = """
  {{ ?this ?p ?o . BIND(?this AS ?s) }}
  UNION {{ ?this ?link ?s . FILTER(isIRI(?s) && STRSTARTS(STR(?s), CONCAT(STR(?this), "#")))
           ?s ?p ?o }}
  UNION {{ ?this dcterms:isReferencedBy ?s . ?s ?p ?o }}"""


def _with(variable: str, value: str, text: str) -> str:
    """``text`` with ``?variable`` written as the term ``value`` (a checked IRI, see term())."""
    return re.sub(r"\?" + variable + r"\b", lambda _: value, text)


def description(kind: str, ident: str) -> str:
    body = "CONSTRUCT { ?s ?p ?o } WHERE {" + _DESCRIPTION.format() + "\n}"
    return PREFIXES + _with("this", term(kind, ident), body)


_LABELS = ("?s ?p ?o . FILTER(?p IN (rdfs:label, skos:prefLabel, rdf:type, dcterms:identifier, "
           "skos:broader))")

_PAGE = """
  UNION {{ ?this ?p1 ?s . FILTER(isIRI(?s)) {labels} }}
  UNION {{ ?this mkg:labelClass/mkg:anatomy ?s . {labels} }}
  UNION {{ ?this (mkg:anatomy|mkg:labelClass/mkg:anatomy|skos:broader) ?x . ?x skos:broader+ ?s .
           {labels} }}
  UNION {{ ?s ?p ?this . BIND(?this AS ?o) FILTER(!STRSTARTS(STR(?s), CONCAT(STR(?this), "#"))) }}
  UNION {{ ?s ?q ?this . {labels} }}
  UNION {{ ?s ?q ?this . ?s a mkg:Evaluation . ?s ?p ?o }}
  UNION {{ ?e ?q ?this . ?e a mkg:Evaluation . ?e ?r ?s . FILTER(isIRI(?s)) {labels} }}
  UNION {{ {{ ?this ?s ?x }} UNION {{ ?x ?s ?this }} ?s rdfs:label ?o . BIND(rdfs:label AS ?p) }}"""

_CONCEPT = """
  UNION {{ ?s skos:broader* ?this . {labels} }}
  UNION {{ ?c skos:broader* ?this . ?s {predicate} ?c . ?s a mkg:Dataset .
           BIND({predicate} AS ?p) BIND(?c AS ?o) }}
  UNION {{ ?c skos:broader* ?this . ?s {predicate} ?c . ?s a mkg:Dataset . {labels} }}"""


def page_graph(kind: str, ident: str) -> str:
    parts = [_DESCRIPTION.format(), _PAGE.format(labels=_LABELS)]
    if kind in CONCEPT_KINDS:
        predicate = str(ox.NamedNode(SCHEME_PREDICATES[kind]))
        parts.append(_CONCEPT.format(labels=_LABELS, predicate=predicate))
    body = "CONSTRUCT { ?s ?p ?o } WHERE {" + "".join(parts) + "\n}"
    return PREFIXES + _with("this", term(kind, ident), body)


def scheme_rdf(scheme: str) -> str:
    body = ("CONSTRUCT { ?s ?p ?o } WHERE {\n  { ?scheme ?p ?o . BIND(?scheme AS ?s) }\n"
            "  UNION { ?s skos:inScheme ?scheme . ?s ?p ?o }\n}")
    return PREFIXES + _with("scheme", scheme_term(scheme), body)


def scheme_tree(scheme: str) -> str:
    """One row per concept (and per broader term): id, label, zh label."""
    return PREFIXES + _with("scheme", scheme_term(scheme), """SELECT ?c ?id ?label ?zh ?broader WHERE {
  ?c skos:inScheme ?scheme ; rdfs:label ?label ; dcterms:identifier ?id .
  OPTIONAL { ?c skos:prefLabel ?zh FILTER(LANG(?zh) = "zh") }
  OPTIONAL { ?c skos:broader ?broader }
}""")


def scheme_links(scheme: str) -> str:
    """One row per (concept, dataset tagged with it); counts are made from these and the tree."""
    predicate = str(ox.NamedNode(SCHEME_PREDICATES[scheme]))
    return PREFIXES + _with("scheme", scheme_term(scheme), f"""SELECT ?c ?d WHERE {{
  ?c skos:inScheme ?scheme . ?d {predicate} ?c . ?d a mkg:Dataset .
}}""")


def scheme_info(scheme: str) -> str:
    body = ("SELECT ?label ?zh ?definition WHERE {\n  ?scheme rdfs:label ?label .\n"
            "  OPTIONAL { ?scheme skos:prefLabel ?zh FILTER(LANG(?zh) = \"zh\") }\n"
            "  OPTIONAL { ?scheme skos:definition ?definition }\n}")
    return PREFIXES + _with("scheme", scheme_term(scheme), body)


#: what the home page counts: name -> class IRI
COUNTED: dict[str, str] = {
    **{kind: str(classes[0]) for kind, classes in CLASSES.items()},
    **{kind: str(cls) for kind, cls in CONCEPT_CLASSES.items()},
}


def counts() -> str:
    values = " ".join(str(ox.NamedNode(c)) for c in COUNTED.values())
    return PREFIXES + f"""SELECT ?class (COUNT(DISTINCT ?s) AS ?n) WHERE {{
  VALUES ?class {{ {values} }}
  OPTIONAL {{ ?s a ?class }}
}} GROUP BY ?class"""


def ontology() -> str:
    ont = str(ox.NamedNode(ONTOLOGY_IRI))
    return PREFIXES + f"""CONSTRUCT {{ ?s ?p ?o }} WHERE {{
  {{ BIND({ont} AS ?s) ?s ?p ?o }}
  UNION {{ ?s rdfs:isDefinedBy {ont} . ?s ?p ?o }}
  UNION {{ ?t rdfs:isDefinedBy {ont} . ?t ?q ?b . FILTER(isBlank(?b))
           ?b (owl:unionOf|rdf:first|rdf:rest|owl:inverseOf)* ?s . FILTER(isBlank(?s)) ?s ?p ?o }}
}}"""

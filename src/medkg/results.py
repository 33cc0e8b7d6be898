"""Serialize a pyoxigraph query result into a negotiated format, within row and byte limits.

Runs inside the executor's child process. SELECT solutions are read row by row up to the row
limit (so a huge result never fully materializes), written as SPARQL JSON, and converted by
pyoxigraph to XML, CSV or TSV when asked; CONSTRUCT/DESCRIBE triples are cut at the same limit
and serialized by pyoxigraph. ``truncated`` says whether rows were dropped.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass

import pyoxigraph as ox

from .errors import QueryError, ResultTooLarge
from .formats import BY_KEY, Kind, kind_of_result
from .rdf import PREFIXES

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
#: prefixes for readable Turtle and RDF/XML answers (the project's own plus the standard ones)
PREFIX_MAP = {prefix: str(ns) for prefix, ns in PREFIXES.items()} | {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "dataset": "https://w3id.org/medkg/dataset/", "anatomy": "https://w3id.org/medkg/anatomy/",
    "modality": "https://w3id.org/medkg/modality/", "task": "https://w3id.org/medkg/task/",
    "method": "https://w3id.org/medkg/method/", "evaluation": "https://w3id.org/medkg/evaluation/"}


@dataclass(frozen=True)
class Serialized:
    body: bytes
    format_key: str
    kind: Kind
    rows: int
    truncated: bool


def term_json(term: object) -> dict:
    """One RDF term in the SPARQL 1.1 JSON results shape (RDF-star triples included)."""
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
            if getattr(term, "direction", None):
                out["its:dir"] = str(term.direction).lower()
        elif term.datatype.value != XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    if isinstance(term, ox.Triple):
        return {"type": "triple", "value": {"subject": term_json(term.subject),
                                            "predicate": term_json(term.predicate),
                                            "object": term_json(term.object)}}
    raise QueryError(f"cannot serialize term {term!r}")


def _solutions_json(result: ox.QuerySolutions, max_rows: int) -> tuple[bytes, int, bool]:
    names = [v.value for v in result.variables]
    bindings = []
    for solution in itertools.islice(result, max_rows + 1):
        bindings.append({name: term_json(value)
                         for name, value in zip(names, solution) if value is not None})
    truncated = len(bindings) > max_rows
    if truncated:
        bindings.pop()
    doc = {"head": {"vars": names}, "results": {"bindings": bindings}}
    body = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return body, len(bindings), truncated


def serialize(result: object, format_key: str | None, *, max_rows: int,
              max_bytes: int) -> Serialized:
    """Serialize ``result`` as ``format_key`` (the kind's default when None or not fitting)."""
    kind = kind_of_result(result)
    fmt = BY_KEY.get(format_key or "")
    if fmt is None or kind not in fmt.kinds:
        fmt = {Kind.SOLUTIONS: BY_KEY["results-json"], Kind.BOOLEAN: BY_KEY["results-json"],
               Kind.GRAPH: BY_KEY["turtle"]}[kind]
    rows, truncated = 1, False
    if kind is Kind.BOOLEAN:
        body = result.serialize(format=fmt.results)
    elif kind is Kind.SOLUTIONS:
        body, rows, truncated = _solutions_json(result, max_rows)
        if fmt.results != ox.QueryResultsFormat.JSON:
            parsed = ox.parse_query_results(body, ox.QueryResultsFormat.JSON)
            body = parsed.serialize(format=fmt.results)
    else:
        triples = list(itertools.islice(result, max_rows + 1))
        truncated = len(triples) > max_rows
        del triples[max_rows:]
        rows = len(triples)
        prefixes = PREFIX_MAP if fmt.rdf in (ox.RdfFormat.TURTLE, ox.RdfFormat.RDF_XML) else None
        body = ox.serialize(triples, format=fmt.rdf, prefixes=prefixes)
    if len(body) > max_bytes:
        raise ResultTooLarge(
            f"the result is {len(body)} bytes, over the limit of {max_bytes}; "
            "add a LIMIT or select fewer variables")
    return Serialized(body=body, format_key=fmt.key, kind=kind, rows=rows, truncated=truncated)

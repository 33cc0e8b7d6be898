"""Standard exports of a build: DCAT-AP, Croissant, VoID, dumps, BibTeX, and build diffs.

Modules: ``facts`` (what every export reads from the store), ``dcat``, ``croissant``,
``void`` (dumps and the VoID description), ``citations`` and ``diff``. This module maps the
CLI's ``--format`` names to them; the web routes live in ``medkg.downloads``.
"""

from __future__ import annotations

import json

import pyoxigraph as ox

from ..errors import MedkgError
from ..paths import BASE_IRI

#: ``medkg export --format`` names handled here -> what they are
STANDARD_FORMATS: dict[str, str] = {
    "dcat": "DCAT-AP 3.0.1 catalogue, Turtle",
    "dcat-jsonld": "DCAT-AP 3.0.1 catalogue, JSON-LD",
    "croissant": "Croissant 1.1 JSON-LD (one dataset with --dataset, else a JSON array)",
    "void": "VoID description of the graph, Turtle",
}


def dcat_bytes(handle: ox.Store, rdf_format: str = "turtle", ids=None) -> bytes:
    from .dcat import dcat_graph

    graph = dcat_graph(handle, ids)
    if rdf_format == "json-ld":
        return graph.serialize(format="json-ld", auto_compact=True, encoding="utf-8")
    return graph.serialize(format=rdf_format, encoding="utf-8")


def croissant_bytes(handle: ox.Store, dataset: str | None = None) -> bytes:
    from . import croissant

    doc = (croissant.dataset_document(handle, dataset) if dataset
           else croissant.catalogue_documents(handle))
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def standard_export(handle: ox.Store, fmt: str, *, dataset: str | None = None,
                    build_id: str | None = None, base_url: str = BASE_IRI) -> bytes:
    """The bytes of export ``fmt`` (one of STANDARD_FORMATS) for a store."""
    if dataset and fmt != "croissant":
        raise MedkgError(f"--dataset goes with --format croissant, not {fmt}")
    if fmt == "dcat":
        return dcat_bytes(handle)
    if fmt == "dcat-jsonld":
        return dcat_bytes(handle, "json-ld")
    if fmt == "croissant":
        return croissant_bytes(handle, dataset)
    if fmt == "void":
        from .void import void_graph

        return void_graph(handle, base_url, build_id).serialize(format="turtle", encoding="utf-8")
    raise MedkgError(f"--format {fmt}: not a standard export ({', '.join(STANDARD_FORMATS)})")

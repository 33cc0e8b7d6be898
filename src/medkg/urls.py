"""The one URL builder: entity IRIs <-> local paths, and the site's section paths.

Every entity IRI ``https://w3id.org/medkg/{kind}/{id}`` is served at ``/{kind}/{id}``; an
RDF rendering at ``/{kind}/{id}.{ext}``. Concept schemes (``https://w3id.org/medkg/anatomy``)
are served at ``/anatomy``, ontology terms (``...ontology#Dataset``) at ``/ontology#Dataset``.
Templates never build a URL by hand: they call the Jinja globals registered by :data:`bp`
(``href(iri)``, ``entity_path(kind, id)``, ``section(name)``, ``search_path(q)``), and routes
call the same functions.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint

from .paths import BASE_IRI, KIND_DIRS, ONTOLOGY_NS, VOCAB_KINDS, entity_iri

#: kinds whose entities have pages: record kinds and vocabulary (concept) kinds
RECORD_KINDS: tuple[str, ...] = tuple(KIND_DIRS)
CONCEPT_KINDS: tuple[str, ...] = VOCAB_KINDS
KINDS: tuple[str, ...] = RECORD_KINDS + CONCEPT_KINDS

ONTOLOGY_IRI = BASE_IRI + "ontology"

#: the site's sections: name -> (path, navigation label); the order is the navigation's
SECTIONS: dict[str, tuple[str, str]] = {
    "home": ("/", "Home"),
    "datasets": ("/datasets", "Datasets"),
    "query": ("/query", "Query"),
    "stats": ("/stats", "Stats"),
    "ontology": ("/ontology", "Ontology"),
}
#: other places pages link to (served by other blueprints)
PLACES: dict[str, str] = {
    "sparql": "/sparql",
    "queries": "/queries",
    "downloads": "/download/",
    "void": "/.well-known/void",
    "catalog": "/catalog.ttl",
    "bibtex": "/datasets.bib",
}
NAV: tuple[str, ...] = tuple(SECTIONS)


def iri(kind: str, ident: str) -> str:
    """The IRI of an entity (``https://w3id.org/medkg/{kind}/{id}``)."""
    return entity_iri(kind, ident)


def scheme_iri(scheme: str) -> str:
    return BASE_IRI + scheme


def entity_path(kind: str, ident: str, ext: str | None = None) -> str:
    """The local path of an entity's page (or of an RDF rendering, with ``ext``)."""
    return f"/{kind}/{ident}" + (f".{ext}" if ext else "")


def scheme_path(scheme: str, ext: str | None = None) -> str:
    return f"/{scheme}" + (f".{ext}" if ext else "")


def parse_iri(value: str) -> tuple[str, str, str] | None:
    """``(kind, id, fragment)`` of an entity IRI of this graph; None for any other IRI."""
    if not value.startswith(BASE_IRI):
        return None
    rest, _, fragment = value[len(BASE_IRI):].partition("#")
    kind, slash, ident = rest.partition("/")
    if not slash or kind not in KINDS or not ident or "/" in ident:
        return None
    return kind, ident, fragment


def href(value: str) -> str:
    """Where a link to ``value`` should point: the local page for our IRIs, else ``value``."""
    parsed = parse_iri(value)
    if parsed is not None:
        kind, ident, fragment = parsed
        return entity_path(kind, ident) + (f"#{fragment}" if fragment else "")
    if value.startswith(ONTOLOGY_NS):
        return section("ontology") + "#" + value[len(ONTOLOGY_NS):]
    if value == ONTOLOGY_IRI:
        return section("ontology")
    if value == BASE_IRI:
        return section("home")
    if value.startswith(BASE_IRI) and value[len(BASE_IRI):] in CONCEPT_KINDS:
        return scheme_path(value[len(BASE_IRI):])
    return value


def is_local(value: str) -> bool:
    return href(value) != value


def section(name: str) -> str:
    return SECTIONS[name][0] if name in SECTIONS else PLACES[name]


def search_path(q: str | None = None, **filters: str) -> str:
    """The dataset search/browse page, with a query and filters (``/datasets?q=...``)."""
    params = {k: v for k, v in {"q": q, **filters}.items() if v}
    return section("datasets") + (("?" + urlencode(params)) if params else "")


bp = Blueprint("urls", __name__)


@bp.app_context_processor
def _layout_context() -> dict:
    return {
        "href": href,
        "entity_path": entity_path,
        "scheme_path": scheme_path,
        "section": section,
        "search_path": search_path,
        "nav": [(name, *SECTIONS[name]) for name in NAV],
        "site_build": _site_build,
    }


def _site_build() -> dict:
    """The build now served, for the footer; empty when the store cannot be reached."""
    from .errors import MedkgError
    from .web import endpoint

    try:
        return endpoint().executor.build()
    except MedkgError:
        return {}

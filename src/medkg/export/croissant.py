"""MLCommons Croissant 1.1 metadata (schema.org Dataset + cr:) for each dataset.

What medkg knows maps onto the dataset-level properties: name, description, url (the official
page), sameAs (other official pages, download pages included), creator (organisations, else
the authors named), publisher (hosting platforms), datePublished, license (when known),
keywords (theme labels), inLanguage, citeAs (BibTeX, citations.py), conformsTo.

No ``distribution``: Croissant's FileObject is a file's bytes with a sha256 or md5 (the
validator rejects one without, and rejects schema.org DataDownload), while medkg knows web
pages, not files or checksums. Inventing checksums or claiming a live dataset would be false,
so the download pages go to sameAs and the missing distribution is reported by ``gaps()``.

The whole catalogue is a JSON array of these documents (not one catalogue-level document):
Croissant describes one dataset per document, so each element stays a valid Croissant file
that a loader or validator can take on its own.
"""

from __future__ import annotations

import copy
from typing import Any

import pyoxigraph as ox

from ..errors import MedkgError
from . import citations
from . import facts as F

CONFORMS_TO = "http://mlcommons.org/croissant/1.1"

#: the Croissant 1.1 JSON-LD context (the specification's, as mlcroissant writes it)
CONTEXT: dict[str, Any] = {
    "@language": "en", "@vocab": "https://schema.org/", "arrayShape": "cr:arrayShape",
    "citeAs": "cr:citeAs", "column": "cr:column", "conformsTo": "dct:conformsTo",
    "containedIn": "cr:containedIn", "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/", "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"}, "dct": "http://purl.org/dc/terms/",
    "description": {"@container": "@language"}, "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"}, "extract": "cr:extract",
    "field": "cr:field", "fileProperty": "cr:fileProperty", "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet", "format": "cr:format", "includes": "cr:includes",
    "isArray": "cr:isArray", "isLiveDataset": "cr:isLiveDataset", "jsonPath": "cr:jsonPath",
    "key": "cr:key", "md5": "cr:md5", "name": {"@container": "@language"},
    "parentField": "cr:parentField", "path": "cr:path", "recordSet": "cr:recordSet",
    "references": "cr:references", "regex": "cr:regex", "repeated": "cr:repeated",
    "replace": "cr:replace", "samplingRate": "cr:samplingRate", "sc": "https://schema.org/",
    "separator": "cr:separator", "source": "cr:source", "subField": "cr:subField",
    "transform": "cr:transform",
}

#: properties the Croissant 1.1 specification requires on a dataset
REQUIRED = ("@context", "@type", "conformsTo", "name", "description", "license", "url",
            "creator", "datePublished")


def _organization(agent: F.Agent) -> dict[str, Any]:
    out: dict[str, Any] = {"@type": "sc:Organization", "@id": agent.iri, "name": agent.name}
    if agent.homepage:
        out["url"] = agent.homepage
    return out


def _date(d: F.DatasetFacts) -> str | None:
    return d.issued.value if d.issued else None


def croissant(d: F.DatasetFacts) -> dict[str, Any]:
    """The Croissant document of one dataset."""
    doc: dict[str, Any] = {
        "@context": copy.deepcopy(CONTEXT),  # validators may add to it in place
        "@type": "sc:Dataset",
        "@id": d.iri,
        "conformsTo": CONFORMS_TO,
        "name": d.name,
        "description": d.description or d.name,
        "identifier": d.id,
        "url": d.page or d.iri,
    }
    same = [p for p in (*d.landing_pages, *d.download_pages) if p != doc["url"]]
    if same:
        doc["sameAs"] = list(dict.fromkeys(same))
    if d.aliases:
        doc["alternateName"] = list(d.aliases)
    if d.creators:
        doc["creator"] = [_organization(a) for a in d.creators]
    elif d.authors:
        doc["creator"] = [{"@type": "sc:Person", "name": name} for name in d.authors]
    hosts = [a for a in d.platforms if not a.unknown]
    if hosts:
        doc["publisher"] = [_organization(a) for a in hosts]
    if _date(d):
        doc["datePublished"] = _date(d)
    if d.license_iri:
        doc["license"] = d.license_iri
    elif d.license_name:
        doc["license"] = d.license_name
    keywords = sorted({c.label for c in d.themes})
    if keywords:
        doc["keywords"] = keywords
    if d.languages:
        doc["inLanguage"] = list(d.languages)
    doc["citeAs"] = citations.cite_as(d)
    return doc


def dataset_document(store: ox.Store, ident: str) -> dict[str, Any]:
    found = F.all_datasets(store, [ident])
    if not found:
        raise citations.UnknownDataset(f"no dataset with id '{ident}'")
    return croissant(found[0])


def catalogue_documents(store: ox.Store) -> list[dict[str, Any]]:
    return [croissant(d) for d in F.all_datasets(store)]


def gaps(doc: dict[str, Any]) -> list[str]:
    """Properties the specification requires (or medkg expects) that ``doc`` lacks.

    mlcroissant lets a missing url, creator, datePublished and license pass (warnings at most)
    and does not ask for a distribution; this names them, so tests and reports can count them.
    """
    missing = [name for name in REQUIRED if not doc.get(name)]
    if not doc.get("distribution"):
        missing.append("distribution")
    if doc.get("conformsTo") != CONFORMS_TO:
        missing.append("conformsTo=" + CONFORMS_TO)
    return missing


def check_required(doc: dict[str, Any], allowed: tuple[str, ...] = ()) -> None:
    """MedkgError when a required property other than those ``allowed`` to be unknown lacks."""
    missing = [m for m in gaps(doc) if m not in allowed]
    if missing:
        raise MedkgError(f"{doc.get('@id')}: Croissant document lacks {', '.join(missing)}")

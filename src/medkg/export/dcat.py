"""The catalogue as DCAT-AP 3.0.1: one dcat:Catalog, a dcat:Dataset per dataset, distributions.

Built from the facts of a store (facts.py) into a separate rdflib graph, because DCAT-AP asks
for things the knowledge graph itself does not state: ranges typed explicitly (foaf:Agent,
foaf:Document, dct:LicenseDocument, dct:LinguisticSystem ...), a publisher for the catalogue,
dct:title on concept schemes, and distributions, which medkg does not model (a dataset there has
pages; here each download page, else the homepage, becomes a dcat:Distribution's access URL).

Choices worth knowing:

* dcat:theme -> the medkg anatomy/modality/task/category concepts; the schemes are the
  catalogue's dcat:themeTaxonomy.
* dct:publisher (at most one, DCAT-AP) = the first organisation that made the dataset, else the
  first hosting platform; every organisation is a dct:creator.
* dct:license sits on the distributions (where DCAT-AP puts it); an SPDX licence keeps its IRI,
  a licence known only by name becomes a blank dct:LicenseDocument with that name as label.
* dct:format / dcat:mediaType only when the dataset has one file format medkg can name.
"""

from __future__ import annotations

import pyoxigraph as ox
from rdflib import RDF, RDFS, XSD, BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, SKOS


from ..paths import BASE_IRI
from . import facts as F

DCATAP = Namespace("http://data.europa.eu/r5r/")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
DCAT_AP = URIRef("https://semiceu.github.io/DCAT-AP/releases/3.0.1/")
CATALOG = URIRef(BASE_IRI)
PUBLISHER = URIRef(f"{BASE_IRI}about#project")
SERVICE = URIRef(f"{BASE_IRI}sparql")
REPOSITORY = URIRef("https://github.com/openmedlab/Awesome-Medical-Dataset")

#: file format as curated (lower case, no dot) -> (EU file-type code, IANA media type)
FILE_FORMATS: dict[str, tuple[str, str]] = {
    "png": ("PNG", "image/png"), "jpg": ("JPEG", "image/jpeg"), "jpeg": ("JPEG", "image/jpeg"),
    "tif": ("TIFF", "image/tiff"), "tiff": ("TIFF", "image/tiff"), "bmp": ("BMP", "image/bmp"),
    "gif": ("GIF", "image/gif"), "csv": ("CSV", "text/csv"), "json": ("JSON", "application/json"),
    "xml": ("XML", "application/xml"), "txt": ("TXT", "text/plain"), "mp4": ("MP4", "video/mp4"),
    "dcm": ("", "application/dicom"), "dicom": ("", "application/dicom"),
    "xlsx": ("XLSX", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
}
#: file format -> the specification data in it conforms to
STANDARDS: dict[str, tuple[str, str]] = {
    "dcm": ("https://www.dicomstandard.org/current", "DICOM"),
    "dicom": ("https://www.dicomstandard.org/current", "DICOM"),
    "nii": ("https://nifti.nimh.nih.gov/nifti-1/", "NIfTI-1"),
    "nii.gz": ("https://nifti.nimh.nih.gov/nifti-1/", "NIfTI-1"),
    "nrrd": ("https://teem.sourceforge.net/nrrd/format.html", "NRRD"),
}


def format_key(value: str) -> str:
    return value.strip().lower().lstrip(".")


def _literal_date(dated: F.Dated) -> Literal:
    return Literal(dated.value, datatype=URIRef(dated.datatype))


class _Builder:
    def __init__(self) -> None:
        self.g = Graph(bind_namespaces="none")
        for prefix, ns in {"dcat": DCAT, "dct": DCTERMS, "foaf": FOAF, "skos": SKOS,
                           "vcard": VCARD, "xsd": XSD, "dcatap": DCATAP}.items():
            self.g.bind(prefix, ns, replace=True)

    def add(self, s, p, o) -> None:
        self.g.add((s, p, o))

    def document(self, url: str) -> URIRef:
        node = URIRef(url)
        self.add(node, RDF.type, FOAF.Document)
        return node

    def agent(self, agent: F.Agent) -> URIRef:
        node = URIRef(agent.iri)
        self.add(node, RDF.type, FOAF.Agent)
        self.add(node, RDF.type, FOAF.Organization)
        self.add(node, FOAF.name, Literal(agent.name))
        if agent.homepage:
            self.add(node, FOAF.homepage, self.document(agent.homepage))
        return node

    def standard(self, iri: str, label: str) -> URIRef:
        node = URIRef(iri)
        self.add(node, RDF.type, DCTERMS.Standard)
        self.add(node, RDFS.label, Literal(label))
        return node

    def concept(self, concept: F.Concept) -> URIRef:
        node = URIRef(concept.iri)
        self.add(node, RDF.type, SKOS.Concept)
        self.add(node, SKOS.prefLabel, Literal(concept.label, lang="en"))
        self.add(node, SKOS.inScheme, URIRef(f"{BASE_IRI}{concept.scheme}"))
        return node

    def license(self, d: F.DatasetFacts):
        if d.license_iri:
            node = URIRef(d.license_iri)
        elif d.license_name:
            node = BNode(f"license-{d.id}")
        else:
            return None
        self.add(node, RDF.type, DCTERMS.LicenseDocument)
        if d.license_name:
            self.add(node, RDFS.label, Literal(d.license_name))
        return node


def catalog(b: _Builder, build: dict[str, str], schemes: list[F.SchemeFacts]) -> None:
    b.add(CATALOG, RDF.type, DCAT.Catalog)
    b.add(CATALOG, DCTERMS.title, Literal("medkg: public medical AI datasets", lang="en"))
    b.add(CATALOG, DCTERMS.description, Literal(
        "A curated catalogue of public medical imaging and medical AI datasets, with their "
        "modalities, body parts, tasks, papers and the methods evaluated on them.", lang="en"))
    b.add(CATALOG, DCTERMS.publisher, PUBLISHER)
    b.add(PUBLISHER, RDF.type, FOAF.Agent)
    b.add(PUBLISHER, FOAF.name, Literal("the medkg project"))
    b.add(CATALOG, FOAF.homepage, b.document(BASE_IRI))
    b.add(CATALOG, DCTERMS.conformsTo, b.standard(str(DCAT_AP), "DCAT-AP 3.0.1"))
    b.add(CATALOG, DCTERMS.source, REPOSITORY)
    if build.get("modified"):
        b.add(CATALOG, DCTERMS.modified, Literal(build["modified"], datatype=XSD.dateTime))
    b.add(CATALOG, DCTERMS.language, _language("http://id.loc.gov/vocabulary/iso639-1/en", b))
    for scheme in schemes:
        node = URIRef(scheme.iri)
        b.add(CATALOG, DCAT.themeTaxonomy, node)
        b.add(node, RDF.type, SKOS.ConceptScheme)
        b.add(node, DCTERMS.title, Literal(scheme.title, lang="en"))
        if scheme.definition:
            b.add(node, DCTERMS.description, Literal(scheme.definition, lang="en"))
    b.add(CATALOG, DCAT.service, SERVICE)
    b.add(SERVICE, RDF.type, DCAT.DataService)
    b.add(SERVICE, DCTERMS.title, Literal("medkg SPARQL endpoint", lang="en"))
    b.add(SERVICE, DCAT.endpointURL, SERVICE)
    b.add(SERVICE, DCAT.endpointDescription, SERVICE)  # the endpoint serves its Service Description
    b.add(SERVICE, DCTERMS.conformsTo, b.standard("https://www.w3.org/TR/sparql11-protocol/",
                                                  "SPARQL 1.1 Protocol"))


def _language(iri: str, b: _Builder) -> URIRef:
    node = URIRef(iri)
    b.add(node, RDF.type, DCTERMS.LinguisticSystem)
    return node


def _formats(d: F.DatasetFacts) -> list[str]:
    return sorted({format_key(f) for f in d.file_formats})


def dataset(b: _Builder, d: F.DatasetFacts) -> URIRef:
    node = URIRef(d.iri)
    b.add(CATALOG, DCAT.dataset, node)
    b.add(node, RDF.type, DCAT.Dataset)
    b.add(node, DCTERMS.title, Literal(d.name))
    b.add(node, DCTERMS.description, Literal(d.description or d.name))
    b.add(node, DCTERMS.identifier, Literal(d.id))
    if d.issued:
        b.add(node, DCTERMS.issued, _literal_date(d.issued))
    makers = d.creators or tuple(a for a in d.platforms if not a.unknown)
    if makers:
        b.add(node, DCTERMS.publisher, b.agent(makers[0]))
    for agent in d.creators:
        b.add(node, DCTERMS.creator, b.agent(agent))
        if agent.homepage:
            contact = URIRef(f"{d.iri}#contact-{agent.iri.rsplit('/', 1)[-1]}")
            b.add(node, DCAT.contactPoint, contact)
            b.add(contact, RDF.type, VCARD.Organization)
            b.add(contact, RDF.type, VCARD.Kind)
            b.add(contact, VCARD.fn, Literal(agent.name))
            b.add(contact, VCARD.hasURL, URIRef(agent.homepage))
    keywords = {c.label for c in d.themes} | set(d.dimensionality)
    for keyword in sorted(keywords):
        b.add(node, DCAT.keyword, Literal(keyword, lang="en"))
    for concept in d.themes:
        b.add(node, DCAT.theme, b.concept(concept))
    for page in d.landing_pages:
        b.add(node, DCAT.landingPage, b.document(page))
    for page in d.other_pages + d.code:
        b.add(node, FOAF.page, b.document(page))
    for iri in d.language_iris:
        b.add(node, DCTERMS.language, _language(iri, b))
    standards = {STANDARDS[f] for f in _formats(d) if f in STANDARDS}
    for iri, label in sorted(standards):
        b.add(node, DCTERMS.conformsTo, b.standard(iri, label))
    for paper in d.papers:
        if paper.iri:
            b.add(node, DCTERMS.isReferencedBy, URIRef(paper.iri))
    _distributions(b, node, d, standards)
    return node


def _distributions(b: _Builder, node: URIRef, d: F.DatasetFacts, standards) -> None:
    targets = [(url, True) for url in d.download_pages]
    if not targets and d.page:
        targets = [(d.page, False)]
    formats = _formats(d)
    known = [FILE_FORMATS[f] for f in formats if f in FILE_FORMATS]
    licence = b.license(d)
    for number, (url, is_download) in enumerate(targets, start=1):
        dist = URIRef(f"{d.iri}#distribution-{number}")
        b.add(node, DCAT.distribution, dist)
        b.add(dist, RDF.type, DCAT.Distribution)
        b.add(dist, DCAT.accessURL, URIRef(url))
        title = f"{d.name}: download page" if is_download else f"{d.name}: web page"
        b.add(dist, DCTERMS.title, Literal(title, lang="en"))
        if d.file_formats:
            b.add(dist, DCTERMS.description,
                  Literal("Files: " + ", ".join(d.file_formats)
                          + (f"; size {d.size}" if d.size else ""), lang="en"))
        if len(formats) == 1 and known:
            code, media_type = known[0]
            if code:
                fmt = URIRef(FILE_TYPE + code)
                b.add(dist, DCTERMS.format, fmt)
                b.add(fmt, RDF.type, DCTERMS.MediaTypeOrExtent)
            mt = URIRef(f"https://www.iana.org/assignments/media-types/{media_type}")
            b.add(dist, DCAT.mediaType, mt)
            b.add(mt, RDF.type, DCTERMS.MediaType)
            b.add(mt, RDF.type, DCTERMS.MediaTypeOrExtent)
        if licence is not None:
            b.add(dist, DCTERMS.license, licence)
        for iri, label in sorted(standards):
            b.add(dist, DCTERMS.conformsTo, URIRef(iri))


def dcat_graph(store: ox.Store, ids=None) -> Graph:
    """The DCAT-AP catalogue of a store (of the datasets ``ids`` only, when given)."""
    b = _Builder()
    catalog(b, F.build_facts(store), F.concept_schemes(store))
    for d in F.all_datasets(store, ids):
        dataset(b, d)
    return b.g

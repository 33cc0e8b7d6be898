"""Content negotiation for entity IRIs, concept schemes and the ontology: Accept x ?format x
file extension -> status and content type, every RDF body parsed with rdflib and checked."""

from __future__ import annotations

import pytest
import rdflib
from rdflib import RDF, RDFS, URIRef

from page_support import BROWSER, IRI, app_for

MKG = rdflib.Namespace(IRI + "ontology#")
RDF_TYPES = {
    "text/turtle": "turtle", "application/n-triples": "nt", "application/ld+json": "json-ld",
    "application/rdf+xml": "xml",
}


@pytest.fixture(scope="module")
def client(mini_store):
    with app_for(mini_store) as app:
        yield app.test_client()


def parse(response) -> rdflib.Graph:
    return rdflib.Graph().parse(data=response.get_data(as_text=True),
                                format=RDF_TYPES[response.mimetype])


ACCEPT_CASES = [
    ("text/turtle", 200, "text/turtle"),
    ("application/x-turtle", 200, "text/turtle"),
    ("application/n-triples", 200, "application/n-triples"),
    ("application/ld+json", 200, "application/ld+json"),
    ("application/json", 200, "application/ld+json"),
    ("application/rdf+xml", 200, "application/rdf+xml"),
    ("text/html", 200, "text/html"),
    ("application/xhtml+xml", 200, "text/html"),
    (BROWSER, 200, "text/html"),
    ("*/*", 200, "text/html"),
    (None, 200, "text/html"),
    ("text/turtle;q=0.5, application/ld+json;q=0.9", 200, "application/ld+json"),
    ("text/html;q=0, text/turtle", 200, "text/turtle"),
    ("image/png", 406, "application/json"),
    ("text/csv", 406, "application/json"),
]


@pytest.mark.parametrize("accept, status, media_type", ACCEPT_CASES)
def test_accept(client, accept, status, media_type):
    headers = {"Accept": accept} if accept else {}
    response = client.get("/dataset/acdc", headers=headers)
    assert response.status_code == status, response.data[:300]
    assert response.mimetype == media_type
    if status == 200:
        assert "Accept" in response.headers["Vary"]
    if media_type in RDF_TYPES:
        g = parse(response)
        assert (URIRef(IRI + "dataset/acdc"), RDFS.label, rdflib.Literal("ACDC")) in g
    if status == 406:
        assert response.get_json()["error"]["status"] == 406


FORMAT_CASES = [
    ("ttl", 200, "text/turtle"), ("turtle", 200, "text/turtle"),
    ("nt", 200, "application/n-triples"), ("jsonld", 200, "application/ld+json"),
    ("json", 200, "application/ld+json"), ("rdf", 200, "application/rdf+xml"),
    ("xml", 200, "application/rdf+xml"), ("html", 200, "text/html"),
    ("text/turtle", 200, "text/turtle"),
    # errors for a browser come as the HTML error page (web.render_error)
    ("csv", 406, "text/html"), ("nq", 406, "text/html"),
    ("bogus", 400, "text/html"),
]


@pytest.mark.parametrize("fmt, status, media_type", FORMAT_CASES)
def test_format_parameter_overrides_accept(client, fmt, status, media_type):
    response = client.get(f"/dataset/acdc?format={fmt}", headers={"Accept": BROWSER})
    assert response.status_code == status, response.data[:300]
    assert response.mimetype == media_type
    if media_type in RDF_TYPES:
        assert (URIRef(IRI + "dataset/acdc"), RDF.type, MKG.Dataset) in parse(response)


EXTENSION_CASES = [
    ("ttl", 200, "text/turtle"), ("nt", 200, "application/n-triples"),
    ("jsonld", 200, "application/ld+json"), ("json", 200, "application/ld+json"),
    ("rdf", 200, "application/rdf+xml"), ("xml", 200, "application/rdf+xml"),
    ("html", 200, "text/html"), ("csv", 406, "application/json"),
    ("bogus", 404, "application/json"),
]


@pytest.mark.parametrize("ext, status, media_type", EXTENSION_CASES)
@pytest.mark.parametrize("accept", [None, "text/turtle", "application/ld+json"])
def test_extension_wins_over_accept_and_format(client, ext, status, media_type, accept):
    headers = {"Accept": accept} if accept else {"Accept": "application/json"}
    response = client.get(f"/dataset/acdc.{ext}?format=nt", headers=headers)
    assert response.status_code == status, response.data[:300]
    assert response.mimetype == media_type
    if media_type in RDF_TYPES:
        assert (URIRef(IRI + "dataset/acdc"), RDF.type, MKG.Dataset) in parse(response)


def test_alternate_and_canonical_links(client):
    response = client.get("/dataset/acdc.ttl")
    link = response.headers["Link"]
    for ext, media in (("ttl", "text/turtle"), ("nt", "application/n-triples"),
                       ("jsonld", "application/ld+json"), ("rdf", "application/rdf+xml")):
        assert f'/dataset/acdc.{ext}>; rel="alternate"; type="{media}"' in link
    assert '/dataset/acdc>; rel="alternate"; type="text/html"' in link
    assert f'<{IRI}dataset/acdc>; rel="canonical"' in link
    assert response.headers["Vary"] == "Accept"
    assert response.headers["X-Medkg-Build"]


def test_description_holds_fragments_and_papers_but_not_other_entities(client):
    g = parse(client.get("/dataset/acdc.nt"))
    acdc = URIRef(IRI + "dataset/acdc")
    labels = set(g.objects(acdc, MKG.labelClass))
    assert len(labels) == 3 and all(str(n).startswith(f"{acdc}#label-") for n in labels)
    assert {str(g.value(n, RDFS.label)) for n in labels} == {"RV", "Myo", "LV"}
    stats = set(g.objects(acdc, MKG.resolution))
    assert {str(g.value(n, MKG.statistic)) for n in stats} == {"min", "median", "max"}
    paper = URIRef("https://doi.org/10.1109/TMI.2018.2837502")
    assert (acdc, rdflib.namespace.DCTERMS.isReferencedBy, paper) in g
    assert (paper, MKG.doi, None) in g
    subjects = {str(s).split("#")[0] for s in g.subjects()}
    assert subjects == {str(acdc), str(paper)}


ENTITIES = [("dataset", "acdc"), ("anatomy", "heart"), ("modality", "ct"),
            ("task", "segmentation"), ("category", "heart"), ("method", "nnu-net"),
            ("benchmark", "touchstone"), ("evaluation", "nnu-net-touchstone"),
            ("challenge", "acdc-miccai-2017"), ("platform", "zenodo"),
            ("organization", "dkfz"), ("toolbox", "monai")]


@pytest.mark.parametrize("kind, ident", ENTITIES)
@pytest.mark.parametrize("media_type", list(RDF_TYPES))
def test_every_kind_in_every_rdf_format(client, kind, ident, media_type):
    response = client.get(f"/{kind}/{ident}", headers={"Accept": media_type})
    assert response.status_code == 200
    assert response.mimetype == media_type
    g = parse(response)
    assert (URIRef(f"{IRI}{kind}/{ident}"), RDF.type, None) in g


@pytest.mark.parametrize("path", ["/dataset/nope", "/anatomy/nope", "/toolbox/x-y-z"])
@pytest.mark.parametrize("accept", list(RDF_TYPES))
def test_unknown_ids_are_404_in_the_error_shape(client, path, accept):
    response = client.get(path, headers={"Accept": accept})
    assert response.status_code == 404
    error = response.get_json()["error"]
    assert error["status"] == 404
    assert path.rsplit("/", 1)[1] in error["message"]


@pytest.mark.parametrize("path, subject, rdf_type", [
    ("/anatomy", IRI + "anatomy", rdflib.namespace.SKOS.ConceptScheme),
    ("/task", IRI + "task", rdflib.namespace.SKOS.ConceptScheme),
    ("/ontology", IRI + "ontology", rdflib.namespace.OWL.Ontology),
])
@pytest.mark.parametrize("how", ["accept", "format", "extension"])
def test_schemes_and_ontology_negotiate(client, path, subject, rdf_type, how):
    if how == "accept":
        response = client.get(path, headers={"Accept": "text/turtle"})
    elif how == "format":
        response = client.get(path + "?format=jsonld")
    else:
        response = client.get(path + ".rdf")
    assert response.status_code == 200
    g = parse(response)
    assert (URIRef(subject), RDF.type, rdf_type) in g
    if path == "/anatomy":
        assert (URIRef(IRI + "anatomy/heart"), rdflib.namespace.SKOS.inScheme, URIRef(subject)) in g
    if path == "/ontology":
        assert (MKG.Dataset, RDFS.label, None) in g
        assert (MKG.anatomy, RDFS.domain, None) in g
    html = client.get(path, headers={"Accept": BROWSER})
    assert html.status_code == 200 and html.mimetype == "text/html"
    assert client.get(path, headers={"Accept": "image/png"}).status_code == 406


def test_home_is_html_only(client):
    assert client.get("/", headers={"Accept": BROWSER}).mimetype == "text/html"
    assert client.get("/", headers={"Accept": "text/turtle"}).status_code == 406


# -- the real catalogue ----------------------------------------------------------------------

@pytest.fixture(scope="module")
def real_client(real_store):
    with app_for(real_store) as app:
        yield app.test_client()


def _first_ids() -> list[tuple[str, str]]:
    from medkg import paths

    out = []
    for kind, folder in paths.KIND_DIRS.items():
        files = sorted((paths.data_dir() / folder).glob("*.yaml"))
        out += [(kind, p.stem) for p in files[:2]]
    for scheme in paths.VOCAB_KINDS:
        import yaml

        vocab = yaml.safe_load((paths.vocab_dir() / f"{scheme}.yaml").read_text(encoding="utf-8"))
        out += [(scheme, c["id"]) for c in vocab["concepts"][:2]]
    return out


def test_real_entities_in_every_rdf_format(real_client):
    entities = _first_ids()
    assert {kind for kind, _ in entities} >= {"dataset", "anatomy", "modality", "task", "category"}
    for kind, ident in entities:
        subject = URIRef(f"{IRI}{kind}/{ident}")
        for media_type in RDF_TYPES:
            response = real_client.get(f"/{kind}/{ident}", headers={"Accept": media_type})
            assert response.status_code == 200, (kind, ident, media_type)
            assert response.mimetype == media_type
            assert (subject, RDF.type, None) in parse(response), (kind, ident, media_type)
        for ext in ("ttl", "nt", "jsonld", "rdf"):
            response = real_client.get(f"/{kind}/{ident}.{ext}")
            assert response.status_code == 200 and (subject, RDF.type, None) in parse(response)
        assert real_client.get(f"/{kind}/{ident}", headers={"Accept": BROWSER}).status_code == 200

"""HTTP tests of the pages for people: every page kind, both link directions, escaping,
the embedded schema.org JSON-LD, 404s, and that /{kind}/{id} shadows no other route."""

from __future__ import annotations

import shutil

import pytest
import rdflib
import yaml
from rdflib import RDF, Namespace

from catalogs import MINI
from page_support import BROWSER, IRI, Page, app_for, get_page
from medkg import paths
from medkg.build import build

SDO = Namespace("https://schema.org/")


@pytest.fixture(scope="module")
def client(mini_store):
    with app_for(mini_store) as app:
        yield app.test_client()


def test_home_counts_and_entry_points(client):
    page = get_page(client, "/")
    assert "medkg" in page.headings[0]
    assert "11 datasets" in page.text and "3 methods" in page.text
    assert "10 evaluations" in page.text and "1 benchmarks" in page.text
    for link in ("/anatomy", "/modality", "/task", "/category", "/query", "/stats", "/datasets",
                 "/sparql", "/ontology", "/download/"):
        assert link in page.links, link


def test_dataset_page_shows_every_fact_with_links(client):
    page = get_page(client, "/dataset/acdc")
    assert page.headings[0] == "ACDC"
    for link in ("/modality/mr", "/anatomy/heart", "/anatomy/chest", "/anatomy/whole-body",
                 "/task/segmentation", "/category/heart", "/challenge/acdc-miccai-2017",
                 "/organization/creatis", "https://doi.org/10.1109/TMI.2018.2837502",
                 "https://www.creatis.insa-lyon.fr/Challenge/acdc/",
                 "/method/nnu-net", "/method/swin-unetr", "/evaluation/nnu-net-acdc-test",
                 "/dataset/acdc.ttl", "/dataset/acdc.jsonld"):
        assert link in page.links, link
    assert any("81da0eee1a0c75688f1a68dcd7c8da8297910ee9" in link for link in page.links)
    text = page.text
    for fact in ("150 cases", "3 classes", ".nii.gz", "3D", "2017", "RV", "Myo", "LV",
                 "0.7 x 0.7 x 5", "428 x 512 x 21", "Dice (5-fold CV)", "91.54", "81da0eee1a0c"):
        assert fact in text, fact
    for heading in ("Facts", "Label classes", "Resolution", "Papers", "Citation",
                    "Methods evaluated on it", "Provenance"):
        assert heading in page.headings, heading
    assert "bibtex" in page.ids
    assert any(i.startswith("label-") for i in page.ids)  # label classes keep their fragment
    assert any(i.startswith("resolution-") for i in page.ids)
    assert "@article{acdc2018" in text  # the BibTeX is text, there without JavaScript


def test_dataset_page_embeds_schema_org_dataset(client):
    page = get_page(client, "/dataset/acdc")
    [doc] = page.json_ld()
    assert doc["@type"] == "Dataset" and doc["name"] == "ACDC"
    g = rdflib.Graph().parse(data=page.jsonld[0], format="json-ld")
    dataset = rdflib.URIRef(IRI + "dataset/acdc")
    assert (dataset, RDF.type, SDO.Dataset) in g
    assert str(g.value(dataset, SDO.name)) == "ACDC"
    assert g.value(dataset, SDO.description) is not None
    assert {str(o) for o in g.objects(dataset, SDO.measurementTechnique)} == {"MR"}
    assert str(g.value(dataset, SDO.datePublished)) == "2017"
    assert len(list(g.objects(dataset, SDO.creator))) == 1


def test_benchmark_inclusion_and_composite_evaluations(client):
    page = get_page(client, "/dataset/jhh")
    assert "Benchmarks that include it" in page.headings
    assert "/benchmark/touchstone" in page.links
    bench = get_page(client, "/benchmark/touchstone")
    for link in ("/dataset/jhh", "/dataset/totalsegmentator-v2", "/method/nnu-net",
                 "/method/swin-unetr", "/organization/johns-hopkins-university",
                 "https://github.com/MrGiovanni/Touchstone"):
        assert link in bench.links, link
    assert "88.9" in bench.text


def test_method_page_lists_datasets_and_scores(client):
    page = get_page(client, "/method/nnu-net")
    assert "Datasets and scores" in page.headings
    for link in ("/dataset/acdc", "/dataset/btcv", "/dataset/lits", "/benchmark/touchstone",
                 "/organization/dkfz", "/toolbox/nnu-net", "https://github.com/MIC-DKFZ/nnUNet",
                 "https://arxiv.org/abs/1809.10486"):
        assert link in page.links, link
    assert "CNN" in page.text and "91.54" in page.text


def test_concept_page_counts_datasets_of_narrower_terms(client):
    page = get_page(client, "/anatomy/chest")
    assert page.headings[0] == "Chest"
    assert "/dataset/acdc" in page.links  # tagged with heart, a narrower term of chest
    assert "/anatomy/heart" in page.links and "/anatomy/whole-body" in page.links
    assert "http://purl.obolibrary.org/obo/UBERON_0001443" in page.links
    assert "Datasets (1, 0 tagged with this term itself)" in page.headings
    heart = get_page(client, "/anatomy/heart")
    assert "/dataset/acdc" in heart.links and "/anatomy/chest" in heart.links
    ct = get_page(client, "/modality/ct")
    assert "http://dicom.nema.org/resources/ontology/DCM/CT" in ct.links
    assert "CT" in ct.text and "(zh)" in ct.text


@pytest.mark.parametrize("path, backlink", [
    ("/organization/creatis", "/dataset/acdc"),
    ("/challenge/acdc-miccai-2017", "/dataset/acdc"),
    ("/platform/zenodo", None),
    ("/toolbox/monai", None),
    ("/toolbox/nnu-net", "/method/nnu-net"),
    ("/evaluation/nnu-net-touchstone", "/method/nnu-net"),
    ("/task/segmentation", "/dataset/acdc"),
    ("/category/heart", "/dataset/acdc"),
    ("/modality/mr", "/dataset/acdc"),
])
def test_every_kind_has_a_page_with_links_back(client, path, backlink):
    page = get_page(client, path)
    assert page.headings and page.headings[0]
    assert path + ".ttl" in page.links
    if backlink:
        assert backlink in page.links


def test_scheme_and_ontology_pages(client):
    page = get_page(client, "/anatomy")
    assert "/anatomy/heart" in page.links and "/anatomy/whole-body" in page.links
    assert "1 dataset" in page.text
    for scheme in ("modality", "task", "category"):
        assert get_page(client, f"/{scheme}").links
    onto = get_page(client, "/ontology")
    assert {"Dataset", "Evaluation", "anatomy", "evaluatedOn"} <= onto.ids
    assert "Classes" in " ".join(onto.headings) and "Properties" in " ".join(onto.headings)
    assert "A publicly described collection of medical data" in onto.text


@pytest.mark.parametrize("path", ["/dataset/no-such", "/anatomy/no-such", "/method/Bad_Id",
                                  "/dataset/acdc.bogus"])
def test_unknown_entity_is_404_html_for_browsers_json_otherwise(client, path):
    page = get_page(client, path, status=404)
    assert "Not found" in page.headings[0] or "bogus" in page.text
    response = client.get(path, headers={"Accept": "text/turtle"})
    assert response.status_code == 404
    if not path.endswith(".bogus"):
        assert response.get_json()["error"]["status"] == 404


@pytest.mark.parametrize("path, endpoint", [
    ("/sparql", "sparql.query"), ("/healthz", "healthz"), ("/static/medkg.css", "static"),
    ("/dataset/acdc", "pages.entity"), ("/anatomy", "pages.scheme"),
])
def test_known_routes_are_not_shadowed(client, path, endpoint):
    adapter = client.application.url_map.bind("localhost")
    assert adapter.match(path)[0] == endpoint


@pytest.mark.parametrize("path", ["/datasets", "/stats", "/queries", "/query", "/download/x",
                                  "/catalog.ttl", "/.well-known/void", "/datasets.bib"])
def test_other_sections_never_reach_entity_pages(client, path):
    adapter = client.application.url_map.bind("localhost")
    try:
        endpoint = adapter.match(path)[0]
    except Exception:  # noqa: BLE001 - not routed (yet) is fine, only pages.* is wrong
        return
    assert not endpoint.startswith("pages."), (path, endpoint)


def test_static_assets_and_layout(client):
    assert client.get("/static/medkg.css").status_code == 200
    page = get_page(client, "/dataset/acdc")
    assert {"/", "/datasets", "/query", "/stats", "/ontology"} <= set(page.links)
    html = client.get("/dataset/acdc", headers={"Accept": BROWSER}).get_data(as_text=True)
    assert 'name="viewport"' in html and 'action="/datasets"' in html and 'name="q"' in html


HOSTILE = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def hostile_client(tmp_path_factory):
    """A tmp catalogue: the mini one plus a record whose values try to break out of HTML."""
    root = tmp_path_factory.mktemp("hostile")
    data = root / "data"
    shutil.copytree(MINI, data)
    record = {
        "id": "evil", "name": HOSTILE, "aliases": ['"><img src=x onerror=alert(2)>'],
        "description": "ends the script </script><script>alert(3)</script> & more",
        "category": ["heart"], "modality": ["mr"], "anatomy": ["heart"], "task": ["segmentation"],
        "file_formats": ["<b>bold</b>"], "authors": ["O'Brien & <Co>"],
        "label_classes": [{"name": "</td><script>alert(4)</script>", "anatomy": "heart"}],
        "papers": [{"title": "</pre><script>alert(5)</script>", "year": 2020, "venue": "<i>V</i>",
                    "url": "https://example.org/paper?a=1&b=2"}],
        "notes": ["<!-- comment --> note"],
    }
    (data / "datasets" / "evil.yaml").write_text(yaml.safe_dump(record), encoding="utf-8")
    store_dir = root / "store"
    result = build(data, store_dir)
    assert not getattr(result, "violations", None), result
    with app_for(store_dir) as app:
        yield app.test_client()


def test_values_from_the_data_are_escaped(hostile_client):
    response = hostile_client.get("/dataset/evil", headers={"Accept": BROWSER})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for raw in ("<script>alert(", "<img src=x", "<b>bold", "<i>V</i>", "<!-- comment"):
        assert raw not in html, raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    page = Page(html)
    assert page.headings[0] == HOSTILE  # shown as text
    assert [s["type"] for s in page.scripts if not s["src"]] == ["application/ld+json"]
    [doc] = page.json_ld()
    assert doc["name"] == HOSTILE
    assert "</script><script>alert(3)</script>" in doc["description"]
    g = rdflib.Graph().parse(data=page.jsonld[0], format="json-ld")
    assert (None, SDO.name, rdflib.Literal(HOSTILE)) in g
    # the concept page lists the record by its name, escaped too
    heart = hostile_client.get("/anatomy/heart", headers={"Accept": BROWSER}).get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in heart and "<script>alert(" not in heart


# -- the real catalogue ----------------------------------------------------------------------

def _real_ids(kind: str) -> list[str]:
    folder = paths.data_dir() / paths.KIND_DIRS[kind]
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


@pytest.fixture(scope="module")
def real_client(real_store):
    with app_for(real_store) as app:
        yield app.test_client()


def test_real_every_dataset_page_renders_with_json_ld(real_client):
    ids = _real_ids("dataset")
    assert ids, "data/datasets is empty"
    for ident in ids:
        page = get_page(real_client, f"/dataset/{ident}")
        [doc] = page.json_ld()
        g = rdflib.Graph().parse(data=page.jsonld[0], format="json-ld")
        subject = rdflib.URIRef(IRI + f"dataset/{ident}")
        assert (subject, RDF.type, SDO.Dataset) in g, ident
        assert str(g.value(subject, SDO.name)) == doc["name"], ident


@pytest.mark.parametrize("kind", [k for k in paths.KIND_DIRS if k != "dataset"])
def test_real_pages_of_every_record_kind(real_client, kind):
    ids = _real_ids(kind)
    if not ids:
        pytest.skip(f"data/{paths.KIND_DIRS[kind]} has no records yet (importers fill it)")
    for ident in ids[:25]:
        page = get_page(real_client, f"/{kind}/{ident}")
        assert page.headings[0], (kind, ident)


@pytest.mark.parametrize("scheme", paths.VOCAB_KINDS)
def test_real_schemes_and_their_terms(real_client, scheme):
    page = get_page(real_client, f"/{scheme}")
    terms = sorted({link for link in page.links if link.startswith(f"/{scheme}/")})
    assert terms
    for link in terms[:15]:
        get_page(real_client, link)


def test_real_home_and_ontology(real_client):
    home = get_page(real_client, "/")
    assert f"{len(_real_ids('dataset')):,} datasets" in home.text
    assert get_page(real_client, "/ontology").ids

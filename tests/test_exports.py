"""Standard exports: DCAT-AP 3.0.1 (official shapes), Croissant 1.1 (mlcroissant), VoID, dumps,
and their HTTP routes, on the mini fixture and on the real catalogue."""

from __future__ import annotations

import copy
import gzip
import json
import logging
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from rdflib import RDF, Graph, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS

from medkg import store
from medkg.cli import main
from medkg.export import croissant as C
from medkg.export import facts as F
from medkg.export.dcat import dcat_graph
from medkg.export.void import DUMPS, void_graph

from catalogs import MINI, shared_or_skip

from medkg.records import load_catalog

MINI_DATASETS = len(load_catalog(MINI).datasets)

SH = Namespace("http://www.w3.org/ns/shacl#")
VOID = Namespace("http://rdfs.org/ns/void#")


def _open(store_dir: Path):
    return store.open_read_only(store_dir)


def _shapes(*names: str) -> Graph:
    folder = shared_or_skip() / "standards" / "dcat-ap-3.0.1" / "html" / "shacl"
    g = Graph()
    for name in names:
        g.parse(folder / name)
    return g


def _results(data: Graph, shapes: Graph) -> list[tuple[str, str, str, str]]:
    from pyshacl import validate

    _, report, _ = validate(data, shacl_graph=shapes, inference="none", allow_warnings=True)
    return [(str(report.value(r, SH.resultSeverity)).rsplit("#", 1)[-1],
             str(report.value(r, SH.focusNode)), str(report.value(r, SH.resultPath)),
             str(report.value(r, SH.resultMessage)))
            for r in report.subjects(RDF.type, SH.ValidationResult)]


# -- DCAT-AP ----------------------------------------------------------------------------------

@pytest.mark.parametrize("which", ["mini_store", "real_store"])
def test_dcat_ap_has_no_violation(which, request):
    shapes = _shapes("shapes.ttl", "range.ttl")
    handle, _ = _open(request.getfixturevalue(which))
    graph = dcat_graph(handle)
    violations = [r for r in _results(graph, shapes) if r[0] == "Violation"]
    assert not violations, "\n".join(" | ".join(v) for v in violations[:20])
    warnings = _results(graph, _shapes("shapes_recommended.ttl"))
    by_path = Counter(r[2].rsplit("/", 1)[-1] for r in warnings)
    print(f"\n{which}: DCAT-AP 0 violations, {len(warnings)} recommended-property warnings "
          f"{dict(by_path.most_common())}")


def test_dcat_ap_shapes_do_catch_a_broken_catalogue(mini_store):
    """The validation above can fail: drop what DCAT-AP requires and it must."""
    shapes = _shapes("shapes.ttl", "range.ttl")
    handle, _ = _open(mini_store)
    graph = dcat_graph(handle)
    dataset = next(graph.subjects(RDF.type, DCAT.Dataset))
    graph.remove((dataset, DCTERMS.description, None))
    distribution = next(graph.subjects(RDF.type, DCAT.Distribution))
    graph.remove((distribution, DCAT.accessURL, None))
    paths = {r[2] for r in _results(graph, shapes) if r[0] == "Violation"}
    assert str(DCTERMS.description) in paths and str(DCAT.accessURL) in paths


def test_dcat_catalogue_content(mini_store):
    handle, build = _open(mini_store)
    graph = dcat_graph(handle)
    catalog = URIRef("https://w3id.org/medkg/")
    datasets = set(graph.objects(catalog, DCAT.dataset))
    assert len(datasets) == len(F.known_ids(handle)) == MINI_DATASETS
    ts = URIRef("https://w3id.org/medkg/dataset/totalsegmentator")
    assert (ts, DCAT.theme, URIRef("https://w3id.org/medkg/modality/ct")) in graph
    assert URIRef("https://w3id.org/medkg/modality") in set(graph.objects(catalog, DCAT.themeTaxonomy))
    assert str(graph.value(ts, DCTERMS.issued)) == "2022-07"
    dists = list(graph.objects(ts, DCAT.distribution))
    assert any(str(graph.value(d, DCAT.accessURL)) == "https://zenodo.org/records/6802614" for d in dists)
    assert all(graph.value(d, DCTERMS.license) == URIRef("https://creativecommons.org/licenses/by/4.0/")
               for d in dists)
    assert graph.value(ts, DCTERMS.publisher) is not None


# -- Croissant --------------------------------------------------------------------------------

def _mlcroissant_errors(doc: dict) -> str | None:
    mlc = pytest.importorskip("mlcroissant", reason="mlcroissant is in the test extra")
    logging.getLogger("absl").setLevel(logging.ERROR)
    try:
        mlc.Dataset(jsonld=copy.deepcopy(doc))  # metadata only: nothing is downloaded
    except Exception as exc:  # noqa: BLE001 - the validator raises ValidationError and others
        return f"{type(exc).__name__}: {exc}"
    return None


@pytest.mark.parametrize("which", ["mini_store", "real_store"])
def test_croissant_validates_for_every_dataset(which, request):
    handle, _ = _open(request.getfixturevalue(which))
    docs = C.catalogue_documents(handle)
    errors = {d["identifier"]: e for d in docs if (e := _mlcroissant_errors(d))}
    assert not errors, "\n".join(f"{k}: {v}" for k, v in list(errors.items())[:10])
    facts = F.all_datasets(handle)
    no_licence = sum(1 for d in facts if not (d.license_iri or d.license_name))
    no_download = sum(1 for d in facts if not d.download_pages)
    gaps = Counter(g for d in docs for g in C.gaps(d))
    print(f"\n{which}: {len(docs)} Croissant documents, mlcroissant errors 0; "
          f"lacking licence {no_licence}, lacking a download link {no_download}; "
          f"spec-required properties missing {dict(gaps)}")


@pytest.mark.parametrize("which", ["mini_store", "real_store"])
def test_croissant_required_properties(which, request):
    """What the validator lets pass: conformsTo, name, description, url, citeAs always there;
    licence, creator and date only as far as medkg knows them, never a wrong type."""
    handle, _ = _open(request.getfixturevalue(which))
    for doc in C.catalogue_documents(handle):
        C.check_required(doc, allowed=("license", "creator", "datePublished", "distribution"))
        assert doc["@type"] == "sc:Dataset" and doc["conformsTo"] == C.CONFORMS_TO
        assert doc["url"].startswith(("http://", "https://")), doc["identifier"]
        assert doc["citeAs"].lstrip().startswith("@"), doc["identifier"]
        for creator in doc.get("creator", []):
            assert creator["@type"] in ("sc:Organization", "sc:Person") and creator["name"]
        if "datePublished" in doc:
            assert doc["datePublished"][:4].isdigit()


def test_croissant_gaps_are_reported(mini_store):
    handle, _ = _open(mini_store)
    doc = C.dataset_document(handle, "totalsegmentator")
    assert doc["license"] == "https://creativecommons.org/licenses/by/4.0/"
    assert C.gaps(doc) == ["distribution"]
    broken = {k: v for k, v in doc.items() if k != "url"}
    with pytest.raises(Exception, match="url"):
        C.check_required(broken, allowed=("distribution",))


# -- VoID and dumps ---------------------------------------------------------------------------

def test_void_counts_match_the_store(mini_store):
    handle, build = _open(mini_store)
    graph = void_graph(handle, "http://localhost:8000/", build.build_id)
    ds = URIRef("https://w3id.org/medkg/")
    triples = sum(1 for _ in handle.quads_for_pattern(None, None, None, None))
    assert int(graph.value(ds, VOID.triples)) == triples
    parts = {str(graph.value(p, VOID["class"])): int(graph.value(p, VOID.entities))
             for p in graph.objects(ds, VOID.classPartition)}
    assert parts["https://w3id.org/medkg/ontology#Dataset"] == MINI_DATASETS
    props = sum(int(graph.value(p, VOID.triples)) for p in graph.objects(ds, VOID.propertyPartition))
    assert props == triples
    assert graph.value(ds, VOID.sparqlEndpoint) == URIRef("http://localhost:8000/sparql")
    dumps = {str(o) for o in graph.objects(ds, VOID.dataDump)}
    assert "http://localhost:8000/download/medkg.ttl.gz" in dumps and len(dumps) == 2 * len(DUMPS)
    assert set(graph.objects(ds, VOID.exampleResource))


def test_cli_export_standard_formats(mini_store, tmp_path):
    runner = CliRunner()
    out = tmp_path / "catalog.ttl"
    result = runner.invoke(main, ["export", "--store", str(mini_store), "--format", "dcat", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert len(Graph().parse(out, format="turtle")) > 100
    result = runner.invoke(main, ["export", "--store", str(mini_store), "--format", "dcat-jsonld"])
    assert result.exit_code == 0 and len(Graph().parse(data=result.output, format="json-ld")) > 100
    result = runner.invoke(main, ["export", "--store", str(mini_store), "--format", "croissant"])
    assert result.exit_code == 0 and len(json.loads(result.output)) == MINI_DATASETS
    result = runner.invoke(main, ["export", "--store", str(mini_store), "--format", "croissant",
                                  "--dataset", "btcv"])
    assert result.exit_code == 0 and json.loads(result.output)["identifier"] == "btcv"
    result = runner.invoke(main, ["export", "--store", str(mini_store), "--format", "croissant",
                                  "--dataset", "no-such"])
    assert result.exit_code == 1 and "no-such" in result.output
    result = runner.invoke(main, ["export", "--store", str(mini_store), "--format", "void"])
    assert result.exit_code == 0 and "void:triples" in result.output


# -- HTTP -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def client(mini_store):
    from medkg.web import create_app

    app = create_app(mini_store)
    yield app.test_client()
    app.extensions["medkg"].executor.close()


@pytest.mark.parametrize("name,fmt", [("medkg.ttl", "turtle"), ("medkg.nt", "nt"),
                                      ("medkg.nq", "nquads"), ("medkg.jsonld", "json-ld")])
def test_dumps_parse_and_carry_the_build(client, mini_store, name, fmt):
    _, build = _open(mini_store)
    for compressed in (False, True):
        response = client.get(f"/download/{name}" + (".gz" if compressed else ""))
        assert response.status_code == 200
        assert response.headers["X-Medkg-Build"] == build.build_id
        assert build.build_id in response.headers["Content-Disposition"]
        body = gzip.decompress(response.data) if compressed else response.data
        from rdflib import Dataset
        parsed = Dataset() if fmt == "nquads" else Graph()
        parsed.parse(data=body, format=fmt)
        assert len(parsed) > 1000 or sum(1 for _ in parsed.quads()) > 1000


def test_unknown_dump_is_404(client):
    response = client.get("/download/medkg.xyz")
    assert response.status_code == 404 and response.json["error"]["status"] == 404


def test_download_index(client):
    assert b"medkg.ttl.gz" in client.get("/download/", headers={"Accept": "text/html"}).data
    assert "/download/medkg.nq" in client.get("/download/", headers={"Accept": "application/json"}).json["dumps"]


def test_void_route_negotiates(client):
    response = client.get("/.well-known/void")
    assert response.status_code == 200 and response.mimetype == "text/turtle"
    graph = Graph().parse(data=response.data, format="turtle")
    assert graph.value(URIRef("https://w3id.org/medkg/"), VOID.sparqlEndpoint) == URIRef("http://localhost/sparql")
    response = client.get("/.well-known/void", headers={"Accept": "application/ld+json"})
    assert len(Graph().parse(data=response.data, format="json-ld")) == len(graph)
    assert client.get("/.well-known/void?format=nope").status_code == 400


def test_catalog_routes(client):
    ttl = Graph().parse(data=client.get("/catalog.ttl").data, format="turtle")
    jsonld = Graph().parse(data=client.get("/catalog.jsonld").data, format="json-ld")
    assert len(ttl) == len(jsonld) > 100
    response = client.get("/catalog", headers={"Accept": "application/n-triples"})
    assert response.status_code == 200 and response.mimetype == "application/n-triples"
    etag = client.get("/catalog.ttl").headers["ETag"]
    assert client.get("/catalog.ttl", headers={"If-None-Match": etag}).status_code == 304


def test_croissant_routes(client):
    response = client.get("/dataset/acdc/croissant")
    assert response.status_code == 200 and response.mimetype == "application/ld+json"
    assert response.json["identifier"] == "acdc" and _mlcroissant_errors(response.json) is None
    assert client.get("/dataset/no-such/croissant").status_code == 404
    assert len(client.get("/croissant.json").json) == MINI_DATASETS

"""rdf.py unit tests (STYLE layer 1): golden graphs written by hand, compared with
rdflib.compare.isomorphic, and the links derived from evaluations."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from rdflib import XSD, Graph, Literal, Namespace, URIRef
from rdflib.compare import graph_diff, isomorphic, to_isomorphic

from medkg.models import Dataset, Evaluation
from medkg.rdf import catalog_graph, date_literal, derived_triples, license_iri, record_triples
from medkg.records import Catalog, load_catalog

FIXTURES = Path(__file__).resolve().parent / "fixtures"
GOLDEN = FIXTURES / "golden"
MINI = FIXTURES / "mini" / "data"
MKG = Namespace("https://w3id.org/medkg/ontology#")
BASE = "https://w3id.org/medkg/"


def iri(kind: str, ident: str) -> URIRef:
    return URIRef(f"{BASE}{kind}/{ident}")


def assert_same_graph(actual: Graph, golden: Path) -> None:
    expected = Graph().parse(golden)
    if not isomorphic(actual, expected):
        _, only_actual, only_expected = graph_diff(to_isomorphic(actual), to_isomorphic(expected))
        lines = [f"  + {' '.join(t.n3() for t in triple)}" for triple in sorted(only_actual)]
        lines += [f"  - {' '.join(t.n3() for t in triple)}" for triple in sorted(only_expected)]
        pytest.fail(f"graph differs from {golden.name} (+ produced only, - expected only):\n" + "\n".join(lines))


DATASET = Dataset.model_validate({
    "id": "example-ct", "name": "Example CT", "aliases": ["EXCT"],
    "description": "Abdominal CT with the liver outlined.",
    "provenance": [{"source": "awesome-medical-dataset", "url": "https://github.com/example/list/blob/abc/README.md"}],
    "curated": ["case_count"], "notes": ["Counts as the listing gives them."],
    "category": ["abdomen"], "modality": ["ct"], "anatomy": ["liver"], "task": ["segmentation"],
    "dimensionality": ["3D"], "case_count": 201, "class_count": 2, "size": "21GB",
    "label_classes": [{"name": "Liver", "anatomy": "liver", "case_count": 131}],
    "file_formats": [".nii.gz"],
    "resolution": [{"statistic": "median", "spacing": [0.7676, 0.7676, 1.0], "size": [512, 512, 432]}],
    "languages": ["zh-Hans"], "release_date": "2017-06", "challenges": ["lits-2017"], "platforms": ["zenodo"],
    "websites": [{"url": "https://example.org/ct", "role": "homepage"},
                 {"url": "https://zenodo.org/records/1", "role": "download"}],
    "papers": [{"title": "The CT paper", "doi": "10.1000/xyz", "arxiv": "1901.04056", "year": 2023,
                "venue": "Medical Image Analysis"}],
    "organizations": ["example-university"], "authors": ["A. Author"], "license": "CC-BY-4.0",
})

EVALUATION = Evaluation.model_validate({
    "id": "example-net-example-bench", "name": "Example Net on Example Bench",
    "method": "example-net", "benchmark": "example-bench", "test_sets": ["ds-a", "ds-b"],
    "role": "benchmark", "metric": "average DSC", "value": 88.9, "source": "https://example.org/leaderboard",
})


def test_dataset_golden():
    g = Graph()
    subject = record_triples(g, "dataset", DATASET)
    assert subject == iri("dataset", "example-ct")
    assert_same_graph(g, GOLDEN / "dataset.ttl")


def test_evaluation_golden_with_derived_links():
    g = Graph()
    record_triples(g, "evaluation", EVALUATION)
    derived_triples(g, Catalog(records={"evaluation": {EVALUATION.id: EVALUATION}}))
    assert_same_graph(g, GOLDEN / "evaluation.ttl")


def test_value_is_a_true_decimal_literal():
    g = Graph()
    small = EVALUATION.model_copy(update={"value": 0.00001})
    record_triples(g, "evaluation", small)
    value = g.value(iri("evaluation", EVALUATION.id), MKG.value)
    assert isinstance(value.value, Decimal)
    assert str(value) == "0.00001"


@pytest.fixture(scope="module")
def mini_graph() -> Graph:
    return catalog_graph(load_catalog(MINI))


def _links(graph: Graph, predicate: URIRef) -> set[tuple[str, str]]:
    return {(str(s).rsplit("/", 1)[1], str(o).rsplit("/", 1)[1]) for s, o in graph.subject_objects(predicate)}


def test_derived_evaluated_on(mini_graph):
    """Role test or benchmark -> evaluatedOn, for the dataset and for every benchmark test set."""
    assert _links(mini_graph, MKG.evaluatedOn) == {
        ("nnu-net", "btcv"), ("nnu-net", "acdc"), ("nnu-net", "lits"), ("nnu-net", "jhh"),
        ("nnu-net", "totalsegmentator-v2"),
        ("swin-unetr", "btcv"), ("swin-unetr", "acdc"), ("swin-unetr", "jhh"), ("swin-unetr", "totalsegmentator-v2"),
    }


def test_derived_trained_and_fine_tuned_on(mini_graph):
    assert _links(mini_graph, MKG.trainedOn) == {("nnu-net", "acdc")}
    assert _links(mini_graph, MKG.fineTunedOn) == {("swin-unetr", "btcv")}


def test_derived_evaluated_on_benchmark(mini_graph):
    assert _links(mini_graph, MKG.evaluatedOnBenchmark) == {("nnu-net", "touchstone"), ("swin-unetr", "touchstone")}


@pytest.mark.parametrize("value, datatype", [("2017", XSD.gYear), ("2017-06", XSD.gYearMonth), ("2017-06-30", XSD.date)])
def test_date_literal(value, datatype):
    assert date_literal(value) == Literal(value, datatype=datatype)


@pytest.mark.parametrize("value, expected", [
    ("CC-BY-4.0", "https://spdx.org/licenses/CC-BY-4.0"),
    ("CC-BY-NC-SA-4.0", "https://spdx.org/licenses/CC-BY-NC-SA-4.0"),
    ("https://example.org/terms", "https://example.org/terms"),
    ("Custom research licence", None),
])
def test_license_iri(value, expected):
    result = license_iri(value)
    assert (str(result) if result is not None else None) == expected


def test_license_url_wins_over_spdx_iri():
    g = Graph()
    record = DATASET.model_copy(update={"license_url": "https://creativecommons.org/licenses/by/4.0/"})
    record_triples(g, "dataset", record)
    subject = iri("dataset", "example-ct")
    assert set(g.objects(subject, URIRef("http://purl.org/dc/terms/license"))) == {
        URIRef("https://creativecommons.org/licenses/by/4.0/")}
    assert g.value(subject, MKG.licenseName) == Literal("CC-BY-4.0")

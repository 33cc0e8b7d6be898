"""The W3C SPARQL 1.1 Protocol tests for the query operation, driven from their manifest.

/work/shared/standards/sparql11-protocol/manifest.ttl (see SOURCE.md there): every query_*
and bad_query* test (13 + 7) runs against the app in-process; the data files are loaded as
named graphs named by the rdfs:label of their ut:graphData entry. The update_* and
bad_update_* tests must all be refused (4xx): this endpoint is read-only.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import rdflib
from rdflib import RDF, RDFS, Namespace
from rdflib.collection import Collection

from endpoint_support import make_build
from medkg.paths import shared_dir
from medkg.web import create_app

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
CNT = Namespace("http://www.w3.org/2011/content#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
HTS = Namespace("http://www.w3.org/2011/http-statusCodes#")

SHARED = shared_dir()
SUITE = SHARED / "standards" / "sparql11-protocol" if SHARED else None
pytestmark = pytest.mark.skipif(
    SUITE is None or not (SUITE / "manifest.ttl").is_file(),
    reason="the W3C protocol suite is in the workplace's shared/ folder, absent here")


def _manifest() -> tuple[rdflib.Graph, list]:
    graph = rdflib.Graph()
    if SUITE is None or not (SUITE / "manifest.ttl").is_file():
        return graph, []
    manifest = SUITE / "manifest.ttl"
    graph.parse(manifest, format="turtle", publicID=manifest.as_uri())
    root = next(graph.subjects(RDF.type, MF.Manifest))
    entries = list(Collection(graph, graph.value(root, MF.entries)))
    return graph, entries


GRAPH, ENTRIES = _manifest()


def _name(test) -> str:
    return str(test).rsplit("#", 1)[-1]


QUERY_TESTS = [t for t in ENTRIES if _name(t).startswith(("query_", "bad_query", "bad_multiple_q"))]
UPDATE_TESTS = [t for t in ENTRIES if _name(t).startswith(("update_", "bad_update",
                                                           "bad_multiple_u"))]


def test_manifest_has_the_query_tests():
    assert len(QUERY_TESTS) == 20, [_name(t) for t in QUERY_TESTS]
    assert sum(_name(t).startswith("query_") for t in QUERY_TESTS) == 13


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """An app over a store holding every graphData file as the named graph of its label."""
    graphs: dict[str, Path] = {}
    for test in ENTRIES:
        for data in GRAPH.objects(test, UT.graphData):
            file = Path(str(GRAPH.value(data, UT.graph)).removeprefix("file://"))
            graphs[str(GRAPH.value(data, RDFS.label))] = file
    assert len(graphs) == 3
    lines = []
    for name, file in sorted(graphs.items()):
        for line in file.read_text(encoding="utf-8").splitlines():
            if line.strip():
                lines.append(line.strip().removesuffix(".").rstrip() + f" <{name}> .")
    store_dir = tmp_path_factory.mktemp("protocol-store")
    make_build(store_dir, "protocol", ("\n".join(lines) + "\n").encode())
    app = create_app(store_dir, timeout=10)
    with app.test_client() as test_client:
        yield test_client
    app.extensions["medkg"].executor.close()


def _requests(test):
    action = GRAPH.value(test, MF.action)
    return list(Collection(GRAPH, GRAPH.value(action, HT.requests)))


def _send(client, req):
    method = str(GRAPH.value(req, HT.methodName))
    path = str(GRAPH.value(req, HT.absolutePath)).replace("/sparql/", "/sparql", 1)
    headers = {}
    header_list = GRAPH.value(req, HT.headers)
    if header_list is not None:
        for header in Collection(GRAPH, header_list):
            headers[str(GRAPH.value(header, HT.fieldName))] = str(GRAPH.value(header, HT.fieldValue))
    body = GRAPH.value(req, HT.body)
    data = None
    if body is not None:
        encoding = str(GRAPH.value(body, CNT.characterEncoding) or "UTF-8")
        data = str(GRAPH.value(body, CNT.chars)).encode(encoding.lower())
    content_type = headers.pop("content-type", None)
    return client.open(path, method=method, headers=headers, data=data,
                       content_type=content_type)


def _check_status(response, expected: set[str], name: str) -> None:
    klass = f"StatusCode{response.status_code // 100}xx"
    assert klass in expected, (
        f"{name}: got {response.status_code}, expected one of {sorted(expected)}: "
        f"{response.get_data(as_text=True)[:300]}")


def _check_format(response, fmt: str, name: str) -> rdflib.query.Result | rdflib.Graph:
    mimetype = response.mimetype
    body = response.get_data()
    if fmt in ("boolean", "tabular"):
        parser = {"application/sparql-results+json": "json",
                  "application/sparql-results+xml": "xml", "text/csv": "csv",
                  "text/tab-separated-values": "tsv"}.get(mimetype)
        assert parser, f"{name}: {mimetype} is not a SPARQL results format"
        if fmt == "boolean":
            assert parser in ("json", "xml"), f"{name}: ASK answered as {mimetype}"
        result = rdflib.query.Result.parse(source=__import__("io").BytesIO(body), format=parser)
        assert result.type == ("ASK" if fmt == "boolean" else "SELECT"), name
        return result
    assert fmt == "RDF", fmt
    parser = {"text/turtle": "turtle", "application/n-triples": "nt",
              "application/rdf+xml": "xml", "application/ld+json": "json-ld"}.get(mimetype)
    assert parser, f"{name}: {mimetype} is not an RDF format"
    return rdflib.Graph().parse(data=body, format=parser)


@pytest.mark.parametrize("test", QUERY_TESTS, ids=_name)
def test_protocol(client, test):
    name = _name(test)
    for req in _requests(test):
        response = _send(client, req)
        expected = GRAPH.value(req, HT.resp)
        statuses = {str(s).rsplit("#", 1)[-1] for s in GRAPH.objects(expected, MF.expectedStatus)}
        assert statuses, name
        _check_status(response, statuses, name)
        fmt = GRAPH.value(expected, MF.expectedFormat)
        if fmt is not None:
            result = _check_format(response, str(fmt), name)
            boolean = GRAPH.value(expected, MF.expectedBoolean)
            if boolean is not None:
                assert result.askAnswer is boolean.toPython(), name
        if statuses == {"StatusCode4xx"}:
            error = json.loads(response.get_data())["error"]
            assert error["status"] == response.status_code and error["message"], name


@pytest.mark.parametrize("test", UPDATE_TESTS, ids=_name)
def test_updates_are_refused(client, test):
    """The update tests expect success from a writable endpoint; ours refuses every update."""
    first = _requests(test)[0]
    response = _send(client, first)
    assert 400 <= response.status_code < 500, (_name(test), response.status_code)
    after = client.get("/sparql", query_string={
        "query": "ASK { GRAPH <http://kasei.us/2009/09/sparql/data/data1.rdf> { ?s ?p ?o } }"})
    assert json.loads(after.get_data())["boolean"] is True, "the data must be untouched"

"""The endpoint over HTTP: real clients on a live server, caching, new builds, pages, CORS."""

from __future__ import annotations

import io
import json
import threading
import time
import urllib.parse
import urllib.request

import pytest
import rdflib
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import CSV, JSON, XML, SPARQLWrapper

from endpoint_support import MKG, datasets_nquads, live_server, make_build
from medkg import store
from medkg.web import create_app

COUNT = "SELECT (COUNT(?d) AS ?n) WHERE { ?d a <%sDataset> }" % MKG
LABELS = ("PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
          "SELECT ?d ?label WHERE { ?d rdfs:label ?label } ORDER BY ?label LIMIT 3")


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("endpoint-store")
    make_build(path, "b1", datasets_nquads(12))
    return path


@pytest.fixture(scope="module")
def live(store_dir):
    with live_server(store_dir, workers=2, timeout=10) as server:
        yield server


@pytest.fixture
def app(store_dir):
    app = create_app(store_dir, max_rows=5)
    yield app
    app.extensions["medkg"].executor.close()


def get(url: str, headers: dict | None = None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def q(live, query: str, **params) -> str:
    return live.sparql + "?" + urllib.parse.urlencode({"query": query, **params})


# -- real clients on a live gunicorn server ---------------------------------------------------


def test_sparqlwrapper_json_xml_csv(live):
    client = SPARQLWrapper(live.sparql)
    client.setQuery(LABELS)
    client.setReturnFormat(JSON)
    rows = client.query().convert()["results"]["bindings"]
    assert [r["label"]["value"] for r in rows] == ["Dataset 0", "Dataset 1", "Dataset 10"]
    client.setReturnFormat(XML)
    doc = client.query().convert()
    assert [n.firstChild.data for n in doc.getElementsByTagName("literal")] == [
        "Dataset 0", "Dataset 1", "Dataset 10"]
    client.setReturnFormat(CSV)
    csv = client.query().convert().decode()
    assert csv.splitlines()[0].strip() == "d,label" and "Dataset 10" in csv


def test_sparqlwrapper_post_and_construct(live):
    client = SPARQLWrapper(live.sparql)
    client.setMethod("POST")
    client.setQuery(f"CONSTRUCT {{ ?d a <{MKG}Dataset> }} WHERE {{ ?d a <{MKG}Dataset> }}")
    graph = client.queryAndConvert()  # RDF/XML by default, parsed by rdflib
    assert isinstance(graph, rdflib.Graph) and len(graph) == 12
    client.setQuery("ASK { ?s ?p ?o }")
    client.setReturnFormat(JSON)
    assert client.queryAndConvert()["boolean"] is True


def test_rdflib_sparqlstore(live):
    graph = rdflib.Graph(store=SPARQLStore(live.sparql, returnFormat="json"))
    rows = list(graph.query(COUNT))
    assert int(rows[0][0]) == 12
    labels = [str(r.label) for r in graph.query(LABELS)]
    assert labels == ["Dataset 0", "Dataset 1", "Dataset 10"]


def test_plain_http_healthz_and_negotiation(live):
    status, headers, body = get(live.base + "/healthz")
    health = json.loads(body)
    assert status == 200 and health["build_id"] == "b1" and health["triples"] == 48
    assert health["uptime_seconds"] >= 0
    for accept, mimetype in [("text/csv", "text/csv"), ("text/tab-separated-values",
                                                        "text/tab-separated-values"),
                             ("application/sparql-results+xml", "application/sparql-results+xml"),
                             (None, "application/sparql-results+json")]:
        status, headers, body = get(q(live, COUNT), {"Accept": accept} if accept else {})
        assert status == 200 and headers.get_content_type() == mimetype, accept
        result = rdflib.query.Result.parse(io.BytesIO(body), format={
            "text/csv": "csv", "text/tab-separated-values": "tsv",
            "application/sparql-results+xml": "xml"}.get(mimetype, "json"))
        assert int(list(result)[0][0]) == 12, accept
    status, headers, body = get(q(live, COUNT), {"Accept": "image/png"})
    assert status == 406 and "text/csv" in json.loads(body)["error"]["acceptable"]
    status, headers, body = get(q(live, COUNT, format="tsv"), {"Accept": "text/csv"})
    assert headers.get_content_type() == "text/tab-separated-values"


# -- in-process: caching, limits, the service description, pages, CORS ------------------------


def test_etag_revalidation_and_cache(app):
    client = app.test_client()
    first = client.get("/sparql", query_string={"query": COUNT})
    assert first.status_code == 200 and first.headers["X-Medkg-Cache"] == "miss"
    etag = first.headers["ETag"]
    again = client.get("/sparql", query_string={"query": COUNT})
    assert again.headers["X-Medkg-Cache"] == "hit" and again.data == first.data
    assert again.headers["ETag"] == etag
    revalidated = client.get("/sparql", query_string={"query": COUNT},
                             headers={"If-None-Match": etag})
    assert revalidated.status_code == 304 and revalidated.data == b""
    other_format = client.get("/sparql", query_string={"query": COUNT, "format": "csv"},
                              headers={"If-None-Match": etag})
    assert other_format.status_code == 200 and other_format.headers["ETag"] != etag
    volatile = client.get("/sparql", query_string={"query": "SELECT (RAND() AS ?r) {}"})
    assert "ETag" not in volatile.headers and volatile.headers["X-Medkg-Cache"] == "off"


def test_repeated_request_replayed_before_flask(app):
    """A request byte-for-byte like one answered is replayed (medkg.requestcache) with the same
    status, headers and body, without running the view; refused, failing and volatile queries
    and conditional requests always go through it."""
    views: list[str] = []
    app.before_request(lambda: views.append("view"))
    client = app.test_client()
    cut = {"query": "SELECT * { ?s ?p ?o }"}
    first = client.get("/sparql", query_string=cut)
    again = client.get("/sparql", query_string=cut)
    assert views == ["view"] and again.status_code == 200 and again.data == first.data
    assert again.headers["X-Medkg-Cache"] == "hit" and first.headers["X-Medkg-Cache"] == "miss"
    assert {k: v for k, v in again.headers if k != "X-Medkg-Cache"} == {
        k: v for k, v in first.headers if k != "X-Medkg-Cache"}
    assert again.headers["X-Medkg-Truncated"].startswith("true; limit=5")
    as_csv = client.get("/sparql", query_string=cut, headers={"Accept": "text/csv"})
    assert as_csv.mimetype == "text/csv" and len(views) == 2
    client.get("/sparql", query_string=cut, headers={"If-None-Match": first.headers["ETag"]})
    assert len(views) == 3
    for query, status in [("SELECT * { SERVICE <http://127.0.0.1:9/x> { ?s ?p ?o } }", 403),
                          ("ASK {", 400), ("SELECT (RAND() AS ?r) {}", 200)]:
        before = len(views)
        for _ in range(2):
            assert client.get("/sparql", query_string={"query": query}).status_code == status
        assert len(views) == before + 2, query


def test_replayed_answers_follow_a_new_build(tmp_path):
    store_dir = tmp_path / "store"
    make_build(store_dir, "b1", datasets_nquads(3))
    app = create_app(store_dir, check_interval=0.1)
    try:
        client = app.test_client()
        for _ in range(2):
            response = client.get("/sparql", query_string={"query": COUNT})
            assert response.headers["X-Medkg-Build"] == "b1"
        make_build(store_dir, "b2", datasets_nquads(7))
        deadline = time.monotonic() + 30
        while response.headers["X-Medkg-Build"] != "b2" and time.monotonic() < deadline:
            time.sleep(0.1)
            response = client.get("/sparql", query_string={"query": COUNT})
        assert response.headers["X-Medkg-Build"] == "b2"
        assert response.json["results"]["bindings"][0]["n"]["value"] == "7"
        again = client.get("/sparql", query_string={"query": COUNT})
        assert again.headers["X-Medkg-Cache"] == "hit" and again.data == response.data
    finally:
        app.extensions["medkg"].executor.close()


def test_row_limit_is_stated(app):
    client = app.test_client()
    response = client.get("/sparql", query_string={"query": "SELECT * { ?s ?p ?o }"})
    assert len(response.json["results"]["bindings"]) == 5
    assert response.headers["X-Medkg-Truncated"].startswith("true; limit=5")
    graph = client.get("/sparql", query_string={"query": "CONSTRUCT WHERE { ?s ?p ?o }",
                                                "format": "nt"})
    assert len(graph.data.splitlines()) == 5 and "X-Medkg-Truncated" in graph.headers
    small = client.get("/sparql", query_string={"query": COUNT})
    assert "X-Medkg-Truncated" not in small.headers


def test_result_byte_limit(store_dir):
    app = create_app(store_dir, max_result_bytes=200)
    try:
        response = app.test_client().get("/sparql", query_string={"query": "SELECT * {?s ?p ?o}"})
        assert response.status_code == 422 and "LIMIT" in response.json["error"]["message"]
    finally:
        app.extensions["medkg"].executor.close()


@pytest.mark.parametrize("accept, parser", [
    ("text/turtle", "turtle"), ("application/ld+json", "json-ld"),
    ("application/rdf+xml", "xml"), ("application/n-triples", "nt"), (None, "turtle")])
def test_service_description(app, accept, parser):
    response = app.test_client().get("/sparql", headers={"Accept": accept} if accept else {})
    assert response.status_code == 200
    graph = rdflib.Graph().parse(data=response.data, format=parser)
    sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    service = graph.value(predicate=rdflib.RDF.type, object=sd.Service)
    assert str(graph.value(service, sd.endpoint)) == "http://localhost/sparql"
    assert (service, sd.supportedLanguage, sd.SPARQL11Query) in graph
    assert len(list(graph.objects(service, sd.resultFormat))) == 8


def test_query_page_for_browsers_is_escaped(app):
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    response = app.test_client().get("/sparql", headers={"Accept": browser},
                                     base_url='http://x"><script>alert(1)</script>/')
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "<textarea" in page and "&lt;https://w3id.org/medkg/ontology#&gt;" in page
    assert "<script>" not in page


def test_cors_and_preflight(app):
    client = app.test_client()
    preflight = client.options("/sparql", headers={
        "Origin": "https://example.org", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Content-Type"})
    assert preflight.status_code in (200, 204)
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in preflight.headers["Access-Control-Allow-Headers"]
    response = client.get("/sparql", query_string={"query": "ASK {}"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]
    assert client.get("/nowhere").headers["Access-Control-Allow-Origin"] == "*"


def test_errors_as_text_when_asked(app):
    response = app.test_client().get("/sparql", query_string={"query": "ASK {"},
                                     headers={"Accept": "text/plain, */*;q=0.1"})
    assert response.status_code == 400 and response.mimetype == "text/plain"
    assert response.get_data(as_text=True).startswith("400 QuerySyntaxError: ")
    as_json = app.test_client().get("/sparql", query_string={"query": "ASK {"})
    error = as_json.json["error"]
    assert error["type"] == "QuerySyntaxError" and error["line"] == 1 and error["column"] == 6


def test_no_store_is_a_503(tmp_path):
    app = create_app(tmp_path / "empty")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and "medkg build" in response.json["error"]["message"]


# -- fresh data without downtime ----------------------------------------------------------------


def test_new_build_is_served_without_failing_requests(tmp_path):
    store_dir = tmp_path / "store"
    make_build(store_dir, "b1", datasets_nquads(5))
    with live_server(store_dir, workers=2, check_interval=0.1) as live:
        statuses, stop = [], threading.Event()

        def hammer():
            n = 0
            while not stop.is_set():
                n += 1  # a new query text each time: no cache, every request runs
                try:
                    statuses.append(get(q(live, f"{COUNT} # {n}"))[0])
                except OSError as exc:
                    statuses.append(repr(exc))

        threads = [threading.Thread(target=hammer) for _ in range(3)]
        for thread in threads:
            thread.start()
        time.sleep(0.5)
        # a failed build: a half-written folder, never switched to
        half = store.new_build_dir(store_dir, "b2-failed")
        half.mkdir()
        (half / "garbage").write_bytes(b"not a database")
        time.sleep(0.5)
        assert json.loads(get(live.base + "/healthz")[2])["build_id"] == "b1"
        make_build(store_dir, "b3", datasets_nquads(9))  # complete, then switched
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            body = json.loads(get(q(live, COUNT))[2])
            if body["results"]["bindings"][0]["n"]["value"] == "9":
                break
            time.sleep(0.1)
        time.sleep(0.5)  # both workers have switched
        stop.set()
        for thread in threads:
            thread.join()
        assert len(statuses) > 20 and set(statuses) == {200}, set(statuses)
        for _ in range(6):
            status, headers, body = get(q(live, COUNT))
            assert json.loads(body)["results"]["bindings"][0]["n"]["value"] == "9"
            assert headers["X-Medkg-Build"] == "b3"

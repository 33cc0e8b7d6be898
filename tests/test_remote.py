"""An external SPARQL engine as the store (medkg.remote, medkg.proxy), against Oxigraph's server.

Builds go into the engine with the Graph Store Protocol and switch by the pointer graph; the
CLI, the protocol endpoint, every page kind and the named queries answer the same over the
engine as over the embedded store; the guard refuses before anything is sent; a build seen
by a reader loop switches atomically; old build graphs are pruned.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from engine_support import free_port, oxigraph_server
from endpoint_support import server_env
from medkg import queries, remote
from medkg.build import build
from medkg.web import create_app

MINI = Path(__file__).resolve().parent / "fixtures" / "mini" / "data"
MKG = "https://w3id.org/medkg/ontology#"


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    """An Oxigraph server holding the mini catalogue (built by `medkg build --store URL`)."""
    with oxigraph_server(tmp_path_factory.mktemp("engine")) as url:
        done = subprocess.run([sys.executable, "-m", "medkg.cli", "build", "--data", str(MINI),
                               "--store", url], capture_output=True, text=True, env=server_env(),
                              timeout=300)
        assert done.returncode == 0, done.stderr
        assert f"in {url}" in done.stdout
        yield url


@pytest.fixture(scope="module")
def remote_client(engine):
    return create_app(engine, cache=False).test_client()


@pytest.fixture(scope="module")
def embedded_client(mini_store):
    app = create_app(mini_store, cache=False)
    yield app.test_client()
    app.extensions["medkg"].executor.close()


def cli(*args: str):
    """The CLI in-process (click's runner): .exit_code, .stdout, .stderr."""
    from click.testing import CliRunner

    from medkg.cli import main

    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def bindings(body: bytes | str) -> list:
    """Rows order-free; GROUP_CONCAT lists (", "-joined) too: their order is the engine's."""
    doc = json.loads(body)
    if "boolean" in doc:
        return [doc["boolean"]]
    rows = []
    for row in doc["results"]["bindings"]:
        for term in row.values():
            if term["type"] == "literal" and ", " in term["value"]:
                term["value"] = ", ".join(sorted(term["value"].split(", ")))
        rows.append(json.dumps(row, sort_keys=True))
    return sorted(rows)


def test_endpoint_urls_are_derived_or_given():
    oxi = remote.Endpoints.from_url("http://h:1/query", env={})
    assert (oxi.query, oxi.update, oxi.gsp) == ("http://h:1/query", "http://h:1/update",
                                                 "http://h:1/store")
    bare = remote.Endpoints.from_url("http://h:1", env={})
    assert (bare.query, bare.update, bare.gsp) == ("http://h:1/query", "http://h:1/update",
                                                    "http://h:1/store")
    fuseki = remote.Endpoints.from_url("http://h/ds/sparql", env={
        "MEDKG_UPDATE_URL": "http://h/ds/update", "MEDKG_GSP_URL": "http://h/ds/data",
        "MEDKG_STORE_USER": "u", "MEDKG_STORE_PASSWORD": "secret"})
    assert (fuseki.query, fuseki.update, fuseki.gsp) == ("http://h/ds/sparql", "http://h/ds/update",
                                                          "http://h/ds/data")
    assert "secret" not in str(fuseki) and "secret" not in repr(remote.RemoteStore(fuseki))
    assert remote.Endpoints.from_url("http://h/sparql", env={}).update is None


def test_parameters_are_bound_at_the_start_of_the_where_group():
    import pyoxigraph as ox

    text = ('PREFIX a: <http://x/a>\n# {comment\nSELECT ?x ("{" AS ?y) WHERE {\n ?x ?p ?o }')
    out = remote.prepare(text, substitutions={ox.Variable("x"): ox.Literal('a"}b')})
    assert out.endswith('WHERE { VALUES (?x) { ("a\\"}b") } \n ?x ?p ?o }')
    construct = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"
    assert remote.where_brace(construct) == construct.index("WHERE") + 6
    assert remote.where_brace("CONSTRUCT WHERE { ?s ?p ?o }") == 16


def test_cli_query_over_the_engine_matches_the_embedded_store(engine, mini_store):
    args = ["query", "datasets-by-anatomy", "--param", "anatomy=abdomen", "--format", "json"]
    over_engine, embedded = cli(*args, "--store", engine), cli(*args, "--store", str(mini_store))
    assert over_engine.exit_code == 0, over_engine.stderr
    assert bindings(over_engine.stdout) == bindings(embedded.stdout)
    assert len(bindings(embedded.stdout)) >= 3
    table = cli("query", "SELECT ?d WHERE { ?d a mkg:Dataset }", "--store", engine)
    assert "(11 rows)" in table.stdout, table.stderr
    bad = cli("query", "SELEC", "--store", engine)
    assert bad.exit_code == 1 and bad.stderr.startswith("error: ")
    export = cli("export", "--format", "nt", "--store", engine)
    assert export.exit_code == 0 and export.stdout.count("\n") > 1000


def test_every_page_kind_over_the_engine(remote_client):
    build_id = remote_client.get("/healthz").get_json()["build_id"]
    assert build_id
    for url in ("/", "/datasets?modality=ct", "/datasets.json?q=liver", "/dataset/btcv",
                "/dataset/btcv.ttl", "/anatomy/abdomen", "/stats", "/queries",
                "/queries/datasets-by-anatomy?anatomy=liver", "/query", "/download/",
                "/.well-known/void", "/catalog"):
        response = remote_client.get(url)
        assert response.status_code == 200, (url, response.data[:300])
        if "X-Medkg-Build" in response.headers:
            assert response.headers["X-Medkg-Build"] == build_id, url
    assert b"BTCV" in remote_client.get("/dataset/btcv").data
    assert remote_client.get("/dataset/no-such-dataset").status_code == 404


@pytest.mark.parametrize("name", sorted(queries.discover()))
def test_named_queries_answer_as_on_the_embedded_store(name, remote_client, embedded_client):
    named = queries.get(name)
    cases = [{}] + queries.examples(named)
    for values in cases:
        path = queries.http_path(named, {**values, "format": "json"})
        ours, theirs = remote_client.get(path), embedded_client.get(path)
        assert ours.status_code == theirs.status_code == 200, (path, ours.data[:300])
        assert bindings(ours.data) == bindings(theirs.data), path


def test_protocol_over_the_engine(engine, remote_client):
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    body = remote_client.get("/sparql", query_string={"query": count}).get_json()
    assert int(body["results"]["bindings"][0]["n"]["value"]) == remote.RemoteStore.from_url(
        engine).current().triples
    for fmt, marker in (("csv", b"n\r\n"), ("xml", b"<sparql"), ("tsv", b"?n")):
        response = remote_client.get("/sparql", query_string={"query": count, "format": fmt})
        assert response.status_code == 200 and marker in response.data, fmt
    graph = remote_client.get("/sparql", query_string={
        "query": "CONSTRUCT WHERE { ?s a ?t } LIMIT 4", "format": "nt"})
    assert graph.status_code == 200 and graph.data.count(b" .\n") == 4
    bad = remote_client.get("/sparql", query_string={"query": "SELECT ?x WHERE {"})
    assert bad.status_code == 400 and bad.get_json()["error"]["type"] == "QuerySyntaxError"


def test_row_and_size_bounds_over_the_engine(engine):
    client = create_app(engine, cache=False, max_rows=5, max_result_bytes=3000).test_client()
    rows = client.get("/sparql", query_string={"query": "SELECT ?s WHERE { ?s a ?t }"})
    assert rows.status_code == 200 and rows.headers["X-Medkg-Truncated"].startswith("true")
    assert len(rows.get_json()["results"]["bindings"]) == 5
    small = create_app(engine, cache=False, max_result_bytes=3000).test_client()
    big = small.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o }"})
    assert big.status_code == 422 and big.get_json()["error"]["type"] == "ResultTooLarge"


def test_guard_refuses_before_anything_is_sent():
    nowhere = f"http://127.0.0.1:{free_port()}/query"  # nothing listens here
    client = create_app(nowhere, cache=False, timeout=5).test_client()
    update = client.post("/sparql", data={"update": "DROP ALL"})
    assert update.status_code == 403
    sneaky = client.get("/sparql", query_string={"query": "DELETE WHERE { ?s ?p ?o }"})
    assert sneaky.status_code == 403
    service = client.get("/sparql", query_string={
        "query": "SELECT * WHERE { SERVICE <http://evil.example/sparql> { ?s ?p ?o } }"})
    assert service.status_code == 403
    down = client.get("/sparql", query_string={"query": "ASK {}"})
    assert down.status_code == 502 and down.get_json()["error"]["type"] == "EngineError"


def test_a_second_build_switches_atomically_and_old_graphs_are_pruned(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(MINI, data)
    with oxigraph_server(tmp_path / "engine") as url:
        first = build(data, url).build_id
        extra = (data / "datasets" / "btcv.yaml").read_text(encoding="utf-8")
        (data / "datasets" / "btcv-copy.yaml").write_text(
            extra.replace("id: btcv\n", "id: btcv-copy\n").replace("name: BTCV\n", "name: BTCV copy\n"),
            encoding="utf-8")
        app = create_app(url, cache=False, check_interval=0.0)
        query = {"query": f"SELECT ?build (COUNT(DISTINCT ?d) AS ?n) WHERE {{ ?a <{MKG}buildId> "
                          f"?build . ?d a <{MKG}Dataset> }} GROUP BY ?build"}
        seen: list = []
        stop = threading.Event()

        def reader() -> None:
            client = app.test_client()
            while not stop.is_set():
                response = client.get("/sparql", query_string=query)
                rows = response.get_json()["results"]["bindings"] if response.status_code == 200 else None
                seen.append((response.status_code, response.headers.get("X-Medkg-Build"),
                             [(r["build"]["value"], int(r["n"]["value"])) for r in rows or []]))

        thread = threading.Thread(target=reader)
        thread.start()
        try:
            second = build(data, url).build_id
            while not any(build_id == second for _, build_id, _ in seen[-3:]):
                assert thread.is_alive()
                threading.Event().wait(0.05)
        finally:
            stop.set()
            thread.join(60)
        assert len(seen) > 5
        allowed = {first: [(first, 11)], second: [(second, 12)]}
        for status, build_id, rows in seen:
            assert status == 200 and rows == allowed[build_id], (status, build_id, rows)
        builds = [b for _, b, _ in seen]
        assert builds.index(second) > 0 and first not in builds[builds.index(second):]

        engine = remote.RemoteStore.from_url(url)
        for _ in range(remote.KEEP_BUILDS):
            newest = build(data, url).build_id
        graphs = engine.build_graphs()
        assert len(graphs) == remote.KEEP_BUILDS and graphs[0] == remote.graph_iri(newest)
        assert engine.current().build_id == newest

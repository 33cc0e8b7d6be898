"""Hostile input: SERVICE calls (hidden or not), updates, runaway queries, huge or broken bodies."""

from __future__ import annotations

import http.client
import json
import socketserver
import threading
import time
import urllib.parse
import urllib.request

import pytest

from endpoint_support import cpu_seconds, datasets_nquads, descendants, live_server, make_build
from medkg import guard
from medkg.errors import ServiceRefused, UpdateRefused
from medkg.web import create_app


class _Listener(socketserver.ThreadingTCPServer):
    """A local 'SPARQL endpoint' that records every connection it gets."""

    allow_reuse_address = True
    daemon_threads = True

    def __init__(self):
        self.hits: list[bytes] = []
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/sparql"


class _Handler(socketserver.StreamRequestHandler):
    def handle(self):
        self.server.hits.append(self.rfile.readline())
        body = b'{"head":{"vars":["x"]},"results":{"bindings":[{"x":{"type":"literal","value":"remote"}}]}}'
        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\n"
                         b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close"
                         b"\r\n\r\n" + body)


@pytest.fixture
def listener():
    server = _Listener()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("hostile-store")
    make_build(path, "b1", datasets_nquads(80))  # 320 triples: a 4-way product is 10^10 rows
    return path


@pytest.fixture(scope="module")
def client(store_dir):
    app = create_app(store_dir, timeout=5, max_body=64 * 1024, max_query_length=10_000)
    with app.test_client() as test_client:
        yield test_client
    app.extensions["medkg"].executor.close()


def hidden_services(url: str) -> list[str]:
    base, _, last = url.rpartition("/")
    return [
        f"SELECT * WHERE {{ SERVICE <{url}> {{ ?x ?p ?o }} }}",
        f"select * where {{ service <{url}> {{ ?x ?p ?o }} }}",
        f"SELECT * WHERE {{ FILTER(1<2)SERVICE<{url}>{{?x ?p ?o}} }}",
        f"SELECT * WHERE {{ \\u0053ERVICE <{url}> {{ ?x ?p ?o }} }}",
        f"PREFIX e: <{base}/> SELECT * WHERE {{ SERVICE e:{last} {{ ?x ?p ?o }} }}",
        f"SELECT * WHERE {{ SERVICE SILENT <{url}> {{ ?x ?p ?o }} }}",
        f"SELECT * WHERE {{ VALUES ?e {{ <{url}> }} SERVICE ?e {{ ?x ?p ?o }} }}",
        f"SELECT * WHERE {{ # a comment }} \n SERVICE <{url}> {{ ?x ?p ?o }} }}",
        f"ASK {{ FILTER EXISTS {{ SERVICE <{url}> {{ ?x ?p ?o }} }} }}",
        f"BASE <{url}> SELECT * WHERE {{ SERVICE <> {{ ?x ?p ?o }} }}",
        f"SELECT * WHERE {{ {{ SELECT ?x WHERE {{ SERVICE <{url}> {{ ?x ?p ?o }} }} }} }}",
        f"CONSTRUCT {{ ?x ?p ?o }} WHERE {{ OPTIONAL {{ SERVICE <{url}> {{ ?x ?p ?o }} }} }}",
        f"SELECT * WHERE {{ ?s ?p 'x' . SeRvIcE <{url}> {{ ?x ?p ?o }} }}",
    ]


DECOYS = [
    "SELECT * WHERE { ?s ?p 'SERVICE <http://127.0.0.1:9/x> { ?a ?b ?c }' } LIMIT 1",
    "SELECT * WHERE { ?s ?p ?o # SERVICE <http://127.0.0.1:9/x> { }\n } LIMIT 1",
    "SELECT ?service WHERE { ?service ?p <http://example.org/SERVICE> }",
    "PREFIX service: <http://example.org/> SELECT * WHERE { ?s service:service ?o } LIMIT 1",
    'SELECT * WHERE { ?s ?p ?o FILTER(?o != """\nSERVICE <http://127.0.0.1:9/x> {}""") } LIMIT 1',
]


@pytest.mark.parametrize("index", range(13))
def test_guard_refuses_every_service_form(index):
    query = hidden_services("http://127.0.0.1:9/sparql")[index]
    with pytest.raises(ServiceRefused):
        guard.inspect(query, max_length=10_000)


@pytest.mark.parametrize("query", DECOYS)
def test_guard_lets_the_word_service_pass_where_it_is_no_call(query, client):
    assert guard.inspect(query, max_length=10_000).services == ()
    response = client.get("/sparql", query_string={"query": query})
    assert response.status_code == 200, response.get_data(as_text=True)


def test_service_refused_and_nothing_sent(store_dir, listener):
    with live_server(store_dir) as live:
        for query in hidden_services(listener.url):
            url = live.sparql + "?" + urllib.parse.urlencode({"query": query})
            with pytest.raises(urllib.error.HTTPError) as info:
                urllib.request.urlopen(url, timeout=10)
            assert info.value.code == 403, query
            assert json.load(info.value)["error"]["type"] == "ServiceRefused"
    time.sleep(0.2)
    assert listener.hits == [], "the endpoint made an outbound request"


def test_allowed_service_is_called(store_dir, listener):
    """The control for the test above: with the listener allowed, it is called."""
    app = create_app(store_dir, allow_service=[listener.url])
    try:
        query = f"SELECT ?x WHERE {{ SERVICE <{listener.url}> {{ ?x ?p ?o }} }}"
        response = app.test_client().get("/sparql", query_string={"query": query})
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.json["results"]["bindings"][0]["x"]["value"] == "remote"
        assert len(listener.hits) == 1
        other = query.replace(listener.url, listener.url + "/other")
        assert app.test_client().get("/sparql", query_string={"query": other}).status_code == 403
    finally:
        app.extensions["medkg"].executor.close()


UPDATES = [
    "INSERT DATA { <http://e/x> <http://e/p> 1 }",
    "DELETE WHERE { ?s ?p ?o }",
    "PREFIX e: <http://e/> # comment\n DELETE { ?s ?p ?o } INSERT { ?s ?p 1 } WHERE { ?s ?p ?o }",
    "LOAD <http://127.0.0.1:9/data.ttl>",
    "CLEAR ALL",
    "DROP DEFAULT",
    "CREATE GRAPH <http://e/g>",
    "WITH <http://e/g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
    "\\u0049NSERT DATA { <http://e/x> <http://e/p> 1 }",
    "ADD DEFAULT TO <http://e/g>",
]


@pytest.mark.parametrize("update", UPDATES)
def test_updates_refused_at_every_route(client, update):
    with pytest.raises(UpdateRefused):
        guard.inspect(update, max_length=10_000)
    attempts = [
        client.get("/sparql", query_string={"query": update}),
        client.get("/sparql", query_string={"update": update}),
        client.post("/sparql", data={"query": update}),
        client.post("/sparql", data={"update": update}),
        client.post("/sparql", data=update.encode(), content_type="application/sparql-query"),
        client.post("/sparql", data=update.encode(), content_type="application/sparql-update"),
    ]
    for response in attempts:
        assert response.status_code == 403, response.get_data(as_text=True)
        assert "read-only" in response.json["error"]["message"]
    count = client.get("/sparql", query_string={"query": "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"})
    assert count.json["results"]["bindings"][0]["n"]["value"] == "320"


def test_no_write_route(client):
    for method in ("PUT", "DELETE", "PATCH"):
        response = client.open("/sparql", method=method, data=b"x")
        assert response.status_code == 405, method
        assert response.json["error"]["status"] == 405
        assert "GET" in response.headers["Allow"]


def test_garbage(client):
    cases = [
        (client.post("/sparql", data=b"\xff\xfe\x00garbage\x80",
                     content_type="application/sparql-query"), 400),
        (client.post("/sparql", data="ASK {}".encode("utf-16"),
                     content_type="application/sparql-query"), 400),
        (client.post("/sparql", data="ASK {}".encode("latin-1"),
                     content_type="application/sparql-query; charset=latin-1"), 400),
        (client.post("/sparql", data=b"query=ASK%20%7B%FF%7D",
                     content_type="application/x-www-form-urlencoded"), 400),
        (client.get("/sparql?query=ASK%20%7B%FF%7D"), 400),
        (client.get("/sparql", query_string={"query": "\x00\x01 garbage {{{"}), 400),
        (client.get("/sparql", query_string={"query": "   "}), 400),
        (client.get("/sparql", query_string={"query": "ASK {}", "format": "exe"}), 400),
        (client.get("/sparql", query_string={"query": "ASK {}",
                                             "default-graph-uri": "not an iri"}), 400),
        (client.post("/sparql", data=b"\x89PNG\r\n", content_type="image/png"), 415),
        (client.post("/sparql", data=b"ASK {}"), 415),
        (client.get("/sparql", query_string={"query": "ASK {} #" + "x" * 10_000}), 413),
        (client.post("/sparql", data=b"ASK {}" + b" " * 100_000,
                     content_type="application/sparql-query"), 413),
    ]
    for index, (response, status) in enumerate(cases):
        assert response.status_code == status, (index, response.get_data(as_text=True))
        error = response.json["error"]
        assert error["status"] == status and error["message"], index


def test_runaway_query_times_out_while_others_are_served(store_dir):
    product = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
    with live_server(store_dir, timeout=2, workers=2) as live:
        outcome: dict = {}

        def runaway():
            started = time.monotonic()
            try:
                urllib.request.urlopen(
                    live.sparql + "?" + urllib.parse.urlencode({"query": product}), timeout=30)
                outcome["status"] = 200
            except urllib.error.HTTPError as exc:
                outcome["status"], outcome["body"] = exc.code, json.load(exc)
            outcome["seconds"] = time.monotonic() - started

        thread = threading.Thread(target=runaway)
        thread.start()
        time.sleep(0.4)
        quick = live.sparql + "?" + urllib.parse.urlencode({"query": "ASK { ?s ?p ?o }"})
        for _ in range(5):  # answered by the other worker meanwhile
            started = time.monotonic()
            with urllib.request.urlopen(quick, timeout=10) as response:
                assert json.load(response)["boolean"] is True
            assert time.monotonic() - started < 1.0
        thread.join(30)
        assert outcome["status"] == 503, outcome
        assert outcome["body"]["error"]["type"] == "QueryTimeout"
        assert "time limit" in outcome["body"]["error"]["message"]
        assert 1.8 < outcome["seconds"] < 10, outcome
        time.sleep(1.0)  # the killed child's replacement loads the store
        tree = descendants(live.pid)
        before = cpu_seconds(tree)
        time.sleep(1.0)
        assert cpu_seconds(descendants(live.pid)) - before < 0.3, "a core is still burning"
        with urllib.request.urlopen(quick, timeout=10) as response:  # and it still serves
            assert json.load(response)["boolean"] is True


PRODUCT = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"


def _runaway_in_background(live) -> threading.Thread:
    def run():
        try:
            urllib.request.urlopen(
                live.sparql + "?" + urllib.parse.urlencode({"query": PRODUCT}), timeout=30)
        except urllib.error.HTTPError as exc:
            assert exc.code == 503

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _quick_on_kept_alive(live, count: int, between=None) -> list[float]:
    """``count`` quick queries on one keep-alive connection, reconnecting if the server closed
    it while idle (as HTTP clients do); the seconds each took. ``between()`` is called after
    the first (the connection is open and kept alive)."""
    parsed = urllib.parse.urlsplit(live.sparql)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
    seconds = []
    try:
        for i in range(count):
            path = parsed.path + "?" + urllib.parse.urlencode({"query": f"ASK {{ ?s ?p ?o }} #{i}"})
            started = time.monotonic()
            for attempt in range(2):
                try:
                    conn.request("GET", path)
                    response = conn.getresponse()
                    body = json.loads(response.read())
                    break
                except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                    conn.close()
                    if attempt:
                        raise
            assert response.status == 200 and body["boolean"] is True
            # a worker with every thread busy answers with Connection: close (clients queue
            # again, fairly); http.client then reconnects by itself for the next request
            seconds.append(time.monotonic() - started)
            if i == 0 and between is not None:
                between()
            time.sleep(0.1)
    finally:
        conn.close()
    return seconds


def test_runaway_holds_one_thread_while_a_kept_alive_client_is_served(store_dir):
    """One worker, two threads (two query processes): a runaway query takes one of each; a
    client on a kept-alive connection to the same worker is served by the other at once."""
    with live_server(store_dir, timeout=3, workers=1, threads=2) as live:
        threads = []
        seconds = _quick_on_kept_alive(
            live, 6, between=lambda: (threads.append(_runaway_in_background(live)),
                                      time.sleep(0.4)))
        assert max(seconds) < 1.0, seconds
        threads[0].join(30)


def test_full_worker_closes_idle_kept_alive_connections(store_dir):
    """Two workers of one thread: the worker running the runaway has no free thread, so it
    takes no new connection and closes its idle kept-alive ones; their clients reconnect and
    are served by the other worker without waiting for the runaway."""
    with live_server(store_dir, timeout=3, workers=2, threads=1) as live:
        for _ in range(3):  # the runaway lands beside the kept-alive client or not: both hold
            threads = []
            seconds = _quick_on_kept_alive(
                live, 6, between=lambda: (threads.append(_runaway_in_background(live)),
                                          time.sleep(0.4)))
            assert max(seconds) < 1.0, seconds
            threads[0].join(30)


def test_huge_body_on_a_live_server(store_dir):
    with live_server(store_dir, max_body=64 * 1024) as live:
        parsed = urllib.parse.urlsplit(live.sparql)
        conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=10)
        body = b"query=" + b"%20" * 400_000 + b"ASK%7B%7D"
        try:
            conn.request("POST", "/sparql", body=body,
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
            response = conn.getresponse()
            status, payload = response.status, json.loads(response.read())
        finally:
            conn.close()
        assert status == 413 and payload["error"]["status"] == 413

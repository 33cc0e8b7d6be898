"""The query page: /query and /sparql for browsers, its examples, permalinks and its script."""

from __future__ import annotations

import json
import re
from html import unescape
from pathlib import Path

import pytest

from medkg import queries, querypage
from medkg.web import create_app

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
STATIC = Path(querypage.__file__).parent / "static"


@pytest.fixture(scope="module")
def client(mini_store):
    app = create_app(mini_store)
    yield app.test_client()
    app.extensions["medkg"].executor.close()


def config_of(page: str) -> dict:
    match = re.search(r'<script type="application/json" id="query-config">(.*?)</script>', page,
                      re.S)
    assert match, "the page carries its configuration"
    return json.loads(match.group(1))


def textarea_of(page: str) -> str:
    match = re.search(r'<textarea id="query"[^>]*>(.*?)</textarea>', page, re.S)
    assert match
    return unescape(match.group(1))


@pytest.mark.parametrize("path", ["/query", "/sparql"])
def test_page_has_editor_prefixes_and_examples(client, path):
    response = client.get(path, headers={"Accept": BROWSER})
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    text = textarea_of(page)
    for prefix in querypage.PREFIX_ORDER:
        assert re.search(rf"^PREFIX {prefix}: <[^>]+>$", text, re.M), prefix
    config = config_of(page)
    assert config["autorun"] is False
    names = {e["name"] for e in config["examples"]}
    assert names == set(queries.discover())
    for name in names:
        assert f'<option value="{name}"' in page
    assert '<script src="/static/query.js" defer></script>' in page


def test_page_works_offline(client):
    page = client.get("/query").get_data(as_text=True)
    loaded = re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="([^"]+)"', page)
    assert loaded and all(url.startswith("/") and not url.startswith("//") for url in loaded)
    for name in ("query.js", "query.css"):
        body = (STATIC / name).read_text(encoding="utf-8")
        assert not re.search(r"https?://(?!www\.w3\.org/2001/XMLSchema#)", body), name
        assert "@import" not in body and "url(" not in body


def test_script_never_writes_html():
    script = (STATIC / "query.js").read_text(encoding="utf-8")
    assert not re.search(r"\.(inner|outer)HTML\b|insertAdjacentHTML|document\.write", script)
    assert "application/sparql-results+json" in script


def test_permalink_opens_filled_and_runs(client):
    query = "SELECT ?s WHERE { ?s a <https://w3id.org/medkg/ontology#Dataset> } LIMIT 3"
    response = client.get("/query", query_string={"query": query})
    page = response.get_data(as_text=True)
    assert textarea_of(page) == query
    assert config_of(page)["autorun"] is True
    assert config_of(client.get("/query", query_string={"query": query, "run": "false"})
                     .get_data(as_text=True))["autorun"] is False


def test_example_by_name(client):
    page = client.get("/query?example=datasets-by-anatomy").get_data(as_text=True)
    assert "VALUES ?anatomy { <https://w3id.org/medkg/anatomy/abdomen> }" in textarea_of(page)
    assert config_of(page)["autorun"] is True
    response = client.get("/query?example=no-such-query")
    assert response.status_code == 400 and "example" in response.get_json()["error"]["message"]


def test_unknown_parameter_is_400(client):
    response = client.get("/query?qeury=x")
    assert response.status_code == 400 and "qeury" in response.get_json()["error"]["message"]


def test_hostile_query_is_escaped(client):
    hostile = "</textarea><script>alert(1)</script>"
    page = client.get("/query", query_string={"query": hostile}).get_data(as_text=True)
    assert "<script>alert(1)" not in page
    assert textarea_of(page) == hostile
    assert config_of(page)["endpoint"] == "/sparql"


def test_every_example_runs_with_rows(client):
    for example in querypage.examples():
        response = client.post("/sparql", data={"query": example["text"]},
                               headers={"Accept": "application/sparql-results+json"})
        assert response.status_code == 200, (example["name"], response.get_data(as_text=True))
        assert response.get_json()["results"]["bindings"], example["name"]


def test_defaults_bound_at_the_top_of_the_where_block():
    named = queries.NamedQuery(
        name="t", path=Path("t.rq"), title="T", question="Q?", examples=(),
        params=(queries.Param("anatomy", "anatomy", "liver", "a body part {x}"),
                queries.Param("min_cases", "integer", "10", ""),
                queries.Param("venue", "string", None, "")),
        text='# title: T {not here}\nPREFIX mkg: <https://w3id.org/medkg/ontology#{}>\n'
             'SELECT ?d WHERE { ?d mkg:anatomy ?anatomy ; mkg:caseCount ?c . '
             'FILTER(?c >= ?min_cases) }\n')
    text = querypage.bound_text(named)
    head, _, body = text.partition("WHERE {")
    assert "VALUES" not in head
    assert body.startswith("\n  VALUES ?anatomy { <https://w3id.org/medkg/anatomy/liver> }")
    assert 'VALUES ?min_cases { "10"^^<http://www.w3.org/2001/XMLSchema#integer> }' in body
    assert "?venue {" not in body  # no default: left for the reader to bind


def test_downloads_in_each_format(client):
    query = "SELECT ?s WHERE { ?s a <https://w3id.org/medkg/ontology#Dataset> } LIMIT 2"
    for fmt, mimetype in (("json", "application/sparql-results+json"),
                          ("xml", "application/sparql-results+xml"), ("csv", "text/csv"),
                          ("tsv", "text/tab-separated-values")):
        response = client.get("/sparql", query_string={"query": query, "format": fmt})
        assert response.status_code == 200 and response.mimetype == mimetype
    construct = "CONSTRUCT { ?s a ?t } WHERE { ?s a ?t } LIMIT 2"
    for fmt, mimetype in (("ttl", "text/turtle"), ("nt", "application/n-triples"),
                          ("jsonld", "application/ld+json"), ("rdf", "application/rdf+xml")):
        response = client.get("/sparql", query_string={"query": construct, "format": fmt})
        assert response.status_code == 200 and response.mimetype == mimetype

"""The one error renderer: JSON for tools, one text line on request, an HTML page for browsers."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest

from medkg.web import create_app

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture(scope="module")
def client(mini_store):
    return create_app(mini_store).test_client()


class Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.chunks: list[str] = []

    def handle_data(self, data):
        self.chunks.append(data)


def test_tools_get_json(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and response.content_type == "application/json"
    assert json.loads(response.data)["error"]["status"] == 404


def test_text_on_request(client):
    response = client.get("/no-such-page", headers={"Accept": "text/plain"})
    assert response.status_code == 404 and response.data.decode().startswith("404 ")


def test_browsers_get_a_page_with_the_message_escaped(client):
    response = client.get("/sparql", query_string={"query": "SELECT <script>"}, headers={"Accept": BROWSER})
    assert response.status_code == 400 and response.content_type.startswith("text/html")
    body = response.data.decode()
    assert "<script>" not in body.split("<main", 1)[-1].split("</main>", 1)[0]
    parser = Text()
    parser.feed(body)
    assert any("syntax" in chunk.lower() for chunk in parser.chunks)


def test_bare_wildcard_is_not_a_browser(client):
    response = client.get("/no-such-page", headers={"Accept": "*/*"})
    assert response.content_type == "application/json"

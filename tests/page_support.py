"""Helpers for the page and negotiation tests: an in-process app per store, an HTML reader."""

from __future__ import annotations

import json
from contextlib import contextmanager
from html.parser import HTMLParser

from medkg.web import create_app

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"
IRI = "https://w3id.org/medkg/"


@contextmanager
def app_for(store_dir):
    app = create_app(store_dir, timeout=60)
    try:
        yield app
    finally:
        app.extensions["medkg"].executor.close()


class Page(HTMLParser):
    """A parsed page: links, text, headings, JSON-LD blocks, scripts, elements by id."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
            "track", "wbr"}

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.scripts: list[dict] = []
        self.jsonld: list[str] = []
        self.headings: list[str] = []
        self.ids: set[str] = set()
        self.text_parts: list[str] = []
        self._stack: list[str] = []
        self._script: dict | None = None
        self._heading: list[str] | None = None
        self.feed(html)
        self.close()
        assert not [t for t in self._stack if t not in ("html", "body")], (
            f"unclosed elements: {self._stack}")

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if tag == "script":
            self._script = {"type": attrs.get("type"), "src": attrs.get("src"), "body": ""}
        if tag in ("h1", "h2"):
            self._heading = []
        if tag not in self.VOID:
            self._stack.append(tag)

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        assert self._stack and self._stack[-1] == tag, f"</{tag}> closes {self._stack[-3:]}"
        self._stack.pop()
        if tag == "script" and self._script is not None:
            self.scripts.append(self._script)
            if self._script["type"] == "application/ld+json":
                self.jsonld.append(self._script["body"])
            self._script = None
        if tag in ("h1", "h2") and self._heading is not None:
            self.headings.append(" ".join("".join(self._heading).split()))
            self._heading = None

    def handle_data(self, data):
        if self._script is not None:
            self._script["body"] += data
            return
        self.text_parts.append(data)
        if self._heading is not None:
            self._heading.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.text_parts).split())

    def json_ld(self) -> list[dict]:
        return [json.loads(body) for body in self.jsonld]


def get_page(client, path: str, status: int = 200) -> Page:
    response = client.get(path, headers={"Accept": BROWSER})
    assert response.status_code == status, (path, response.status_code, response.data[:300])
    assert response.mimetype == "text/html", (path, response.content_type)
    return Page(response.get_data(as_text=True))

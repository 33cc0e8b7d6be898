"""negotiate(): one table of (Accept, ?format=, kinds) -> format or error."""

from __future__ import annotations

import pytest

from medkg.errors import BadFormat, FormatNotAcceptable
from medkg.formats import BY_KEY, FORMATS, Kind, by_name, formats_for, negotiate, parse_accept

S, B, G, D, H = Kind.SOLUTIONS, Kind.BOOLEAN, Kind.GRAPH, Kind.DATASET, Kind.HTML
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

CASES = [
    # accept, format param, kinds, expected key (or exception class)
    (None, None, S, "results-json"),
    ("", None, S, "results-json"),
    ("*/*", None, S, "results-json"),
    ("application/sparql-results+json", None, S, "results-json"),
    ("application/json", None, S, "results-json"),
    ("application/sparql-results+xml", None, S, "results-xml"),
    ("text/csv", None, S, "csv"),
    ("text/tab-separated-values", None, S, "tsv"),
    ("text/*", None, S, "results-xml"),  # text/xml is one of its media types
    ("text/csv;q=0.5, text/tab-separated-values", None, S, "tsv"),
    ("text/csv;q=0.9, application/sparql-results+xml;q=0.95", None, S, "results-xml"),
    ("application/sparql-results+json;q=0, */*;q=0.1", None, S, "results-xml"),
    ("application/json;q=0, */*", None, S, "results-xml"),  # refused by an alias
    ("text/csv, */*;q=0.1", None, B, "csv"),
    (BROWSER, None, S, "results-xml"),
    ("application/xml", None, B, "results-xml"),
    ("text/turtle", None, S, FormatNotAcceptable),
    ("image/png", None, S, FormatNotAcceptable),
    ("application/sparql-results+json;q=0", None, S, FormatNotAcceptable),
    ("garbage", None, S, "results-json"),  # nothing parseable: as if no Accept
    ("text/turtle;q=abc, text/csv", None, S, "csv"),  # a bad q counts as 0
    # ?format= overrides Accept
    ("text/csv", "json", S, "results-json"),
    ("text/csv", "xml", S, "results-xml"),
    (None, "tsv", B, "tsv"),
    (None, "application/sparql-results+xml", S, "results-xml"),
    (None, "JSON", S, "results-json"),
    (None, "yaml", S, BadFormat),
    (None, "ttl", S, FormatNotAcceptable),  # known, but not for SELECT
    # graphs
    (None, None, G, "turtle"),
    ("application/n-triples", None, G, "ntriples"),
    ("application/rdf+xml", None, G, "rdfxml"),
    ("application/ld+json", None, G, "jsonld"),
    ("application/json", None, G, "jsonld"),
    ("application/xml", None, G, "rdfxml"),
    ("text/turtle;q=0.2, application/ld+json;q=0.8", None, G, "jsonld"),
    ("text/turtle, */*", None, G, "turtle"),
    ("*/*, application/rdf+xml", None, G, "rdfxml"),  # the more specific match wins the tie
    (BROWSER, None, G, "rdfxml"),
    ("text/csv", None, G, FormatNotAcceptable),
    (None, "xml", G, "rdfxml"),
    (None, "json", G, "jsonld"),
    (None, "nt", G, "ntriples"),
    (None, "csv", G, FormatNotAcceptable),
    # datasets, pages, several kinds at once
    (None, None, D, "nquads"),
    ("application/trig", None, D, "trig"),
    (BROWSER, None, (G, H), "html"),
    ("*/*", None, (G, H), "turtle"),
    ("text/html;q=0.5, text/turtle", None, (G, H), "turtle"),
    (None, "html", (G, H), "html"),
    (None, None, (H, G), "html"),
]


@pytest.mark.parametrize("accept, param, kinds, expected", CASES)
def test_negotiate(accept, param, kinds, expected):
    if isinstance(expected, type):
        with pytest.raises(expected) as info:
            negotiate(accept, param, kinds)
        if expected is FormatNotAcceptable:
            assert info.value.status == 406 and info.value.acceptable
            assert all(m in str(info.value) or param for m in info.value.acceptable[:1])
        else:
            assert info.value.status == 400
    else:
        assert negotiate(accept, param, kinds).key == expected


def test_not_acceptable_lists_the_acceptable_types():
    with pytest.raises(FormatNotAcceptable) as info:
        negotiate("image/png", None, Kind.GRAPH)
    assert "text/turtle" in info.value.acceptable
    assert "text/turtle" in str(info.value)


def test_every_format_knows_its_media_type_extension_and_kind():
    for fmt in FORMATS:
        assert "/" in fmt.media_type and fmt.extension and fmt.kinds, fmt.key
        for kind in fmt.kinds:
            assert negotiate(fmt.media_type, None, kind) is fmt or \
                fmt.media_type in negotiate(fmt.media_type, None, kind).media_types, fmt.key
        assert by_name(fmt.extension, next(iter(fmt.kinds))).extension == fmt.extension


def test_native_formats_match_pyoxigraph():
    for fmt in FORMATS:
        native = fmt.results or fmt.rdf
        if native is not None:
            assert native.media_type.split(";")[0] == fmt.media_type, fmt.key
    assert BY_KEY["turtle"].iri == "http://www.w3.org/ns/formats/Turtle"
    assert [f.key for f in formats_for(Kind.SOLUTIONS)] == ["results-json", "results-xml", "csv",
                                                           "tsv"]


def test_parse_accept():
    ranges = parse_accept("text/html;level=1;q=0.7, */*; q=0.1 ,, bogus, application/json")
    assert [(r.type, r.subtype, r.q) for r in ranges] == [
        ("text", "html", 0.7), ("*", "*", 0.1), ("application", "json", 1.0)]

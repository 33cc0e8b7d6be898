"""Inspect a query before it runs: its length, its form (a query or an update) and its SERVICE calls.

Decisions come from tokens and parse trees, never from a text pattern over the raw query:

- The form is read by a tokenizer over the prologue (whitespace, comments, BASE and PREFIX
  declarations), after SPARQL's codepoint escapes (``\\u0053ELECT``) are expanded as the
  parsers do. An update keyword there (INSERT, DELETE, LOAD, CLEAR, ...) is refused. The
  executor only ever calls ``Store.query``, which cannot run an update anyway.
- SERVICE: a SERVICE keyword can only exist if the escape-expanded, case-folded text contains
  ``service``. Most queries do not, and pay nothing more. The rest are parsed with rdflib's
  SPARQL parser and the algebra is walked for ``ServiceGraphPattern``: a word in a string,
  comment or IRI is not a call; ``FILTER(1<2)SERVICE<...>`` is. A call is refused unless its
  endpoint is in the allow list; a variable endpoint is always refused; a query that mentions
  SERVICE but cannot be parsed is refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .errors import RequestTooLarge, ServiceRefused, UpdateRefused
from .formats import Kind

QUERY_FORMS: dict[str, Kind] = {
    "select": Kind.SOLUTIONS,
    "ask": Kind.BOOLEAN,
    "construct": Kind.GRAPH,
    "describe": Kind.GRAPH,
}
UPDATE_KEYWORDS = frozenset(
    {"insert", "delete", "load", "clear", "drop", "create", "add", "move", "copy", "with"})

_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_PROLOGUE_TOKEN = re.compile(
    r"""(?P<ws>\s+)
      | (?P<comment>\#[^\n\r]*)
      | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
      | (?P<pname>(?:[^\W\d][\w.\-\u00B7]*)?:)
      | (?P<word>[A-Za-z]+)
    """,
    re.VERBOSE,
)
# functions whose value changes from one evaluation to the next: such answers are not cached
_VOLATILE = re.compile(r"\b(?:rand|now|uuid|struuid|bnode)\s*\(")


@dataclass(frozen=True)
class Inspection:
    text: str
    form: str | None  # select, ask, construct, describe; None when the tokenizer cannot tell
    services: tuple[str, ...]  # allowed SERVICE endpoints the query calls
    cacheable: bool

    @property
    def kind(self) -> Kind | None:
        return QUERY_FORMS.get(self.form) if self.form else None


def unescape_codepoints(text: str) -> str:
    """Expand ``\\uXXXX`` / ``\\UXXXXXXXX`` as SPARQL does before parsing."""

    def expand(match: re.Match) -> str:
        code = int(match.group(1) or match.group(2), 16)
        return chr(code) if code <= 0x10FFFF else match.group(0)

    return _ESCAPE.sub(expand, text)


def query_form(text: str) -> str | None:
    """The first keyword after the prologue, lower case (``select``, ``insert`` ...), or None."""
    text = unescape_codepoints(text)
    pos, expect = 0, None  # expect: what the last BASE/PREFIX still needs
    while pos < len(text):
        match = _PROLOGUE_TOKEN.match(text, pos)
        if not match:
            return None
        pos = match.end()
        group = match.lastgroup
        if group in ("ws", "comment"):
            continue
        if expect:
            if group != expect[0]:
                return None
            expect = expect[1:]
            continue
        if group != "word":
            return None
        word = match.group().lower()
        if word == "base":
            expect = ("iri",)
        elif word == "prefix":
            expect = ("pname", "iri")
        else:
            return word
    return None


def service_endpoints(text: str) -> list[object]:
    """Every SERVICE endpoint in the query: rdflib URIRef or Variable terms (parsed, not matched)."""
    if "service" not in unescape_codepoints(text).casefold():
        return []
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery
    from rdflib.plugins.sparql.parserutils import CompValue

    try:
        algebra = translateQuery(parseQuery(text)).algebra
    except Exception as exc:  # noqa: BLE001 - any failure means we cannot vouch for the query
        raise ServiceRefused(
            "the query mentions SERVICE and could not be checked, so it is refused "
            f"(parser: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
        ) from None
    found: list[object] = []
    stack: list[object] = [algebra]
    while stack:
        node = stack.pop()
        if isinstance(node, CompValue):
            if node.name == "ServiceGraphPattern":
                found.append(node.get("term"))
            stack.extend(node.values())
        elif isinstance(node, (list, tuple)):
            stack.extend(node)
    return found


def inspect(text: str, *, max_length: int, allow_service: Iterable[str] = ()) -> Inspection:
    """Check a query against the endpoint's rules; raises a MedkgError (with status) if refused."""
    if len(text) > max_length:
        raise RequestTooLarge(f"the query is {len(text)} characters; the limit is {max_length}")
    form = query_form(text)
    if form in UPDATE_KEYWORDS:
        raise UpdateRefused(
            f"SPARQL Update ({form.upper()}) is not allowed: this endpoint is read-only")
    allowed = set(allow_service)
    services: list[str] = []
    for term in service_endpoints(text):
        name = type(term).__name__
        if name != "URIRef":
            raise ServiceRefused(
                "SERVICE with a variable endpoint is not allowed: this endpoint makes no "
                "outbound requests except to configured endpoints")
        if str(term) not in allowed:
            raise ServiceRefused(
                f"SERVICE <{term}> is not allowed: this endpoint makes no outbound requests"
                + (" except to: " + ", ".join(sorted(allowed)) if allowed else ""))
        services.append(str(term))
    volatile = bool(_VOLATILE.search(unescape_codepoints(text).casefold()))
    return Inspection(text=text, form=form if form in QUERY_FORMS else None,
                      services=tuple(services), cacheable=not volatile and not services)

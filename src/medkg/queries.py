"""Named competency queries: discover queries/*.rq, parse their headers, bind typed parameters.

A query file starts with a header of comment lines::

    # title: Datasets for an anatomy
    # question: Which datasets cover a body part, narrower parts included, by modality?
    # param: anatomy: anatomy = abdomen -- the body part, an anatomy id
    # param: min_cases: integer = 0 -- the least number of cases

A parameter binds the query variable of the same name (``?anatomy``) as an RDF term through
pyoxigraph's ``substitutions``; values are never pasted into the query text. Types: string,
integer, decimal, boolean, date, year, iri, or an entity kind (dataset, anatomy, modality,
task, category, method, benchmark, challenge, platform, organization, toolbox), which takes
an id and binds the entity's IRI.

pyoxigraph substitutes only variables of the outer SELECT projection (any other is refused),
and a sub-SELECT sees the value only if it projects the variable too: so each parameter is
projected by the query (it shows in every row) and used outside sub-SELECTs. :func:`lint`
checks the first rule; the expected-answer tests, run with non-default values, the second.
Optional lines ``# example: key=value ...`` give parameter values the docs show.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pyoxigraph as ox

from . import paths
from .errors import BadParameter, MedkgError, QueryError, QueryNotFound
from .models import ID_PATTERN

XSD = "http://www.w3.org/2001/XMLSchema#"
ENTITY_KINDS = set(paths.KIND_DIRS) | set(paths.VOCAB_KINDS)
SCALAR_TYPES = {"string", "integer", "decimal", "boolean", "date", "year", "iri"}
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
HEADER = re.compile(r"^#\s*(title|question|param|example):\s*(.*?)\s*$")
PARAM = re.compile(r"^(?P<name>[A-Za-z_]\w*)\s*:\s*(?P<type>[a-z-]+)\s*(?:=\s*(?P<default>\S+))?"
                   r"\s*(?:--\s*(?P<doc>.*))?$")


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    default: str | None
    doc: str

    @property
    def required(self) -> bool:
        return self.default is None


@dataclass(frozen=True)
class NamedQuery:
    name: str
    path: Path
    title: str
    question: str
    params: tuple[Param, ...]
    text: str
    examples: tuple[str, ...] = field(default=())


def parse_header(path: Path, text: str) -> NamedQuery:
    values: dict[str, str] = {}
    params: list[Param] = []
    examples: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.startswith("#"):
            if line.strip():
                break
            continue
        match = HEADER.match(line)
        if not match:
            continue
        key, value = match.groups()
        if key == "param":
            pm = PARAM.match(value)
            if not pm:
                raise MedkgError(f"{path}:{number}: bad param header '{value}' "
                                 "(expected 'name: type = default -- description')")
            ptype = pm["type"]
            if ptype not in SCALAR_TYPES and ptype not in ENTITY_KINDS:
                raise MedkgError(f"{path}:{number}: unknown parameter type '{ptype}'")
            params.append(Param(pm["name"], ptype, pm["default"], (pm["doc"] or "").strip()))
        elif key == "example":
            examples.append(value)
        else:
            values[key] = value
    for key in ("title", "question"):
        if not values.get(key):
            raise MedkgError(f"{path}: the header has no '# {key}:' line")
    return NamedQuery(path.stem, path, values["title"], values["question"], tuple(params), text,
                      tuple(examples))


def discover(directory: Path | None = None) -> dict[str, NamedQuery]:
    directory = directory or paths.queries_dir()
    out: dict[str, NamedQuery] = {}
    for path in sorted(Path(directory).glob("*.rq")):
        out[path.stem] = parse_header(path, path.read_text(encoding="utf-8"))
    return out


def get(name: str, directory: Path | None = None) -> NamedQuery:
    if not NAME_PATTERN.match(name):
        raise QueryNotFound(f"no named query '{name}'")
    path = Path(directory or paths.queries_dir()) / f"{name}.rq"
    if not path.is_file():
        known = ", ".join(sorted(discover(directory))) or "none"
        raise QueryNotFound(f"no named query '{name}' (known: {known})")
    return parse_header(path, path.read_text(encoding="utf-8"))


def to_term(param: Param, raw: str):
    """Parse a raw string as the parameter's type -> an RDF term; BadParameter names it."""
    def bad(why: str) -> BadParameter:
        return BadParameter(f"parameter '{param.name}' ({param.type}): {why}: {raw!r}")

    kind = param.type
    if kind in ENTITY_KINDS:
        if not re.match(ID_PATTERN, raw):
            raise bad("not an id (lowercase letters, digits and '-')")
        return ox.NamedNode(paths.entity_iri(kind, raw))
    if kind == "iri":
        if not re.match(r"^https?://[^\s<>\"{}|\\^`]+$", raw):
            raise bad("not an http(s) IRI")
        return ox.NamedNode(raw)
    if kind == "integer":
        if not re.fullmatch(r"[+-]?\d{1,18}", raw):
            raise bad("not an integer")
        return ox.Literal(str(int(raw)), datatype=ox.NamedNode(XSD + "integer"))
    if kind == "decimal":
        if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", raw):
            raise bad("not a decimal number")
        return ox.Literal(raw, datatype=ox.NamedNode(XSD + "decimal"))
    if kind == "boolean":
        if raw.lower() not in ("true", "false"):
            raise bad("not true or false")
        return ox.Literal(raw.lower(), datatype=ox.NamedNode(XSD + "boolean"))
    if kind == "year":
        if not re.fullmatch(r"\d{4}", raw):
            raise bad("not a four-digit year")
        return ox.Literal(raw, datatype=ox.NamedNode(XSD + "integer"))
    if kind == "date":
        try:
            date.fromisoformat(raw)
        except ValueError:
            raise bad("not a date YYYY-MM-DD") from None
        return ox.Literal(raw, datatype=ox.NamedNode(XSD + "date"))
    if len(raw) > 500:
        raise bad("longer than 500 characters")
    return ox.Literal(raw)


def bind(query: NamedQuery, values: dict[str, str]) -> dict:
    """Typed substitutions for a named query from raw string values (defaults filled in)."""
    problems = lint(query)
    if problems:
        raise QueryError(f"{query.path}: " + "; ".join(problems))
    known = {p.name for p in query.params}
    for name in values:
        if name not in known:
            allowed = ", ".join(sorted(known)) or "none"
            raise BadParameter(f"query '{query.name}' has no parameter '{name}' (parameters: {allowed})")
    out = {}
    for param in query.params:
        raw = values.get(param.name, param.default)
        if raw is None:
            raise BadParameter(f"query '{query.name}' needs parameter '{param.name}' ({param.type})")
        out[ox.Variable(param.name)] = to_term(param, raw)
    return out


def parse_params(pairs: tuple[str, ...] | list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise BadParameter(f"--param {pair!r}: expected KEY=VALUE")
        out[key.strip()] = value
    return out


def prepare(arg: str, pairs: tuple[str, ...] = ()) -> tuple[str, dict | None]:
    """The CLI's QUERY argument -> (query text, substitutions).

    ARG is the name of a query in queries/, a path to a .rq file, or SPARQL text.
    """
    values = parse_params(pairs)
    path = Path(arg)
    if len(arg) < 100 and NAME_PATTERN.match(arg) and (paths.queries_dir() / f"{arg}.rq").is_file():
        named = get(arg)
        return named.text, bind(named, values)
    if arg.endswith(".rq") or (len(arg) < 300 and "\n" not in arg and path.is_file()):
        if not path.is_file():
            raise MedkgError(f"{arg}: no such query file")
        text = path.read_text(encoding="utf-8")
        named = parse_header(path, text) if HEADER.match(text.splitlines()[0] if text else "") else None
        return text, (bind(named, values) if named else _no_params(values))
    return arg, _no_params(values)


def _no_params(values: dict[str, str]) -> None:
    if values:
        raise BadParameter("--param is only for named queries with a header")
    return None


# -- checks and documentation -----------------------------------------------------------------

SELECT_CLAUSE = re.compile(r"\bSELECT\b(?P<projection>.*?)(?:\bWHERE\b|\{)", re.IGNORECASE | re.DOTALL)


def body(query: NamedQuery) -> str:
    """The query text without comment lines (a '#' inside an IRI or a string stays)."""
    return "\n".join(line for line in query.text.splitlines() if not line.lstrip().startswith("#"))


def lint(query: NamedQuery) -> list[str]:
    """Problems that would make a parameter fail to bind: each one a message naming it."""
    problems = []
    text = body(query)
    match = SELECT_CLAUSE.search(text)
    projection = match["projection"] if match else ""
    for param in query.params:
        variable = re.compile(rf"[?$]{re.escape(param.name)}\b")
        if not variable.search(text):
            problems.append(f"{query.name}: parameter '{param.name}' is not used in the query")
        elif projection.strip() == "*" or not variable.search(projection):
            problems.append(f"{query.name}: parameter '{param.name}' is not in the outer SELECT "
                            "projection (pyoxigraph substitutes projected variables only)")
    return problems


def examples(query: NamedQuery) -> list[dict[str, str]]:
    """Parameter values to show: the defaults, then each '# example:' line."""
    out = [{}]
    for line in query.examples:
        out.append(parse_params(line.split()))
    return out


def cli_call(query: NamedQuery, values: dict[str, str]) -> str:
    args = "".join(f" --param {k}={v}" for k, v in values.items())
    return f"medkg query {query.name}{args}"


def http_path(query: NamedQuery, values: dict[str, str]) -> str:
    from urllib.parse import urlencode

    return f"/queries/{query.name}" + (f"?{urlencode(values)}" if values else "")


def describe(query: NamedQuery) -> dict:
    """A query as plain data (the /queries listing and the docs)."""
    return {
        "name": query.name,
        "title": query.title,
        "question": query.question,
        "params": [{"name": p.name, "type": p.type, "default": p.default, "description": p.doc}
                   for p in query.params],
        "examples": [{"params": v, "cli": cli_call(query, v), "http": http_path(query, v)}
                     for v in examples(query)],
    }


def render_docs(named: dict[str, NamedQuery] | None = None) -> str:
    """docs/queries.md: every named query's title, question, parameters and example calls."""
    named = discover() if named is None else named
    lines = [
        "# Named queries",
        "",
        "<!-- Generated from the headers of queries/*.rq by `medkg queries docs -o docs/queries.md`;",
        "     do not edit by hand (a test checks this file is current). -->",
        "",
        "Competency questions over the medkg graph. Run one from the command line with",
        "`medkg query NAME --param key=value` (formats: `--format table|json|csv|tsv|xml`) or over",
        "HTTP with `GET /queries/NAME?key=value` (content negotiation as for `/sparql`:",
        "`Accept` or `?format=`). `GET /queries` lists them. Parameters are typed and bound as RDF",
        "terms, never pasted into the query text; an entity-typed parameter takes an id",
        "(`abdomen`, `ct`, `synapse`) and binds the entity's IRI.",
        "",
        "| Query | Question |",
        "|---|---|",
    ]
    for query in named.values():
        lines.append(f"| [`{query.name}`](#{query.name}) | {query.question} |")
    for query in named.values():
        lines += ["", f"## {query.name}", "", f"**{query.title}.** {query.question}", ""]
        if query.params:
            lines += ["| Parameter | Type | Default | Description |", "|---|---|---|---|"]
            for p in query.params:
                default = f"`{p.default}`" if p.default is not None else "(required)"
                lines.append(f"| `{p.name}` | {p.type} | {default} | {p.doc} |")
        else:
            lines.append("No parameters.")
        lines += ["", "```sh"]
        for values in examples(query):
            lines.append(cli_call(query, values))
        for values in examples(query):
            lines.append(f"curl -H 'Accept: text/csv' 'http://127.0.0.1:8000{http_path(query, values)}'")
        lines += ["```", "", f"Source: [`queries/{query.path.name}`](../queries/{query.path.name})"]
    return "\n".join(lines) + "\n"

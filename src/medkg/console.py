"""Command-line output: query results as a table for people or a standard format for tools,
and whole-graph exports. Used by cli.py only."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import click
import pyoxigraph as ox

from . import store
from .errors import MedkgError, QueryError
from .paths import is_remote
from .rdf import PREFIXES

RESULT_FORMATS = {
    "json": ox.QueryResultsFormat.JSON, "csv": ox.QueryResultsFormat.CSV,
    "tsv": ox.QueryResultsFormat.TSV, "xml": ox.QueryResultsFormat.XML,
}
GRAPH_FORMATS = {
    "ttl": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES, "nq": ox.RdfFormat.N_QUADS,
    "jsonld": ox.RdfFormat.JSON_LD, "rdfxml": ox.RdfFormat.RDF_XML,
}
PREFIX_MAP = {prefix: str(ns) for prefix, ns in PREFIXES.items()}


def compact(term) -> str:
    """A term as a person reads it: prefixed IRIs, plain literal values, '' for unbound."""
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        value = term.value
        for prefix, ns in PREFIX_MAP.items():
            if value.startswith(ns) and len(value) > len(ns):
                return f"{prefix}:{value[len(ns):]}"
        if value.startswith("https://w3id.org/medkg/"):
            return value[len("https://w3id.org/medkg/"):]
        return value
    if isinstance(term, ox.Literal):
        return term.value
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    return str(term)


def table(variables: list[str], rows: list[list[str]]) -> str:
    width = shutil.get_terminal_size((120, 20)).columns
    widths = [len(v) for v in variables]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row)]
    cap = max(12, (width - 3 * len(widths)) // max(1, len(widths)))
    widths = [min(w, cap) for w in widths]

    def fmt(cells: list[str]) -> str:
        out = []
        for cell, w in zip(cells, widths):
            cell = cell.replace("\n", " ")
            out.append(cell if len(cell) <= w else cell[: w - 1] + "…")
        return " | ".join(c.ljust(w) for c, w in zip(out, widths)).rstrip()

    lines = [fmt(variables), "-+-".join("-" * w for w in widths)]
    lines += [fmt(row) for row in rows]
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(lines)


def execute(store_dir: Path | str, text: str, substitutions=None):
    if is_remote(store_dir):  # an engine: the query runs there, on the current build's graph
        from .remote import RemoteStore

        engine = RemoteStore.from_url(store_dir)
        return engine.query(text, default_graphs=(engine.current().graph,),
                            substitutions=substitutions, prefixes=PREFIX_MAP)
    handle, _ = store.open_read_only(store_dir)
    try:
        return handle.query(text, substitutions=substitutions, prefixes=PREFIX_MAP)
    except SyntaxError as exc:
        raise QueryError(f"query syntax error: {exc}") from exc
    except OSError as exc:
        raise QueryError(f"query failed: {exc}") from exc


def print_results(result, fmt: str) -> None:
    out = sys.stdout.buffer
    if isinstance(result, ox.QueryBoolean):
        if fmt == "table":
            click.echo("true" if bool(result) else "false")
        elif fmt in RESULT_FORMATS:
            out.write(result.serialize(format=RESULT_FORMATS[fmt]))
        else:
            raise MedkgError(f"--format {fmt} is for CONSTRUCT/DESCRIBE queries; use json, xml, csv or tsv")
    elif isinstance(result, ox.QuerySolutions):
        if fmt == "table":
            variables = [v.value for v in result.variables]
            rows = [[compact(s[v]) for v in variables] for s in result]
            click.echo(table(variables, rows))
        elif fmt in RESULT_FORMATS:
            out.write(result.serialize(format=RESULT_FORMATS[fmt]))
        else:
            raise MedkgError(f"--format {fmt} is for CONSTRUCT/DESCRIBE queries; use table, json, xml, csv or tsv")
    else:  # triples
        if fmt in ("ttl", "nt", "table"):
            rdf_format = ox.RdfFormat.N_TRIPLES if fmt == "nt" else ox.RdfFormat.TURTLE
            out.write(ox.serialize(result, format=rdf_format, prefixes=PREFIX_MAP)
                      if rdf_format == ox.RdfFormat.TURTLE else ox.serialize(result, format=rdf_format))
        else:
            raise MedkgError(f"--format {fmt} is for SELECT/ASK queries; use ttl or nt")
    out.flush()


def run_query(store_dir: Path, arg: str, fmt: str, params: tuple[str, ...]) -> None:
    from . import queries

    text, substitutions = queries.prepare(arg, params)
    print_results(execute(store_dir, text, substitutions), fmt)


def export_store(store_dir: Path, fmt: str, output: Path | None) -> None:
    if fmt not in GRAPH_FORMATS:
        raise MedkgError(f"--format {fmt}: choose one of {', '.join(GRAPH_FORMATS)}")
    handle, _ = store.open_read_only(store_dir)
    rdf_format = GRAPH_FORMATS[fmt]
    kwargs = {}
    if fmt != "nq":
        kwargs["from_graph"] = ox.DefaultGraph()
    if fmt in ("ttl", "rdfxml", "jsonld"):
        kwargs["prefixes"] = PREFIX_MAP
    if fmt == "jsonld":
        kwargs.pop("prefixes")
    if output is None:
        sys.stdout.buffer.write(handle.dump(format=rdf_format, **kwargs))
        sys.stdout.buffer.flush()
    else:
        handle.dump(str(output), format=rdf_format, **kwargs)


def export_standard(store_dir: Path, fmt: str, dataset: str | None, output: Path | None) -> None:
    from .export import standard_export

    handle, build = store.open_read_only(store_dir)
    body = standard_export(handle, fmt, dataset=dataset, build_id=build.build_id)
    if output is None:
        sys.stdout.buffer.write(body)
        sys.stdout.buffer.flush()
    else:
        output.write_bytes(body)


def cite(store_dir: Path, ids: list[str]) -> None:
    from .export.citations import bibtex_for_ids

    handle, _ = store.open_read_only(store_dir)
    click.echo(bibtex_for_ids(handle, ids), nl=False)


def diff(old: Path | None, new: Path | None, previous: bool, store_dir: Path, fmt: str) -> None:
    from .export import diff as diffs

    if previous == bool(old or new) or (not previous and not (old and new)):
        raise MedkgError("give OLD and NEW, or --previous (with --store)")
    result = diffs.diff_previous(store_dir) if previous else diffs.diff_paths(old, new)
    click.echo(diffs.render(result, fmt), nl=False)

"""The `medkg` command: thin, parses arguments and calls the modules.

Exit codes: 0 ok, 1 bad input (any MedkgError: the message names the file, record and field),
2 usage (click's own).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from . import paths
from .errors import MedkgError

log = logging.getLogger("medkg")

RESULT_FORMATS = ("table", "json", "csv", "tsv", "xml", "ttl", "nt")


def _setup_logging(verbose: int) -> None:
    level = logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def _progress(message: str) -> None:
    click.echo(f"  {message}", err=True)


class MedkgGroup(click.Group):
    """Turns MedkgError into one clear line and exit 1 for every command."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except MedkgError as exc:
            errors = getattr(exc, "errors", None)
            violations = getattr(exc, "violations", None)
            if violations:
                for v in violations:
                    click.echo(f"error: {v.line()}", err=True)
                click.echo(f"error: {len(violations)} SHACL violation(s); the store was not changed",
                           err=True)
            elif errors:
                for error in errors:
                    click.echo(f"error: {error}", err=True)
                click.echo(f"error: {len(errors)} error(s) in the records; nothing was built", err=True)
            else:
                click.echo(f"error: {exc}", err=True)
            ctx.exit(1)


data_option = click.option("--data", "data_dir", type=click.Path(path_type=Path, file_okay=False),
                           default=None, help="records folder (default: the project's data/)")
class StoreType(click.ParamType):
    """A store folder (Path) or a SPARQL engine's URL (str, http:// or https://)."""

    name = "DIR|URL"

    def convert(self, value, param, ctx):
        return paths.store_location(value) if isinstance(value, str) else value


store_option = click.option("--store", "store_dir", type=StoreType(), default=None,
                            envvar="MEDKG_STORE", show_envvar=True,
                            help="store folder (default: the project's var/store), or a SPARQL "
                                 "engine's query URL (credentials: MEDKG_STORE_USER / "
                                 "MEDKG_STORE_PASSWORD; see README)")


@click.group(cls=MedkgGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", count=True, help="more log output (-vv for debug)")
@click.version_option(package_name="medkg")
def main(verbose: int) -> None:
    """medkg: a knowledge graph and SPARQL endpoint of public medical AI datasets."""
    _setup_logging(verbose)


@main.command()
@data_option
@store_option
def build(data_dir: Path | None, store_dir: Path | None) -> None:
    """Load data/, convert to RDF, validate with SHACL and switch the store to the new build."""
    from .build import build as run_build

    store_dir = store_dir or paths.default_store_dir()
    result = run_build(data_dir, store_dir, progress=_progress)
    counts = ", ".join(f"{k} {v}" for k, v in sorted(result.counts.items()))
    click.echo(f"built {result.build_id}: {result.triples} triples ({counts}) in {store_dir}")


@main.command()
@data_option
def validate(data_dir: Path | None) -> None:
    """Check every record and the whole graph against the shapes; exit 1 on any violation."""
    from .build import check

    result = check(data_dir, progress=_progress)
    for violation in result.violations:
        click.echo(violation.line())
    if result.violations:
        click.echo(f"{len(result.violations)} SHACL violation(s)", err=True)
        sys.exit(1)
    click.echo(f"valid: {result.triples} triples, 0 violations")


@main.command()
@store_option
@click.argument("query")
@click.option("--format", "fmt", type=click.Choice(RESULT_FORMATS), default="table", show_default=True)
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE",
              help="parameter of a named query (repeatable)")
def query(store_dir: Path | None, query: str, fmt: str, params: tuple[str, ...]) -> None:
    """Run QUERY: SPARQL text, a path to a .rq file, or the name of a query in queries/."""
    from .console import run_query

    run_query(store_dir or paths.default_store_dir(), query, fmt, params)


@main.group(name="queries")
def queries_group() -> None:
    """The named queries in queries/: list them, write their documentation."""


@queries_group.command(name="list")
def queries_list() -> None:
    """List the named queries with their parameters."""
    from .queries import discover

    for named in discover().values():
        params = " ".join(f"{p.name}:{p.type}={p.default}" for p in named.params)
        click.echo(f"{named.name}  {named.title}" + (f"  [{params}]" if params else ""))


@queries_group.command(name="docs")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="file to write, e.g. docs/queries.md (default: standard output)")
def queries_docs(output: Path | None) -> None:
    """Write the named-query documentation (Markdown) generated from the query headers."""
    from .queries import render_docs

    text = render_docs()
    if output is None:
        click.echo(text, nl=False)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)


@main.command()
@store_option
@click.option("--format", "fmt", required=True,
              help="ttl, nt, nq, jsonld or rdfxml (the whole graph); dcat, dcat-jsonld, croissant or void")
@click.option("--dataset", default=None, help="with --format croissant: one dataset's document")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="file to write (default: standard output)")
def export(store_dir: Path | None, fmt: str, dataset: str | None, output: Path | None) -> None:
    """Write the whole graph of the current build in an RDF format, or a standard export."""
    from .console import export_standard, export_store
    from .export import STANDARD_FORMATS

    if fmt in STANDARD_FORMATS:
        export_standard(store_dir or paths.default_store_dir(), fmt, dataset, output)
    else:
        export_store(store_dir or paths.default_store_dir(), fmt, output)


@main.command()
@store_option
@click.argument("ids", nargs=-1, required=True)
def cite(store_dir: Path | None, ids: tuple[str, ...]) -> None:
    """Print BibTeX for the datasets IDS."""
    from .console import cite as run_cite

    run_cite(store_dir or paths.default_store_dir(), list(ids))


@main.command()
@click.argument("old", required=False, type=click.Path(path_type=Path))
@click.argument("new", required=False, type=click.Path(path_type=Path))
@click.option("--previous", is_flag=True, help="compare the current build with the one before it")
@store_option
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), default="text",
              show_default=True)
def diff(old: Path | None, new: Path | None, previous: bool, store_dir: Path | None, fmt: str) -> None:
    """Datasets added, removed and changed between builds OLD and NEW (store folders or dumps)."""
    from .console import diff as run_diff

    run_diff(old, new, previous, store_dir or paths.default_store_dir(), fmt)


@main.command()
@store_option
@data_option
@click.option("--host", default="127.0.0.1", show_default=True, help="address to bind")
@click.option("--port", default=8000, show_default=True, type=int, help="port (0 picks a free one)")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64),
              help="worker processes")
@click.option("--threads", default=2, show_default=True, type=click.IntRange(1, 64),
              help="request threads per worker (each with its own query process)")
@click.option("--timeout", default=30.0, show_default=True, type=click.FloatRange(0.1, 3600),
              help="query time limit in seconds")
@click.option("--max-rows", default=10_000, show_default=True, type=click.IntRange(1),
              help="rows in one answer; more are cut (and the cut is stated)")
@click.option("--allow-service", multiple=True, metavar="URL",
              help="a SERVICE endpoint queries may call (repeatable; none by default)")
@click.option("--no-cache", is_flag=True, help="answer every query afresh")
@click.option("--no-build", is_flag=True, help="serve the existing store even if data/ is newer")
def serve(store_dir: Path | None, data_dir: Path | None, host: str, port: int, workers: int,
          threads: int, timeout: float, max_rows: int, allow_service: tuple[str, ...],
          no_cache: bool, no_build: bool) -> None:
    """Serve the SPARQL endpoint and linked-data pages (building the store first if needed)."""
    from .build import build as run_build
    from .build import store_is_stale
    from .server import serve as run_server

    store_dir = store_dir or paths.default_store_dir()
    data_dir = data_dir or paths.data_dir()
    if paths.is_remote(store_dir):  # an engine: build only when it holds no build yet
        stale = not no_build and _engine_empty(store_dir)
    else:
        stale = not no_build and store_is_stale(data_dir, store_dir)
    if stale:
        click.echo("store missing or older than data/: building it first", err=True)
        result = run_build(data_dir, store_dir, progress=_progress)
        click.echo(f"built {result.build_id}: {result.triples} triples", err=True)
    run_server(store_dir, host=host, port=port, workers=workers, threads=threads, timeout=timeout,
               max_rows=max_rows, allow_service=allow_service, cache=not no_cache)


def _engine_empty(url: str) -> bool:
    from .errors import StoreNotBuilt
    from .store import current_build

    try:
        current_build(url)
    except StoreNotBuilt:
        return True
    return False


@main.group(name="import")
def import_group() -> None:
    """Make or update records in data/ from an external source."""


def _report(report, name: str) -> None:
    for line in report.summary_lines():
        click.echo(line)
    target = paths.project_root() / "reports" / f"import-{name}.md"
    target.parent.mkdir(parents=True, exist_ok=True)
    report.write(target)
    click.echo(f"report: {target}")


@import_group.command(name="awesome")
@click.argument("source", type=click.Path(path_type=Path, exists=True, file_okay=False))
@data_option
@click.option("--dry-run", is_flag=True, help="report what would change; write nothing")
def import_awesome(source: Path, data_dir: Path | None, dry_run: bool) -> None:
    """Import the Awesome-Medical-Dataset list from a checkout at SOURCE."""
    from .importer.awesome import import_awesome as run

    _report(run(source, data_dir or paths.data_dir(), dry_run=dry_run), "awesome")


@import_group.command(name="evaluations")
@click.argument("source", type=click.Path(path_type=Path, exists=True, file_okay=False))
@data_option
@click.option("--dry-run", is_flag=True, help="report what would change; write nothing")
def import_evaluations(source: Path, data_dir: Path | None, dry_run: bool) -> None:
    """Import method, benchmark and evaluation facts (CSV files) from SOURCE."""
    from .importer.evaluations import import_evaluations as run

    _report(run(source, data_dir or paths.data_dir(), dry_run=dry_run), "evaluations")


if __name__ == "__main__":  # pragma: no cover
    main()

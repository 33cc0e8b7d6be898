"""`medkg import awesome PATH`: Awesome-Medical-Dataset (README + resources/*.md) -> data/.

Reads every README dataset row and every per-dataset page, repairs the known defects of the
input (see SOURCE.md: broken and mis-spelt links, the FLARE 2022 row listed as FLARE 2023,
unlinked pages, an indented table row, wrong arXiv ids), reports each defect, and merges the
records into data/ with ``writer.write_records``.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from urllib.parse import unquote

from .. import paths
from ..errors import RecordError
from ..models import Challenge, Dataset, Platform, Record, slugify
from ..records import iter_record_files, load_record, load_vocabulary
from . import listings, markdown
from .datasets import Context, RowFacts, build_dataset, describe
from .normalize import TermMatcher
from .pages import PageFacts, read_page
from .report import ImportReport
from .writer import write_records

log = logging.getLogger(__name__)

SOURCE = "awesome-medical-dataset"
REPO = "https://github.com/openmedlab/Awesome-Medical-Dataset"
#: README table headers as written -> key
ROW_HEADERS = {"dataset": "name", "name": "name", "description": "description",
               "official website": "website", "website": "website", "release date": "date",
               "date": "date", "challenge": "challenge"}
DATASET_PARENTS = ("public medical dataset",)

EXPLANATIONS = {
    "broken-link": "the linked page does not exist: repaired where the intended page is clear, else the record is built from the row alone",
    "duplicate-link": "two rows link one page: the row whose name, date and challenge fit another, unlinked page gets that page",
    "unlinked-page": "a page no row links: imported as a dataset of its own (listed_upstream true, no README row)",
    "not-a-dataset-page": "a page that is a template, not a dataset: skipped",
    "count-mismatch": "a README contents count differs from the rows in its section: rows are what is imported",
    "indented-table-row": "a table row starts with a space: read as a row all the same",
    "wrong-arxiv-id": "README arXiv id differs from evaluations/methods.csv: the CSV id is used, with a note",
    "unknown-meta-header": "a page meta-table column the importer does not know: value not read",
    "unknown-table-header": "a README table column the importer does not know: value not read",
    "unmapped-modality": "a modality string that matches no modality concept (label or alt_label): left out",
    "unmapped-anatomy": "an anatomy string that matches no anatomy concept: left out",
    "unmapped-task": "a task string that matches no task concept: left out",
    "unmapped-category": "a section that matches no category concept: left out",
    "unmapped-language": "a language name with no BCP 47 tag known to the importer: left out",
    "unparseable-date": "a date in none of the known formats: left out (README date used when given)",
    "modality-conflict": "the page's meta table and the README row name disjoint modalities (a meta table copied from another dataset): the README row is kept",
    "date-conflict": "README release date and page publication date disagree on the year: README kept",
    "broken-url": "a website value that is not a web address: left out",
    "unparsed-author-line": "an Authors and Institutions line not in 'Name (Institution)' form: not read",
    "unparsed-bibtex": "a citation block without a title: not attached to a paper",
    "page-without-meta-table": "a page with no meta table: facts taken from the row",
    "extra-meta-rows": "a meta table with several rows: the first row is read",
    "empty-meta-table": "a meta table without rows: nothing read from it",
    "duplicate-row": "two rows give the same dataset id: the later one gets its README line appended",
    "missing-input": "an input file is missing: the part it feeds is skipped",
    "missing-vocabulary": "a data/vocab file is missing: terms of that scheme cannot be mapped",
    "no-commit": "SOURCE.md names no commit: provenance points at the default branch",
    "missing-field-curated": "a required field the source does not give, set by hand in the record (its notes say why): kept",
    "missing-field": "a required field (category, task; modality and anatomy for imaging) could not be derived: curate by hand",
}


def read_commit(source: Path, report: ImportReport) -> str | None:
    path = source / "SOURCE.md"
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    m = re.search(r"\b[0-9a-f]{40}\b", text)
    if not m:
        report.defect("no-commit", str(path), "no 40-hex commit id found")
        return None
    return m.group(0)


def load_matchers(data_dir: Path, report: ImportReport) -> dict[str, TermMatcher]:
    matchers = {}
    for scheme in paths.VOCAB_KINDS:
        path = paths.vocab_dir(data_dir) / f"{scheme}.yaml"
        vocab = None
        try:
            vocab = load_vocabulary(path) if path.is_file() else None
        except RecordError as exc:
            report.defect("missing-vocabulary", str(path), exc.message)
        if vocab is None and not path.is_file():
            report.defect("missing-vocabulary", str(path), "file not found")
        matchers[scheme] = TermMatcher(vocab)
    return matchers


def existing_platforms(data_dir: Path) -> list[Platform]:
    out = []
    for kind, path in iter_record_files(data_dir):
        if kind == "platform":
            try:
                out.append(load_record(kind, path))  # type: ignore[arg-type]
            except RecordError:
                pass  # reported by the writer if the import produces the same id
    return out


def dataset_rows(readme: str, report: ImportReport) -> list[RowFacts]:
    rows: list[RowFacts] = []
    stack: list[str] = []
    claimed: dict[str, int] = {}
    for m in re.finditer(r"\[([^\]]+?)\s*\((\d+)\)\]\(#", readme):
        claimed[m[1].strip().lower()] = int(m[2])
    for section in markdown.sections(readme):
        stack = stack[: section.level - 1] + [section.title]
        under = [s.lower() for s in stack]
        if not any(p in under for p in DATASET_PARENTS) or section.level < 3:
            continue
        imaging = "imaging" in under[:-1] or section.title.lower() == "imaging"
        count = 0
        for table in markdown.parse_tables(section.text, first_line=section.line + 1):
            keys = []
            for header in table.header:
                key = ROW_HEADERS.get(header.strip().lower())
                if key is None and header.strip():
                    report.defect("unknown-table-header", f"README.md:{table.line}", f"column '{header}' not read")
                keys.append(key)
            for row in table.rows:
                cells = {k: v for k, v in zip(keys, row.cells) if k}
                name_cell = cells.get("name", "")
                found = markdown.LINK.search(name_cell)
                link = found.group(2) if found else None
                name = markdown.strip_links(name_cell).strip()
                rows.append(RowFacts(
                    line=row.line, section=section.title, name=re.sub(r"\s+", " ", name), link=link,
                    description=cells.get("description", ""),
                    websites=[(lab, url) for lab, url in markdown.links(cells.get("website", ""))],
                    date=cells.get("date", "").strip(), challenge=cells.get("challenge", "").strip(),
                    imaging=imaging))
                count += 1
        key = section.title.lower()
        for label, n in claimed.items():
            if (label == key or label.startswith(key.split()[0])) and n != count and count:
                report.defect("count-mismatch", f"README.md:{section.line}",
                              f"contents say {n} for '{section.title}', the table has {count} rows")
                break
    return rows


def resolve_link(row: RowFacts, source: Path, pages: dict[str, Path], report: ImportReport) -> None:
    """Set ``row.page_rel`` to the page the row links, repairing typos; report what was wrong."""
    if not row.link:
        return
    target = unquote(row.link).removeprefix("./")
    where = f"README.md:{row.line}"
    if (source / target).is_file():
        row.page_rel = target
        return
    stem = Path(target).name.lower()
    if stem in pages:
        fixed = pages[stem].relative_to(source).as_posix()
        report.defect("broken-link", where, f"'{row.link}' does not resolve; read as {fixed}")
        row.page_rel = fixed
        row.notes.append(f"README links {row.link}, which does not exist; the page is {fixed}")
        return
    report.defect("broken-link", where, f"'{row.link}' does not resolve and no such page exists; record from the row alone")
    row.notes.append(f"README links {row.link}, which does not exist; facts come from the README row only")


def _years(row: RowFacts) -> set[int]:
    years = {int(y) for y in re.findall(r"(?:19|20)\d{2}", f"{row.date} {row.challenge}")}
    for _, url in row.websites:
        years |= {2000 + int(y) for y in re.findall(r"[a-z](\d{2})(?=[.\-/])", url.lower())}
    return years


def _page_year(stem: str) -> int | None:
    m = re.search(r"(?:19|20)(\d{2})|(?<!\d)(\d{2})(?!\d)", stem)
    if not m:
        return None
    return int("20" + (m[1] or m[2]))


def fix_duplicate_links(rows: list[RowFacts], unlinked: set[str], report: ImportReport) -> None:
    by_page: dict[str, list[RowFacts]] = {}
    for row in rows:
        if row.page_rel:
            by_page.setdefault(row.page_rel, []).append(row)
    for page, linked in by_page.items():
        if len(linked) < 2:
            continue
        year = _page_year(Path(page).stem)
        prefix = re.match(r"[A-Za-z]+", Path(page).stem)
        for row in linked:
            if year is not None and year in _years(row):
                continue
            candidates = [p for p in sorted(unlinked)
                          if prefix and Path(p).stem.lower().startswith(prefix[0].lower())
                          and _page_year(Path(p).stem) in _years(row)]
            if len(candidates) == 1:
                report.defect("duplicate-link", f"README.md:{row.line}",
                              f"'{row.name}' links {page} like another row; its date, challenge and website "
                              f"fit the unlinked page {candidates[0]}, used instead")
                row.notes.append(f"listed upstream as '{row.name}' linking {page}; its release date, challenge "
                                 f"and website belong to {candidates[0]}, so it is imported as that dataset")
                row.page_rel = candidates[0]
                row.relinked = True
                unlinked.discard(candidates[0])
            else:
                report.defect("duplicate-link", f"README.md:{row.line}",
                              f"'{row.name}' links {page} like another row; no unlinked page fits it")


def _existing(data_dir: Path, ident: str) -> Dataset | None:
    """The dataset record already in data/, if it loads (for its curated fields)."""
    from ..records import load_record

    path = Path(data_dir) / "datasets" / f"{ident}.yaml"
    try:
        return load_record("dataset", path) if path.is_file() else None
    except Exception:  # noqa: BLE001 - an unreadable record is reported by the writer
        return None


def import_awesome(source: Path, data_dir: Path, *, dry_run: bool = False) -> ImportReport:
    """Import the list at ``source`` into ``data_dir``; never raises on bad input."""
    source, data_dir = Path(source), Path(data_dir)
    report = ImportReport(source=SOURCE, dry_run=dry_run)
    for kind, how in EXPLANATIONS.items():
        report.explain(kind, how)
    readme_path = source / "README.md"
    if not readme_path.is_file():
        report.defect("missing-input", str(readme_path), "README.md not found; nothing imported")
        return report
    commit = read_commit(source, report)
    matchers = load_matchers(data_dir, report)
    readme = readme_path.read_text(encoding="utf-8", errors="replace")
    ctx = Context(report=report, matchers=matchers, hosts={}, host_types={}, commit=commit,
                  blob=f"{REPO}/blob/{commit or 'main'}", source_name=SOURCE)
    heads = {s.title.lower(): s for s in markdown.sections(readme)}

    def section(*names: str):
        for name in names:
            for title, s in heads.items():
                if title.startswith(name):
                    return s
        report.defect("missing-input", "README.md", f"no section '{names[0]}'")
        return None

    # platforms first: their hosts map dataset URLs to platforms
    records: list[Record] = []
    sec = section("dataset platforms")
    new_platforms = listings.platforms(sec, ctx, collection=False) if sec else []
    sec = section("other medical awesome")
    collections = listings.platforms(sec, ctx, collection=True) if sec else []
    for platform in [*existing_platforms(data_dir), *new_platforms]:
        for host in platform.hosts:
            ctx.hosts.setdefault(host.lower().removeprefix("www."), platform.id)
        ctx.host_types.setdefault(platform.id, platform.platform_type)

    # dataset rows and pages
    rows = dataset_rows(readme, report)
    report.rows_read = len(rows)
    resource_dir = source / "resources"
    pages = {p.name.lower(): p for p in sorted(resource_dir.glob("*.md"))} if resource_dir.is_dir() else {}
    for row in rows:
        resolve_link(row, source, pages, report)
    linked = {r.page_rel for r in rows if r.page_rel}
    unlinked = {p.relative_to(source).as_posix() for p in pages.values()} - linked
    fix_duplicate_links(rows, unlinked, report)

    facts: dict[str, PageFacts] = {}
    for rel in sorted({r.page_rel for r in rows if r.page_rel} | unlinked):
        try:
            facts[rel] = read_page(source / rel, rel, report)
        except OSError as exc:
            report.defect("missing-input", rel, f"cannot read: {exc}")
    report.pages_read = len(facts)

    datasets: dict[str, Dataset] = {}
    for row in rows:
        stem = Path(row.page_rel or unquote(row.link or "")).stem or row.name
        ident = slugify(stem)
        if ident in datasets:
            report.defect("duplicate-row", f"README.md:{row.line}", f"id '{ident}' already used")
            ident = f"{ident}-{row.line}"
        datasets[ident] = _safe_build(ident, row, facts.get(row.page_rel or ""), ctx)
    for rel in sorted(unlinked):
        page = facts.get(rel)
        if page is None:
            continue
        if page.title.strip().lower() in ("dataset name", "") or Path(rel).stem.lower() == "template":
            report.defect("not-a-dataset-page", rel, "a blank template; skipped")
            continue
        report.defect("unlinked-page", rel, "no README row links this page; imported from the page alone")
        ident = slugify(Path(rel).stem)
        hint = matchers["category"].find_all(" ".join(
            [page.meta.get("area", ""), page.meta.get("modality", ""), page.title]))
        record = _safe_build(ident, None, page, ctx, hint[:1])
        if record:
            record.notes.append("page not linked from the README; imported from the page alone")
            datasets[ident] = record

    for d in datasets.values():
        if d is None:
            continue
        missing = [f for f in ("category", "task") if not getattr(d, f)]
        imaging = any(p.section and p.row for p in d.provenance) and any(
            r.imaging for r in rows if r.line in {p.row for p in d.provenance})
        if imaging or d.dimensionality:
            missing += [f for f in ("modality", "anatomy") if not getattr(d, f)]
        existing = _existing(data_dir, d.id) if missing else None
        for f in missing:
            if existing is not None and f in existing.curated and getattr(existing, f):
                report.defect("missing-field-curated", f"dataset {d.id}",
                              f"no {f} in the source; set by hand: {', '.join(getattr(existing, f))}")
            else:
                report.defect("missing-field", f"dataset {d.id}", f"no {f} could be derived")

    # challenges
    challenges = [Challenge(id=c.id, name=c.name, venue=c.venue, year=c.year,
                            description=f"Challenge{' held at ' + c.venue if c.venue else ''}"
                                        f"{' in ' + str(c.year) if c.year else ''}.",
                            provenance=[ctx.provenance("README.md")])
                  for c in sorted(ctx.challenges.values(), key=lambda c: c.id)]

    # benchmarks, methods, toolboxes
    sec = section("related foundation toolbox")
    toolboxes = listings.toolboxes(sec, ctx) if sec else []
    sec = section("evaluation benchmark")
    benchmarks = listings.benchmarks(sec, ctx, set(datasets)) if sec else []
    corrections = listings.read_methods_csv(source.parent / "evaluations" / "methods.csv", ctx)
    seg = matchers["task"].exact("segmentation")
    sec = section("segmentation", "sota methods")
    methods = listings.methods(sec, ctx, corrections, [seg] if seg else [], {t.id for t in toolboxes}) if sec else []

    records += [*new_platforms, *collections, *challenges, *benchmarks, *methods, *toolboxes]
    records += list(ctx.organizations.values())
    records += [d for d in datasets.values() if d is not None]
    def redescribe(record):
        """Descriptions follow the merged facts (curated ones included) unless curated."""
        if isinstance(record, Dataset) and "description" not in record.curated:
            record.description = describe(record, ctx)
        return record

    write_records(records, data_dir, report, dry_run=dry_run, after_merge=redescribe)
    return report


def _safe_build(ident: str, row: RowFacts | None, page: PageFacts | None, ctx: Context,
                hint: list[str] | None = None) -> Dataset | None:
    try:
        return build_dataset(ident, row, page, ctx, hint)
    except Exception as exc:  # one bad row must not stop the import
        where = f"README.md:{row.line}" if row else (page.path if page else ident)
        ctx.report.defect("unreadable-row", where, f"{type(exc).__name__}: {str(exc).splitlines()[0][:150]}")
        ctx.report.explain("unreadable-row", "a row or page the importer could not turn into a record: skipped")
        return None


__all__ = ["import_awesome", "SOURCE"]

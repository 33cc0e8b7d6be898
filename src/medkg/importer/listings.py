"""The README's other sections: platforms, collections, benchmarks, SOTA methods, toolboxes."""

from __future__ import annotations

import csv
import re
from pathlib import Path
from urllib.parse import urlsplit

from ..models import Benchmark, Link, Method, Organization, Paper, Platform, Toolbox, slugify
from . import markdown
from .datasets import Context, paper_from_url

BULLET = re.compile(r"^\s*[-*]\s*\[([^\]]+)\]\((\S+?)\)\s*:?\s*(.*)$")
#: table header names as written -> key
HEADERS = {"benchmark": "name", "model": "name", "projects": "name", "project": "name", "name": "name",
           "organization": "org", "paper": "paper", "website": "website", "github": "code", "code": "code"}


def bullets(section: markdown.Section) -> list[tuple[int, str, str, str]]:
    out = []
    for offset, line in enumerate(section.text.splitlines(), start=1):
        m = BULLET.match(line)
        if m:
            out.append((section.line + offset, m[1].strip(), m[2].strip(), m[3].strip()))
    return out


def platform_type(name: str, url: str, blurb: str) -> str:
    """challenge-platform when the entry speaks of challenges or competitions, else repository."""
    if re.search(r"challenge|competition|decathlon", f"{name} {url} {blurb}", re.I):
        return "challenge-platform"
    if re.search(r"catalog|search|index", blurb, re.I):
        return "catalogue"
    return "repository"


def host_of(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host


def platforms(section: markdown.Section, ctx: Context, collection: bool) -> list[Platform]:
    out = []
    for line, name, url, blurb in bullets(section):
        clean = re.sub(r"\s*\([^)]*\)\s*$", "", name).strip()
        ptype = "collection" if collection else platform_type(name, url, blurb)
        out.append(Platform(
            id=slugify(clean), name=clean, aliases=[name] if clean != name else [], url=url,
            platform_type=ptype, hosts=[] if collection else [host_of(url)],
            provenance=[ctx.provenance("README.md", line, section.title)]))
    return out


def _rows(section: markdown.Section, ctx: Context):
    for table in markdown.parse_tables(section.text, first_line=section.line + 1):
        keys = []
        for header in table.header:
            key = HEADERS.get(header.strip().lower())
            if key is None:
                ctx.report.defect("unknown-table-header", f"README.md:{table.line}", f"column '{header}' not read")
            keys.append(key)
        lines = section.text.splitlines()
        for row in table.rows:
            raw = lines[row.line - section.line - 1]
            if raw[:1].isspace():
                ctx.report.defect("indented-table-row", f"README.md:{row.line}",
                                  "row begins with a space before its first pipe; read as a row")
            cells = {k: v for k, v in zip(keys, row.cells) if k}
            yield row.line, cells


def _arxiv(cell: str) -> str | None:
    m = re.search(r"arxiv\.org/(?:abs|pdf)/(\d{4}\.\d{4,5})", cell)
    return m[1] if m else None


def _code(cell: str) -> str | None:
    urls = [u for _, u in markdown.links(cell) if "github.com" in u and "img.shields.io" not in u]
    return urls[0] if urls else None


def _org(name: str, ctx: Context, line: int) -> list[str]:
    name = name.strip()
    if not name or name == "-":
        return []
    oid = slugify(name)
    ctx.organizations.setdefault(oid, Organization(id=oid, name=name,
                                                   provenance=[ctx.provenance("README.md", line)]))
    return [oid]


def benchmarks(section: markdown.Section, ctx: Context, dataset_ids: set[str]) -> list[Benchmark]:
    out = []
    for line, cells in _rows(section, ctx):
        name = markdown.strip_links(cells.get("name", "")).strip()
        if not name:
            continue
        arxiv = _arxiv(cells.get("paper", ""))
        sites = [u for _, u in markdown.links(cells.get("website", "")) if "img.shields.io" not in u]
        ident = slugify(name)
        out.append(Benchmark(
            id=ident, name=name, organizations=_org(cells.get("org", ""), ctx, line),
            papers=[Paper(arxiv=arxiv)] if arxiv else [],
            websites=[Link(url=u, role="code" if "github.com" in u else "homepage") for u in sites],
            includes=[ident] if ident in dataset_ids else [],
            description=f"Evaluation benchmark{' (arXiv ' + arxiv + ')' if arxiv else ''}.",
            provenance=[ctx.provenance("README.md", line, section.title)]))
    return out


def read_methods_csv(path: Path, ctx: Context) -> dict[str, dict[str, str]]:
    if not path.is_file():
        ctx.report.defect("missing-input", str(path), "methods.csv not found; README arXiv ids used as given")
        return {}
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["method"].strip(): row for row in csv.DictReader(handle)}


def methods(section: markdown.Section, ctx: Context, corrections: dict[str, dict[str, str]],
            task: list[str], toolbox_ids: set[str]) -> list[Method]:
    out = []
    for line, cells in _rows(section, ctx):
        name = markdown.strip_links(cells.get("name", "")).strip()
        if not name:
            continue
        arxiv = _arxiv(cells.get("paper", ""))
        code = _code(cells.get("code", ""))
        year = family = None
        fix = corrections.get(name)
        notes = []
        if fix:
            m = re.match(r"\s*(\d{4}\.\d{4,5})", fix.get("arxiv_id", ""))
            if m and m[1] != arxiv:
                ctx.report.defect("wrong-arxiv-id", f"README.md:{line}",
                                  f"{name}: README gives {arxiv}, corrected to {m[1]} per methods.csv")
                notes.append(f"arXiv id corrected from {arxiv} (as listed upstream) to {m[1]} per evaluations/methods.csv")
                arxiv = m[1]
            repo = re.match(r"\s*([\w.-]+/[\w.-]+)", fix.get("github_repo", ""))
            if repo and (not code or repo[1].lower() not in code.lower()):
                notes.append(f"code repository github.com/{repo[1]} per evaluations/methods.csv (upstream links {code})")
                code = f"https://github.com/{repo[1]}"
            year = int(fix["year"]) if fix.get("year", "").isdigit() else None
            family = fix.get("architecture_family") or None
        ident = slugify(name)
        out.append(Method(
            id=ident, name=name, organizations=_org(cells.get("org", ""), ctx, line),
            papers=[Paper(arxiv=arxiv)] if arxiv else [], code=code, year=year,
            architecture_family=family, task=task, toolbox=ident if ident in toolbox_ids else None,
            description=f"{family + ' ' if family else ''}method for medical image segmentation"
                        f"{', published ' + str(year) if year else ''}.",
            notes=notes, provenance=[ctx.provenance("README.md", line, section.title)]))
    return out


def toolboxes(section: markdown.Section, ctx: Context) -> list[Toolbox]:
    out = []
    for line, cells in _rows(section, ctx):
        name = markdown.strip_links(cells.get("name", "")).strip()
        if not name:
            continue
        arxiv = _arxiv(cells.get("paper", ""))
        out.append(Toolbox(
            id=slugify(name), name=name, organizations=_org(cells.get("org", ""), ctx, line),
            papers=[Paper(arxiv=arxiv)] if arxiv else [], code=_code(cells.get("code", "")),
            description="Software framework used with medical datasets.",
            provenance=[ctx.provenance("README.md", line, section.title)]))
    return out


__all__ = ["benchmarks", "bullets", "methods", "platforms", "read_methods_csv", "toolboxes", "paper_from_url"]

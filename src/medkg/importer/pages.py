"""One per-dataset page of Awesome-Medical-Dataset -> the facts on it (``PageFacts``).

The pages follow a template (Dataset Meta Information, Resolution Details, Label Information
Statistics, Authors and Institutions, Source Information, Citation) in many variants; the
header names below are the variants of the input format, mapped to one key each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..models import ResolutionStat
from . import markdown
from .normalize import parse_number
from .report import ImportReport

#: meta table header as written (lowercased, spaces squeezed) -> key
META_HEADERS = {
    "dimensions": "dimensions", "dimension": "dimensions",
    "modality": "modality", "imaging type": "modality", "technique": "technique",
    "task type": "task", "task": "task",
    "anatomical structures": "structures", "anatomical structure": "structures",
    "anatomical area": "area", "anatomical areas": "area", "anatomical region": "area", "region": "area",
    "number of categories": "classes", "number of classes": "classes", "categories": "classes",
    "category": "category_names",
    "data volume": "volume", "data volume(slices)": "volume", "quantity": "volume",
    "dataset size": "volume", "total images": "volume", "total frames": "volume", "data count": "volume",
    "number": "volume", "number of patients": "volume", "sample size": "volume",
    "file format": "format", "format": "format", "data format": "format", "data formats": "format",
    "language": "language", "size": "size", "file size": "size",
    "train": "train", "training data": "train", "val": "val", "test": "test", "test data": "test",
    "test-clean": "test", "total questions": "questions",
    # known and not used
    "number of eeg channels": None, "eeg sampling rate": None, "eeg format": None, "egg format": None,
    "egg channel": None, "eeg channels": None, "channels": None, "text format": None,
    "fmri sampling rate": None, "fmri format": None, "sensor type": None, "type": None,
    "feature": None, "dataset": None, "center": None, "label type": None, "annotated": None,
    "data type": None,
}

#: first cell of a label-statistics row (or header cell) that names a statistic, not a label
STAT_WORDS = re.compile(r"case|count|coverage|volume|number|samples|images|ratio|proportion|"
                        r"percent|%|size|min|max|mean|median|availab|frequency|total|pixels|voxel|"
                        r"instances|slices|quantity|train|test|val|num|area|std", re.I)
LABEL_HEADER = re.compile(r"^(category|categories|label|labels|segmentation class|anatomical structure|"
                          r"organ|class|structure|organ/tissue|anatomical feature|segmentation|disease|"
                          r"segmentation structure|category name|anatomy|tissue category|lesion|"
                          r"skin condition type|severity grade|type|description|metric|id|name)s?$", re.I)


@dataclass
class Author:
    name: str
    institutions: list[str] = field(default_factory=list)


@dataclass
class PageFacts:
    path: str
    title: str = ""
    meta: dict[str, str] = field(default_factory=dict)
    meta_line: int | None = None
    resolution: list[ResolutionStat] = field(default_factory=list)
    labels: list[tuple[str, int | None]] = field(default_factory=list)
    homepages: list[str] = field(default_factory=list)
    downloads: list[str] = field(default_factory=list)
    articles: list[str] = field(default_factory=list)
    date_text: str | None = None
    date_line: int | None = None
    authors: list[Author] = field(default_factory=list)
    bibtex: list[str] = field(default_factory=list)
    licence_text: str = ""
    text: str = ""


def _key(header: str) -> str:
    return re.sub(r"\s+", " ", header.strip().strip("*").lower())


def _floats(text: str) -> list[float]:
    return [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?", text or "")]


def read_page(path: Path, rel: str, report: ImportReport) -> PageFacts:
    text = path.read_text(encoding="utf-8", errors="replace")
    facts = PageFacts(path=rel, text=text)
    heads = markdown.sections(text)
    title = next((s.title for s in heads if s.level == 1), "")
    facts.title = markdown.strip_links(title).strip()
    if facts.title.lower() == "dataset name":  # the blank template page
        return facts
    for section in heads:
        name = section.title.lower()
        if name.startswith("dataset meta"):
            _meta(section, facts, rel, report)
        elif name.startswith("resolution"):
            _resolution(section, facts)
        elif name.startswith("label information"):
            _labels(section, facts)
        elif name.startswith("authors and institutions"):
            _authors(section, facts, rel, report)
        elif name.startswith("source information"):
            _source(section, facts)
        elif name.startswith("citation"):
            facts.bibtex += [b.strip() for b in markdown.code_blocks(section.text) if "@" in b]
    if not facts.meta and facts.meta_line is None:
        report.defect("page-without-meta-table", rel, "no Dataset Meta Information table")
    lic = re.search(r"^.*\blicen[cs]e.*$", text, flags=re.I | re.M)
    facts.licence_text = lic.group(0) if lic else ""
    return facts


def _meta(section: markdown.Section, facts: PageFacts, rel: str, report: ImportReport) -> None:
    tables = markdown.parse_tables(section.text, first_line=section.line + 1)
    if not tables:
        return
    table = tables[0]
    facts.meta_line = table.line
    if not table.rows:
        report.defect("empty-meta-table", f"{rel}:{table.line}", "meta table has a header and no row")
        return
    for header, value in zip(table.header, table.rows[0].cells):
        key = _key(header)
        if key not in META_HEADERS:
            report.defect("unknown-meta-header", f"{rel}:{table.line}", f"column '{header}' not read")
            continue
        target = META_HEADERS[key]
        if target and value and value not in ("-", "/"):
            facts.meta.setdefault(target, value)
    if len(table.rows) > 1:
        report.defect("extra-meta-rows", f"{rel}:{table.line}",
                      f"{len(table.rows)} rows in the meta table; only the first is read")


def _resolution(section: markdown.Section, facts: PageFacts) -> None:
    for table in markdown.parse_tables(section.text, first_line=section.line + 1)[:1]:
        headers = [_key(h) for h in table.header]
        for row in table.rows:
            cells = dict(zip(headers, row.cells))
            stat = row.cells[0].strip("* ").lower() if row.cells else ""
            spacing = next((v for k, v in cells.items() if "spacing" in k), "")
            size = next((v for k, v in cells.items() if k.startswith("size")), "")
            sp, sz = _floats(spacing), [int(x) for x in _floats(size) if float(x).is_integer()]
            if stat and (sp or sz):
                facts.resolution.append(ResolutionStat(statistic=stat, spacing=sp, size=sz))


def _labels(section: markdown.Section, facts: PageFacts) -> None:
    tables = markdown.parse_tables(section.text, first_line=section.line + 1)
    if not tables:
        return
    table = tables[0]
    first_col = [row.cells[0] for row in table.rows if row.cells]
    transposed = sum(bool(STAT_WORDS.search(c)) for c in first_col) >= max(1, len(first_col) // 2)
    names: list[tuple[str, int | None]] = []
    if transposed:  # labels are header cells, statistics are rows
        count_row = next((r for r in table.rows if r.cells and re.search(r"case|count|number|samples|images",
                                                                             r.cells[0], re.I)), None)
        for i, header in enumerate(table.header[1:], start=1):
            count = parse_number(count_row.cells[i]) if count_row and i < len(count_row.cells) else None
            names.append((header, count))
    elif LABEL_HEADER.match(_key(table.header[0]) if table.header else ""):
        count_col = next((i for i, h in enumerate(table.header) if re.search(
            r"case|count|number of samples|samples|images", h, re.I)), None)
        name_col = _name_column(table)
        for row in table.rows:
            if len(row.cells) <= name_col:
                continue
            count = parse_number(row.cells[count_col]) if count_col is not None and count_col < len(row.cells) else None
            names.append((row.cells[name_col], count))
    for name, count in names:
        clean = re.sub(r"^\d+\s*[-.:]?\s+", "", markdown.strip_links(name)).strip(" *")
        if clean and not STAT_WORDS.fullmatch(clean) and len(clean) <= 80 and clean not in (n for n, _ in facts.labels):
            facts.labels.append((clean, count))


def _name_column(table) -> int:
    """The column that names the labels: the first whose values are mostly not numbers
    (TotalSegmentator's tables start with a label number, then the organ name)."""
    for i, header in enumerate(table.header):
        values = [r.cells[i] for r in table.rows if len(r.cells) > i and r.cells[i].strip()]
        numeric = sum(bool(re.fullmatch(r"[\d.,%\s]+", v)) for v in values)
        if values and numeric * 2 < len(values) and not STAT_WORDS.fullmatch(header.strip()):
            return i
    return 0


AUTHOR_LINE = re.compile(r"^[-*\s]*([^()\d:;]{2,60}?)\s*\((.+)\)\s*[.\u200b]*$")
AUTHOR_SPLIT = re.compile(r"^([A-Z][\w.'´-]*(?:\s+[\w.'´-]+){0,4}?)\s*(?::|\s-\s|,)\s*(.+)$")


def _authors(section: markdown.Section, facts: PageFacts, rel: str, report: ImportReport) -> None:
    for offset, raw in enumerate(section.text.splitlines(), start=1):
        line = markdown.strip_links(raw).strip().replace("（", " (").replace("）", ")")
        line = re.sub(r"^[-*\s]*(?:\d+\.\s*)?(?:Prof\.|Dr\.)?\s*", "", line)
        if not line or line.startswith(("|", "<", "#")):
            continue
        m = AUTHOR_LINE.match(line)
        split = AUTHOR_SPLIT.match(line) if not m else None
        if m and len(m[1].split()) <= 6:
            name = m[1].strip(" -*,")
            insts = [p.strip() for p in re.split(r";|\s/\s", m[2]) if p.strip()]
            facts.authors.append(Author(name, insts))
        elif split and not re.search(r"\b(the|this|is|are|of|and)\b", split[1]) and len(split[2]) < 200:
            facts.authors.append(Author(split[1].strip(), [split[2].strip()]))
        elif len(line.split()) <= 5 and re.fullmatch(r"[-*\s]*[A-Z][\w.'´ -]+", line):
            facts.authors.append(Author(line.strip(" -*")))
        else:
            report.defect("unparsed-author-line", f"{rel}:{section.line + offset}",
                          f"not in 'Name (Institution)' form: {line[:60]!r}")


SOURCE_KEY = re.compile(r"^[-*\s]*([A-Za-z][A-Za-z ()]*?)\s*[:：]\s*(.*)$")


def _source(section: markdown.Section, facts: PageFacts) -> None:
    for offset, raw in enumerate(section.text.splitlines(), start=1):
        m = SOURCE_KEY.match(raw.strip())
        if not m:
            continue
        key, value = m[1].lower(), m[2].strip()
        urls = [u for _, u in markdown.links(value) if u.startswith("http")]
        if key.startswith("official website"):
            facts.homepages += urls
        elif key.startswith("download link"):
            facts.downloads += urls
        elif key.startswith("article address"):
            facts.articles += urls
        elif "date" in key:
            facts.date_text = markdown.strip_links(value)
            facts.date_line = section.line + offset
        elif urls:
            facts.downloads += urls

"""Just enough Markdown: pipe tables with their line numbers, links, headings and sections."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]+)\)")
BARE_URL = re.compile(r"https?://[^\s)<>\]\"'`,]+")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")


@dataclass
class Row:
    line: int
    cells: list[str]


@dataclass
class Table:
    """A pipe table: header cells, body rows; ``line`` is the 1-based line of the header."""

    line: int
    header: list[str]
    rows: list[Row] = field(default_factory=list)


def split_row(line: str) -> list[str]:
    """Cells of one table line; tolerant of leading spaces and missing outer pipes."""
    text = line.strip()
    if text.startswith("|"):
        text = text[1:]
    if text.endswith("|"):
        text = text[:-1]
    cells = re.split(r"(?<!\\)\|", text)
    return [c.replace("\\|", "|").strip() for c in cells]


def is_table_line(line: str) -> bool:
    return line.strip().startswith("|")


def parse_tables(text: str, first_line: int = 1) -> list[Table]:
    """Every pipe table in ``text``: a header line followed by a separator line."""
    lines = text.splitlines()
    tables: list[Table] = []
    i = 0
    while i < len(lines) - 1:
        if is_table_line(lines[i]) and SEPARATOR.match(lines[i + 1]):
            table = Table(line=first_line + i, header=split_row(lines[i]))
            j = i + 2
            while j < len(lines) and is_table_line(lines[j]):
                cells = split_row(lines[j])
                if any(cells):
                    table.rows.append(Row(first_line + j, cells))
                j += 1
            tables.append(table)
            i = j
        else:
            i += 1
    return tables


def links(text: str) -> list[tuple[str, str]]:
    """(label, url) of each Markdown link; bare URLs get an empty label."""
    found = [(label.strip(), url.strip()) for label, url in LINK.findall(text)]
    rest = LINK.sub(" ", text)
    found += [("", url.rstrip(".;")) for url in BARE_URL.findall(rest)]
    return found


def strip_links(text: str) -> str:
    return LINK.sub(lambda m: m.group(1), text)


@dataclass
class Section:
    title: str
    level: int
    line: int
    text: str


def sections(text: str) -> list[Section]:
    """Headings (outside code fences) with the text up to the next heading of any level."""
    out: list[Section] = []
    lines = text.splitlines()
    fence = False
    current: Section | None = None
    body: list[str] = []
    for number, line in enumerate(lines, start=1):
        if line.strip().startswith("```"):
            fence = not fence
        match = None if fence else HEADING.match(line)
        if match:
            if current:
                current.text = "\n".join(body)
                out.append(current)
            current = Section(match.group(2).strip(), len(match.group(1)), number, "")
            body = []
        else:
            body.append(line)
    if current:
        current.text = "\n".join(body)
        out.append(current)
    return out


def code_blocks(text: str) -> list[str]:
    return [m.group(1) for m in re.finditer(r"```[^\n]*\n(.*?)```", text, flags=re.S)]

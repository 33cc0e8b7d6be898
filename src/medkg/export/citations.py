"""BibTeX for datasets: the entry the source pages give, else one built from the facts.

One entry per dataset, for its primary paper (the first, by year, whose given BibTeX is well
formed; else the first paper; else the dataset itself as ``@misc``). Keys are stable: a given
entry keeps its own key, a built one is keyed by the dataset id. Within one output keys are
unique: identical entries (two datasets described by one paper) are printed once, and a key
used by a different entry gets the dataset id appended.

``bibtex_for_ids`` is the hook for the web: it takes a list of dataset ids, so any filter
(``/datasets.bib?id=...`` today, the ``/datasets`` filters later) only has to produce ids.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyoxigraph as ox

from . import facts as F

HEAD = re.compile(r"^\s*@(\w+)\s*\{\s*([^,\s{}\"#%'()=]+)\s*,", re.S)
SPECIAL = re.compile(r"([&%$#_])")


UnknownDataset = F.NotFound


@dataclass(frozen=True)
class Entry:
    dataset: str  # the dataset id
    key: str
    text: str  # the whole entry
    given: bool  # True when taken from the source's BibTeX


def balanced(text: str) -> bool:
    depth = 0
    for char in text:
        depth += (char == "{") - (char == "}")
        if depth < 0:
            return False
    return depth == 0


FIELD = re.compile(r"\s*[A-Za-z][\w-]*\s*=\s*")
BARE = re.compile(r"[\w.:/-]+")


def _value_end(text: str, i: int) -> int:
    """End of the field value at ``i`` ({...}, "..." or a bare word); -1 when malformed."""
    if i >= len(text):
        return -1
    if text[i] in "{\"":
        depth = 0
        for j in range(i, len(text)):
            depth += (text[j] == "{") - (text[j] == "}")
            if (text[i] == "{" and depth == 0) or (j > i and text[j] == '"' and depth == 0):
                return j + 1
        return -1
    match = BARE.match(text, i)
    return match.end() if match else -1


def well_formed(text: str) -> bool:
    """Exactly one entry ``@type{key, name = value, ...}`` that BibTeX tools can read."""
    text = text.strip()
    head = HEAD.match(text)
    if not head or not balanced(text):
        return False
    i = head.end()
    while True:
        while i < len(text) and text[i] in " \t\r\n,":
            i += 1
        if i >= len(text):
            return False
        if text[i] == "}":
            return i == len(text) - 1
        name = FIELD.match(text, i)
        if not name:
            return False
        i = _value_end(text, name.end())
        if i < 0:
            return False


def escape(value: str) -> str:
    value = SPECIAL.sub(r"\\\1", value.replace("\\", ""))
    return value if balanced(value) else value.replace("{", "").replace("}", "")


def _authors(d: F.DatasetFacts) -> str | None:
    if d.authors:
        return " and ".join(escape(a) for a in d.authors)
    if d.creators:  # organisations: braced so BibTeX does not split them into names
        return " and ".join("{" + escape(a.name) + "}" for a in d.creators)
    return None


def _entry_type(paper: F.PaperFacts | None) -> str:
    if paper is None:
        return "misc"
    if paper.venue and paper.doi:
        return "article"
    return "misc"


def build_entry(d: F.DatasetFacts, paper: F.PaperFacts | None) -> Entry:
    """An entry from the facts: title, authors, year, venue, DOI/arXiv, url."""
    fields: list[tuple[str, str]] = []
    title = (paper.title if paper and paper.title else d.name)
    fields.append(("title", "{" + escape(title) + "}"))
    authors = _authors(d)
    if authors:
        fields.append(("author", authors))
    year = (paper.year if paper and paper.year else None) or d.year
    if year:
        fields.append(("year", year[:4]))
    kind = _entry_type(paper)
    if paper and paper.venue:
        fields.append(("journal" if kind == "article" else "howpublished", escape(paper.venue)))
    if paper and paper.doi:
        fields.append(("doi", paper.doi))
    if paper and paper.arxiv:
        fields += [("eprint", paper.arxiv), ("archiveprefix", "arXiv")]
    url = (paper.url if paper and paper.url else None) or d.page or d.iri
    fields.append(("url", url))
    if paper is not None and paper.title:
        fields.append(("note", "Describes the dataset " + escape(d.name)))
    else:
        fields.append(("note", "Dataset"))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return Entry(d.id, d.id, f"@{kind}{{{d.id},\n{body}\n}}", given=False)


def entry_for(d: F.DatasetFacts) -> Entry:
    for paper in d.papers:
        if paper.bibtex and well_formed(paper.bibtex):
            text = paper.bibtex.strip()
            return Entry(d.id, HEAD.match(text).group(2), text, given=True)  # type: ignore[union-attr]
    return build_entry(d, d.papers[0] if d.papers else None)


def unique(entries: list[Entry]) -> list[Entry]:
    """Drop repeated identical entries; re-key an entry whose key another entry took."""
    out: list[Entry] = []
    seen: dict[str, str] = {}
    for entry in entries:
        if seen.get(entry.key) == entry.text:
            continue
        if entry.key in seen:
            new_key = f"{entry.key}-{entry.dataset}"
            text = HEAD.sub(lambda m: f"@{m.group(1)}{{{new_key},", entry.text, count=1)
            entry = Entry(entry.dataset, new_key, text, entry.given)
        seen[entry.key] = entry.text
        out.append(entry)
    return out


def entries_for_ids(store: ox.Store, ids: list[str]) -> list[Entry]:
    """Entries for ``ids`` in that order; UnknownDataset (404) names the ids not in the build."""
    known = F.known_ids(store)
    missing = [i for i in ids if i not in known]
    if missing:
        raise UnknownDataset(f"no dataset with id {', '.join(repr(i) for i in missing)}")
    return unique([entry_for(d) for d in F.all_datasets(store, ids)])


def bibtex_for_ids(store: ox.Store, ids: list[str]) -> str:
    """The BibTeX text for a list of dataset ids (the hook every filter calls)."""
    return "".join(e.text + "\n\n" for e in entries_for_ids(store, ids))


def cite_as(d: F.DatasetFacts) -> str:
    return entry_for(d).text

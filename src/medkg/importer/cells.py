"""Cells of the evaluation CSVs: source references -> URLs, value cells -> numbers with labels.

Pure functions, no I/O; the evaluations importer reports what they could not read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

GITHUB = "https://github.com"
#: owner/repo:path@commit, the path possibly followed by a note in parentheses
REPO_REF = re.compile(r"^(?:(?P<repo>[\w.-]+/[\w.-]+):)?(?P<path>[^@]*?)\s*(?:\((?P<note>[^)]*)\))?\s*@(?P<commit>[0-9a-f]{7,40})$")
URL = re.compile(r"^(?P<url>https?://\S+?)[.,;]?(?:\s+\((?P<note>.*)\))?$")
ORDINAL = {"1st": 1, "2nd": 2, "3rd": 3}


@dataclass(frozen=True)
class SourceRef:
    """One source a CSV row names: its web address and any note written after it."""

    url: str
    note: str | None = None
    repo: str | None = None
    path: str | None = None
    commit: str | None = None


def split_outside_parens(text: str, sep: str) -> list[str]:
    """Split on ``sep`` where it is not inside parentheses; parts stripped, empty ones dropped."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(text):
        ch = text[i]
        depth += (ch == "(") - (ch == ")")
        if depth <= 0 and text.startswith(sep, i):
            parts.append(text[start:i])
            start = i = i + len(sep)
            continue
        i += 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def github_url(repo: str, path: str, commit: str) -> str:
    """A file (or, with a trailing '/', a folder) of a repository at a commit."""
    kind = "tree" if path.endswith("/") or not path else "blob"
    return f"{GITHUB}/{repo}/{kind}/{commit}/{quote(path.strip('/'), safe='/')}".rstrip("/")


def parse_sources(cell: str) -> tuple[list[SourceRef], list[str]]:
    """'a/b:README.md@<commit>; sub/dir/@<commit>' -> SourceRefs, and the parts not understood.

    A part without 'owner/repo:' continues the repository of the part before it.
    """
    refs: list[SourceRef] = []
    bad: list[str] = []
    repo: str | None = None
    for part in split_outside_parens(cell or "", "; "):
        m = REPO_REF.match(part)
        if m and (m["repo"] or repo):
            repo = m["repo"] or repo
            path = m["path"].strip()
            refs.append(SourceRef(github_url(repo, path, m["commit"]), m["note"], repo, path, m["commit"]))
            continue
        u = URL.match(part)
        if u:
            refs.append(SourceRef(u["url"], u["note"]))
            continue
        bad.append(part)
    return refs, bad


@dataclass(frozen=True)
class Score:
    """One number read from a value cell, with the label that tells it apart from its siblings."""

    value: float | None
    label: str | None = None


NUMBER = r"-?\d+(?:\.\d+)?"
PART = re.compile(rf"^(?P<pre>[A-Za-z][\w -]*?\s+)?(?P<num>{NUMBER}|\d+(?:st|nd|rd|th))"
                  r"(?:\s*\((?P<label>[^)]*)\)|\s+(?P<post>[A-Za-z].*))?$")


def _part(text: str) -> Score | None:
    m = PART.match(text.strip())
    if not m:
        return None
    num = m["num"]
    value = float(ORDINAL.get(num, num[:-2] if num[-2:] in ("st", "nd", "rd", "th") else num))
    label = " ".join(x.strip() for x in (m["pre"], m["label"], m["post"]) if x and x.strip()) or None
    return Score(value, label)


def _split(cell: str) -> list[str]:
    parts: list[str] = []
    for piece in re.split(r"\s*;\s*|\s+vs\.?\s+", cell):
        # '0.95/0.74' and '84.70 (L k3) / 85.04 (L k5)': a slash between two numbered parts
        parts += re.split(rf"(?<=[\d)])\s*/\s*(?={NUMBER})", piece)
    return [p for p in parts if p.strip()]


def _labels_from_metric(metric: str, count: int) -> list[str] | None:
    """Labels for unlabelled parts: 'Liver/Tumor per-case Dice' -> Liver, Tumor; 'per fold 0-4'."""
    m = re.search(r"per fold (\d+)\s*-\s*(\d+)", metric)
    if m and int(m[2]) - int(m[1]) + 1 == count:
        return [f"fold {i}" for i in range(int(m[1]), int(m[2]) + 1)]
    m = re.search(r"([\w-]+(?:\s*/\s*[\w-]+)+)", metric)
    if m:
        names = [n.strip() for n in m[1].split("/")]
        if len(names) == count:
            return names
    if re.search(r"\bper class\b", metric):
        return [f"class {i} of {count}" for i in range(1, count + 1)]
    return None


def parse_value(cell: str, metric: str = "") -> tuple[list[Score], str | None]:
    """A value cell -> its scores, and a problem description (None when all is clear).

    Blank -> no score. '83.08' -> one. '1st' -> rank 1. '89.0 (STU-Net-B)' -> one, labelled.
    '88.9 (a); 88.8 (b)', '84.70 (a) / 85.04 (b)', '82.30 (a) vs 78.91 (b)' -> one per part.
    Unlabelled parts take labels from the metric ('Liver/Tumor ...', 'per fold 0-4', 'per class')
    or are numbered. A cell with no readable number -> one score without a value, and a problem.
    """
    cell = (cell or "").strip()
    if not cell:
        return [Score(None)], None
    parts = _split(cell)
    scores = [_part(p) for p in parts]
    if not scores or any(s is None for s in scores):
        return [Score(None)], f"value '{cell}' is not a number or a list of labelled numbers"
    if len(scores) == 1:
        return scores, None  # type: ignore[return-value]
    problem = None
    if any(s.label is None for s in scores):  # type: ignore[union-attr]
        names = _labels_from_metric(metric, len(scores))
        if names is None:
            names = [f"value {i} of {len(scores)}" for i in range(1, len(scores) + 1)]
            problem = f"value '{cell}' holds {len(scores)} numbers without labels; numbered in order"
        scores = [Score(s.value, s.label or n) for s, n in zip(scores, names)]  # type: ignore[union-attr]
    return scores, problem  # type: ignore[return-value]


def strip_note(name: str) -> tuple[str, str | None]:
    """'JHH (proprietary, Johns Hopkins Hospital)' -> ('JHH', 'proprietary, Johns Hopkins Hospital')."""
    m = re.match(r"^(.*?)\s*\((.*)\)\s*$", name.strip())
    if m and m[1].strip():
        return m[1].strip(), m[2].strip()
    return name.strip(), None


def norm(text: str) -> str:
    """Key for matching names: lowercase letters and digits only ('AMOS 2022' -> 'amos2022')."""
    return re.sub(r"[^a-z0-9]+", "", (text or "").lower().replace("&", "and"))


__all__ = ["Score", "SourceRef", "github_url", "norm", "parse_sources", "parse_value",
           "split_outside_parens", "strip_note"]

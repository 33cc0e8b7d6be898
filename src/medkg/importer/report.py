"""What an import did: records added/changed/unchanged/kept, and every defect met on the way."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Defect:
    """One problem in the input: its kind, where it is (file:line or page) and what is wrong."""

    kind: str
    where: str
    what: str

    def line(self) -> str:
        return f"{self.kind}: {self.where}: {self.what}"


@dataclass
class ImportReport:
    """Collects outcomes of one import run; rendered as summary lines and a Markdown file."""

    source: str = ""
    dry_run: bool = False
    rows_read: int = 0
    pages_read: int = 0
    added: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)
    unchanged: list[str] = field(default_factory=list)
    kept: dict[str, list[str]] = field(default_factory=dict)
    written: Counter = field(default_factory=Counter)
    defects: list[Defect] = field(default_factory=list)
    #: defect kind -> how the importer handles it (printed in the report)
    explanations: dict[str, str] = field(default_factory=dict)

    # -- collecting ---------------------------------------------------------------------
    def defect(self, kind: str, where: str, what: str) -> None:
        item = Defect(kind, where, what)
        if item not in self.defects:
            self.defects.append(item)

    def explain(self, kind: str, how: str) -> None:
        self.explanations.setdefault(kind, how)

    def record_outcome(self, kind: str, ident: str, outcome: str, fields: list[str] | None = None,
                       kept: list[str] | None = None) -> None:
        key = f"{kind}/{ident}"
        if outcome == "added":
            self.added.append(key)
        elif outcome == "changed":
            self.changed[key] = fields or []
        else:
            self.unchanged.append(key)
        if kept:
            self.kept[key] = kept
        if outcome in ("added", "changed"):
            self.written[kind] += 1

    # -- rendering ----------------------------------------------------------------------
    def defect_counts(self) -> Counter:
        return Counter(d.kind for d in self.defects)

    def summary_lines(self) -> list[str]:
        verb = "would write" if self.dry_run else "written"
        total = len(self.added) + len(self.changed) + len(self.unchanged)
        lines = [
            f"source: {self.source}" + (" (dry run: nothing written)" if self.dry_run else ""),
            f"rows read: {self.rows_read}; pages read: {self.pages_read}",
            f"records: {total} produced; added {len(self.added)}, changed {len(self.changed)}, "
            f"unchanged {len(self.unchanged)}, kept (curated fields not overwritten) {len(self.kept)}",
        ]
        by_kind = Counter(key.split("/", 1)[0] for key in [*self.added, *self.changed, *self.unchanged])
        lines.append("records by kind: " + (", ".join(f"{k} {n}" for k, n in sorted(by_kind.items())) or "none"))
        lines.append(f"records {verb}: " + (", ".join(f"{k} {n}" for k, n in sorted(self.written.items())) or "none"))
        counts = self.defect_counts()
        lines.append(f"defects: {sum(counts.values())}" + (
            " (" + ", ".join(f"{k} {n}" for k, n in sorted(counts.items())) + ")" if counts else ""))
        return lines

    def defect_lines(self) -> list[str]:
        return [d.line() for d in sorted(self.defects, key=lambda d: (d.kind, d.where, d.what))]

    def markdown(self) -> str:
        out = [f"# Import report: {self.source}", ""]
        out += [f"- {line}" for line in self.summary_lines()]
        counts = self.defect_counts()
        if counts:
            out += ["", "## Defects by kind", "", "| kind | count | how it is handled |", "|---|---:|---|"]
            for kind, n in sorted(counts.items()):
                out.append(f"| {kind} | {n} | {self.explanations.get(kind, 'not explained')} |")
        if self.kept:
            out += ["", "## Kept (curated fields the import would have changed)", ""]
            out += [f"- {key}: {', '.join(fields)}" for key, fields in sorted(self.kept.items())]
        if self.changed:
            out += ["", "## Changed", ""]
            out += [f"- {key}: {', '.join(fields)}" for key, fields in sorted(self.changed.items())]
        if self.defects:
            out += ["", "## Defects", ""]
            out += [f"- {line}" for line in self.defect_lines()]
        return "\n".join(out) + "\n"

    def write(self, path: Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.markdown(), encoding="utf-8")

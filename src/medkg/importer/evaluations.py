"""`medkg import evaluations DIR`: methods.csv, evaluations.csv, benchmarks.csv -> data/.

Writes one Evaluation record per reported use of a method on a dataset or a benchmark test set
(one per score where a cell holds several), a Dataset record (``listed_upstream: false``) for
each dataset the CSVs name that the Awesome list does not have, ``includes`` on the benchmark
records, and the aliases that let a CSV name match its dataset. Datasets, methods and
benchmarks are matched by name, aliases and id (case and punctuation ignored); only the names
in ``NAME_ALIASES`` need help, and they are written into the dataset's ``aliases``.
The quoted evidence column is read for case counts ('N=5,172') only and never copied.
"""

from __future__ import annotations

import csv
import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import RecordError
from ..models import Benchmark, Dataset, Evaluation, Method, Provenance, Record, slugify
from ..records import iter_record_files, load_record
from .awesome import load_matchers
from .cells import SourceRef, norm, parse_sources, parse_value, split_outside_parens, strip_note
from .normalize import TermMatcher
from .report import ImportReport
from .writer import write_records

log = logging.getLogger(__name__)

SOURCE = "evaluations"
ROLES = ("train", "test", "finetune", "benchmark")
ROLE_WORDS = {"train": "trained on", "test": "tested on", "finetune": "fine-tuned on", "benchmark": "benchmarked on"}
#: CSV dataset names that match no record's name, aliases or id -> the record they name.
#: SOURCE.md: "FLARE22" is the README's first "FLARE 2023" row (the MICCAI 2022 challenge).
NAME_ALIASES = {"FLARE22": "flare2022"}
COLUMNS = {
    "evaluations.csv": ("method", "dataset", "dataset_in_list", "role", "metric", "value", "source"),
    "benchmarks.csv": ("benchmark", "dataset", "dataset_in_list", "source"),
    "methods.csv": ("method", "arxiv_id", "github_repo", "year", "architecture_family"),
}
EXPLANATIONS = {
    "missing-input": "an input file or column is missing: the part it feeds is skipped",
    "bad-row": "a row without a method, a dataset or a known role: skipped",
    "unreadable-row": "a row the importer could not turn into records: skipped",
    "bad-source": "a source that is neither owner/repo:path@commit nor a URL: the row is skipped if it has no other",
    "unknown-method": "a method that resolves to no method record: its rows are skipped",
    "method-without-evaluation": "a method record no evaluation row names: reported only",
    "method-fact-mismatch": "a method record disagrees with methods.csv: reported, the record is left as it is",
    "unnamed-dataset": "a row that names no dataset (a count of unnamed sources, 'tasks not specified'): no record",
    "ambiguous-dataset": "a name that matches several dataset records: the row is skipped",
    "unmatched-dataset": "dataset_in_list=yes but no dataset record has the name: the row is skipped",
    "listed-marked-unlisted": "dataset_in_list=no but the name matches a listed record: that record is used",
    "alias-added": "a name matched through NAME_ALIASES: written into the dataset's aliases",
    "unlisted-dataset": "a dataset not in the Awesome list: a dataset record with listed_upstream false",
    "missing-field": "a fact an unlisted dataset needs (modality, anatomy, category, task) could not be read from its name: curate by hand",
    "unparsed-value": "a value cell that is not a number: the record has no value; the cell is kept in notes",
    "unlabelled-values": "several numbers in one cell with no labels: one record per number, numbered in order",
    "unknown-benchmark": "a benchmark name or composite test set that resolves to no benchmark record: skipped",
}


@dataclass
class Row:
    file: str
    line: int
    cells: dict[str, str]

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    def provenance(self, url: str | None = None) -> Provenance:
        return Provenance(source=SOURCE, page=self.file, row=self.line, url=url)


@dataclass
class Unlisted:
    """What the CSVs say about one dataset the Awesome list does not have."""

    ident: str
    name: str
    names: set[str] = field(default_factory=set)
    rows: list[Row] = field(default_factory=list)
    methods: set[str] = field(default_factory=set)


class Index:
    """Record ids by normalised id, name and aliases (also with a trailing '(note)' removed)."""

    def __init__(self, records: dict[str, Record]):
        self.records = records
        self.keys: dict[str, set[str]] = defaultdict(set)
        for ident, record in records.items():
            for text in [ident, record.name, *record.aliases]:
                for variant in {text, strip_note(text)[0]}:
                    if norm(variant):
                        self.keys[norm(variant)].add(ident)

    def find(self, name: str) -> list[str]:
        for text in (name, strip_note(name)[0]):
            hits = self.keys.get(norm(text), set())
            if len(hits) > 1:  # 'FLARE 2023' names two rows; prefer the record whose id is the name
                exact = {h for h in hits if norm(h) == norm(text)}
                hits = exact or hits
            if hits:
                return sorted(hits)
        return []


def further_source(ref: SourceRef) -> Provenance:
    """A row's second and later sources; without ``url``, as the shapes allow one derivation."""
    if ref.repo:
        return Provenance(source=f"github.com/{ref.repo}", page=ref.path or None, commit=ref.commit)
    return Provenance(source=SOURCE, page=ref.url)


def read_csv(path: Path, report: ImportReport) -> list[Row]:
    if not path.is_file():
        report.defect("missing-input", str(path), "file not found; the part it feeds is skipped")
        return []
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in COLUMNS[path.name] if c not in (reader.fieldnames or [])]
        if missing:
            report.defect("missing-input", str(path), f"columns {', '.join(missing)} missing; file skipped")
            return []
        rows = []
        for cells in reader:
            rows.append(Row(path.name, reader.line_num, {k: (v or "").strip() for k, v in cells.items() if k}))
        return rows


def load_existing(data_dir: Path) -> dict[str, dict[str, Record]]:
    out: dict[str, dict[str, Record]] = defaultdict(dict)
    for kind, path in iter_record_files(data_dir):
        if kind in ("dataset", "method", "benchmark"):
            try:
                record = load_record(kind, path)
            except RecordError as exc:  # reported by the writer if this import produces the id
                log.warning("%s", exc)
                continue
            out[kind][record.id] = record
    return out


class Importer:
    def __init__(self, data_dir: Path, report: ImportReport):
        self.report = report
        self.existing = load_existing(data_dir)
        self.datasets = Index(self.existing["dataset"])
        self.methods = Index(self.existing["method"])
        self.benchmarks = Index(self.existing["benchmark"])
        self.matchers: dict[str, TermMatcher] = load_matchers(data_dir, report)
        self.unlisted: dict[str, Unlisted] = {}
        self.aliases: dict[str, tuple[set[str], Row]] = {}

    # -- names -> ids -----------------------------------------------------------------------
    def method(self, row: Row) -> str | None:
        hits = self.methods.find(row.cells["method"])
        if len(hits) != 1:
            self.report.defect("unknown-method", row.where, f"'{row.cells['method']}' matches "
                               f"{'no' if not hits else 'several'} method records")
            return None
        return hits[0]

    def dataset(self, name: str, row: Row, in_list: str, method: str | None = None) -> list[str]:
        """The dataset ids a dataset cell names ('A (note) / B' names two); [] when none."""
        if name.startswith("(") or re.search(r"not specified", name):
            self.report.defect("unnamed-dataset", row.where, f"'{name}' names no single dataset; no record")
            return []
        out = []
        for part in split_outside_parens(name, " / "):
            ident = self._one_dataset(part, row, in_list, method)
            if ident:
                out.append(ident)
        return out

    def _one_dataset(self, name: str, row: Row, in_list: str, method: str | None) -> str | None:
        hits = self.datasets.find(name)
        alias_target = NAME_ALIASES.get(name) or NAME_ALIASES.get(strip_note(name)[0])
        if not hits and alias_target in self.existing["dataset"]:
            hits = [alias_target]
            names, _ = self.aliases.setdefault(alias_target, (set(), row))
            names.add(name)
        if len(hits) > 1:
            self.report.defect("ambiguous-dataset", row.where, f"'{name}' matches {', '.join(hits)}")
            return None
        record = self.existing["dataset"].get(hits[0]) if hits else None
        if record is not None and getattr(record, "listed_upstream", True):
            if in_list == "no":
                self.report.defect("listed-marked-unlisted", row.where,
                                   f"'{name}' is marked dataset_in_list=no but matches {record.id}; used")
            return record.id
        if record is None and in_list == "yes":
            self.report.defect("unmatched-dataset", row.where, f"'{name}' matches no dataset record")
            return None
        short = strip_note(name)[0]
        ident = record.id if record is not None else slugify(short)
        entry = self.unlisted.setdefault(ident, Unlisted(ident, record.name if record else short))
        entry.names.add(name)
        entry.rows.append(row)
        if method:
            entry.methods.add(method)
        return ident

    def benchmark_for(self, row: Row, refs: list[SourceRef]) -> str | None:
        """The benchmark a role=benchmark row on a plain dataset belongs to: by source repository
        (the benchmark's code page), else by a benchmark name in the metric."""
        for ident, record in sorted(self.existing["benchmark"].items()):
            sites = [w.url.lower() for w in getattr(record, "websites", [])]
            if any(r.repo and any(f"github.com/{r.repo.lower()}" in s for s in sites) for r in refs):
                return ident
        metric = norm(row.cells.get("metric", ""))
        hits = [i for i, r in sorted(self.existing["benchmark"].items()) if norm(r.name) and norm(r.name) in metric]
        return hits[0] if len(hits) == 1 else None

    # -- rows -> records --------------------------------------------------------------------
    def evaluations(self, rows: list[Row]) -> list[Evaluation]:
        out: list[Evaluation] = []
        seen: dict[str, int] = defaultdict(int)
        for row in rows:
            try:
                out += self._evaluation_rows(row, seen)
            except Exception as exc:  # one bad row must not stop the import
                self.report.defect("unreadable-row", row.where, f"{type(exc).__name__}: {str(exc).splitlines()[0][:150]}")
        return out

    def _evaluation_rows(self, row: Row, seen: dict[str, int]) -> list[Evaluation]:
        c = row.cells
        role = c.get("role", "").lower()
        if not c.get("method") or not c.get("dataset") or role not in ROLES:
            self.report.defect("bad-row", row.where, f"method '{c.get('method')}', dataset '{c.get('dataset')}', "
                               f"role '{c.get('role')}': needs a method, a dataset and one of {', '.join(ROLES)}")
            return []
        refs, bad = parse_sources(c.get("source", ""))
        for part in bad:
            self.report.defect("bad-source", row.where, f"'{part}' is not owner/repo:path@commit or a URL")
        method = self.method(row)
        if method is None or not refs:
            return []
        targets: list[tuple[str | None, str | None, list[str]]] = []  # (dataset, benchmark, test_sets)
        name, note = strip_note(c["dataset"])
        if role == "benchmark" and note and " + " in note and re.search(r"test set", name, re.I):
            bench = next((i for i, r in sorted(self.existing["benchmark"].items())
                          if norm(name).startswith(norm(r.name))), None)
            if bench is None:
                self.report.defect("unknown-benchmark", row.where, f"'{c['dataset']}' names no benchmark record")
                return []
            parts = [self.dataset(p.strip(), row, "", method) for p in note.split(" + ")]
            targets.append((None, bench, [i for ids in parts for i in ids]))
        else:
            bench = self.benchmark_for(row, refs) if role == "benchmark" else None
            targets += [(d, bench, []) for d in self.dataset(c["dataset"], row, c.get("dataset_in_list", ""), method)]
        scores, problem = parse_value(c.get("value", ""), c.get("metric", ""))
        if problem:
            kind = "unlabelled-values" if len(scores) > 1 else "unparsed-value"
            self.report.defect(kind, row.where, problem)
        out = []
        method_name = self.existing["method"][method].name
        for dataset, bench, test_sets in targets:
            target = dataset or bench
            target_name = (self.existing["dataset"][dataset].name if dataset in self.existing["dataset"]
                           else self.unlisted[dataset].name if dataset else self.existing["benchmark"][bench].name)
            for score in scores:
                key = f"{method}-{target}-{role}"
                seen[key] += 1
                ident = key if seen[key] == 1 else f"{key}-{seen[key]}"
                metric = c.get("metric") or None
                if metric and score.label:
                    metric = f"{metric} [{score.label}]"
                notes = [f"source note: {r.note}" for r in refs if r.note]
                if score.label:
                    notes.append(f"variant or part: {score.label}")
                if problem and score.value is None:
                    notes.append(f"value as given: {c['value']}")
                out.append(Evaluation(
                    id=ident, name=f"{method_name} {ROLE_WORDS[role]} {target_name}"
                                   + (f" ({score.label})" if score.label else ""),
                    method=method, dataset=dataset, benchmark=bench, test_sets=test_sets, role=role,
                    metric=metric, value=score.value, source=refs[0].url, notes=notes,
                    provenance=[row.provenance(), *(further_source(r) for r in refs[1:])]))
        return out

    def unlisted_datasets(self) -> list[Dataset]:
        out = []
        for entry in sorted(self.unlisted.values(), key=lambda e: e.ident):
            text = " ".join(sorted(entry.names))
            modality = self.matchers["modality"].find_all(text)
            anatomy = self.matchers["anatomy"].most_specific(self.matchers["anatomy"].find_all(text))
            task = sorted({t for m in entry.methods for t in getattr(self.existing["method"][m], "task", [])})
            counts = {int(n.replace(",", "")) for r in entry.rows
                      for n in re.findall(r"\bN\s*=\s*(\d[\d,]*)", r.cells.get("evidence", ""))}
            first = {}
            for r in entry.rows:
                first.setdefault(r.file, r)
            record = Dataset(
                id=entry.ident, name=entry.name, aliases=sorted(n for n in entry.names if n != entry.name),
                listed_upstream=False, category=self.category(modality, anatomy), modality=modality,
                anatomy=anatomy, task=task, case_count=counts.pop() if len(counts) == 1 else None,
                description=f"Dataset not in the Awesome-Medical-Dataset list, known here from "
                            f"{len(entry.rows)} row(s) of the evaluation sources.",
                provenance=[r.provenance() for _, r in sorted(first.items())])
            curated = self.existing["dataset"].get(entry.ident)
            for name in ("category", "modality", "anatomy", "task"):
                if not getattr(record, name) and not (curated and name in curated.curated and getattr(curated, name)):
                    self.report.defect("missing-field", f"dataset {record.id}", f"no {name} could be read from its name")
            self.report.defect("unlisted-dataset", entry.rows[0].where, f"'{entry.name}' -> dataset {entry.ident}")
            out.append(record)
        return out

    def category(self, modality: list[str], anatomy: list[str]) -> list[str]:
        """The listing section a dataset would sit in: its closest anatomy that is a category."""
        known = set(self.matchers["category"].broader)
        if any("microscopy" in {m, *self.matchers["modality"].ancestors(m)} for m in modality):
            return ["microscopic-imaging"] if "microscopic-imaging" in known else []
        out = []
        for a in anatomy:
            frontier = [a]
            while frontier:
                hit = [x for x in frontier if x in known and (x != "whole-body" or a == "whole-body")]
                if hit:
                    out += [h for h in hit if h not in out]
                    break
                frontier = [b for x in frontier for b in self.matchers["anatomy"].broader.get(x, [])]
        if not out and modality and "imaging" in known:
            out = ["imaging"]
        return out

    def alias_records(self) -> list[Dataset]:
        out = []
        for ident, (names, row) in sorted(self.aliases.items()):
            record = self.existing["dataset"][ident]
            added = sorted(names - set(record.aliases))
            for name in added:
                self.report.defect("alias-added", row.where, f"'{name}' -> {ident} (NAME_ALIASES)")
            prov = [p for p in record.provenance if p.source != SOURCE] + [row.provenance()]
            out.append(record.model_copy(update={"aliases": [*record.aliases, *added], "provenance": prov}))
        return out

    def benchmark_records(self, rows: list[Row]) -> list[Benchmark]:
        found: dict[str, list[str]] = defaultdict(list)
        prov: dict[str, list[Provenance]] = defaultdict(list)
        for row in rows:
            hits = self.benchmarks.find(row.cells.get("benchmark", ""))
            if len(hits) != 1:
                self.report.defect("unknown-benchmark", row.where, f"'{row.cells.get('benchmark')}' matches "
                                   f"{'no' if not hits else 'several'} benchmark records")
                continue
            refs, bad = parse_sources(row.cells.get("source", ""))
            for part in bad:
                self.report.defect("bad-source", row.where, f"'{part}' is not owner/repo:path@commit or a URL")
            ids = self.dataset(row.cells.get("dataset", ""), row, row.cells.get("dataset_in_list", ""))
            found[hits[0]] += [i for i in ids if i not in found[hits[0]]]
            if ids:
                prov[hits[0]].append(row.provenance(refs[0].url if refs else None))
        out = []
        for ident, ids in sorted(found.items()):
            record = self.existing["benchmark"][ident]
            if not ids:
                continue
            includes = [*record.includes, *(i for i in ids if i not in record.includes)]
            keep = [p for p in record.provenance if p.source != SOURCE]
            out.append(record.model_copy(update={"includes": includes, "provenance": keep + prov[ident]}))
        return out

    def check_methods(self, rows: list[Row]) -> None:
        """Every method in methods.csv resolves to a record whose facts agree with the row."""
        for row in rows:
            hits = self.methods.find(row.cells["method"])
            if len(hits) != 1:
                self.report.defect("unknown-method", row.where, f"'{row.cells['method']}' has no method record")
                continue
            record: Method = self.existing["method"][hits[0]]  # type: ignore[assignment]
            arxiv = re.match(r"\d{4}\.\d{4,5}", row.cells.get("arxiv_id", ""))
            repo = re.match(r"[\w.-]+/[\w.-]+", row.cells.get("github_repo", ""))
            year = row.cells.get("year", "")
            problems = []
            if arxiv and arxiv[0] not in {p.arxiv for p in record.papers}:
                problems.append(f"arXiv {arxiv[0]} not among {[p.arxiv for p in record.papers]}")
            if repo and (not record.code or repo[0].lower() not in record.code.lower()):
                problems.append(f"code {repo[0]} vs {record.code}")
            if year.isdigit() and record.year != int(year):
                problems.append(f"year {year} vs {record.year}")
            family = row.cells.get("architecture_family") or None
            if family and record.architecture_family != family:
                problems.append(f"architecture family {family} vs {record.architecture_family}")
            for problem in problems:
                self.report.defect("method-fact-mismatch", row.where, f"{record.id}: {problem}")


def import_evaluations(source: Path, data_dir: Path, *, dry_run: bool = False) -> ImportReport:
    """Import the evaluation CSVs in ``source`` into ``data_dir``; never raises on bad input."""
    source, data_dir = Path(source), Path(data_dir)
    report = ImportReport(source=SOURCE, dry_run=dry_run)
    for kind, how in EXPLANATIONS.items():
        report.explain(kind, how)
    importer = Importer(data_dir, report)
    method_rows = read_csv(source / "methods.csv", report)
    evaluation_rows = read_csv(source / "evaluations.csv", report)
    benchmark_rows = read_csv(source / "benchmarks.csv", report)
    report.rows_read = len(method_rows) + len(evaluation_rows) + len(benchmark_rows)
    importer.check_methods(method_rows)
    evaluations = importer.evaluations(evaluation_rows)
    benchmarks = importer.benchmark_records(benchmark_rows)
    evaluated = {e.method for e in evaluations}
    for ident in sorted(set(importer.existing["method"]) - evaluated):
        report.defect("method-without-evaluation", f"method {ident}", "no row of evaluations.csv names it")
    records: list[Record] = [*importer.unlisted_datasets(), *importer.alias_records(), *benchmarks, *evaluations]
    write_records(records, data_dir, report, dry_run=dry_run)
    return report


__all__ = ["import_evaluations", "NAME_ALIASES", "SOURCE"]

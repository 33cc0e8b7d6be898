"""Merge imported records into data/: one YAML file per record, idempotent, curated fields kept.

Rules, per record the import produces:

- no file yet: write it (``added``);
- a file exists: fields named in its ``curated`` list keep their value (``kept`` when the import
  would have set something else); ``curated`` and ``notes`` are kept; provenance entries of
  other sources are kept, this source's entries are replaced; when the existing record also
  came from another source, a field this import leaves empty keeps its existing value;
- the merged text equal to the file: ``unchanged`` and not rewritten.

Files the import does not produce are never touched.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path

from .. import paths
from ..errors import RecordError
from ..models import MODELS, Record
from ..records import dump_record, load_record
from .report import ImportReport

log = logging.getLogger(__name__)

KIND_OF: dict[type, str] = {model: kind for kind, model in MODELS.items()}
ALWAYS_KEPT = ("curated", "notes")


def _empty(value) -> bool:
    return value is None or value == [] or value == {}


def merge(new: Record, old: Record) -> tuple[Record, list[str]]:
    """The record to write and the curated fields whose imported value was not used."""
    new_sources = {p.source for p in new.provenance}
    other_sources = {p.source for p in old.provenance} - new_sources
    data = new.model_dump()
    old_data = old.model_dump()
    kept: list[str] = []
    for name in type(new).model_fields:
        if name in ALWAYS_KEPT or name == "provenance" or name == "id":
            continue
        if name in old.curated:
            if data[name] != old_data[name]:
                kept.append(name)
            data[name] = old_data[name]
        elif other_sources and _empty(data[name]) and not _empty(old_data[name]):
            data[name] = old_data[name]
    data["curated"] = old_data["curated"]
    data["notes"] = list(dict.fromkeys([*old_data["notes"], *data["notes"]]))
    data["provenance"] = _merge_provenance(old_data["provenance"], data["provenance"], new_sources)
    if "listed_upstream" in data and "listed_upstream" in old.curated:
        data["listed_upstream"] = old_data["listed_upstream"]
    return type(new).model_validate(data), kept


def _merge_provenance(old: list[dict], new: list[dict], new_sources: set[str]) -> list[dict]:
    """Old entries of other sources where they were; this source's entries replaced in place
    (appended when the record had none), so imports of two sources do not reorder each other."""
    out: list[dict] = []
    placed = False
    for entry in old:
        if entry["source"] not in new_sources:
            out.append(entry)
        elif not placed:
            out += new
            placed = True
    return out if placed else out + new


def record_path(data_dir: Path, kind: str, ident: str) -> Path:
    return Path(data_dir) / paths.KIND_DIRS[kind] / f"{ident}.yaml"


def write_records(records: Iterable[Record], data_dir: Path, report: ImportReport, *,
                  dry_run: bool = False,
                  after_merge: Callable[[Record], Record] | None = None) -> None:
    """Merge ``records`` into ``data_dir``; outcomes and problems go to ``report``.

    ``after_merge`` recomputes derived fields from the merged record (a description made from
    facts should reflect a curator's corrections, not the imported values they replaced).
    """
    for record in records:
        kind = KIND_OF[type(record)]
        path = record_path(data_dir, kind, record.id)
        fields: list[str] = []
        kept: list[str] = []
        if path.is_file():
            try:
                old = load_record(kind, path)
            except RecordError as exc:
                report.defect("unreadable-existing-record", str(path), f"{exc.message}; left as it is")
                report.explain("unreadable-existing-record",
                               "an existing file in data/ does not load; the import leaves it alone")
                continue
            record, kept = merge(record, old)
            if after_merge is not None:
                record = after_merge(record)
            old_text = path.read_text(encoding="utf-8")
            text = dump_record(record)
            if text == old_text:
                report.record_outcome(kind, record.id, "unchanged", kept=kept)
                continue
            new_data, old_data = record.model_dump(), old.model_dump()
            fields = [k for k in new_data if new_data[k] != old_data.get(k)] or ["formatting"]
            outcome = "changed"
        else:
            text = dump_record(record)
            outcome = "added"
        report.record_outcome(kind, record.id, outcome, fields=fields, kept=kept)
        if not dry_run:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            log.debug("%s %s", outcome, path)

"""Load data/ into a checked Catalog: YAML -> models, then every cross-record reference.

Errors name the file, the record, the field (and the YAML line where known). ``load_catalog``
collects every error it finds before raising, so a curator sees them all at once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from . import paths
from .errors import MedkgError, RecordError, UnknownReference
from .models import MODELS, Concept, Dataset, Record, Vocabulary

log = logging.getLogger(__name__)

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: ~10x faster


class CatalogErrors(MedkgError):
    """Several record errors at once."""

    def __init__(self, errors: list[RecordError]):
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


@dataclass
class Catalog:
    """Every record and vocabulary, keyed by kind then id; ``files`` maps (kind, id) -> path."""

    records: dict[str, dict[str, Record]] = field(default_factory=dict)
    vocab: dict[str, Vocabulary] = field(default_factory=dict)
    files: dict[tuple[str, str], Path] = field(default_factory=dict)

    def of(self, kind: str) -> dict[str, Record]:
        return self.records.get(kind, {})

    @property
    def datasets(self) -> dict[str, Dataset]:
        return self.of("dataset")  # type: ignore[return-value]

    def concepts(self, scheme: str) -> dict[str, Concept]:
        vocab = self.vocab.get(scheme)
        return {c.id: c for c in vocab.concepts} if vocab else {}

    def counts(self) -> dict[str, int]:
        out = {kind: len(recs) for kind, recs in self.records.items()}
        out.update({scheme: len(v.concepts) for scheme, v in self.vocab.items()})
        return out


def _yaml_line(text: str, field_path: tuple[Any, ...]) -> int | None:
    """Best-effort line of a top-level key in a YAML text."""
    if not field_path:
        return None
    key = str(field_path[0])
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith(f"{key}:"):
            return number
    return None


def read_yaml(path: Path) -> tuple[Any, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise RecordError(path, f"not UTF-8 text ({exc.reason})") from exc
    try:
        return yaml.load(text, Loader=_Loader), text
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise RecordError(path, f"malformed YAML: {problem}", line=line) from exc


def parse_model(model: type, data: Any, path: Path, text: str, record: str | None = None):
    if not isinstance(data, dict):
        raise RecordError(path, "expected a mapping of fields at the top level", record=record)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(first["loc"])
        field_name = ".".join(str(p) for p in loc) or None
        message = first["msg"]
        if first["type"] == "extra_forbidden":
            message = "unknown field"
        more = len(exc.errors()) - 1
        if more:
            message += f" (and {more} more error(s) in this file)"
        raise RecordError(path, message, field=field_name, line=_yaml_line(text, loc),
                          record=record or data.get("id")) from exc


def load_vocabulary(path: Path) -> Vocabulary:
    data, text = read_yaml(path)
    vocab = parse_model(Vocabulary, data, path, text)
    if vocab.scheme != path.stem:
        raise RecordError(path, f"scheme '{vocab.scheme}' does not match the file name", field="scheme")
    return vocab


def iter_record_files(data_dir: Path) -> Iterator[tuple[str, Path]]:
    for kind, folder in paths.KIND_DIRS.items():
        directory = data_dir / folder
        if directory.is_dir():
            for path in sorted(directory.glob("*.yaml")):
                yield kind, path


def load_record(kind: str, path: Path) -> Record:
    data, text = read_yaml(path)
    record = parse_model(MODELS[kind], data, path, text, record=path.stem)
    if record.id != path.stem:
        raise RecordError(path, f"id '{record.id}' does not match the file name '{path.stem}'",
                          field="id", record=record.id, line=_yaml_line(text, ("id",)))
    return record


# field -> vocabulary scheme or record kind it refers to, per record kind
REFERENCES: dict[str, dict[str, str]] = {
    "dataset": {"category": "category", "modality": "modality", "anatomy": "anatomy",
                "task": "task", "challenges": "challenge", "platforms": "platform",
                "organizations": "organization", "label_classes.anatomy": "anatomy"},
    "method": {"organizations": "organization", "task": "task", "toolbox": "toolbox"},
    "benchmark": {"organizations": "organization", "includes": "dataset", "task": "task",
                  "modality": "modality"},
    "evaluation": {"method": "method", "dataset": "dataset", "benchmark": "benchmark",
                   "test_sets": "dataset"},
    "toolbox": {"organizations": "organization"},
}


def _values(record: Record, field_path: str) -> Iterator[str]:
    head, _, rest = field_path.partition(".")
    value = getattr(record, head)
    items = value if isinstance(value, list) else [value]
    for item in items:
        if item is None:
            continue
        if rest:
            inner = getattr(item, rest)
            if inner is not None:
                yield inner
        else:
            yield item


def check_references(catalog: Catalog) -> list[RecordError]:
    errors: list[RecordError] = []
    known: dict[str, set[str]] = {k: set(v) for k, v in catalog.records.items()}
    known.update({s: {c.id for c in v.concepts} for s, v in catalog.vocab.items()})
    for scheme, vocab in catalog.vocab.items():
        path = catalog.files.get(("vocab", scheme), Path(f"vocab/{scheme}.yaml"))
        for concept in vocab.concepts:
            for broader in concept.broader:
                if broader not in known[scheme]:
                    errors.append(UnknownReference(path, record=concept.id, field="broader",
                                                   kind=scheme, value=broader, known=known[scheme]))
    for kind, fields in REFERENCES.items():
        for ident, record in catalog.of(kind).items():
            for field_path, target in fields.items():
                for value in _values(record, field_path):
                    if value not in known.get(target, set()):
                        errors.append(UnknownReference(
                            catalog.files[(kind, ident)], record=ident, field=field_path,
                            kind=target, value=value, known=known.get(target, set())))
    return errors


def load_catalog(data_dir: Path | None = None) -> Catalog:
    """Read every vocabulary and record under ``data_dir`` and check references."""
    data_dir = Path(data_dir) if data_dir else paths.data_dir()
    if not data_dir.is_dir():
        raise MedkgError(f"{data_dir}: no such data folder")
    catalog = Catalog()
    errors: list[RecordError] = []
    for scheme in paths.VOCAB_KINDS:
        path = paths.vocab_dir(data_dir) / f"{scheme}.yaml"
        if not path.is_file():
            errors.append(RecordError(path, "vocabulary file missing"))
            continue
        try:
            catalog.vocab[scheme] = load_vocabulary(path)
            catalog.files[("vocab", scheme)] = path
        except RecordError as exc:
            errors.append(exc)
    for kind, path in iter_record_files(data_dir):
        try:
            record = load_record(kind, path)
        except RecordError as exc:
            errors.append(exc)
            continue
        bucket = catalog.records.setdefault(kind, {})
        if record.id in bucket:  # cannot happen with one file per id, kept for safety
            errors.append(RecordError(path, "duplicate id", field="id", record=record.id))
        bucket[record.id] = record
        catalog.files[(kind, record.id)] = path
    if not errors:
        errors = check_references(catalog)
    if errors:
        raise CatalogErrors(errors)
    log.info("loaded %s", catalog.counts())
    return catalog


def dump_record(record: Record) -> str:
    """YAML text of a record, fields in model order, empty values left out."""
    data = record.model_dump(mode="json", exclude_none=True, exclude_defaults=False)
    data = {k: v for k, v in data.items() if v not in ([], {}, None)}
    if data.get("listed_upstream") is True:
        data.pop("listed_upstream")
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)

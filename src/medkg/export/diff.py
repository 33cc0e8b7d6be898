"""What changed between two builds: datasets added, removed and changed, field by field.

Each side is a store folder (its current build, or a build folder itself) or a dump file
(.nt, .nq, .ttl, optionally .gz). A dataset's facts are the set of (predicate, object) pairs
of its IRI, plus those of its own fragment nodes (``<dataset>#label-1``), whose predicates are
shown as ``#label-1 rdfs:label``; a blank node object (a paper without an IRI) is shown by its
own triples, so the comparison does not depend on blank node labels.
"""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from .. import store as stores
from ..errors import MedkgError
from ..paths import BASE_IRI
from .facts import MKG, RDF_TYPE

DATASET_NS = f"{BASE_IRI}dataset/"
FILE_FORMATS = {".nt": ox.RdfFormat.N_TRIPLES, ".nq": ox.RdfFormat.N_QUADS,
                ".ttl": ox.RdfFormat.TURTLE, ".trig": ox.RdfFormat.TRIG}

Facts = dict[str, set[tuple[str, str]]]  # dataset id -> {(predicate, object)}


def compact(term) -> str:
    from ..console import compact as console_compact

    if isinstance(term, ox.Literal):
        return json.dumps(term.value, ensure_ascii=False)
    return console_compact(term)


def open_side(path: Path) -> tuple[ox.Store, str]:
    """A store for ``path`` and a label for it (build id or file name)."""
    path = Path(path)
    if path.is_dir():
        if stores.current_link(path).exists():
            handle, build = stores.open_read_only(path)
            return handle, build.build_id
        try:
            return ox.Store.read_only(str(path)), path.name
        except OSError as exc:
            raise MedkgError(f"{path}: neither a store folder nor a build ({exc})") from exc
    if not path.is_file():
        raise MedkgError(f"{path}: no such store folder or dump file")
    name = path.name[:-3] if path.name.endswith(".gz") else path.name
    fmt = FILE_FORMATS.get(Path(name).suffix)
    if fmt is None:
        raise MedkgError(f"{path}: a dump must be .nt, .nq, .ttl or .trig (optionally .gz)")
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        data = gzip.decompress(data)
    handle = ox.Store()
    try:
        handle.bulk_load(data, fmt)
    except SyntaxError as exc:
        raise MedkgError(f"{path}: cannot parse ({exc})") from exc
    return handle, path.name


def _blank(handle: ox.Store, node: ox.BlankNode) -> str:
    pairs = sorted(f"{compact(q.predicate)} {compact(q.object)}"
                   for q in handle.quads_for_pattern(node, None, None, None))
    return "[" + "; ".join(pairs) + "]"


def dataset_facts(handle: ox.Store) -> Facts:
    """Every dataset's (predicate, object) pairs, own fragment nodes folded in."""
    out: Facts = {}
    datasets = {q.subject.value for q in handle.quads_for_pattern(
        None, ox.NamedNode(RDF_TYPE), ox.NamedNode(MKG + "Dataset"), None)}
    for quad in handle.quads_for_pattern(None, None, None, None):
        subject = quad.subject
        if not isinstance(subject, ox.NamedNode) or not subject.value.startswith(DATASET_NS):
            continue
        iri, _, fragment = subject.value.partition("#")
        if iri not in datasets:
            continue
        predicate = compact(quad.predicate)
        if fragment:
            predicate = f"#{fragment} {predicate}"
        obj = quad.object
        value = _blank(handle, obj) if isinstance(obj, ox.BlankNode) else compact(obj)
        out.setdefault(iri[len(DATASET_NS):], set()).add((predicate, value))
    return out


@dataclass
class Change:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


@dataclass
class Diff:
    old: str
    new: str
    added: list[str]
    removed: list[str]
    changed: dict[str, dict[str, Change]]  # dataset id -> field -> change

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def to_json(self) -> dict:
        return {"old": self.old, "new": self.new, "added": self.added, "removed": self.removed,
                "changed": {ident: {name: {"added": c.added, "removed": c.removed}
                                    for name, c in fields.items()}
                            for ident, fields in self.changed.items()}}

    def summary(self) -> str:
        return (f"{len(self.added)} dataset(s) added, {len(self.removed)} removed, "
                f"{len(self.changed)} changed")

    def text(self) -> str:
        lines = [f"{self.old} -> {self.new}: {self.summary()}"]
        lines += [f"+ {ident}" for ident in self.added]
        lines += [f"- {ident}" for ident in self.removed]
        for ident, fields in self.changed.items():
            lines.append(f"~ {ident}")
            for name, change in fields.items():
                lines += [f"    {name}: - {value}" for value in change.removed]
                lines += [f"    {name}: + {value}" for value in change.added]
        return "\n".join(lines) + "\n"

    def markdown(self) -> str:
        lines = [f"## Changes from `{self.old}` to `{self.new}`", "", self.summary() + ".", ""]
        if self.added:
            lines += ["### Added", ""] + [f"- `{ident}`" for ident in self.added] + [""]
        if self.removed:
            lines += ["### Removed", ""] + [f"- `{ident}`" for ident in self.removed] + [""]
        if self.changed:
            lines += ["### Changed", ""]
            for ident, fields in self.changed.items():
                lines.append(f"- `{ident}`")
                for name, change in fields.items():
                    old = ", ".join(change.removed) or "(none)"
                    new = ", ".join(change.added) or "(none)"
                    lines.append(f"  - `{name}`: {old} → {new}")
            lines.append("")
        return "\n".join(lines)


def compare(old: Facts, new: Facts, old_label: str = "old", new_label: str = "new") -> Diff:
    changed: dict[str, dict[str, Change]] = {}
    for ident in sorted(old.keys() & new.keys()):
        if old[ident] == new[ident]:
            continue
        fields: dict[str, Change] = defaultdict(Change)
        for predicate, value in sorted(old[ident] - new[ident]):
            fields[predicate].removed.append(value)
        for predicate, value in sorted(new[ident] - old[ident]):
            fields[predicate].added.append(value)
        changed[ident] = dict(sorted(fields.items()))
    return Diff(old_label, new_label, sorted(new.keys() - old.keys()),
                sorted(old.keys() - new.keys()), changed)


def diff_paths(old: Path, new: Path) -> Diff:
    old_store, old_label = open_side(old)
    new_store, new_label = open_side(new)
    return compare(dataset_facts(old_store), dataset_facts(new_store), old_label, new_label)


def previous_build(store_dir: Path) -> Path:
    """The folder of the build the current one replaced; MedkgError if it is gone."""
    handle, build = stores.open_read_only(store_dir)
    activity = ox.NamedNode(f"{BASE_IRI}build/{build.build_id}")
    found = [q.object.value for q in handle.quads_for_pattern(
        activity, ox.NamedNode(MKG + "previousBuild"), None, None)]
    if not found:
        found = [f"/{build.info['previous_build']}"] if build.info.get("previous_build") else []
    if not found:
        raise MedkgError(f"build {build.build_id} records no previous build")
    previous = found[0].rsplit("/", 1)[-1]
    path = stores.builds_dir(store_dir) / previous
    if not path.is_dir():
        raise MedkgError(f"the previous build {previous} no longer exists in {store_dir}")
    return path


def diff_previous(store_dir: Path) -> Diff:
    return diff_paths(previous_build(store_dir), Path(store_dir))


def render(diff: Diff, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(diff.to_json(), indent=2, ensure_ascii=False) + "\n"
    if fmt == "markdown":
        return diff.markdown()
    return diff.text()


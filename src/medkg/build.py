"""The pipeline, one straight line: data/ -> Catalog -> RDF (+ ontology) -> SHACL -> store.

``build`` writes a new Oxigraph database beside the current one and switches to it only when
it is complete; any failure (bad record, shape violation, full disk, interruption) leaves the
previous build serving. ``check`` runs the same stages without writing a store.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import resource
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import RDF, RDFS, XSD, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, PROV

from . import paths, store
from .errors import MedkgError, ShapeViolation
from .rdf import MKG, bind_prefixes, catalog_graph
from .records import Catalog, load_catalog
from .validate import Violation, load_ontology, load_shapes, validate_graph

log = logging.getLogger(__name__)

VOID = Namespace("http://rdfs.org/ns/void#")
CATALOG_IRI = URIRef(paths.BASE_IRI)

Progress = Callable[[str], None]


@dataclass
class Stage:
    name: str
    seconds: float
    peak_rss_mb: float


@dataclass
class BuildResult:
    build_id: str | None
    triples: int
    counts: dict[str, int]
    violations: list[Violation] = field(default_factory=list)
    stages: list[Stage] = field(default_factory=list)
    store_path: Path | None = None


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


class _Stages:
    def __init__(self, progress: Progress | None):
        self.progress = progress or (lambda message: None)
        self.done: list[Stage] = []

    def run(self, name: str, func, *args, **kwargs):
        self.progress(f"{name}...")
        stop_point(name)
        start = time.perf_counter()
        value = func(*args, **kwargs)
        stage = Stage(name, time.perf_counter() - start, _peak_rss_mb())
        self.done.append(stage)
        self.progress(f"{name}: {stage.seconds:.2f} s")
        return value


def stop_point(stage: str) -> None:
    """For the fault tests: ``MEDKG_BUILD_STOP_AT=<stage>`` makes a build stop itself (SIGSTOP)
    as ``stage`` starts (load, rdf, shacl, serialize, store; ``switch``: a complete build just
    before ``current`` moves), so a test can kill it exactly there. Unset, it does nothing."""
    if os.environ.get("MEDKG_BUILD_STOP_AT") == stage:
        os.kill(os.getpid(), signal.SIGSTOP)


def input_commit(data_dir: Path) -> tuple[str | None, bool]:
    """The git commit data/ was read at, and whether data/ has uncommitted changes."""
    try:
        commit = subprocess.run(["git", "-C", str(data_dir), "rev-parse", "HEAD"], capture_output=True,
                                text=True, timeout=10, check=True).stdout.strip()
        status = subprocess.run(["git", "-C", str(data_dir), "status", "--porcelain", "--", "."],
                                capture_output=True, text=True, timeout=10, check=True).stdout
        return commit or None, bool(status.strip())
    except (OSError, subprocess.SubprocessError):
        return None, False


def full_graph(catalog: Catalog, ontology: Graph | None = None) -> Graph:
    """Records graph plus the ontology: what the store holds (before build provenance)."""
    g = catalog_graph(catalog)
    g += ontology if ontology is not None else load_ontology()
    return bind_prefixes(g)


def add_build_provenance(g: Graph, info: dict) -> None:
    activity = URIRef(f"{paths.BASE_IRI}build/{info['build_id']}")
    g.add((CATALOG_IRI, RDF.type, DCAT.Catalog))
    g.add((CATALOG_IRI, RDF.type, VOID.Dataset))
    g.add((CATALOG_IRI, RDFS.label, Literal("medkg")))
    g.add((CATALOG_IRI, DCTERMS.title, Literal("medkg: public medical AI datasets", lang="en")))
    g.add((CATALOG_IRI, PROV.wasGeneratedBy, activity))
    g.add((CATALOG_IRI, DCTERMS.modified, Literal(info["built_at"], datatype=XSD.dateTime)))
    for record in info.get("dataset_iris", []):
        g.add((CATALOG_IRI, DCAT.dataset, URIRef(record)))
    g.add((activity, RDF.type, PROV.Activity))
    g.add((activity, RDFS.label, Literal(f"medkg build {info['build_id']}")))
    g.add((activity, MKG.buildId, Literal(info["build_id"])))
    g.add((activity, PROV.startedAtTime, Literal(info["started_at"], datatype=XSD.dateTime)))
    g.add((activity, PROV.endedAtTime, Literal(info["built_at"], datatype=XSD.dateTime)))
    if info.get("input_commit"):
        g.add((activity, MKG.inputCommit, Literal(info["input_commit"])))
        g.add((activity, MKG.inputModified, Literal(bool(info.get("input_dirty")))))
    if info.get("previous_build"):
        g.add((activity, MKG.previousBuild,
               URIRef(f"{paths.BASE_IRI}build/{info['previous_build']}")))
    for kind, count in sorted(info["counts"].items()):
        g.add((activity, MKG.recordCount, Literal(f"{kind}={count}")))


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def check(data_dir: Path | None = None, *, progress: Progress | None = None) -> BuildResult:
    """Load, convert and validate without writing anything."""
    stages = _Stages(progress)
    catalog = stages.run("load", load_catalog, data_dir)
    graph = stages.run("rdf", full_graph, catalog)
    violations = stages.run("shacl", validate_graph, graph, shapes=load_shapes(), catalog=catalog)
    return BuildResult(None, len(graph), catalog.counts(), violations, stages.done)


def build(data_dir: Path | None = None, store_dir: Path | str | None = None, *,
          progress: Progress | None = None) -> BuildResult:
    """Build a new store generation; switch to it only when complete and valid."""
    data_dir = Path(data_dir) if data_dir else paths.data_dir()
    store_dir = paths.store_location(store_dir) if store_dir else paths.default_store_dir()
    started = _now()
    stages = _Stages(progress)
    catalog = stages.run("load", load_catalog, data_dir)
    graph = stages.run("rdf", full_graph, catalog)
    violations = stages.run("shacl", validate_graph, graph, shapes=load_shapes(), catalog=catalog)
    result = BuildResult(None, len(graph), catalog.counts(), violations, stages.done)
    if violations:
        raise ShapeViolation(violations)

    def serialize() -> tuple[bytes, dict]:
        commit, dirty = input_commit(data_dir)
        body = graph.serialize(format="nt", encoding="utf-8")
        digest = hashlib.sha256(body).hexdigest()[:10]
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        info = {
            "build_id": f"{stamp}-{digest}", "started_at": started, "built_at": _now(),
            "input_commit": commit, "input_dirty": dirty, "data_dir": str(data_dir),
            "previous_build": store.current_build_id(store_dir),
            "counts": catalog.counts(),
            "dataset_iris": [paths.entity_iri("dataset", i) for i in sorted(catalog.datasets)],
        }
        provenance = Graph()
        add_build_provenance(provenance, info)
        info.pop("dataset_iris")
        info["triples"] = len(graph) + len(provenance)
        return body + provenance.serialize(format="nt", encoding="utf-8"), info

    body, info = stages.run("serialize", serialize)
    if paths.is_remote(store_dir):  # an engine: a new named graph, then the pointer switched
        from .remote import publish

        count = stages.run("store", publish, str(store_dir), body, info)
        result.build_id, result.triples, result.stages = info["build_id"], count, stages.done
        return result
    target = store.new_build_dir(store_dir, info["build_id"])
    try:
        count = stages.run("store", store.load_into, target, body)
        info["triples"] = count
        info["stages"] = {s.name: round(s.seconds, 3) for s in stages.done}
        stop_point("switch")
        store.switch(store_dir, target, info)
    except OSError as exc:  # a full disk, a read-only folder ...: one clear line, nothing lost
        store.discard(target)
        raise MedkgError(f"{target}: cannot write the new build ({exc.strerror or exc}); "
                         "the previous build is unchanged") from exc
    except BaseException:
        store.discard(target)
        raise
    store.prune(store_dir)
    result.build_id, result.triples, result.store_path = info["build_id"], count, target
    result.stages = stages.done
    return result


def store_is_stale(data_dir: Path, store_dir: Path) -> bool:
    """True when there is no build, or data/, the ontology or the shapes changed after it."""
    try:
        current = store.current_build(store_dir)
    except Exception:  # noqa: BLE001 - any unreadable store counts as stale
        return True
    built = current.path.with_name(current.path.name + ".json")
    stamp = built.stat().st_mtime if built.exists() else 0.0
    sources = [p for p in Path(data_dir).rglob("*.yaml")]
    sources += [paths.ontology_file(), paths.shapes_file()]
    return any(p.exists() and p.stat().st_mtime > stamp for p in sources)

"""SHACL validation of the catalogue graph: pyshacl -> a list of violations with their files.

Each violation names the focus node, the record it belongs to and that record's file, the
property path, the shape and the message, so ``medkg validate`` can print one line each.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from pyshacl import validate as shacl_validate
from rdflib import RDF, Graph, URIRef
from rdflib.namespace import SH

from . import paths
from .errors import MedkgError
from .records import Catalog

log = logging.getLogger(__name__)


@dataclass(frozen=True, order=True)
class Violation:
    file: str
    record: str
    path: str
    message: str
    focus: str
    shape: str
    severity: str

    def line(self) -> str:
        return f"{self.file}: {self.record}: {self.path}: {self.message}"


def _parse_turtle(path: Path, what: str) -> Graph:
    if not path.is_file():
        raise MedkgError(f"{path}: {what} file missing")
    try:
        return Graph().parse(path, format="turtle")
    except Exception as exc:  # noqa: BLE001 - rdflib raises many parser error types
        raise MedkgError(f"{path}: cannot parse the {what}: {exc}") from exc


def load_shapes(path: Path | None = None) -> Graph:
    return _parse_turtle(Path(path or paths.shapes_file()), "SHACL shapes")


def load_ontology(path: Path | None = None) -> Graph:
    return _parse_turtle(Path(path or paths.ontology_file()), "ontology")


def _locate(focus: str, catalog: Catalog | None) -> tuple[str, str]:
    """Focus node IRI -> (file, record id) using the catalogue's file index."""
    base = focus.split("#", 1)[0]
    if not base.startswith(paths.BASE_IRI):
        return "-", focus
    kind, _, ident = base[len(paths.BASE_IRI):].partition("/")
    if catalog is None:
        return "-", f"{kind}/{ident}"
    path = catalog.files.get((kind, ident)) or catalog.files.get(("vocab", kind))
    return (str(path) if path else "-"), f"{kind}/{ident}" if ident else kind


def _short(graph: Graph, node) -> str:
    if node is None:
        return "-"
    if isinstance(node, URIRef):
        try:
            return graph.namespace_manager.normalizeUri(node)
        except Exception:  # noqa: BLE001 - fall back to the full IRI
            return str(node)
    return str(node)


def violations_from_report(report: Graph, data: Graph, catalog: Catalog | None = None) -> list[Violation]:
    out: list[Violation] = []
    for result in report.subjects(RDF.type, SH.ValidationResult):
        focus = report.value(result, SH.focusNode)
        path = report.value(result, SH.resultPath)
        message = report.value(result, SH.resultMessage)
        shape = report.value(result, SH.sourceShape)
        severity = report.value(result, SH.resultSeverity)
        file, record = _locate(str(focus), catalog)
        out.append(Violation(
            file=file, record=record, path=_short(data, path),
            message=str(message) if message is not None else "constraint not met",
            focus=str(focus), shape=_short(report, shape),
            severity=_short(report, severity).split(":")[-1].split("#")[-1],
        ))
    return sorted(set(out))


def validate_graph(data: Graph, *, shapes: Graph | None = None, ontology: Graph | None = None,
                   catalog: Catalog | None = None) -> list[Violation]:
    """Run the shapes over ``data`` (+ ontology); return violations (empty when it conforms)."""
    shapes = shapes if shapes is not None else load_shapes()
    conforms, report, _ = shacl_validate(
        data, shacl_graph=shapes, ont_graph=ontology, inference="none",
        advanced=True, allow_warnings=True, abort_on_first=False,
    )
    if conforms:
        return []
    return violations_from_report(report, data, catalog)

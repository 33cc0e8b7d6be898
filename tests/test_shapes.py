"""Shapes (STYLE layer 3): valid examples conform; each invalid example fails on exactly the
shapes and paths its expected.ttl names.

Examples live in tests/fixtures/valid/*.ttl and tests/fixtures/invalid/<Class>-<what>/ (data.ttl
plus expected.ttl); every one is validated together with tests/fixtures/valid/context.ttl and the
ontology, with the options medkg.validate uses (no inference, advanced features on).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pyshacl import validate as shacl_validate
from rdflib import RDF, BNode, Graph, Namespace, URIRef
from rdflib.namespace import OWL, SH

from medkg.validate import load_ontology, load_shapes

FIXTURES = Path(__file__).resolve().parent / "fixtures"
VALID = FIXTURES / "valid"
INVALID = FIXTURES / "invalid"
CONTEXT = VALID / "context.ttl"
MKG = Namespace("https://w3id.org/medkg/ontology#")
MKGSH = Namespace("https://w3id.org/medkg/shapes#")

VALID_FILES = sorted(VALID.glob("*.ttl"))
INVALID_DIRS = sorted(p for p in INVALID.iterdir() if p.is_dir())


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return load_shapes()


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return load_ontology()


def _path_key(graph: Graph, path) -> str | None:
    """A result path as a comparable string: an IRI, '^IRI' for an inverse path, or None."""
    if path is None:
        return None
    if isinstance(path, BNode):
        inverse = graph.value(path, SH.inversePath)
        if inverse is not None:
            return f"^{inverse}"
        raise AssertionError(f"unexpected complex result path {path!r}")
    return str(path)


def results(graph: Graph) -> set[tuple[str, str, str | None]]:
    """(focus node, source shape, path) of every result in a validation report or expected.ttl."""
    out = set()
    for result in graph.subjects(RDF.type, SH.ValidationResult):
        out.add((str(graph.value(result, SH.focusNode)), str(graph.value(result, SH.sourceShape)),
                 _path_key(graph, graph.value(result, SH.resultPath))))
    return out


def run_shapes(data: Path, shapes: Graph, ontology: Graph) -> tuple[bool, Graph]:
    graph = Graph().parse(CONTEXT)
    if data != CONTEXT:
        graph.parse(data)
    conforms, report, _ = shacl_validate(graph, shacl_graph=shapes, ont_graph=ontology,
                                         inference="none", advanced=True, abort_on_first=False)
    return conforms, report


@pytest.mark.parametrize("example", VALID_FILES, ids=lambda p: p.stem)
def test_valid_example_conforms(example: Path, shapes, ontology):
    conforms, report = run_shapes(example, shapes, ontology)
    assert conforms, f"{example.name} should conform:\n" + "\n".join(
        f"  {f} {s} {p}" for f, s, p in sorted(results(report), key=str))


@pytest.mark.parametrize("example", INVALID_DIRS, ids=lambda p: p.name)
def test_invalid_example_fails_on_expected_shape_and_path(example: Path, shapes, ontology):
    expected = results(Graph().parse(example / "expected.ttl"))
    conforms, report = run_shapes(example / "data.ttl", shapes, ontology)
    assert not conforms, f"{example.name} should not conform"
    actual = results(report)
    assert actual == expected, (
        f"{example.name}: unexpected results\n  missing: {sorted(expected - actual, key=str)}"
        f"\n  extra:   {sorted(actual - expected, key=str)}")
    for result in report.subjects(RDF.type, SH.ValidationResult):
        message = report.value(result, SH.resultMessage)
        assert message and len(str(message)) > 20, f"{example.name}: result without a readable message"


def test_invalid_examples_are_well_formed(shapes):
    """Each invalid example names a known class, has data and at least one expected result,
    and each expected shape exists (so renaming a shape cannot silently void an example)."""
    assert len(INVALID_DIRS) >= 20
    known_shapes = set(shapes.subjects(RDF.type, SH.NodeShape)) | set(shapes.subjects(RDF.type, SH.PropertyShape))
    prefixes = {str(s).removeprefix(str(MKGSH)).split("-")[0].removesuffix("Shape") for s in known_shapes}
    prefixes |= {"Dataset", "Evaluation", "Method", "Benchmark", "Challenge", "Platform", "Organization",
                 "Toolbox", "LabelClass", "ResolutionStatistic", "Paper", "Concept", "Anatomy"}
    for example in INVALID_DIRS:
        assert example.name.split("-")[0] in prefixes, f"{example.name}: not <Class>-<what is wrong>"
        assert (example / "data.ttl").is_file(), example.name
        expected = results(Graph().parse(example / "expected.ttl"))
        assert expected, f"{example.name}: expected.ttl names no result"
        for _, shape, _ in expected:
            assert URIRef(shape) in known_shapes, f"{example.name}: no shape {shape}"


def test_context_is_valid_on_its_own(shapes, ontology):
    conforms, report = run_shapes(CONTEXT, shapes, ontology)
    assert conforms, sorted(results(report), key=str)


def test_every_ontology_class_has_a_node_shape(shapes, ontology):
    classes = {c for c in ontology.subjects(RDF.type, OWL.Class) if str(c).startswith(str(MKG))}
    targeted = set(shapes.objects(None, SH.targetClass))
    node_targets = {t for s in shapes.subjects(RDF.type, SH.NodeShape) for t in shapes.objects(s, SH.targetClass)}
    assert classes, "the ontology declares no mkg: classes"
    assert classes <= node_targets, f"classes without a node shape: {sorted(classes - node_targets)}"
    assert classes <= targeted


def test_every_shape_has_a_target_or_is_used_and_a_message(shapes):
    for shape in set(shapes.subjects(RDF.type, SH.PropertyShape)) | set(shapes.subjects(RDF.type, SH.NodeShape)):
        if isinstance(shape, BNode):
            continue
        has_target = (shapes.value(shape, SH.targetClass) is not None
                      or shapes.value(shape, SH.target) is not None)
        assert has_target, f"{shape} is never applied (no sh:targetClass or sh:target)"
        if (shape, RDF.type, SH.PropertyShape) in shapes:
            assert shapes.value(shape, SH.message) is not None, f"{shape} has no sh:message"


def test_no_vocabulary_ids_copied_into_shapes(shapes):
    """Vocabulary references are checked with sh:class, never with lists of concept IRIs."""
    for shape, values in shapes.subject_objects(SH["in"]):
        items = list(Graph.items(shapes, values))
        assert not any(str(i).startswith("https://w3id.org/medkg/") for i in items), shape

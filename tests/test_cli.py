"""Layer 6: one test per command, exit codes included (0 ok, 1 bad input, 2 usage)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import rdflib
import yaml
from click.testing import CliRunner
from rdflib import OWL, RDF

from medkg.cli import main


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def edit(path: Path, **changes) -> None:
    data = yaml.safe_load(path.read_text())
    data.update(changes)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def first_dataset(data: Path) -> Path:
    return sorted((data / "datasets").glob("*.yaml"))[0]


@pytest.fixture
def built(mini_data: Path, tmp_path: Path) -> tuple[Path, Path]:
    store = tmp_path / "store"
    result = run("build", "--data", str(mini_data), "--store", str(store))
    assert result.exit_code == 0, result.output
    return mini_data, store


def count_triples(store: Path) -> int:
    result = run("query", "--store", str(store), "--format", "json",
                 "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    assert result.exit_code == 0, result.output
    return int(json.loads(result.stdout)["results"]["bindings"][0]["n"]["value"])


def test_build_validate_query_export(built, tmp_path):
    data, store = built
    assert run("validate", "--data", str(data)).exit_code == 0
    table = run("query", "--store", str(store), "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    assert table.exit_code == 0 and "(1 row)" in table.stdout
    assert count_triples(store) > 100
    out = tmp_path / "all.ttl"
    assert run("export", "--store", str(store), "--format", "ttl", "-o", str(out)).exit_code == 0
    graph = rdflib.Graph().parse(out, format="turtle")
    assert (rdflib.URIRef("https://w3id.org/medkg/ontology"), RDF.type, OWL.Ontology) in graph
    assert (rdflib.URIRef("https://w3id.org/medkg/dataset/acdc"), None, None) in graph


@pytest.mark.parametrize("fmt,marker", [("json", '"bindings"'), ("csv", "n\n1"), ("tsv", "?n"),
                                        ("xml", "<sparql")])
def test_query_result_formats(built, fmt, marker):
    _, store = built
    result = run("query", "--store", str(store), "--format", fmt, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    assert result.exit_code == 0 and marker in result.stdout.replace("\r\n", "\n")


def test_construct_as_turtle(built):
    _, store = built
    result = run("query", "--store", str(store), "--format", "ttl",
                 "CONSTRUCT { ?d a ?c } WHERE { ?d a ?c } LIMIT 5")
    assert result.exit_code == 0
    assert len(rdflib.Graph().parse(data=result.stdout, format="turtle")) == 5


@pytest.mark.parametrize("fmt", ["nt", "nq", "jsonld", "rdfxml"])
def test_export_formats_parse(built, tmp_path, fmt):
    _, store = built
    out = tmp_path / f"all.{fmt}"
    assert run("export", "--store", str(store), "--format", fmt, "-o", str(out)).exit_code == 0
    parser = {"nt": "nt", "nq": "nquads", "jsonld": "json-ld", "rdfxml": "xml"}[fmt]
    graph = rdflib.Dataset().parse(out, format=parser) if fmt == "nq" else rdflib.Graph().parse(out, format=parser)
    assert len(graph) > 100


def test_query_syntax_error_is_exit_1(built):
    _, store = built
    result = run("query", "--store", str(store), "SELECT WHERE {")
    assert result.exit_code == 1 and "syntax" in result.output.lower()


def test_usage_error_is_exit_2(built):
    _, store = built
    assert run("query", "--store", str(store), "--format", "yaml", "ASK {}").exit_code == 2
    assert run("export", "--store", str(store)).exit_code == 2


def test_query_without_store_is_a_clear_error(tmp_path):
    result = run("query", "--store", str(tmp_path / "none"), "ASK {}")
    assert result.exit_code == 1 and "medkg build" in result.output


def test_unknown_modality_names_file_field_and_keeps_store(built):
    data, store = built
    before = count_triples(store)
    path = first_dataset(data)
    edit(path, modality=["mri-typo"])
    result = run("build", "--data", str(data), "--store", str(store))
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith("error:") and "modality" in line]
    assert lines and str(path) in lines[0] and "unknown modality 'mri-typo'" in lines[0]
    assert count_triples(store) == before


def test_did_you_mean(built):
    data, store = built
    path = first_dataset(data)
    edit(path, modality=["ctt"])
    result = run("validate", "--data", str(data))
    assert result.exit_code == 1 and "did you mean 'ct'" in result.output


def test_missing_required_field(built):
    data, store = built
    path = first_dataset(data)
    record = yaml.safe_load(path.read_text())
    del record["name"]
    path.write_text(yaml.safe_dump(record))
    result = run("build", "--data", str(data), "--store", str(store))
    assert result.exit_code == 1
    assert f"{path}" in result.output and "field name" in result.output


def test_malformed_yaml_names_file_and_line(built):
    data, store = built
    before = count_triples(store)
    path = first_dataset(data)
    path.write_text("id: broken\nname: [unclosed\nmodality: ct\n")
    result = run("build", "--data", str(data), "--store", str(store))
    assert result.exit_code == 1
    line = next(l for l in result.output.splitlines() if str(path) in l)
    assert "malformed YAML" in line and f"{path}:" in line
    assert count_triples(store) == before


def test_unknown_key_rejected(built):
    data, _ = built
    path = first_dataset(data)
    edit(path, modalty=["ct"])
    result = run("validate", "--data", str(data))
    assert result.exit_code == 1 and "field modalty: unknown field" in result.output


def test_shacl_violation_is_reported_and_store_kept(built):
    data, store = built
    before = count_triples(store)
    path = first_dataset(data)
    edit(path, task=[])  # the model allows it; the shapes require a task
    result = run("build", "--data", str(data), "--store", str(store))
    assert result.exit_code == 1
    assert "mkg:task" in result.output and str(path) in result.output
    assert count_triples(store) == before
    assert run("validate", "--data", str(data)).exit_code == 1


def test_named_query_bad_parameter(built, tmp_path, monkeypatch):
    _, store = built
    queries = tmp_path / "queries"
    queries.mkdir()
    (queries / "by-cases.rq").write_text(
        "# title: Datasets by cases\n# question: Which datasets have at least N cases?\n"
        "# param: min_cases: integer = 0 -- least number of cases\n"
        "PREFIX mkg: <https://w3id.org/medkg/ontology#>\n"
        "SELECT ?d ?min_cases WHERE { ?d mkg:caseCount ?n FILTER(?n >= ?min_cases) }\n")
    monkeypatch.setattr("medkg.paths.queries_dir", lambda: queries)
    ok = run("query", "--store", str(store), "--format", "json", "by-cases", "--param", "min_cases=1000")
    assert ok.exit_code == 0
    rows = json.loads(ok.stdout)["results"]["bindings"]
    everything = json.loads(run("query", "--store", str(store), "--format", "json", "by-cases").stdout)
    assert 0 < len(rows) < len(everything["results"]["bindings"])
    bad = run("query", "--store", str(store), "by-cases", "--param", "min_cases=lots")
    assert bad.exit_code == 1 and "parameter 'min_cases'" in bad.output
    unknown = run("query", "--store", str(store), "by-cases", "--param", "max=3")
    assert unknown.exit_code == 1 and "no parameter 'max'" in unknown.output


def test_console_script_entry_point(built):
    _, store = built
    out = subprocess.run([sys.executable, "-m", "medkg.cli", "query", "--store", str(store), "ASK { ?s ?p ?o }"],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 0 and out.stdout.strip() == "true"

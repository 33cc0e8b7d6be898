"""`medkg diff`: datasets added, removed and changed between two builds or dumps."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from click.testing import CliRunner

from medkg import store
from medkg.build import build
from medkg.cli import main
from medkg.export import diff as D
from medkg.export.void import DUMPS, dump_bytes


def _edit(data: Path) -> None:
    path = data / "datasets" / "acdc.yaml"
    record = yaml.safe_load(path.read_text())
    record["case_count"] = 151
    record["aliases"] = ["ACDC 2017"]
    path.write_text(yaml.safe_dump(record, sort_keys=False, allow_unicode=True))
    (data / "datasets" / "jhh.yaml").unlink()
    for benchmark in (data / "benchmarks").glob("*.yaml"):  # drop references to the removed one
        text = benchmark.read_text()
        benchmark.write_text("\n".join(l for l in text.splitlines() if l.strip() != "- jhh") + "\n")
    for evaluation in (data / "evaluations").glob("*.yaml") if (data / "evaluations").is_dir() else []:
        if "jhh" in evaluation.read_text():
            evaluation.unlink()


def test_identical_builds_have_no_changes(mini_store):
    assert D.diff_paths(mini_store, mini_store).empty


def test_diff_between_builds_field_by_field(mini_data, tmp_path):
    store_dir = tmp_path / "store"
    build(mini_data, store_dir)
    old = store.current_build(store_dir).path
    _edit(mini_data)
    build(mini_data, store_dir)
    result = D.diff_paths(old, store_dir)
    assert result.removed == ["jhh"] and result.added == []
    fields = result.changed["acdc"]
    assert fields["mkg:caseCount"].added == ['"151"'] and fields["mkg:caseCount"].removed == ['"150"']
    assert fields["skos:altLabel"].added == ['"ACDC 2017"']
    # --previous finds the same through the build's recorded previous build
    previous = D.diff_previous(store_dir)
    assert previous.to_json() == D.diff_paths(old, store_dir).to_json()
    runner = CliRunner()
    out = runner.invoke(main, ["diff", "--previous", "--store", str(store_dir), "--format", "json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["changed"]["acdc"]["mkg:caseCount"]["added"] == ['"151"']
    md = runner.invoke(main, ["diff", "--previous", "--store", str(store_dir), "--format", "markdown"])
    assert "### Removed" in md.output and "`jhh`" in md.output
    text = runner.invoke(main, ["diff", str(old), str(store_dir)])
    assert text.exit_code == 0 and "~ acdc" in text.output and "- jhh" in text.output


def test_diff_of_dump_files(mini_store, tmp_path):
    handle, _ = store.open_read_only(mini_store)
    files = []
    for name in ("nt", "nq", "ttl"):
        path = tmp_path / f"medkg.{name}.gz"
        path.write_bytes(dump_bytes(handle, DUMPS[name], compressed=True))
        files.append(path)
    assert D.diff_paths(files[0], files[1]).empty
    assert D.diff_paths(files[2], mini_store).empty


def test_diff_errors(mini_store, tmp_path):
    runner = CliRunner()
    assert runner.invoke(main, ["diff", str(mini_store)]).exit_code == 1
    assert runner.invoke(main, ["diff", str(tmp_path / "nope"), str(mini_store)]).exit_code == 1
    bad = tmp_path / "x.csv"
    bad.write_text("a,b")
    assert runner.invoke(main, ["diff", str(bad), str(mini_store)]).exit_code == 1
    result = runner.invoke(main, ["diff", "--previous", "--store", str(mini_store)])
    assert result.exit_code == 1 and "previous build" in result.output

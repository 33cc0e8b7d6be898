"""The evaluations importer: cell parsers, matching, records, idempotency; then the real CSVs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from medkg import paths
from medkg.importer.cells import github_url, parse_sources, parse_value, strip_note
from medkg.importer.evaluations import import_evaluations
from medkg.records import load_catalog, load_record


TESTS = Path(__file__).resolve().parent
MINI = TESTS / "fixtures" / "mini" / "data"
ROOT = TESTS.parent


def shared_or_skip() -> Path:
    shared = paths.shared_dir()
    if shared is None or not (shared / "upstream" / "evaluations").is_dir():
        pytest.skip("../shared/upstream/evaluations (the real CSVs) is not present beside the project")
    return shared

C1 = "0e495086eb108ff79afe106291e8c15bd2f2bc3a"
C2 = "f32135a9342fedd3fc21abca68f30c7497265019"
HEAD = "method,dataset,dataset_in_list,role,metric,value,source,evidence\n"


# -- cells ---------------------------------------------------------------------------------

@pytest.mark.parametrize("cell, urls", [
    (f"MIC-DKFZ/nnUNet:documentation/resenc_presets.md@{C1}",
     [f"https://github.com/MIC-DKFZ/nnUNet/blob/{C1}/documentation/resenc_presets.md"]),
    (f"uni-medical/STU-Net:assets/t.png (Table 4, linked from README.md)@{C1}",
     [f"https://github.com/uni-medical/STU-Net/blob/{C1}/assets/t.png"]),
    (f"MrGiovanni/Touchstone:README.md@{C2}; dapatlas_results/nnU-Net U-Net/@{C1}",
     [f"https://github.com/MrGiovanni/Touchstone/blob/{C2}/README.md",
      f"https://github.com/MrGiovanni/Touchstone/tree/{C1}/dapatlas_results/nnU-Net%20U-Net"]),
    ("https://arxiv.org/abs/2407.10990 (abstract; via search tool, e.g. https://doaj.org/x)",
     ["https://arxiv.org/abs/2407.10990"]),
])
def test_source_cells_become_urls(cell, urls):
    refs, bad = parse_sources(cell)
    assert [r.url for r in refs] == urls
    assert bad == []


def test_unreadable_source_part_is_returned():
    refs, bad = parse_sources("see the paper")
    assert refs == [] and bad == ["see the paper"]


def test_github_url_folder_uses_tree():
    assert github_url("a/b", "dir/", C1) == f"https://github.com/a/b/tree/{C1}/dir"


@pytest.mark.parametrize("cell, metric, expected", [
    ("", "", [(None, None)]),
    ("83.08", "Dice", [(83.08, None)]),
    ("1st", "challenge rank", [(1.0, None)]),
    ("89.0 (STU-Net-B)", "", [(89.0, "STU-Net-B")]),
    ("88.9 (nnU-Net U-Net); 88.8 (nnU-Net ResEncL)", "", [(88.9, "nnU-Net U-Net"), (88.8, "nnU-Net ResEncL")]),
    ("84.70 (L k3) / 85.04 (L k5)", "", [(84.70, "L k3"), (85.04, "L k5")]),
    ("82.30 (SSL-pretrained) vs 78.91 (random init)", "", [(82.30, "SSL-pretrained"), (78.91, "random init")]),
    ("0.967/0.763", "Liver/Tumor per-case Dice", [(0.967, "Liver"), (0.763, "Tumor")]),
    ("1/2/3", "Dice per fold 0-2", [(1.0, "fold 0"), (2.0, "fold 1"), (3.0, "fold 2")]),
])
def test_value_cells(cell, metric, expected):
    scores, problem = parse_value(cell, metric)
    assert [(s.value, s.label) for s in scores] == expected
    assert problem is None


def test_unreadable_and_unlabelled_values_are_problems():
    scores, problem = parse_value("one 2nd + two 3rd", "challenge rank")
    assert [s.value for s in scores] == [None] and "not a number" in problem
    scores, problem = parse_value("92.65 / 92.62", "Dice")
    assert [s.label for s in scores] == ["value 1 of 2", "value 2 of 2"] and "without labels" in problem


def test_strip_note():
    assert strip_note("JHH (proprietary, Johns Hopkins Hospital)") == ("JHH", "proprietary, Johns Hopkins Hospital")
    assert strip_note("(284 source datasets)") == ("(284 source datasets)", None)


# -- importer on small inline CSVs ---------------------------------------------------------

RECORDS = {
    "datasets/btcv.yaml": {"id": "btcv", "name": "BTCV", "modality": ["ct"], "anatomy": ["abdomen"],
                           "category": ["abdomen"], "task": ["segmentation"]},
    "datasets/flare2022.yaml": {"id": "flare2022", "name": "FLARE 2023", "aliases": ["FLARE 2022"],
                                "modality": ["ct"], "anatomy": ["abdomen"]},
    "datasets/flare2023.yaml": {"id": "flare2023", "name": "FLARE 2023", "modality": ["ct"], "anatomy": ["abdomen"]},
    "datasets/totalsegmentator-v2.yaml": {"id": "totalsegmentator-v2", "name": "TotalSegmentator V2",
                                          "modality": ["ct"], "anatomy": ["whole-body"]},
    "methods/nnu-net.yaml": {"id": "nnu-net", "name": "nnU-Net", "task": ["segmentation"],
                             "code": "https://github.com/MIC-DKFZ/nnUNet", "year": 2018},
    "methods/swin-unetr.yaml": {"id": "swin-unetr", "name": "Swin UNETR", "task": ["segmentation"]},
    "benchmarks/touchstone.yaml": {"id": "touchstone", "name": "Touchstone", "task": ["segmentation"],
                                   "websites": [{"url": "https://github.com/MrGiovanni/Touchstone", "role": "code"}]},
}
EVALUATIONS = HEAD + f"""\
nnU-Net,BTCV,yes,test,Dice (5-fold CV),83.08,MIC-DKFZ/nnUNet:documentation/resenc_presets.md@{C1},'quote'
nnU-Net,FLARE22,yes,test,DSC,85.39,MIC-DKFZ/nnUNet:README.md@{C1},x
nnU-Net,FLARE 2023,yes,test,challenge rank,3rd,MIC-DKFZ/nnUNet:README.md@{C1},x
nnU-Net,Touchstone 1.0 test set (JHH + TotalSegmentator V2 + DAP Atlas),no,benchmark,average DSC,88.9 (nnU-Net U-Net); 88.8 (nnU-Net ResEncL),MrGiovanni/Touchstone:README.md@{C2},x
Swin UNETR,"MSD Liver",no,train,,,MIC-DKFZ/nnUNet:README.md@{C1},'Liver CT (N=131)'
Swin UNETR,JHH (proprietary),no,test,,,MrGiovanni/Touchstone:README.md@{C2},x
Swin UNETR,Medical Segmentation Decathlon (tasks not specified),no,test,,,MIC-DKFZ/nnUNet:README.md@{C1},x
Nobody,BTCV,yes,test,,,MIC-DKFZ/nnUNet:README.md@{C1},x
nnU-Net,BTCV,yes,pretend,,,MIC-DKFZ/nnUNet:README.md@{C1},x
nnU-Net,BTCV,yes,test,,,no source here,x
nnU-Net,Nowhere Set,yes,test,,,MIC-DKFZ/nnUNet:README.md@{C1},x
"""
BENCHMARKS = f"""benchmark,dataset,dataset_in_list,source,evidence
Touchstone,TotalSegmentator V2,yes,MrGiovanni/Touchstone:README.md@{C2},x
Touchstone,"JHH (proprietary, Johns Hopkins Hospital)",no,MrGiovanni/Touchstone:README.md@{C2},"Test set (N=5,172)"
Touchstone,(12 source datasets; not named),no,MrGiovanni/Touchstone:README.md@{C2},x
"""
METHODS = """method,organization,arxiv_id,github_repo,year,architecture_family,source
nnU-Net,DKFZ,1809.10486,MIC-DKFZ/nnUNet,2018,CNN,x
"""


@pytest.fixture
def small(tmp_path: Path) -> tuple[Path, Path]:
    data = tmp_path / "data"
    shutil.copytree(MINI / "vocab", data / "vocab")
    for rel, record in RECORDS.items():
        (data / rel).parent.mkdir(parents=True, exist_ok=True)
        (data / rel).write_text(yaml.safe_dump(record, sort_keys=False), encoding="utf-8")
    source = tmp_path / "evaluations"
    source.mkdir()
    (source / "evaluations.csv").write_text(EVALUATIONS, encoding="utf-8")
    (source / "benchmarks.csv").write_text(BENCHMARKS, encoding="utf-8")
    (source / "methods.csv").write_text(METHODS, encoding="utf-8")
    return source, data


def _read(data: Path, kind: str, ident: str):
    return load_record(kind, data / paths.KIND_DIRS[kind] / f"{ident}.yaml")


def test_small_import_records(small):
    source, data = small
    report = import_evaluations(source, data)
    ev = _read(data, "evaluation", "nnu-net-btcv-test")
    assert (ev.dataset, ev.role, ev.metric, ev.value) == ("btcv", "test", "Dice (5-fold CV)", 83.08)
    assert ev.source == f"https://github.com/MIC-DKFZ/nnUNet/blob/{C1}/documentation/resenc_presets.md"
    assert "quote" not in (data / "evaluations" / "nnu-net-btcv-test.yaml").read_text()
    # FLARE22 -> flare2022 by the alias table, written into the record; 'FLARE 2023' -> flare2023 by id
    assert _read(data, "evaluation", "nnu-net-flare2022-test").value == 85.39
    assert "FLARE22" in _read(data, "dataset", "flare2022").aliases
    assert _read(data, "evaluation", "nnu-net-flare2023-test").value == 3.0
    assert load_catalog(data).counts()["evaluation"] == 7


def test_small_import_benchmark_composite_and_multi_value(small):
    source, data = small
    import_evaluations(source, data)
    first = _read(data, "evaluation", "nnu-net-touchstone-benchmark")
    second = _read(data, "evaluation", "nnu-net-touchstone-benchmark-2")
    assert (first.benchmark, first.dataset, first.test_sets) == ("touchstone", None, ["jhh", "totalsegmentator-v2", "dap-atlas"])
    assert (first.value, second.value) == (88.9, 88.8)
    assert "nnU-Net ResEncL" in second.metric and "nnU-Net ResEncL" in second.name
    assert _read(data, "benchmark", "touchstone").includes == ["totalsegmentator-v2", "jhh"]


def test_small_import_unlisted_datasets(small):
    source, data = small
    import_evaluations(source, data)
    jhh = _read(data, "dataset", "jhh")
    assert jhh.listed_upstream is False and jhh.case_count == 5172
    assert "JHH (proprietary, Johns Hopkins Hospital)" in jhh.aliases
    liver = _read(data, "dataset", "msd-liver")
    assert (liver.listed_upstream, liver.anatomy, liver.task, liver.case_count) == (False, ["liver"], ["segmentation"], 131)
    assert liver.provenance[0].page == "evaluations.csv" and liver.provenance[0].row == 6
    assert not (data / "datasets" / "medical-segmentation-decathlon.yaml").exists()


def test_small_import_reports_bad_rows(small):
    source, data = small
    report = import_evaluations(source, data)
    kinds = report.defect_counts()
    for kind in ("unknown-method", "bad-row", "bad-source", "unmatched-dataset", "unnamed-dataset", "missing-field"):
        assert kinds[kind] >= 1, kind
    assert "evaluations.csv:9" in {d.where for d in report.defects if d.kind == "unknown-method"}


def test_small_import_is_idempotent_and_keeps_curated(small):
    source, data = small
    import_evaluations(source, data)
    path = data / "datasets" / "jhh.yaml"
    record = yaml.safe_load(path.read_text())
    record.update(modality=["ct"], anatomy=["abdomen"], curated=["modality", "anatomy"])
    path.write_text(yaml.safe_dump(record, sort_keys=False, allow_unicode=True, width=100))
    import_evaluations(source, data)  # normalises the hand-edited file's formatting
    again = import_evaluations(source, data)
    assert again.added == [] and again.changed == {}
    assert len(again.unchanged) > 0 and "dataset/jhh" in again.kept
    assert _read(data, "dataset", "jhh").anatomy == ["abdomen"]


def test_missing_input_does_not_raise(tmp_path):
    report = import_evaluations(tmp_path / "nowhere", tmp_path / "data")
    assert report.defect_counts()["missing-input"] >= 3 and report.added == []


def test_missing_column_is_reported(small):
    source, data = small
    (source / "evaluations.csv").write_text("method,dataset\nnnU-Net,BTCV\n", encoding="utf-8")
    report = import_evaluations(source, data)
    assert any(d.kind == "missing-input" and "role" in d.what for d in report.defects)


# -- the real CSVs ---------------------------------------------------------------------------

ABDOMEN_QUERY = """
PREFIX mkg: <https://w3id.org/medkg/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT DISTINCT ?method WHERE {
  ?method mkg:evaluatedOn ?dataset .
  ?dataset mkg:anatomy/skos:broader* <https://w3id.org/medkg/anatomy/abdomen> .
}"""


@pytest.fixture(scope="module")
def real_import(tmp_path_factory):
    upstream = shared_or_skip() / "upstream"
    data = tmp_path_factory.mktemp("real") / "data"
    shutil.copytree(ROOT / "data", data)
    if not any((data / "datasets").glob("*.yaml")):
        from medkg.importer.awesome import import_awesome
        import_awesome(upstream / "awesome-medical-dataset", data)
    first = import_evaluations(upstream / "evaluations", data)
    second = import_evaluations(upstream / "evaluations", data)
    return data, first, second


def test_real_import_counts(real_import):
    data, first, _ = real_import
    catalog = load_catalog(data)
    evaluations = catalog.of("evaluation")
    assert len(evaluations) >= 300
    methods = {e.method for e in evaluations.values()}
    assert len(methods) == 15 and methods == set(catalog.of("method"))
    assert first.rows_read >= 340


def test_real_import_is_idempotent(real_import):
    _, _, second = real_import
    assert second.added == [] and second.changed == {}


def test_real_every_method_evaluated_on_abdomen(real_import):
    from medkg.rdf import catalog_graph

    data, _, _ = real_import
    catalog = load_catalog(data)
    found = {str(row.method).rsplit("/", 1)[1] for row in catalog_graph(catalog).query(ABDOMEN_QUERY)}
    assert found == set(catalog.of("method"))

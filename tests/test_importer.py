"""Unit tests of the Awesome-Medical-Dataset importer's parsers, report and merge."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from medkg.importer import ImportReport, write_records
from medkg.importer.awesome import dataset_rows, import_awesome
from medkg.importer.markdown import links, parse_tables, split_row
from medkg.importer.normalize import (TermMatcher, count_before, map_terms, normalize_date,
                                      parse_challenges, parse_number, sum_of_counts)
from medkg.importer.pages import read_page
from medkg.models import Dataset, Vocabulary
from medkg.records import load_record

MODALITY = Vocabulary.model_validate({
    "scheme": "modality", "label": {"en": "Modality"},
    "concepts": [{"id": "ct", "label": {"en": "CT"}, "alt_labels": ["Computed tomography"]},
                 {"id": "mri", "label": {"en": "MRI"}, "alt_labels": ["MR"]},
                 {"id": "pet", "label": {"en": "PET"}}]})
ANATOMY = Vocabulary.model_validate({
    "scheme": "anatomy", "label": {"en": "Anatomy"},
    "concepts": [{"id": "abdomen", "label": {"en": "Abdomen"}},
                 {"id": "liver", "label": {"en": "Liver"}, "broader": ["abdomen"]}]})


# -- markdown ------------------------------------------------------------------------------

def test_table_with_leading_space_and_line_numbers():
    text = "intro\n| Model | Organization |\n|:--|:--:|\n| nnU-Net | DKFZ |\n | MMPretrain | Lab |\n"
    [table] = parse_tables(text)
    assert table.line == 2
    assert table.header == ["Model", "Organization"]
    assert [(r.line, r.cells[0]) for r in table.rows] == [(4, "nnU-Net"), (5, "MMPretrain")]


def test_split_row_without_outer_pipes():
    assert split_row("a | b | c") == ["a", "b", "c"]


def test_links_and_bare_urls():
    assert links("[Github](https://github.com/x/y), see https://zenodo.org/records/1.") == [
        ("Github", "https://github.com/x/y"), ("", "https://zenodo.org/records/1")]


def test_readme_header_variants_and_unknown_header_reported():
    readme = ("## Public Medical Dataset\n### Imaging\n#### Whole Body\n"
              "| Name | Description | Website | Date | Remarks |\n|---|---|---|---|---|\n"
              "| [A](./resources/A.md) | 3D CT, 12 Cases | [Github](https://github.com/a/b) | 2020 | x |\n")
    report = ImportReport()
    [row] = dataset_rows(readme, report)
    assert (row.name, row.link, row.date, row.imaging) == ("A", "./resources/A.md", "2020", True)
    assert [d.kind for d in report.defects] == ["unknown-table-header"]


# -- normalisation -------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("2020", "2020"), ("2022-04", "2022-04"), ("2022-4", "2022-04"), ("2021-03-15", "2021-03-15"),
    ("2019.9", "2019-09"), ("2019.12", "2019-12"), ("2020.3.05", "2020-03-05"), ("2018/06/01", "2018-06-01"),
    ("2019/06", "2019-06"), ("15.03.2020.", "2020-03-15"), ("04/2021. Published in the journal", "2021-04"),
    ("May, 2020.", "2020-05"), ("April 2019", "2019-04"), ("Feburary, 2021.", "2021-02"),
    ("March 9th, 2023.", "2023-03-09"), ("January 3rd, 2022", "2022-01-03"), ("2023-09 till now.", "2023-09"),
    ("2019.", "2019"), ("TBD", None), ("", None), ("2021-13", None), ("soon", None),
])
def test_normalize_date(text, expected):
    assert normalize_date(text) == expected


@pytest.mark.parametrize("text, expected", [("1,214", 1214), ("1.6M", 1_600_000), ("227K", 227_000),
                                            ("11,000,000", 11_000_000), ("none", None)])
def test_parse_number(text, expected):
    assert parse_number(text) == expected


def test_counts_from_descriptions_and_volumes():
    assert count_before("3D PET-CT, 1,214 Cases, 1 Category", r"cases?") == 1214
    assert count_before("2 Categories of 1224 Cases, Oral", r"cases?") == 1224
    assert count_before("VQA, 1.6M QA Pair", r"qa pairs?") == 1_600_000
    assert sum_of_counts("131 for training, 70 for test") == 201
    assert sum_of_counts("1204") == 1204
    assert sum_of_counts("2300 cases in total (50 labelled, 2250 not)") == 2300
    assert sum_of_counts("-") is None


def test_modality_splitting():
    m = TermMatcher(MODALITY)
    assert map_terms("CT&MRI", m) == (["ct", "mri"], [])
    assert map_terms("PET-CT", m) == (["pet", "ct"], [])
    assert map_terms("3D CT & MR", m) == (["ct", "mri"], [])
    assert map_terms("Computed Tomography", m) == (["ct"], [])
    assert map_terms("CT, Sonar", m) == (["ct"], ["Sonar"])


def test_most_specific_anatomy():
    m = TermMatcher(ANATOMY)
    found = m.find_all("Abdomen: Liver and Tumor Segmentation")
    assert set(found) == {"abdomen", "liver"}
    assert m.most_specific(found) == ["liver"]


def test_challenges():
    got = parse_challenges("MICCAI'2022 & 2023")
    assert [(c.id, c.venue, c.year) for c in got] == [("miccai-2022", "MICCAI", 2022), ("miccai-2023", "MICCAI", 2023)]
    got = parse_challenges("ISBI'2017, MICCAI'2017 & 2018")
    assert [c.id for c in got] == ["isbi-2017", "miccai-2017", "miccai-2018"]
    assert [c.id for c in parse_challenges("ASNR-MICCAI'BRATS2023")] == ["brats-2023"]
    assert [c.id for c in parse_challenges("LUNA16")] == ["luna16"]
    assert [c.id for c in parse_challenges("Kaggle", 2016)] == ["kaggle-2016"]
    assert parse_challenges("-") == []


# -- pages ---------------------------------------------------------------------------------

PAGE = """# Demo

## Dataset Meta Information

| Dimension | Modality | Task Type | Anatomical Region | Number of Classes | Quantity | File Format | Wobble |
|---|---|---|---|---|---|---|---|
| 3D | CT | Segmentation | Abdomen | 2 | 10 for training, 5 for test | .nii.gz | x |

## Label Information Statistics

| Organ | Liver | Tumor |
|---|---|---|
| Case Count | 15 | 7 |

## Authors and Institutions

Ada Lovelace (University of London, Department of Mathematics, UK)

This sentence is not an author line at all, it is prose.

## Source Information

Official Website: https://example.org/demo

Download Link: https://zenodo.org/records/1

Article Address: https://arxiv.org/abs/2305.09666

Publication Date: May, 2023.
"""


def test_read_page(tmp_path):
    path = tmp_path / "Demo.md"
    path.write_text(PAGE)
    report = ImportReport()
    facts = read_page(path, "resources/Demo.md", report)
    assert facts.meta["area"] == "Abdomen" and facts.meta["classes"] == "2"
    assert facts.labels == [("Liver", 15), ("Tumor", 7)]
    assert facts.authors[0].name == "Ada Lovelace"
    assert facts.authors[0].institutions == ["University of London, Department of Mathematics, UK"]
    assert facts.downloads == ["https://zenodo.org/records/1"]
    assert normalize_date(facts.date_text) == "2023-05"
    kinds = sorted(d.kind for d in report.defects)
    assert kinds == ["unknown-meta-header", "unparsed-author-line"]


# -- merge ---------------------------------------------------------------------------------

def _dataset(**fields) -> Dataset:
    base = {"id": "demo", "name": "Demo", "category": ["chest"], "task": ["segmentation"],
            "provenance": [{"source": "awesome-medical-dataset", "page": "README.md"}]}
    return Dataset.model_validate({**base, **fields})


def test_write_records_idempotent_and_keeps_curated(tmp_path):
    report = ImportReport()
    write_records([_dataset(case_count=10)], tmp_path, report)
    assert report.added == ["dataset/demo"]
    path = tmp_path / "datasets" / "demo.yaml"
    data = yaml.safe_load(path.read_text())
    data.update(case_count=12, curated=["case_count"], notes=["12 per the paper"])
    path.write_text(yaml.safe_dump(data, sort_keys=False))

    again = ImportReport()
    write_records([_dataset(case_count=10, class_count=3)], tmp_path, again)
    record = load_record("dataset", path)
    assert record.case_count == 12 and record.class_count == 3
    assert record.notes == ["12 per the paper"]
    assert again.changed == {"dataset/demo": ["class_count"]}
    assert again.kept == {"dataset/demo": ["case_count"]}

    third = ImportReport()
    write_records([_dataset(case_count=10, class_count=3)], tmp_path, third)
    assert third.unchanged == ["dataset/demo"] and not third.changed
    assert "kept (curated fields not overwritten) 1" in " ".join(third.summary_lines())


def test_other_sources_fields_and_files_left_alone(tmp_path):
    (tmp_path / "datasets").mkdir()
    other = _dataset(id="other", listed_upstream=False,
                     provenance=[{"source": "evaluations"}])
    from medkg.records import dump_record
    (tmp_path / "datasets" / "other.yaml").write_text(dump_record(other))
    shared = _dataset(id="shared", size="2GB", provenance=[{"source": "evaluations"}])
    (tmp_path / "datasets" / "shared.yaml").write_text(dump_record(shared))
    report = ImportReport()
    write_records([_dataset(id="shared")], tmp_path, report)
    merged = load_record("dataset", tmp_path / "datasets" / "shared.yaml")
    assert merged.size == "2GB"
    assert {p.source for p in merged.provenance} == {"evaluations", "awesome-medical-dataset"}
    assert load_record("dataset", tmp_path / "datasets" / "other.yaml") == other


def test_dry_run_writes_nothing(tmp_path):
    report = ImportReport(dry_run=True)
    write_records([_dataset()], tmp_path, report, dry_run=True)
    assert report.added == ["dataset/demo"] and not (tmp_path / "datasets").exists()


def test_unreadable_existing_record_reported(tmp_path):
    (tmp_path / "datasets").mkdir()
    (tmp_path / "datasets" / "demo.yaml").write_text("id: [unclosed\n")
    report = ImportReport()
    write_records([_dataset()], tmp_path, report)
    assert [d.kind for d in report.defects] == ["unreadable-existing-record"]


# -- whole import on bad input -------------------------------------------------------------

def test_bad_input_reported_not_raised(tmp_path):
    source = tmp_path / "src"
    (source / "resources").mkdir(parents=True)
    (source / "SOURCE.md").write_text("commit " + "a" * 40)
    (source / "resources" / "Good.md").write_text("# Good\n\n## Dataset Meta Information\n\n| Modality |\n|---|\n")
    (source / "README.md").write_text(
        "## Public Medical Dataset\n### Imaging\n#### Chest\n"
        "| Dataset | Description | Official Website | Release Date | Challenge |\n|---|---|---|---|---|\n"
        "| [Good](./resources/Good.md) | 2D X-Ray, 1,214 Cases | [Site](www.example) | someday | MICCAI'2022 |\n"
        "| [Gone](./resources/Gone.md) | | | 2021-02 | - |\n"
        "| broken | row\n")
    data = tmp_path / "data"
    report = import_awesome(source, data)
    kinds = report.defect_counts()
    assert report.rows_read == 3
    assert kinds["broken-link"] == 1 and kinds["unparseable-date"] == 1 and kinds["broken-url"] == 1
    assert kinds["missing-vocabulary"] == 4
    good = load_record("dataset", data / "datasets" / "good.yaml")
    assert good.case_count == 1214 and good.challenges == ["miccai-2022"]
    assert (data / "challenges" / "miccai-2022.yaml").is_file()
    assert report.defect_lines() and all(": " in line for line in report.defect_lines())
    out = tmp_path / "report.md"
    report.write(out)
    assert "## Defects by kind" in out.read_text()


def test_missing_source_reported(tmp_path):
    report = import_awesome(tmp_path / "nowhere", tmp_path / "data")
    assert [d.kind for d in report.defects] == ["missing-input"]


def _conflict_source(tmp_path: Path, row_modality: str, page_modality: str) -> Path:
    source = tmp_path / "src"
    (source / "resources").mkdir(parents=True)
    (source / "SOURCE.md").write_text("commit " + "b" * 40)
    (source / "resources" / "Scan.md").write_text(
        "# Scan\n\n## Dataset Meta Information\n\n| Dimensions | Modality | Task Type |\n|---|---|---|\n"
        f"| 3D | {page_modality} | Segmentation |\n")
    (source / "README.md").write_text(
        "## Public Medical Dataset\n### Imaging\n#### Abdomen\n"
        "| Dataset | Description | Official Website | Release Date | Challenge |\n|---|---|---|---|---|\n"
        f"| [Scan](./resources/Scan.md) | 3D {row_modality}, 48 Cases | - | 2019 | - |\n")
    return source


def _with_vocab(tmp_path: Path) -> Path:
    import shutil

    data = tmp_path / "data"
    shutil.copytree(Path(__file__).resolve().parents[1] / "data" / "vocab", data / "vocab")
    return data


def test_unrelated_page_modality_loses_to_the_readme_row(tmp_path):
    data = _with_vocab(tmp_path)
    report = import_awesome(_conflict_source(tmp_path, "MR", "CT"), data)
    record = load_record("dataset", data / "datasets" / "scan.yaml")
    assert record.modality == ["mr"]
    assert report.defect_counts()["modality-conflict"] == 1


def test_related_modalities_keep_the_most_specific(tmp_path):
    data = _with_vocab(tmp_path)
    report = import_awesome(_conflict_source(tmp_path, "MR", "Cardiac MRI"), data)
    record = load_record("dataset", data / "datasets" / "scan.yaml")
    assert record.modality == ["cardiac-mr"]
    assert "modality-conflict" not in report.defect_counts()


def test_description_follows_curated_facts(tmp_path):
    data = _with_vocab(tmp_path)
    source = _conflict_source(tmp_path, "MR", "MR")
    import_awesome(source, data)
    path = data / "datasets" / "scan.yaml"
    record = load_record("dataset", path)
    record.anatomy, record.curated = ["liver"], ["anatomy"]
    from medkg.records import dump_record

    path.write_text(dump_record(record))
    import_awesome(source, data)
    again = load_record("dataset", path)
    assert again.anatomy == ["liver"] and "of the liver" in again.description

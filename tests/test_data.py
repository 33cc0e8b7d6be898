"""Data integrity over every real record in data/: one test per curation rule (STYLE layer 2)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

from medkg import paths
from medkg.models import DATE_PATTERN, slugify
from medkg.records import iter_record_files, load_catalog

CATALOG = load_catalog()
DATASETS = sorted(CATALOG.datasets.values(), key=lambda d: d.id)
IMAGING = {c.id for c in CATALOG.vocab["category"].concepts if "imaging" in c.broader or c.id == "imaging"}
SHARED = paths.shared_dir()
AWESOME = SHARED / "upstream" / "awesome-medical-dataset" if SHARED else None
needs_shared = pytest.mark.skipif(AWESOME is None or not AWESOME.is_dir(),
                                  reason="the upstream list in ../shared is not present")


def ids(records):
    return [r.id for r in records]


@pytest.mark.parametrize("kind, path", list(iter_record_files(paths.data_dir())),
                         ids=lambda v: v if isinstance(v, str) else v.name)
def test_id_matches_file_stem(kind, path):
    record = CATALOG.of(kind)[path.stem] if path.stem in CATALOG.of(kind) else None
    assert record is not None, f"{path}: no {kind} record with id '{path.stem}' (field id)"


@pytest.mark.parametrize("dataset", DATASETS, ids=ids(DATASETS))
def test_dataset_has_category_and_task(dataset):
    assert dataset.category, f"dataset {dataset.id}: field category is empty"
    assert dataset.task, f"dataset {dataset.id}: field task is empty"


@pytest.mark.parametrize("dataset", [d for d in DATASETS if set(d.category) & IMAGING],
                         ids=ids([d for d in DATASETS if set(d.category) & IMAGING]))
def test_imaging_dataset_has_modality_and_anatomy(dataset):
    assert dataset.modality, f"dataset {dataset.id}: imaging dataset with empty field modality"
    assert dataset.anatomy, f"dataset {dataset.id}: imaging dataset with empty field anatomy"


@pytest.mark.parametrize("dataset", [d for d in DATASETS if d.release_date],
                         ids=ids([d for d in DATASETS if d.release_date]))
def test_release_date_valid(dataset):
    assert re.fullmatch(DATE_PATTERN, dataset.release_date), (
        f"dataset {dataset.id}: field release_date '{dataset.release_date}' is not YYYY[-MM[-DD]]")
    assert 1990 <= int(dataset.release_date[:4]) <= 2030, (
        f"dataset {dataset.id}: field release_date '{dataset.release_date}' is out of range")


@pytest.mark.parametrize("dataset", DATASETS, ids=ids(DATASETS))
def test_curated_fields_are_explained(dataset):
    for name in dataset.curated:
        assert name in type(dataset).model_fields, f"dataset {dataset.id}: curated names unknown field '{name}'"
    if dataset.curated:
        assert dataset.notes, f"dataset {dataset.id}: field curated is set but notes says nothing why"


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text or "") if s.strip()]


def _words(text: str) -> str:
    return " ".join(re.findall(r"[\w'-]+", text.lower()))


@needs_shared
@pytest.mark.parametrize("dataset", DATASETS, ids=ids(DATASETS))
def test_no_upstream_prose_copied(dataset):
    """No sentence of 12 words or more in a description or note appears verbatim upstream."""
    pages = [AWESOME / "README.md"]
    pages += [AWESOME / p.page for p in dataset.provenance if p.page and p.page.startswith("resources/")]
    upstream = " ".join(_words(p.read_text(encoding="utf-8")) for p in pages if p.is_file())
    for field in ("description", "notes"):
        value = getattr(dataset, field)
        for text in (value if isinstance(value, list) else [value or ""]):
            for sentence in _sentences(text):
                words = _words(sentence)
                if len(words.split()) >= 12:
                    assert words not in upstream, f"dataset {dataset.id}: field {field} copies upstream: {sentence!r}"


def _readme_rows() -> list[tuple[int, str]]:
    rows = []
    text = (AWESOME / "README.md").read_text(encoding="utf-8")
    in_datasets = False
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("## "):
            in_datasets = line.strip() == "## Public Medical Dataset"
        m = re.match(r"^\s*\|\s*\[[^\]]+\]\(([^)]+\.md)\)", line)
        if in_datasets and m:
            rows.append((number, unquote(m.group(1))))
    return rows


@needs_shared
def test_every_readme_row_maps_to_exactly_one_record():
    rows = _readme_rows()
    assert len(rows) == 375, f"expected 375 dataset rows in README.md, found {len(rows)}"
    by_row: dict[int, list[str]] = {}
    for d in DATASETS:
        for p in d.provenance:
            if p.source == "awesome-medical-dataset" and p.page == "README.md" and p.row:
                by_row.setdefault(p.row, []).append(d.id)
    for number, link in rows:
        found = by_row.get(number, [])
        assert len(found) == 1, f"README.md:{number} ({link}): {len(found)} dataset records ({found})"
    expected_ids = {slugify(Path(link).stem) for _, link in rows} - {"flare2023"} | {"flare2023", "flare2022"}
    assert expected_ids <= set(CATALOG.datasets), f"missing ids: {sorted(expected_ids - set(CATALOG.datasets))}"


@needs_shared
def test_every_dataset_page_is_a_record():
    pages = [p for p in (AWESOME / "resources").glob("*.md") if p.stem != "template"]
    missing = [p.name for p in pages if slugify(p.stem) not in CATALOG.datasets]
    assert not missing, f"pages without a dataset record: {missing}"

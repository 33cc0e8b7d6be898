"""Checks on the four controlled vocabularies in data/vocab/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from medkg import paths
from medkg.models import ID_PATTERN, Vocabulary
from medkg.records import load_vocabulary

SCHEMES = ("anatomy", "modality", "task", "category")
UBERON = "http://purl.obolibrary.org/obo/UBERON_"
DICOM = "http://dicom.nema.org/resources/ontology/DCM/"


def _vocab_file(scheme: str) -> Path:
    return paths.vocab_dir() / f"{scheme}.yaml"


@pytest.fixture(scope="module", params=SCHEMES)
def vocab(request) -> Vocabulary:
    return load_vocabulary(_vocab_file(request.param))


@pytest.fixture(scope="module")
def vocabs() -> dict[str, Vocabulary]:
    return {scheme: load_vocabulary(_vocab_file(scheme)) for scheme in SCHEMES}


def _parents(v: Vocabulary) -> dict[str, list[str]]:
    return {c.id: list(c.broader) for c in v.concepts}


def _ancestors(v: Vocabulary, ident: str) -> set[str]:
    parents = _parents(v)
    seen: set[str] = set()
    stack = list(parents[ident])
    while stack:
        p = stack.pop()
        if p not in seen:
            seen.add(p)
            stack.extend(parents.get(p, []))
    return seen


def test_scheme_matches_file_stem(vocab: Vocabulary):
    assert _vocab_file(vocab.scheme).is_file()
    assert vocab.scheme in SCHEMES
    assert vocab.label.en and vocab.label.zh and vocab.definition
    assert vocab.concepts


def test_ids_well_formed(vocab: Vocabulary):
    for c in vocab.concepts:
        assert re.fullmatch(ID_PATTERN, c.id), c.id


def test_broader_resolves(vocab: Vocabulary):
    ids = {c.id for c in vocab.concepts}
    for c in vocab.concepts:
        for b in c.broader:
            assert b in ids, f"{vocab.scheme}:{c.id} broader '{b}' is not in the scheme"
            assert b != c.id, f"{vocab.scheme}:{c.id} is its own broader concept"
        assert len(set(c.broader)) == len(c.broader), f"{vocab.scheme}:{c.id} repeats a broader concept"


def test_no_cycles(vocab: Vocabulary):
    parents = _parents(vocab)
    WHITE, GREY, BLACK = 0, 1, 2
    state = dict.fromkeys(parents, WHITE)

    def visit(node: str, path: list[str]) -> None:
        state[node] = GREY
        for p in parents[node]:
            if state[p] == GREY:
                raise AssertionError(f"{vocab.scheme}: cycle {' -> '.join(path + [node, p])}")
            if state[p] == WHITE:
                visit(p, path + [node])
        state[node] = BLACK

    for node in parents:
        if state[node] == WHITE:
            visit(node, [])


def test_labels_and_definitions(vocab: Vocabulary):
    for c in vocab.concepts:
        assert c.label.en.strip(), f"{vocab.scheme}:{c.id} lacks an English label"
        assert c.label.zh and c.label.zh.strip(), f"{vocab.scheme}:{c.id} lacks a Chinese label"
        assert re.search(r"[\u4e00-\u9fff]", c.label.zh), f"{vocab.scheme}:{c.id} zh label has no Chinese characters"
        assert c.definition and c.definition.strip(), f"{vocab.scheme}:{c.id} lacks a definition"


def test_alt_labels_unique(vocab: Vocabulary):
    """One string -> one concept, case-insensitively, counting preferred English labels too."""
    owner: dict[str, str] = {}
    for c in vocab.concepts:
        key = c.label.en.casefold()
        assert key not in owner or owner[key] == c.id, (
            f"{vocab.scheme}: label '{c.label.en}' of {c.id} already names {owner.get(key)}")
        owner[key] = c.id
    for c in vocab.concepts:
        own = {c.label.en.casefold()}
        for alt in c.alt_labels:
            assert alt.strip() == alt and alt, f"{vocab.scheme}:{c.id} has a blank or padded alt label {alt!r}"
            key = alt.casefold()
            assert key not in own, f"{vocab.scheme}:{c.id} repeats '{alt}' (case variant or preferred label)"
            own.add(key)
            assert owner.get(key, c.id) == c.id, (
                f"{vocab.scheme}: alt label '{alt}' of {c.id} already names {owner[key]}")
            owner[key] = c.id


def test_uberon_iris_are_listed():
    shared = paths.shared_dir()
    if shared is None:
        pytest.skip("no shared folder (set MEDKG_SHARED): cannot check UBERON ids against identifiers.md")
    ref = shared / "reference" / "identifiers.md"
    if not ref.is_file():
        pytest.skip(f"{ref} is absent")
    listed = set(re.findall(r"\b(\d{7})\b", ref.read_text(encoding="utf-8")))
    anatomy = load_vocabulary(_vocab_file("anatomy"))
    used = 0
    for c in anatomy.concepts:
        for iri in [*c.exact_match, *c.close_match]:
            assert iri.startswith(UBERON), f"anatomy:{c.id} has a non-UBERON match {iri}"
            number = iri[len(UBERON):]
            assert re.fullmatch(r"\d{7}", number), f"anatomy:{c.id} malformed UBERON IRI {iri}"
            assert number in listed, f"anatomy:{c.id} uses UBERON_{number}, which identifiers.md does not list"
            used += 1
    assert used >= 30


def test_uberon_iri_used_once_as_exact_match(vocabs):
    seen: dict[str, str] = {}
    for c in vocabs["anatomy"].concepts:
        for iri in c.exact_match:
            assert iri not in seen, f"{iri} is the exact match of both {seen[iri]} and {c.id}"
            seen[iri] = c.id


def test_dicom_notations(vocabs):
    for c in vocabs["modality"].concepts:
        for iri in [*c.exact_match, *c.close_match]:
            assert iri.startswith(DICOM), f"modality:{c.id} has a non-DICOM match {iri}"
        if c.notation:
            assert re.fullmatch(r"[A-Z]{2,4}", c.notation), c.notation
            assert f"{DICOM}{c.notation}" in c.exact_match, f"modality:{c.id} notation without matching exact_match"
    notations = [c.notation for c in vocabs["modality"].concepts if c.notation]
    assert len(notations) == len(set(notations)), "a DICOM code is the notation of two concepts"
    by_id = {c.id: c for c in vocabs["modality"].concepts}
    for ident, code in {"ct": "CT", "mr": "MR", "pet": "PT", "ultrasound": "US", "x-ray": "DX", "mammography": "MG",
                        "endoscopy": "ES", "slide-microscopy": "SM", "dermoscopy": "DMS", "fundus-photography": "OP",
                        "oct": "OPT", "eeg": "EEG", "ecg": "ECG"}.items():
        assert by_id[ident].notation == code, ident


@pytest.mark.parametrize("scheme, child, ancestor", [
    ("anatomy", "liver", "abdomen"),
    ("anatomy", "kidney", "abdomen"),
    ("anatomy", "pancreas", "abdomen"),
    ("anatomy", "spleen", "abdomen"),
    ("anatomy", "stomach", "abdomen"),
    ("anatomy", "gallbladder", "abdomen"),
    ("anatomy", "adrenal-gland", "abdomen"),
    ("anatomy", "colon", "abdomen"),
    ("anatomy", "small-intestine", "abdomen"),
    ("anatomy", "prostate", "pelvis"),
    ("anatomy", "urinary-bladder", "pelvis"),
    ("anatomy", "uterus", "pelvis"),
    ("anatomy", "rectum", "pelvis"),
    ("anatomy", "hippocampus", "brain"),
    ("anatomy", "brain", "head-and-neck"),
    ("anatomy", "hippocampus", "head-and-neck"),
    ("anatomy", "eye", "head-and-neck"),
    ("anatomy", "teeth", "head-and-neck"),
    ("anatomy", "thyroid", "head-and-neck"),
    ("anatomy", "optic-disc", "retina"),
    ("anatomy", "lung", "chest"),
    ("anatomy", "heart", "chest"),
    ("anatomy", "breast", "chest"),
    ("anatomy", "esophagus", "chest"),
    ("anatomy", "aorta", "chest"),
    ("anatomy", "left-ventricle", "heart"),
    ("anatomy", "myocardium", "heart"),
    ("anatomy", "liver", "whole-body"),
    ("modality", "ct", "radiology"),
    ("modality", "mr", "radiology"),
    ("modality", "cbct", "ct"),
    ("modality", "cta", "ct"),
    ("modality", "pet", "radiology"),
    ("modality", "colonoscopy", "endoscopy"),
    ("modality", "endoscopy", "optical"),
    ("modality", "slide-microscopy", "microscopy"),
    ("modality", "eeg", "signals"),
    ("task", "visual-question-answering", "vision-language"),
    ("task", "named-entity-recognition", "language"),
    ("category", "microscopic-imaging", "imaging"),
])
def test_key_placements(vocabs, scheme, child, ancestor):
    assert ancestor in _ancestors(vocabs[scheme], child), f"{scheme}:{child} is not under {ancestor}"


def test_abdominal_organs_not_in_chest(vocabs):
    for organ in ("liver", "kidney", "pancreas", "spleen"):
        assert "chest" not in _ancestors(vocabs["anatomy"], organ), organ


def test_category_is_the_upstream_sections(vocabs):
    cat = vocabs["category"]
    ids = {c.id for c in cat.concepts}
    sections = ["whole-body", "head-and-neck", "chest", "abdomen", "heart", "bones", "endoscopy", "retina", "skin",
                "microscopic-imaging"]
    assert ids == {*sections, "image-text", "text", "imaging"}
    by_id = {c.id: c for c in cat.concepts}
    for s in sections:
        assert by_id[s].broader == ["imaging"], s
    assert not by_id["image-text"].broader and not by_id["text"].broader


@pytest.mark.parametrize("scheme, text, ident", [
    ("modality", "MRI", "mr"), ("modality", "mpMRI", "mr"), ("modality", "T1-weighted", "mr"), ("modality", "CT", "ct"),
    ("modality", "PET", "pet"), ("modality", "Pathological Imaging", "slide-microscopy"), ("modality", "Fundus", "fundus-photography"),
    ("modality", "OCTA", "octa"), ("modality", "Ultra Sound", "ultrasound"), ("modality", "X-Ray", "x-ray"),
    ("modality", "Retinal Images", "fundus-photography"), ("modality", "Dermoscopic Images", "dermoscopy"), ("modality", "CXR", "chest-x-ray"),
    ("modality", "CBCT", "cbct"), ("modality", "CTA", "cta"), ("modality", "IOS", "intraoral-scan"),
    ("task", "VQA", "visual-question-answering"), ("task", "QA", "question-answering"), ("task", "Caption", "captioning"),
    ("task", "Measurement", "regression"), ("task", "RG", "report-generation"),
    ("anatomy", "Entire body", "whole-body"), ("anatomy", "Abdominal cavity", "abdomen"), ("anatomy", "Mammary Gland", "breast"),
    ("anatomy", "Bladder", "urinary-bladder"), ("anatomy", "Vertebral column", "spine"),
])
def test_upstream_strings_resolve(vocabs, scheme, text, ident):
    index = {}
    for c in vocabs[scheme].concepts:
        for s in [c.label.en, *c.alt_labels]:
            index[s.casefold()] = c.id
    assert index.get(text.casefold()) == ident

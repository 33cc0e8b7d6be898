"""Typed record models: one model per entity kind, unknown keys rejected.

A record is one YAML file under data/<kind-folder>/<id>.yaml whose file stem equals its id.
References to other records and to vocabulary concepts are plain ids here; records.py checks
that each resolves. No vocabulary list lives in this module: the lists are in data/vocab/.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ID_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
DATE_PATTERN = r"^\d{4}(?:-(?:0[1-9]|1[0-2])(?:-(?:0[1-9]|[12]\d|3[01]))?)?$"

Id = Annotated[str, Field(pattern=ID_PATTERN, description="lowercase letters, digits and '-'")]
Url = Annotated[str, Field(pattern=r"^https?://\S+$", description="an http(s) URL")]
PartialDate = Annotated[str, Field(pattern=DATE_PATTERN, description="YYYY, YYYY-MM or YYYY-MM-DD")]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False, populate_by_name=True)


class Provenance(Model):
    """Where a record's facts came from."""

    source: str = Field(description="name of the source, e.g. 'awesome-medical-dataset'")
    page: str | None = Field(None, description="path of the page or file in the source")
    url: Url | None = Field(None, description="web address of the source page")
    commit: str | None = Field(None, description="commit of the source the facts were read at")
    row: int | None = Field(None, description="line of the README row the record came from")
    section: str | None = Field(None, description="README section the row sits in")


class Paper(Model):
    """A publication describing a dataset, method, benchmark or toolbox."""

    title: str | None = Field(None, description="title of the paper")
    doi: str | None = Field(None, pattern=r"^10\.\d{4,9}/\S+$", description="DOI, without https://doi.org/")
    arxiv: str | None = Field(None, pattern=r"^\d{4}\.\d{4,5}(v\d+)?$", description="arXiv id, e.g. 2305.09666")
    url: Url | None = Field(None, description="address of the paper where it has no DOI or arXiv id")
    year: int | None = Field(None, ge=1900, le=2100, description="year of publication")
    venue: str | None = Field(None, description="journal or conference")
    bibtex: str | None = Field(None, description="BibTeX entry as given by the source")

    @model_validator(mode="after")
    def _has_identifier(self) -> "Paper":
        if not (self.doi or self.arxiv or self.url or self.title):
            raise ValueError("a paper needs at least one of doi, arxiv, url or title")
        return self


class Link(Model):
    """A web page about a record."""

    url: Url = Field(description="the address")
    label: str | None = Field(None, description="link text as the source gives it")
    role: Literal["homepage", "download", "code", "challenge", "documentation", "other"] = Field(
        "homepage", description="what the page is for")


class LabelClass(Model):
    """A class annotated in a dataset's labels."""

    name: str = Field(description="label name as the dataset gives it")
    anatomy: Id | None = Field(None, description="anatomy concept the label is a structure of")
    case_count: int | None = Field(None, ge=0, description="number of cases the label appears in")


class ResolutionStat(Model):
    """Voxel spacing and image size at one statistic (min, median, max...)."""

    statistic: str = Field(description="which statistic: min, median, max, mean or a level name")
    spacing: list[float] = Field(default_factory=list, description="voxel or pixel spacing in mm")
    size: list[int] = Field(default_factory=list, description="image size in voxels or pixels")


class Record(Model):
    """Fields every entity record has."""

    id: Id = Field(description="the record id; equals the file stem")
    name: str = Field(min_length=1, description="display name")
    aliases: list[str] = Field(default_factory=list, description="other names and spellings")
    description: str | None = Field(None, description="short description in medkg's own words")
    provenance: list[Provenance] = Field(default_factory=list, description="where the facts came from")
    curated: list[str] = Field(default_factory=list,
                               description="fields set by hand; the importer never overwrites them")
    notes: list[str] = Field(default_factory=list, description="curation notes: why a value was set by hand")


class Dataset(Record):
    """A public medical dataset."""

    listed_upstream: bool = Field(True, description="false for datasets known only from evaluations")
    category: list[Id] = Field(default_factory=list, description="listing sections (category vocabulary)")
    modality: list[Id] = Field(default_factory=list, description="imaging or data modalities (modality vocabulary)")
    anatomy: list[Id] = Field(default_factory=list, description="body parts covered (anatomy vocabulary), most specific known")
    task: list[Id] = Field(default_factory=list, description="tasks the annotations support (task vocabulary)")
    dimensionality: list[Annotated[str, Field(pattern=r"^[1-4]D(\+t)?$")]] = Field(
        default_factory=list, description="2D, 3D, 4D ...")
    case_count: int | None = Field(None, ge=0, description="number of cases (patients, volumes or images) as the source counts them")
    class_count: int | None = Field(None, ge=0, description="number of annotated classes or categories")
    image_count: int | None = Field(None, ge=0, description="number of images, where given apart from cases")
    qa_pair_count: int | None = Field(None, ge=0, description="number of question-answer pairs (text and image-text datasets)")
    text_count: int | None = Field(None, ge=0, description="number of texts (reports, dialogues, documents)")
    token_count: int | None = Field(None, ge=0, description="number of tokens")
    size: str | None = Field(None, description="download size as stated, e.g. '21GB'")
    label_classes: list[LabelClass] = Field(default_factory=list, description="annotated classes")
    file_formats: list[str] = Field(default_factory=list, description="file formats, e.g. .nii.gz, DICOM")
    resolution: list[ResolutionStat] = Field(default_factory=list, description="spacing and size statistics")
    languages: list[str] = Field(default_factory=list, description="BCP 47 language tags of the text")
    release_date: PartialDate | None = Field(None, description="release date: YYYY, YYYY-MM or YYYY-MM-DD")
    challenges: list[Id] = Field(default_factory=list, description="challenges the dataset was released with")
    platforms: list[Id] = Field(default_factory=list, description="platforms hosting the data")
    websites: list[Link] = Field(default_factory=list, description="official pages and download links")
    papers: list[Paper] = Field(default_factory=list, description="papers describing the dataset")
    organizations: list[Id] = Field(default_factory=list, description="institutions that made the dataset")
    authors: list[str] = Field(default_factory=list, description="people named as its authors")
    license: str | None = Field(None, description="licence: SPDX id (CC-BY-4.0) or a short name as stated")
    license_url: Url | None = Field(None, description="address of the licence text")


class Method(Record):
    """A published model or method, here mostly for medical image segmentation."""

    organizations: list[Id] = Field(default_factory=list, description="institutions behind the method")
    papers: list[Paper] = Field(default_factory=list, description="papers describing the method")
    code: Url | None = Field(None, description="source code repository")
    year: int | None = Field(None, ge=1900, le=2100, description="year the method was published")
    architecture_family: str | None = Field(None, description="CNN, Transformer, hybrid, diffusion, foundation model ...")
    task: list[Id] = Field(default_factory=list, description="tasks the method addresses")
    toolbox: Id | None = Field(None, description="toolbox record for the same software, if listed there too")


class Benchmark(Record):
    """An evaluation benchmark: a fixed set of datasets and metrics for comparing methods."""

    organizations: list[Id] = Field(default_factory=list, description="institutions behind the benchmark")
    papers: list[Paper] = Field(default_factory=list, description="papers describing the benchmark")
    websites: list[Link] = Field(default_factory=list, description="project pages and code")
    includes: list[Id] = Field(default_factory=list, description="datasets the benchmark includes")
    task: list[Id] = Field(default_factory=list, description="tasks it evaluates")
    modality: list[Id] = Field(default_factory=list, description="modalities it covers")


class Evaluation(Record):
    """One reported use of a method on a dataset or a benchmark, with its score if any."""

    method: Id = Field(description="the method evaluated")
    dataset: Id | None = Field(None, description="the dataset used (absent when the target is a benchmark test set)")
    benchmark: Id | None = Field(None, description="the benchmark, when evaluated against a benchmark's test set")
    test_sets: list[Id] = Field(default_factory=list,
                                description="datasets making up the benchmark's composite test set")
    role: Literal["train", "test", "finetune", "benchmark"] = Field(description="how the data was used")
    metric: str | None = Field(None, description="metric name, e.g. 'Dice (5-fold CV)'")
    value: float | None = Field(None, description="reported value, absent when the source gives none")
    source: Url = Field(description="address of the source the fact was read from")

    @model_validator(mode="after")
    def _has_target(self) -> "Evaluation":
        if not (self.dataset or self.benchmark):
            raise ValueError("an evaluation needs a dataset or a benchmark")
        return self


class Challenge(Record):
    """A challenge or competition held at a venue in a year."""

    venue: str | None = Field(None, description="conference or organiser: MICCAI, ISBI, Kaggle ...")
    year: int | None = Field(None, ge=1990, le=2100, description="year it was held")
    websites: list[Link] = Field(default_factory=list, description="challenge pages")


class Platform(Record):
    """A website that hosts or catalogues datasets (or an awesome list of resources)."""

    url: Url = Field(description="home page")
    platform_type: Literal["repository", "challenge-platform", "catalogue", "collection", "code-host"] = Field(
        "repository", description="what the site is")
    hosts: list[str] = Field(default_factory=list, description="host names whose URLs belong to this platform")


class Organization(Record):
    """An institution, company or lab."""

    url: Url | None = Field(None, description="home page")
    country: str | None = Field(None, description="country name")


class Toolbox(Record):
    """A software framework commonly used with the datasets."""

    organizations: list[Id] = Field(default_factory=list, description="institutions behind it")
    papers: list[Paper] = Field(default_factory=list, description="papers describing it")
    code: Url | None = Field(None, description="source code repository")


#: kind -> model; folder names are in paths.KIND_DIRS
MODELS: dict[str, type[Record]] = {
    "dataset": Dataset,
    "method": Method,
    "benchmark": Benchmark,
    "evaluation": Evaluation,
    "challenge": Challenge,
    "platform": Platform,
    "organization": Organization,
    "toolbox": Toolbox,
}


# ---- vocabularies -----------------------------------------------------------------------

class Labels(Model):
    en: str = Field(min_length=1, description="English label")
    zh: str | None = Field(None, description="Chinese label")


class Concept(Model):
    """A vocabulary term (SKOS concept)."""

    id: Id = Field(description="concept id, unique within its scheme")
    label: Labels = Field(description="preferred labels by language")
    alt_labels: list[str] = Field(default_factory=list, description="other spellings an importer meets")
    definition: str | None = Field(None, description="what the term means, in medkg's words")
    broader: list[Id] = Field(default_factory=list, description="broader concepts in the same scheme")
    exact_match: list[Url] = Field(default_factory=list, description="external IRIs with the same meaning")
    close_match: list[Url] = Field(default_factory=list, description="external IRIs with a close meaning")
    notation: str | None = Field(None, description="code in an external scheme, e.g. the DICOM modality code")


class Vocabulary(Model):
    """One controlled list: data/vocab/<kind>.yaml."""

    scheme: str = Field(description="anatomy, modality, task or category")
    label: Labels = Field(description="name of the scheme")
    definition: str | None = Field(None, description="what the scheme is for")
    concepts: list[Concept] = Field(description="the terms")

    @field_validator("concepts")
    @classmethod
    def _unique(cls, concepts: list[Concept]) -> list[Concept]:
        seen: set[str] = set()
        for c in concepts:
            if c.id in seen:
                raise ValueError(f"duplicate concept id '{c.id}'")
            seen.add(c.id)
        return concepts


def slugify(text: str) -> str:
    """Turn a name into a record id: lowercase letters, digits and '-'."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = text.strip().lower().replace("&", " and ").replace("+", " plus ")
    text = re.sub(r"[^a-z0-9]+", "-", text)
    return text.strip("-") or "x"

"""Every file location medkg uses, defined once.

The project root is found from the environment variable ``MEDKG_HOME``, else by walking up
from the current directory to a folder holding ``pyproject.toml`` and ``data/``, else from
the source checkout this package was installed from (editable installs).
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_IRI = "https://w3id.org/medkg/"
ONTOLOGY_NS = "https://w3id.org/medkg/ontology#"

#: entity kinds, each with its IRI segment and its folder under data/
KIND_DIRS: dict[str, str] = {
    "dataset": "datasets",
    "method": "methods",
    "benchmark": "benchmarks",
    "evaluation": "evaluations",
    "challenge": "challenges",
    "platform": "platforms",
    "organization": "organizations",
    "toolbox": "toolboxes",
}
#: vocabulary kinds, each a file data/vocab/<kind>.yaml
VOCAB_KINDS: tuple[str, ...] = ("anatomy", "modality", "task", "category")


def _looks_like_root(path: Path) -> bool:
    return (path / "pyproject.toml").is_file() and (path / "data").is_dir()


def project_root() -> Path:
    env = os.environ.get("MEDKG_HOME")
    if env:
        return Path(env).resolve()
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if _looks_like_root(candidate):
            return candidate
    source = Path(__file__).resolve().parents[2]
    if _looks_like_root(source):
        return source
    return here


def data_dir() -> Path:
    return project_root() / "data"


def vocab_dir(data: Path | None = None) -> Path:
    return (data or data_dir()) / "vocab"


def ontology_file() -> Path:
    return project_root() / "ontology" / "medkg.ttl"


def shapes_file() -> Path:
    return project_root() / "shapes" / "medkg.shacl.ttl"


def queries_dir() -> Path:
    return project_root() / "queries"


def default_store_dir() -> Path | str:
    env = os.environ.get("MEDKG_STORE")
    if env:
        return store_location(env)
    return project_root() / "var" / "store"


def is_remote(store: object) -> bool:
    """True when ``store`` names a SPARQL engine (an http(s) URL), not a store folder."""
    return isinstance(store, str) and store.lower().startswith(("http://", "https://"))


def store_location(value: str | Path) -> Path | str:
    """A ``--store`` value: an engine URL stays a string (medkg.remote), else a folder Path."""
    return value if is_remote(value) else Path(value)


def shared_dir() -> Path | None:
    """The workplace's ../shared folder (upstream input and standards), if present."""
    env = os.environ.get("MEDKG_SHARED")
    candidates = [Path(env)] if env else []
    candidates.append(project_root().parent / "shared")
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return None


def entity_iri(kind: str, ident: str) -> str:
    return f"{BASE_IRI}{kind}/{ident}"

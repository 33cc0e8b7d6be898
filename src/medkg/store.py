"""The on-disk Oxigraph store: atomic builds, the current build, read-only and in-memory opens.

Layout of a store folder::

    <store>/builds/<build-id>/        one complete Oxigraph database per build
    <store>/builds/<build-id>.json    its build information (id, time, counts, input commit ...)
    <store>/current                   symlink -> builds/<build-id>, replaced atomically

A build is loaded into a fresh folder; only when it is complete is ``current`` switched, with
an atomic rename, so readers never see a half-built store and a failed build leaves the
previous one in place.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from .errors import MedkgError, StoreNotBuilt
from .paths import is_remote

log = logging.getLogger(__name__)

KEEP_BUILDS = 3


@dataclass(frozen=True)
class BuildInfo:
    """What a build was made from; stored beside the build and as triples in the graph."""

    build_id: str
    path: Path
    info: dict[str, Any]

    @property
    def triples(self) -> int:
        return int(self.info.get("triples", 0))


def builds_dir(store_dir: Path) -> Path:
    return Path(store_dir) / "builds"


def current_link(store_dir: Path) -> Path:
    return Path(store_dir) / "current"


def current_build(store_dir: Path | str) -> BuildInfo:
    """The build ``current`` points at; StoreNotBuilt when there is none."""
    if is_remote(store_dir):  # an engine: the build its pointer graph names
        from .remote import RemoteStore

        current = RemoteStore.from_url(store_dir).current()
        return BuildInfo(build_id=current.build_id, path=Path(current.graph), info=current.info())
    link = current_link(store_dir)
    try:
        target = link.resolve(strict=True)
    except (FileNotFoundError, RuntimeError, OSError):
        raise StoreNotBuilt(store_dir) from None
    if not target.is_dir():
        raise StoreNotBuilt(store_dir)
    meta = target.with_name(target.name + ".json")
    info: dict[str, Any] = {}
    if meta.is_file():
        try:
            info = json.loads(meta.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            info = {}
    return BuildInfo(build_id=target.name, path=target, info=info)


def current_build_id(store_dir: Path) -> str | None:
    try:
        return current_build(store_dir).build_id
    except StoreNotBuilt:
        return None


def new_build_dir(store_dir: Path, build_id: str) -> Path:
    target = builds_dir(store_dir) / build_id
    if target.exists():
        raise MedkgError(f"{target}: a build with this id exists already")
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


def load_into(path: Path, nquads: bytes) -> int:
    """Bulk load N-Quads into a new on-disk store at ``path``; returns the quad count."""
    store = ox.Store(str(path))
    store.bulk_load(nquads, ox.RdfFormat.N_QUADS)
    store.flush()
    store.optimize()
    count = len(store)
    del store
    return count


def switch(store_dir: Path, build_path: Path, info: dict[str, Any]) -> None:
    """Write the build info, then point ``current`` at ``build_path`` atomically."""
    meta = build_path.with_name(build_path.name + ".json")
    tmp_meta = meta.with_suffix(".json.tmp")
    tmp_meta.write_text(json.dumps(info, indent=2, sort_keys=True), encoding="utf-8")
    os.replace(tmp_meta, meta)
    link = current_link(store_dir)
    tmp_link = link.with_name(f".current.{os.getpid()}.{time.monotonic_ns()}")
    os.symlink(os.path.relpath(build_path, link.parent), tmp_link)
    os.replace(tmp_link, link)
    log.info("store %s now serves build %s", store_dir, build_path.name)


def discard(build_path: Path) -> None:
    """Remove a failed or partial build folder."""
    shutil.rmtree(build_path, ignore_errors=True)
    build_path.with_name(build_path.name + ".json").unlink(missing_ok=True)


def prune(store_dir: Path, keep: int = KEEP_BUILDS) -> None:
    """Remove old builds, keeping the newest ``keep`` and always the current one."""
    root = builds_dir(store_dir)
    if not root.is_dir():
        return
    current = current_build_id(store_dir)
    folders = sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: p.name, reverse=True)
    for folder in folders[keep:]:
        if folder.name != current:
            discard(folder)


def open_read_only(store_dir: Path | str) -> tuple[ox.Store, BuildInfo]:
    """Open the current build read-only (safe beside a running build of another one).

    For an engine (``http(s)://`` store), a private in-memory copy of its current graph.
    """
    if is_remote(store_dir):
        from .remote import RemoteStore

        return RemoteStore.from_url(store_dir).open_in_memory()
    build = current_build(store_dir)
    try:
        return ox.Store.read_only(str(build.path)), build
    except OSError as exc:
        raise MedkgError(f"{build.path}: cannot open the store ({exc})") from exc


def open_in_memory(store_dir: Path) -> tuple[ox.Store, BuildInfo]:
    """Copy the current build into a fresh in-memory store (fast to query, private per worker)."""
    disk, build = open_read_only(store_dir)
    memory = ox.Store()
    memory.bulk_extend(disk.quads_for_pattern(None, None, None, None))
    del disk
    return memory, build

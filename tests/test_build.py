"""The store: atomic builds, provenance, a failed build leaves the previous one serving."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from medkg import store
from medkg.build import build, store_is_stale
from medkg.errors import MedkgError, StoreNotBuilt


def test_build_switches_atomically_and_records_provenance(mini_data: Path, tmp_path: Path):
    store_dir = tmp_path / "store"
    first = build(mini_data, store_dir)
    assert store.current_build_id(store_dir) == first.build_id
    handle, info = store.open_read_only(store_dir)
    assert info.info["triples"] == len(handle) == first.triples
    ask = f'ASK {{ ?b <https://w3id.org/medkg/ontology#buildId> "{first.build_id}" }}'
    assert bool(handle.query(ask))
    second = build(mini_data, store_dir)
    assert second.build_id != first.build_id
    assert store.current_build(store_dir).info["previous_build"] == first.build_id


def test_failed_load_leaves_previous_build(mini_data: Path, tmp_path: Path, monkeypatch):
    store_dir = tmp_path / "store"
    first = build(mini_data, store_dir)

    def boom(path, body):
        Path(path).mkdir(parents=True, exist_ok=True)
        (Path(path) / "partial").write_text("half a store")
        raise OSError("No space left on device")

    monkeypatch.setattr(store, "load_into", boom)
    with pytest.raises(MedkgError, match="No space left on device.*previous build is unchanged"):
        build(mini_data, store_dir)
    assert store.current_build_id(store_dir) == first.build_id
    leftovers = [p.name for p in store.builds_dir(store_dir).iterdir()]
    assert leftovers == [first.build_id, f"{first.build_id}.json"] or sorted(leftovers) == sorted(
        [first.build_id, f"{first.build_id}.json"])
    handle, _ = store.open_read_only(store_dir)
    assert len(handle) == first.triples


def test_reader_opened_before_a_build_keeps_answering(mini_data: Path, tmp_path: Path):
    store_dir = tmp_path / "store"
    build(mini_data, store_dir)
    handle, _ = store.open_in_memory(store_dir)
    before = len(handle)
    build(mini_data, store_dir)
    assert len(handle) == before
    assert bool(handle.query("ASK { ?s a <https://w3id.org/medkg/ontology#Dataset> }"))


def test_no_store_is_a_clear_error(tmp_path: Path):
    with pytest.raises(StoreNotBuilt, match="medkg build"):
        store.open_read_only(tmp_path / "nothing")


def test_staleness(mini_data: Path, tmp_path: Path):
    store_dir = tmp_path / "store"
    assert store_is_stale(mini_data, store_dir)
    build(mini_data, store_dir)
    assert not store_is_stale(mini_data, store_dir)
    record = sorted((mini_data / "datasets").glob("*.yaml"))[0]
    record.touch()
    import os, time
    future = time.time() + 5
    os.utime(record, (future, future))
    assert store_is_stale(mini_data, store_dir)


def test_prune_keeps_the_newest(mini_data: Path, tmp_path: Path):
    store_dir = tmp_path / "store"
    ids = [build(mini_data, store_dir).build_id for _ in range(store.KEEP_BUILDS + 1)]
    kept = sorted(p.name for p in store.builds_dir(store_dir).iterdir() if p.is_dir())
    assert kept == sorted(ids[1:])
    assert isinstance(store.open_read_only(store_dir)[0], ox.Store)


def test_every_mkg_term_in_a_built_store_is_declared(mini_store: Path):
    """Build provenance included: no mkg: predicate or class reaches the store undeclared."""
    import rdflib

    from medkg import paths

    ontology = rdflib.Graph().parse(paths.ontology_file())
    declared = {str(s) for s in ontology.subjects(rdflib.RDF.type, None)}
    handle, _ = store.open_read_only(mini_store)
    used = {row["t"].value for row in handle.query(
        "SELECT DISTINCT ?t WHERE { { ?s ?t ?o } UNION { ?s a ?t } "
        "FILTER(STRSTARTS(STR(?t), 'https://w3id.org/medkg/ontology#')) }")}
    assert used and used <= declared, sorted(used - declared)

"""Scale-out: two `medkg serve` replicas behind a round-robin client give the same answers and
the same build id, over copies of one built store (a new build copied and switched on each,
as docs/deployment.md says) and over one remote engine."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import time
import urllib.parse
import urllib.request
from pathlib import Path

from endpoint_support import live_server
from engine_support import oxigraph_server
from medkg import store
from medkg.build import build

MINI = Path(__file__).resolve().parent / "fixtures" / "mini" / "data"
REQUESTS = [
    "/sparql?" + urllib.parse.urlencode({"query": "SELECT ?d ?l WHERE { ?d a "
                                         "<https://w3id.org/medkg/ontology#Dataset> ; "
                                         "<http://www.w3.org/2000/01/rdf-schema#label> ?l } "
                                         "ORDER BY ?l"}),
    "/queries/datasets-by-anatomy?anatomy=abdomen&format=json",
    "/datasets.json?modality=ct",
    "/dataset/btcv.ttl",
    "/anatomy/abdomen",
]


def fetch(url: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(url, timeout=60) as response:
        return response.status, response.headers.get("X-Medkg-Build", ""), response.read()


def build_ids(bases: list[str]) -> set[str]:
    return {json.loads(fetch(base + "/healthz")[2])["build_id"] for base in bases}


def round_robin(bases: list[str], rounds: int = 2) -> None:
    """Each request to the replicas in turn: same status, body and build on every one."""
    replica = itertools.cycle(bases)
    for path in REQUESTS * rounds:
        answers = [fetch(next(replica) + path) for _ in bases]
        assert all(a[0] == 200 for a in answers), path
        assert len({a[2] for a in answers}) == 1, path
        assert len({a[1] for a in answers if a[1]}) <= 1, path


def deploy(build_path: Path, replica_store: Path) -> None:
    """Copy a finished build into a replica's store and switch it atomically (as rsync + mv)."""
    target = store.builds_dir(replica_store) / build_path.name
    shutil.copytree(build_path, target.with_name(target.name + ".partial"))
    os.replace(target.with_name(target.name + ".partial"), target)
    shutil.copy2(build_path.with_name(build_path.name + ".json"),
                 target.with_name(target.name + ".json"))
    tmp = store.current_link(replica_store).with_name(".current.deploy")
    os.symlink(os.path.relpath(target, replica_store), tmp)
    os.replace(tmp, store.current_link(replica_store))


def wait_build(bases: list[str], build_id: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while build_ids(bases) != {build_id}:
        assert time.monotonic() < deadline, build_ids(bases)
        time.sleep(0.2)


def test_replicas_over_copies_of_one_store(tmp_path):
    primary, replica = tmp_path / "a", tmp_path / "b"
    first = build(MINI, primary)
    shutil.copytree(primary, replica, symlinks=True)
    with live_server(primary, workers=1) as a, live_server(replica, workers=1) as b:
        bases = [a.base, b.base]
        assert build_ids(bases) == {first.build_id}
        round_robin(bases)
        second = build(MINI, primary)  # build once ...
        deploy(second.store_path, replica)  # ... copy and switch on each replica
        wait_build(bases, second.build_id)
        round_robin(bases)


def test_replicas_over_one_engine(tmp_path):
    with oxigraph_server(tmp_path / "engine") as url:
        first = build(MINI, url).build_id
        with live_server(url, workers=1) as a, live_server(url, workers=1) as b:
            bases = [a.base, b.base]
            assert build_ids(bases) == {first}
            round_robin(bases)
            second = build(MINI, url).build_id
            wait_build(bases, second)
            round_robin(bases, rounds=1)

"""Faults, each a test: a build killed at every stage, a worker or executor killed mid-query,
the store folder removed or corrupted under a running server, the remote engine down or slow,
a full disk during a build. Each checks the error is clear and that medkg recovers."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from endpoint_support import descendants, live_server, server_env
from engine_support import Relay, free_port, oxigraph_server, stop, wait_ready
from medkg import store
from medkg.build import build
from medkg.errors import MedkgError
from medkg.web import create_app

MINI = Path(__file__).resolve().parent / "fixtures" / "mini" / "data"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
#: a cross join of the whole graph with itself, three times: runs for minutes
ENDLESS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
THREADS = 2  # request threads of the served worker: one query process each


def get(url: str, timeout: float = 60) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def sparql(base: str, query: str, timeout: float = 60) -> tuple[int, dict, bytes]:
    return get(f"{base}/sparql?{urllib.parse.urlencode({'query': query})}", timeout)


def health(base: str) -> dict:
    status, _, body = get(base + "/healthz")
    assert status == 200, body
    return json.loads(body)


def wait_for(predicate, timeout: float = 60.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def process_state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def executors(server_pid: int) -> list[int]:
    return [p for p in descendants(server_pid) if "medkg.executor" in cmdline(p)]


def workers(server_pid: int) -> list[int]:
    return [p for p in descendants(server_pid)
            if "medkg.executor" not in cmdline(p) and process_state(p) != "Z"]


# -- builds killed ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A store of the mini catalogue and a live server (1 worker, 2 threads) following it."""
    root = tmp_path_factory.mktemp("faults")
    data = root / "data"
    shutil.copytree(MINI, data)
    store_dir = root / "store"
    build(data, store_dir)
    with live_server(store_dir, workers=1, threads=THREADS, timeout=20.0) as live:
        yield data, store_dir, live


@pytest.mark.parametrize("stage", ["load", "rdf", "shacl", "serialize", "store", "switch"])
def test_build_killed_at_every_stage(stage, served):
    data, store_dir, live = served
    before = store.current_build_id(store_dir)
    assert health(live.base)["build_id"] == before
    env = {**server_env(), "MEDKG_BUILD_STOP_AT": stage}
    proc = subprocess.Popen([sys.executable, "-m", "medkg.cli", "build", "--data", str(data),
                             "--store", str(store_dir)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        wait_for(lambda: process_state(proc.pid) in ("T", "gone"), 120, f"the build at {stage}")
        assert proc.poll() is None, proc.stderr.read()
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    progress = proc.stderr.read().decode()
    assert progress.rstrip().endswith(f"{stage}...") or stage == "switch", progress
    # the old build keeps serving
    assert store.current_build_id(store_dir) == before
    time.sleep(0.6)  # past the server's check interval
    assert health(live.base)["build_id"] == before
    status, headers, _ = sparql(live.base, COUNT)
    assert status == 200 and headers["X-Medkg-Build"] == before
    # the next build succeeds, and the server takes it
    after = build(data, store_dir).build_id
    assert after != before and store.current_build_id(store_dir) == after
    wait_for(lambda: health(live.base)["build_id"] == after, 60, "the server to switch")
    leftovers = [p.name for p in store.builds_dir(store_dir).iterdir()
                 if p.is_dir() and not (p.with_name(p.name + ".json")).exists()]
    assert len(leftovers) <= 1  # a killed build's folder (stage store/switch) is pruned later


# -- processes killed mid-query ----------------------------------------------------------------


def _query_in_background(base: str) -> tuple[threading.Thread, list]:
    outcome: list = []

    def run() -> None:
        try:
            outcome.append(sparql(base, ENDLESS, timeout=60))
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test checks
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def _busy(pid: int) -> bool:
    from endpoint_support import cpu_seconds

    first = cpu_seconds([pid])
    time.sleep(0.3)
    return cpu_seconds([pid]) > first + 0.1


def test_executor_killed_mid_query(served):
    _, _, live = served
    thread, outcome = _query_in_background(live.base)
    child = wait_for(lambda: next((p for p in executors(live.pid) if _busy(p)), None), 30,
                     "the executor to run the query")
    os.kill(child, signal.SIGKILL)
    thread.join(60)
    status, _, body = outcome[0]
    assert status == 503 and json.loads(body)["error"]["type"] == "EndpointUnavailable", body
    status, _, _ = wait_for(lambda: (r := sparql(live.base, COUNT))[0] == 200 and r, 60,
                            "a fresh executor")
    assert status == 200 and child not in executors(live.pid)


def test_worker_killed_mid_query(served):
    _, _, live = served
    thread, outcome = _query_in_background(live.base)
    wait_for(lambda: any(_busy(p) for p in executors(live.pid)), 30, "the query to run")
    [worker] = [p for p in workers(live.pid) if any(c in executors(live.pid)
                                                    for c in descendants(p))]
    os.kill(worker, signal.SIGKILL)
    thread.join(60)
    assert isinstance(outcome[0], (ConnectionError, urllib.error.URLError, OSError)), outcome
    wait_for(lambda: sparql(live.base, COUNT)[0] == 200, 120, "a fresh worker")
    # the killed worker's executors died with it (no core left busy): the new worker's remain
    wait_for(lambda: len(executors(live.pid)) == THREADS, 30, "one executor per thread")


# -- the store folder removed or corrupted ---------------------------------------------------------


def test_store_removed_then_corrupted_then_rebuilt(tmp_path):
    store_dir = tmp_path / "store"
    build(MINI, store_dir)
    with live_server(store_dir, workers=1, timeout=20.0, cache=False) as live:
        first = health(live.base)["build_id"]
        shutil.rmtree(store_dir)
        # the build held in memory still answers; a fresh executor cannot start: a clear 503
        status, _, _ = sparql(live.base, COUNT)
        assert status == 200
        for child in executors(live.pid):
            os.kill(child, signal.SIGKILL)
        status, _, body = sparql(live.base, COUNT)
        assert status == 503, body
        assert "no built store" in json.loads(body)["error"]["message"] or "executor" in body.decode()
        status, _, body = sparql(live.base, COUNT)
        assert status == 503 and "run `medkg build` first" in json.loads(body)["error"]["message"]
        # corrupted: a build folder whose database files are garbage
        second = build(MINI, store_dir).build_id
        for path in store.current_build(store_dir).path.iterdir():
            if path.is_file():
                path.write_bytes(b"garbage")
        status, _, body = sparql(live.base, COUNT)
        assert status == 503 and "cannot load the store" in json.loads(body)["error"]["message"]
        # recovery after a rebuild
        third = build(MINI, store_dir).build_id
        status, headers, _ = wait_for(lambda: (r := sparql(live.base, COUNT))[0] == 200 and r,
                                      60, "recovery")
        assert headers["X-Medkg-Build"] == third and len({first, second, third}) == 3


# -- the remote engine down or slow ---------------------------------------------------------------


def test_engine_down_or_slow(tmp_path):
    port = free_port()
    location = tmp_path / "engine"
    with oxigraph_server(location, port=port) as url:
        build(MINI, url)
    # the engine is stopped now: down
    relay = Relay(port)
    try:
        client = create_app(relay.url(), cache=False, timeout=3.0, check_interval=0.0).test_client()
        status = client.get("/sparql", query_string={"query": COUNT})
        assert status.status_code == 502 and status.get_json()["error"]["type"] == "EngineError"
        assert client.get("/healthz").status_code == 502
        assert client.get("/dataset/btcv").status_code == 502
        with oxigraph_server(location, port=port) as url:  # back up, same data
            ok = client.get("/sparql", query_string={"query": COUNT})
            assert ok.status_code == 200, ok.data[:300]
            assert client.get("/dataset/btcv").status_code == 200
            relay.mode = "refuse"
            assert client.get("/sparql", query_string={"query": COUNT}).status_code == 502
            relay.mode = "hang"  # slow: accepts, never answers
            started = time.monotonic()
            slow = client.get("/sparql", query_string={"query": "ASK { ?s ?p ?o }"})
            assert slow.status_code == 504 and slow.get_json()["error"]["type"] == "EngineTimeout"
            assert time.monotonic() - started < 20
            relay.mode = "pass"
            assert client.get("/sparql", query_string={"query": COUNT}).status_code == 200
            wait_ready(url)
    finally:
        relay.close()


# -- a full disk -----------------------------------------------------------------------------------


def _mount_tmpfs(path: Path, size: str) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True)
    return done.returncode == 0


def test_disk_full_during_a_build(tmp_path, monkeypatch):
    disk = tmp_path / "disk"
    mounted = _mount_tmpfs(disk, "4m")
    try:
        store_dir = disk / "store"
        first = build(MINI, store_dir).build_id
        filler = disk / "filler"
        if mounted:  # a real full disk: fill the tmpfs, leaving a few KiB
            with open(filler, "wb") as out:
                try:
                    while True:
                        out.write(b"\0" * 65536)
                        out.flush()
                except OSError:
                    pass
        else:  # no tmpfs (not root): the store write fails as a full disk does
            import errno

            def full(path, nquads):
                raise OSError(errno.ENOSPC, "No space left on device")

            monkeypatch.setattr(store, "load_into", full)
        with pytest.raises(MedkgError, match="cannot write the new build") as caught:
            build(MINI, store_dir)
        assert "previous build is unchanged" in str(caught.value)
        assert store.current_build_id(store_dir) == first
        assert [p.name for p in store.builds_dir(store_dir).iterdir() if p.is_dir()] == [first]
        handle, _ = store.open_read_only(store_dir)
        assert len(handle) > 1000  # nothing lost
        del handle
        filler.unlink(missing_ok=True)
        monkeypatch.undo()
        assert build(MINI, store_dir).build_id != first
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(disk)], capture_output=True)

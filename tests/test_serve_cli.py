"""The README's main command: `medkg serve` builds a missing store, then serves it on loopback."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def _serve(args: list[str], env: dict | None = None) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "medkg.cli", "serve", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True, env={**os.environ, **(env or {})})
    deadline = time.monotonic() + 120
    seen = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            if proc.poll() is not None:
                break
            continue
        seen.append(line)
        match = re.search(r"medkg serving (http://\S+)/sparql", line)
        if match:
            return proc, match.group(1)
    _stop(proc)
    raise AssertionError("medkg serve did not start:\n" + "".join(seen[-30:]))


def _stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)


def test_serve_builds_a_missing_store_and_serves_on_loopback(mini_data: Path, tmp_path: Path):
    store = tmp_path / "store"
    proc, base = _serve(["--data", str(mini_data), "--store", str(store), "--port", "0",
                         "--workers", "1", "--threads", "1", "--no-cache"])
    try:
        assert base.startswith("http://127.0.0.1:")
        assert (store / "current").exists(), "the store was built before serving"
        with urllib.request.urlopen(base + "/healthz", timeout=30) as response:
            health = json.load(response)
        assert health["build_id"] and health["triples"] > 100
        request = urllib.request.Request(base + "/dataset/acdc", headers={"Accept": "text/html"})
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200 and b"ACDC" in response.read()
    finally:
        _stop(proc)


def test_serve_on_a_fresh_store_then_without_rebuilding(mini_data: Path, tmp_path: Path):
    store = tmp_path / "store"
    proc, base = _serve(["--data", str(mini_data), "--store", str(store), "--port", "0",
                         "--workers", "1", "--threads", "1"])
    _stop(proc)
    first = os.readlink(store / "current")
    proc, base = _serve(["--data", str(mini_data), "--store", str(store), "--port", "0",
                         "--workers", "1", "--threads", "1"])
    try:
        assert os.readlink(store / "current") == first, "an up-to-date store is not rebuilt"
    finally:
        _stop(proc)

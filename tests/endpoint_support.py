"""Helpers for the endpoint tests: hand-made stores and a live server in a subprocess."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from medkg import store

MKG = "https://w3id.org/medkg/ontology#"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"


def make_build(store_dir: Path, build_id: str, nquads: bytes, *, switch: bool = True) -> Path:
    """Load ``nquads`` as build ``build_id`` of ``store_dir`` and (by default) make it current."""
    path = store.new_build_dir(store_dir, build_id)
    count = store.load_into(path, nquads)
    if switch:
        store.switch(store_dir, path, {"build_id": build_id, "built_at": "2026-01-01T00:00:00Z",
                                       "triples": count})
    return path


def datasets_nquads(n: int, *, tag: str = "") -> bytes:
    """``n`` little mkg:Dataset records in the default graph."""
    lines = []
    for i in range(n):
        s = f"<https://w3id.org/medkg/dataset/d{i}>"
        lines += [
            f"{s} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{MKG}Dataset> .",
            f'{s} <{RDFS_LABEL}> "Dataset {i}{tag}" .',
            f"{s} <{MKG}modality> <https://w3id.org/medkg/modality/m{i % 3}> .",
            f'{s} <{MKG}caseCount> "{10 * i}"^^<http://www.w3.org/2001/XMLSchema#integer> .',
        ]
    return ("\n".join(lines) + "\n").encode()


def server_env() -> dict:
    env = dict(os.environ)
    src = str(Path(__file__).resolve().parents[1] / "src")
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    return env


@dataclass(frozen=True)
class Live:
    base: str  # http://127.0.0.1:PORT
    pid: int  # the gunicorn arbiter

    @property
    def sparql(self) -> str:
        return self.base + "/sparql"


@contextmanager
def live_server(store_dir: Path, **options):
    """Run ``medkg.server.serve(store_dir, port=0, **options)`` in a subprocess; yield a Live.

    Waits until /healthz answers; stops the server (SIGTERM, then SIGKILL) at the end.
    """
    kwargs = {"port": 0, "log_level": "warning", **options}
    code = ("import sys; from medkg.server import serve; "
            f"serve({str(store_dir)!r}, **{kwargs!r})")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=server_env(), text=True,
                            start_new_session=True)
    try:
        line = proc.stdout.readline()
        match = re.search(r"medkg serving (http://\S+)/sparql", line)
        if not match:
            proc.kill()
            raise AssertionError(f"server did not start: {line!r} {proc.stderr.read()}")
        base = match.group(1)
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=5) as response:
                    json.load(response)
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.1)
        yield Live(base=base, pid=proc.pid)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total

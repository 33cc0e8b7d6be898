#!/usr/bin/env python3
"""Endpoint benchmark: ``medkg serve`` (cache off and on) beside Oxigraph's own server.

    python bench/serve.py --synthetic 400            # synthetic catalogue of 400 datasets
    python bench/serve.py --synthetic 100000 --requests 200
    python bench/serve.py --store var/store          # an existing medkg store
    python bench/serve.py --synthetic 400 --requests 200 --repeat 3   # medians of 3 runs

Servers, each on a free loopback port, one at a time, on the same data:
  medkg-nocache   medkg.server.serve(cache=False)
  medkg-cache     medkg.server.serve(cache=True)
  ox-readonly     oxigraph serve-read-only --location <the medkg build>
  ox-memory       oxigraph serve --bind ... (in memory), loaded with the build's N-Quads
Each runs the same queries (a GROUP BY count, a text FILTER with ORDER BY LIMIT, joins over
the medkg ontology) with 1 and 4 concurrent clients (client processes, keep-alive HTTP; a
bounded count of requests and time per run). Printed: p50/p95 latency, throughput, the peak
RSS of the server's process tree, and ratios medkg / Oxigraph (in memory) from this run.
With ``--repeat N`` the four servers run N times in turn (so background noise hits them alike)
and the medians of throughput, p95 and ratios over the runs are printed at the end.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from medkg import store  # noqa: E402

MKG = "https://w3id.org/medkg/ontology#"
BASE = "https://w3id.org/medkg/"
PREFIXES = (f"PREFIX mkg: <{MKG}> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
            "PREFIX dcterms: <http://purl.org/dc/terms/> "
            "PREFIX xsd: <http://www.w3.org/2001/XMLSchema#> ")
QUERIES = {
    "group-count": PREFIXES + """SELECT ?m (COUNT(?d) AS ?n) WHERE {
        ?d a mkg:Dataset ; mkg:modality ?m } GROUP BY ?m ORDER BY DESC(?n)""",
    "text-filter": PREFIXES + """SELECT ?d ?label WHERE { ?d a mkg:Dataset ; rdfs:label ?label
        FILTER(CONTAINS(LCASE(?label), "brain")) } ORDER BY ?label LIMIT 20""",
    "join-3": PREFIXES + f"""SELECT ?d ?label ?n WHERE {{ ?d a mkg:Dataset ;
        mkg:modality <{BASE}modality/mri> ; mkg:anatomy <{BASE}anatomy/brain> ;
        mkg:caseCount ?n ; rdfs:label ?label }} ORDER BY DESC(?n) LIMIT 10""",
    "join-agg": PREFIXES + """SELECT ?a ?m (COUNT(?d) AS ?datasets) (SUM(?n) AS ?cases) WHERE {
        ?d a mkg:Dataset ; mkg:modality ?m ; mkg:anatomy ?a ; mkg:caseCount ?n ;
           dcterms:issued ?issued FILTER(?issued >= "2018-01-01"^^xsd:date) }
        GROUP BY ?a ?m ORDER BY DESC(?cases) LIMIT 25""",
}
MODALITIES = ["mri", "ct", "xray", "ultrasound", "pet", "histopathology", "fundus", "oct",
              "endoscopy", "dermoscopy"]
ANATOMY = ["brain", "lung", "heart", "liver", "kidney", "breast", "prostate", "eye", "skin",
           "colon", "knee", "spine", "pancreas", "abdomen", "whole-body"]
TASKS = ["segmentation", "classification", "detection", "registration", "reconstruction",
         "report-generation", "vqa", "survival"]
WORDS = ["Brain", "Lung", "Tumor", "Cardiac", "Retina", "Chest", "Liver", "Skin", "Atlas",
         "Challenge", "Cohort", "Screening", "Open", "Multi-centre", "Benchmark"]


def synthetic_nquads(n: int, seed: int = 7) -> bytes:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        s = f"<{BASE}dataset/ds{i:06d}>"
        label = " ".join(rng.sample(WORDS, 3)) + f" {i}"
        year, month = rng.randint(2005, 2025), rng.randint(1, 12)
        out += [
            f"{s} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{MKG}Dataset> .",
            f'{s} <http://www.w3.org/2000/01/rdf-schema#label> "{label}"@en .',
            f"{s} <{MKG}modality> <{BASE}modality/{rng.choice(MODALITIES)}> .",
            f"{s} <{MKG}anatomy> <{BASE}anatomy/{rng.choice(ANATOMY)}> .",
            f"{s} <{MKG}task> <{BASE}task/{rng.choice(TASKS)}> .",
            f'{s} <{MKG}caseCount> "{rng.randint(10, 100_000)}"'
            "^^<http://www.w3.org/2001/XMLSchema#integer> .",
            f'{s} <http://purl.org/dc/terms/issued> "{year}-{month:02d}-01"'
            "^^<http://www.w3.org/2001/XMLSchema#date> .",
        ]
    return ("\n".join(out) + "\n").encode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tree_peak_rss_mb(pid: int) -> float:
    """Sum of VmHWM (peak resident set) over ``pid`` and all its descendants."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    todo, total = [pid], 0
    while todo:
        current = todo.pop()
        todo.extend(parents.get(current, []))
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += int(re.search(r"VmHWM:\s+(\d+)", status).group(1))
        except (OSError, AttributeError):
            pass
    return total / 1024


def wait_http(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    parsed = urllib.parse.urlsplit(url)
    while True:
        try:
            conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=5)
            conn.request("GET", parsed.path + "?query=ASK%7B%7D")
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def start_medkg(store_dir: Path, cache: bool, workers: int,
                threads: int | None = None) -> tuple[subprocess.Popen, str]:
    extra = "" if threads is None else f", threads={threads}"
    code = ("from medkg.server import serve; "
            f"serve({str(store_dir)!r}, port=0, workers={workers}, cache={cache}, "
            f"log_level='warning'{extra})")
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                            env=env, start_new_session=True)
    url = re.search(r"(http://\S+/sparql)", proc.stdout.readline()).group(1)
    return proc, url


def start_oxigraph(args: list[str]) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(["oxigraph", *args, "--bind", f"127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    return proc, f"http://127.0.0.1:{port}/query"


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _client(args) -> list[float]:
    """One client process: ``count`` keep-alive requests cycling through the queries."""
    url, count, max_seconds, offset = args
    parsed = urllib.parse.urlsplit(url)
    paths = [parsed.path + "?" + urllib.parse.urlencode({"query": q}) for q in QUERIES.values()]
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)
    latencies, deadline = [], time.monotonic() + max_seconds
    for i in range(count):
        if time.monotonic() > deadline:
            break
        path = paths[(i + offset) % len(paths)]
        started = time.perf_counter()
        for attempt in range(2):
            try:
                conn.request("GET", path, headers={"Accept": "application/sparql-results+json"})
                response = conn.getresponse()
                body = response.read()
                break
            except (http.client.HTTPException, OSError):
                conn.close()  # the server closed the kept-alive connection: reconnect
                conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)
                if attempt:
                    raise
        if response.status != 200 or not body:
            raise SystemExit(f"{url}: HTTP {response.status}: {body[:200]!r}")
        if response.getheader("Connection", "").lower() == "close":
            conn.close()
            conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)
        latencies.append(time.perf_counter() - started)
    conn.close()
    return latencies


def measure(url: str, clients: int, count: int, max_seconds: float) -> dict:
    for _ in range(2):  # warm up: every query twice (fills the cache where there is one)
        _client((url, len(QUERIES), 60, 0))
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(clients) as pool:
        started = time.perf_counter()
        runs = pool.map(_client, [(url, count, max_seconds, i) for i in range(clients)])
        elapsed = time.perf_counter() - started
    latencies = sorted(x for run in runs for x in run)
    return {
        "requests": len(latencies),
        "p50_ms": 1000 * statistics.median(latencies),
        "p95_ms": 1000 * latencies[int(0.95 * (len(latencies) - 1))],
        "rps": len(latencies) / elapsed,
    }


def export_nquads(build_path: Path, target: Path) -> None:
    import pyoxigraph as ox

    disk = ox.Store.read_only(str(build_path))
    ox.serialize(disk.quads_for_pattern(None, None, None, None), str(target),
                 format=ox.RdfFormat.N_QUADS)
    del disk


def load_oxigraph_memory(url: str, nquads: Path) -> None:
    parsed = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=600)
    conn.request("POST", "/store", body=nquads.read_bytes(),
                 headers={"Content-Type": "application/n-quads"})
    response = conn.getresponse()
    response.read()
    if response.status >= 300:
        raise SystemExit(f"loading Oxigraph failed: HTTP {response.status}")


def run_servers(servers: dict, clients: list[int], args, nquads: Path) -> dict:
    results: dict[tuple[str, int], dict] = {}
    for name, start in servers.items():
        proc, url = start()
        try:
            wait_http(url)
            if name == "ox-memory":
                load_oxigraph_memory(url, nquads)
            for n in clients:
                row = measure(url, n, args.requests, args.max_seconds)
                row["rss_mb"] = tree_peak_rss_mb(proc.pid)
                results[(name, n)] = row
                print(f"{name:14} clients={n}  p50 {row['p50_ms']:7.2f} ms  "
                      f"p95 {row['p95_ms']:7.2f} ms  {row['rps']:8.1f} req/s  "
                      f"peak RSS {row['rss_mb']:7.1f} MB  ({row['requests']} requests)",
                      flush=True)
        finally:
            stop(proc)
    return results


def ratio(results: dict, name: str, clients: int) -> float:
    return results[(name, clients)]["rps"] / results[("ox-memory", clients)]["rps"]


def print_ratios(results: dict, clients: list[int]) -> None:
    print("\nratios against Oxigraph in memory (throughput; >1 is faster):")
    for n in clients:
        print(f"  clients={n}: " + "  ".join(
            f"{name} {ratio(results, name, n):.2f}x"
            for name in ("medkg-nocache", "medkg-cache", "ox-readonly")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--store", type=Path, help="an existing medkg store folder")
    source.add_argument("--synthetic", type=int, metavar="N", help="N synthetic datasets")
    parser.add_argument("--requests", type=int, default=400, help="requests per client")
    parser.add_argument("--max-seconds", type=float, default=30, help="time cap per run")
    parser.add_argument("--clients", default="1,4")
    parser.add_argument("--workers", type=int, default=2, help="medkg gunicorn workers")
    parser.add_argument("--threads", type=int, help="medkg threads per worker (its default)")
    parser.add_argument("--repeat", type=int, default=1, help="runs; medians printed")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="medkg-bench-"))
    try:
        if args.synthetic:
            store_dir = tmp / "store"
            started = time.perf_counter()
            build = store.new_build_dir(store_dir, f"synthetic-{args.synthetic}")
            count = store.load_into(build, synthetic_nquads(args.synthetic))
            store.switch(store_dir, build, {"build_id": build.name, "triples": count,
                                            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ")})
            print(f"synthetic store: {args.synthetic} datasets, {count} triples, "
                  f"built in {time.perf_counter() - started:.1f} s")
        else:
            store_dir = args.store.resolve()
        build_path = store.current_build(store_dir).path
        nquads = tmp / "export.nq"
        export_nquads(build_path, nquads)
        clients = [int(c) for c in args.clients.split(",")]
        servers = {
            "medkg-nocache": lambda: start_medkg(store_dir, False, args.workers, args.threads),
            "medkg-cache": lambda: start_medkg(store_dir, True, args.workers, args.threads),
            "ox-readonly": lambda: start_oxigraph(["serve-read-only", "--location",
                                                   str(build_path)]),
            "ox-memory": lambda: start_oxigraph(["serve"]),
        }
        runs: list[dict[tuple[str, int], dict]] = []
        for run in range(args.repeat):
            if args.repeat > 1:
                print(f"-- run {run + 1} of {args.repeat}", flush=True)
            runs.append(run_servers(servers, clients, args, nquads))
            print_ratios(runs[-1], clients)
        if args.repeat > 1:
            print(f"\nmedians over {args.repeat} runs:")
            for name, n in runs[0]:
                rows = [r[(name, n)] for r in runs]
                print(f"{name:14} clients={n}  p95 "
                      f"{statistics.median(r['p95_ms'] for r in rows):7.2f} ms  "
                      f"{statistics.median(r['rps'] for r in rows):8.1f} req/s")
            for n in clients:
                print(f"  clients={n}: " + "  ".join(
                    f"{name} {statistics.median(ratio(r, name, n) for r in runs):.2f}x"
                    for name in ("medkg-nocache", "medkg-cache", "ox-readonly")))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

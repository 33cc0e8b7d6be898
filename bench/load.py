#!/usr/bin/env python3
"""Load test: many concurrent clients on a mix of pages, named queries and free SPARQL.

    python bench/load.py                                # the real catalogue (var/store, built if missing)
    python bench/load.py --synthetic 100000             # + 100,000 synthetic datasets (bench/serve.py's)
    python bench/load.py --remote                       # the real catalogue in an Oxigraph server
    python bench/load.py --url http://127.0.0.1:8000    # a server already running (loopback only)

Clients (default 50, in a few processes of threads, each a closed loop: request, wait for
the answer, next; ``--think`` adds a pause) run for ``--duration`` seconds (default 60) against
``medkg serve`` on a free loopback port (``--workers``, default 2). The mix, by weight: page
views 50% (/, /datasets?..., /dataset/<id>, /anatomy/<id>), named queries 25%
(/queries/<name>, default parameters), free SPARQL 25% (bench/serve.py's queries). Printed:
throughput, p50/p95/p99 latency overall and per kind, and every error (non-200 or failed
connection), counted by kind and status. ``--json FILE`` writes the same figures.
"""

from __future__ import annotations

import argparse
import http.client
import ipaddress
import json
import multiprocessing
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

from serve import QUERIES, synthetic_nquads  # noqa: E402 - bench/serve.py: reused, not copied

from medkg import paths, store  # noqa: E402

WEIGHTS = {"page": 50, "named": 25, "sparql": 25}
MAX_CLIENTS, MAX_DURATION = 500, 1800  # bounds: this is a loopback tool, not a flood


def get_json(url: str):
    with urllib.request.urlopen(urllib.request.Request(
            url, headers={"Accept": "application/json"}), timeout=120) as response:
        return json.load(response)


def plan(base: str, seed: int = 1) -> dict[str, list[str]]:
    """The request paths of each kind, from what the server holds."""
    rng = random.Random(seed)
    listing = get_json(base + "/datasets.json?per_page=all")
    datasets = [row["id"] for row in listing.get("results", listing.get("datasets", []))
                if isinstance(row, dict) and row.get("id")]
    anatomy_query = "SELECT DISTINCT ?a WHERE { ?d <https://w3id.org/medkg/ontology#anatomy> ?a }"
    answer = get_json(base + "/sparql?" + urllib.parse.urlencode({"query": anatomy_query}))
    anatomy = [b["a"]["value"].rsplit("/", 1)[1] for b in answer["results"]["bindings"]]
    facets = ["modality=ct", "modality=mr", "anatomy=brain", "task=segmentation", "q=liver",
              "q=brain&sort=name", "modality=ct&anatomy=abdomen", "page=2"]
    pages = ["/"] + [f"/datasets?{f}" for f in facets]
    # every dataset page and every anatomy term in use: with hundreds of distinct pages the
    # request cache meets each page a few times per worker, not thousands
    pages += [f"/dataset/{i}" for i in datasets] + [f"/anatomy/{a}" for a in anatomy]
    named = [f"/queries/{q['name']}?format=json" for q in get_json(base + "/queries")["queries"]]
    sparql = ["/sparql?" + urllib.parse.urlencode({"query": q}) for q in QUERIES.values()]
    return {"page": pages, "named": named, "sparql": sparql}


def _client_process(args) -> list[tuple[str, float, str]]:
    """``threads`` closed-loop clients in one process; returns (kind, seconds, outcome) rows."""
    base, paths_by_kind, threads, duration, think, seed = args
    parsed = urllib.parse.urlsplit(base)
    kinds = [k for k in WEIGHTS for _ in range(WEIGHTS[k])]
    rows: list[tuple[str, float, str]] = []
    lock = threading.Lock()
    deadline = time.monotonic() + duration

    def client(n: int) -> None:
        rng = random.Random(seed * 1000 + n)
        conn = None
        mine = []
        while time.monotonic() < deadline:
            kind = rng.choice(kinds)
            path = rng.choice(paths_by_kind[kind])
            started = time.perf_counter()
            try:
                reused = conn is not None
                if conn is None:
                    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)
                try:
                    conn.request("GET", path, headers={"Accept": "text/html, application/json;q=0.9"})
                    response = conn.getresponse()
                except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                    if not reused:
                        raise
                    # the server closed the idle kept-alive connection as this request went
                    # out (HTTP/1.1 allows it): a GET is retried once on a new connection, as
                    # browsers and HTTP libraries do; the retry's time counts
                    conn.close()
                    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)
                    conn.request("GET", path, headers={"Accept": "text/html, application/json;q=0.9"})
                    response = conn.getresponse()
                response.read()
                outcome = str(response.status)
                if response.getheader("Connection", "").lower() == "close" or response.will_close:
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as exc:
                outcome = type(exc).__name__
                if conn is not None:
                    conn.close()
                conn = None
            mine.append((kind, time.perf_counter() - started, outcome))
            if think:
                time.sleep(rng.uniform(0, 2 * think))
        with lock:
            rows.extend(mine)

    workers = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return rows


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def run_load(base: str, clients: int, duration: float, think: float, processes: int,
             slow_limit: float = 10.0) -> dict:
    paths_by_kind = plan(base)
    excluded = []
    for kind in paths_by_kind:  # warm up: every path once (caches, search index)
        for path in list(paths_by_kind[kind]):
            started = time.perf_counter()
            try:
                urllib.request.urlopen(base + path, timeout=slow_limit).read()
                failed = None
            except OSError as exc:
                failed = str(exc)
            if failed or time.perf_counter() - started > slow_limit:
                excluded.append({"path": path, "why": failed or "slow"})
                paths_by_kind[kind].remove(path)  # reported, not hammered
    processes = max(1, min(processes, clients))
    shares = [clients // processes + (1 if i < clients % processes else 0) for i in range(processes)]
    ctx = multiprocessing.get_context("fork")
    started = time.perf_counter()
    with ctx.Pool(processes) as pool:
        results = pool.map(_client_process, [(base, paths_by_kind, n, duration, think, i)
                                             for i, n in enumerate(shares)])
    elapsed = time.perf_counter() - started
    rows = [row for result in results for row in result]
    report = {"clients": clients, "duration_s": round(elapsed, 1), "requests": len(rows),
              "throughput_rps": round(len(rows) / elapsed, 1)}

    def figures(selected) -> dict:
        ok = [s for _, s, o in selected if o == "200"]
        every = [s for _, s, _ in selected]
        return {"requests": len(selected), "errors": len(selected) - len(ok),
                "p50_ms": round(1000 * percentile(every, 50), 1),
                "p95_ms": round(1000 * percentile(every, 95), 1),
                "p99_ms": round(1000 * percentile(every, 99), 1)}

    report["all"] = figures(rows)
    report["by_kind"] = {kind: figures([r for r in rows if r[0] == kind]) for kind in WEIGHTS}
    report["error_kinds"] = dict(Counter(f"{k} {o}" for k, _, o in rows if o != "200"))
    report["excluded_after_warmup"] = excluded
    return report


# -- what to serve ----------------------------------------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_medkg(store_ref: str, workers: int, timeout: float,
                cache: bool = True) -> tuple[subprocess.Popen, str]:
    code = ("import sys; from medkg.server import serve; "
            f"serve(sys.argv[1], port=0, workers={workers}, timeout={timeout}, cache={cache}, "
            "log_level='warning')")
    proc = subprocess.Popen([sys.executable, "-c", code, store_ref], stdout=subprocess.PIPE,
                            text=True, start_new_session=True)
    line = proc.stdout.readline()
    if "medkg serving" not in line:
        proc.kill()
        raise SystemExit(f"medkg serve did not start: {line!r}")
    base = line.split()[-1].rsplit("/sparql", 1)[0]
    wait_http(base + "/healthz")
    return proc, base


def wait_http(url: str, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=60).read()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def real_store() -> Path:
    from medkg.build import build, store_is_stale

    store_dir = Path(paths.default_store_dir())
    if store_is_stale(paths.data_dir(), store_dir):
        build(paths.data_dir(), store_dir)
    return store_dir


def synthetic_store(n: int, tmp: Path) -> Path:
    """The real catalogue plus ``n`` synthetic datasets (bench/serve.py's generator)."""
    import pyoxigraph as ox

    real, _ = store.open_read_only(real_store())
    body = ox.serialize(real.quads_for_pattern(None, None, None, None), format=ox.RdfFormat.N_QUADS)
    del real
    store_dir = tmp / "synthetic"
    build = store.new_build_dir(store_dir, f"synthetic-{n}")
    count = store.load_into(build, body + synthetic_nquads(n))
    store.switch(store_dir, build, {"build_id": build.name, "triples": count,
                                    "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ")})
    print(f"synthetic store: real catalogue + {n} datasets, {count} triples", flush=True)
    return store_dir


def engine_with(store_dir: Path, tmp: Path) -> tuple[subprocess.Popen, str]:
    """An Oxigraph server holding ``store_dir``'s current build as medkg's remote layout."""
    import pyoxigraph as ox

    from medkg import remote

    port = free_port()
    proc = subprocess.Popen(["oxigraph", "serve", "--location", str(tmp / "engine"), "--bind",
                             f"127.0.0.1:{port}", "--timeout-s", "60"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}/query"
    wait_http(url + "?query=ASK%7B%7D")
    handle, build = store.open_read_only(store_dir)
    body = ox.serialize(handle.quads_for_pattern(None, None, None, ox.DefaultGraph()),
                        format=ox.RdfFormat.N_TRIPLES)
    del handle
    engine = remote.RemoteStore.from_url(url, timeout=600)
    graph = remote.graph_iri(build.build_id)
    engine.load(graph, body)
    engine.switch(graph, engine.count(graph), build.info.get("built_at") or "2026-01-01T00:00:00Z")
    return proc, url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running server (loopback only)")
    parser.add_argument("--store", help="a store folder or engine URL to serve (default: var/store)")
    parser.add_argument("--synthetic", type=int, metavar="N", help="add N synthetic datasets")
    parser.add_argument("--remote", action="store_true", help="serve through an Oxigraph server")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds")
    parser.add_argument("--think", type=float, default=0.0, help="mean pause between requests (s)")
    parser.add_argument("--workers", type=int, default=2, help="medkg serve workers")
    parser.add_argument("--timeout", type=float, default=30.0, help="medkg query time limit (s)")
    parser.add_argument("--processes", type=int, default=4, help="client processes")
    parser.add_argument("--json", type=Path, help="write the figures here too")
    parser.add_argument("--no-cache", action="store_true", help="serve with medkg's caches off")
    args = parser.parse_args()
    if not 1 <= args.clients <= MAX_CLIENTS or not 0 < args.duration <= MAX_DURATION:
        raise SystemExit(f"--clients 1..{MAX_CLIENTS}, --duration up to {MAX_DURATION} s")

    procs: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory(prefix="medkg-load-") as tmp_name:
        tmp = Path(tmp_name)
        try:
            if args.url:
                host = urllib.parse.urlsplit(args.url).hostname or ""
                if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
                    raise SystemExit("--url must be a loopback address (this is a load generator)")
                base, label = args.url.rstrip("/"), args.url
            else:
                if args.synthetic:
                    store_ref: str = str(synthetic_store(args.synthetic, tmp))
                else:
                    store_ref = args.store or str(real_store())
                label = f"synthetic {args.synthetic}" if args.synthetic else "real catalogue"
                if args.remote:
                    engine, store_ref = engine_with(Path(store_ref), tmp)
                    procs.append(engine)
                    label += " via oxigraph serve"
                server, base = start_medkg(store_ref, args.workers, args.timeout, not args.no_cache)
                procs.append(server)
            cache = "cache off" if args.no_cache else "cache on"
            print(f"load: {args.clients} clients, {args.duration:g} s, {label}, "
                  f"{args.workers} workers, {cache}", flush=True)
            report = {"target": label, "workers": args.workers, "cache": cache,
                      **run_load(base, args.clients, args.duration, args.think, args.processes)}
        finally:
            for proc in reversed(procs):
                stop(proc)
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

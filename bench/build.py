#!/usr/bin/env python3
"""Build benchmark: time and peak memory of each pipeline stage (load, rdf, shacl, serialize,
store) for the real catalogue and for a synthetic catalogue the script generates.

    python bench/build.py                      # real data/ plus a synthetic 10,000-dataset catalogue
    python bench/build.py --synthetic 2000     # another synthetic size
    python bench/build.py --repeat 3           # median of 3 runs per catalogue

Each catalogue is built in a child process (fresh memory), into a temporary store. Peak RSS is
the child's maximum resident set after each stage (monotonic: a stage's figure includes the
stages before it). Baseline: the real catalogue's own figures in the same run (ratios per
dataset show how the pipeline scales).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def synthetic_catalogue(target: Path, count: int, seed: int = 7) -> Path:
    """A data/ folder with the real vocabularies and ``count`` generated datasets."""
    import yaml

    from medkg.records import load_vocabulary

    data = target / "data"
    shutil.copytree(ROOT / "data" / "vocab", data / "vocab")
    vocab = {p.stem: [c.id for c in load_vocabulary(p).concepts] for p in (data / "vocab").glob("*.yaml")}
    rng = random.Random(seed)
    folder = data / "datasets"
    folder.mkdir(parents=True)
    orgs = data / "organizations"
    orgs.mkdir()
    for n in range(50):
        (orgs / f"org-{n}.yaml").write_text(yaml.safe_dump({"id": f"org-{n}", "name": f"Institute {n}"}))
    for n in range(count):
        ident = f"synthetic-{n:06d}"
        record = {
            "id": ident,
            "name": f"Synthetic dataset {n}",
            "description": f"Generated record {n} for the build benchmark.",
            "category": [rng.choice(vocab["category"])],
            "modality": rng.sample(vocab["modality"], k=rng.randint(1, 2)),
            "anatomy": rng.sample(vocab["anatomy"], k=rng.randint(1, 3)),
            "task": [rng.choice(vocab["task"])],
            "dimensionality": [rng.choice(["2D", "3D"])],
            "case_count": rng.randint(10, 50000),
            "class_count": rng.randint(1, 120),
            "label_classes": [{"name": f"class {k}", "anatomy": rng.choice(vocab["anatomy"])}
                              for k in range(rng.randint(0, 5))],
            "file_formats": [rng.choice([".nii.gz", ".png", ".dcm"])],
            "release_date": f"{rng.randint(2005, 2025)}-{rng.randint(1, 12):02d}",
            "websites": [{"url": f"https://example.org/datasets/{ident}", "role": "homepage"}],
            "papers": [{"doi": f"10.5555/synthetic.{n}", "title": f"Paper {n}"}],
            "organizations": [f"org-{rng.randint(0, 49)}"],
        }
        (folder / f"{ident}.yaml").write_text(yaml.safe_dump(record, sort_keys=False))
    return data


CHILD = r"""
import json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[3])
from medkg.build import build
result = build(Path(sys.argv[1]), Path(sys.argv[2]))
print(json.dumps({"triples": result.triples, "datasets": result.counts.get("dataset", 0),
                  "stages": [[s.name, s.seconds, s.peak_rss_mb] for s in result.stages]}))
"""


def run_once(data: Path) -> dict:
    with tempfile.TemporaryDirectory(prefix="medkg-bench-store-") as store:
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", CHILD, str(data), store, str(ROOT / "src")],
                             capture_output=True, text=True, check=False)
        wall = time.perf_counter() - start
    if out.returncode != 0:
        sys.exit(f"build failed for {data}:\n{out.stderr[-3000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["wall"] = wall
    return result


def summarise(name: str, runs: list[dict]) -> dict:
    stages = [s[0] for s in runs[0]["stages"]]
    med = {s: statistics.median(r_s[1] for r in runs for r_s in r["stages"] if r_s[0] == s) for s in stages}
    peak = {s: max(r_s[2] for r in runs for r_s in r["stages"] if r_s[0] == s) for s in stages}
    total = statistics.median(sum(x[1] for x in r["stages"]) for r in runs)
    wall = statistics.median(r["wall"] for r in runs)
    print(f"\n{name}: {runs[0]['datasets']} datasets, {runs[0]['triples']} triples, {len(runs)} run(s), medians")
    print(f"  {'stage':<10} {'seconds':>8} {'peak RSS MB':>12}")
    for s in stages:
        print(f"  {s:<10} {med[s]:>8.2f} {peak[s]:>12.0f}")
    print(f"  {'total':<10} {total:>8.2f}   (process wall time incl. start-up {wall:.2f} s)")
    return {"datasets": runs[0]["datasets"], "triples": runs[0]["triples"], "total": total,
            "wall": wall, "stages": med, "peak": max(peak.values())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--synthetic", type=int, default=10000, help="synthetic catalogue size (0: skip)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per catalogue (medians are quoted)")
    args = parser.parse_args()
    real = summarise("real catalogue (data/)", [run_once(ROOT / "data") for _ in range(args.repeat)])
    print(f"  aim: under 5 s -> {'met' if real['total'] < 5 else 'NOT met'}")
    if args.synthetic:
        with tempfile.TemporaryDirectory(prefix="medkg-bench-data-") as tmp:
            data = synthetic_catalogue(Path(tmp), args.synthetic)
            synth = summarise(f"synthetic catalogue ({args.synthetic})",
                              [run_once(data) for _ in range(args.repeat)])
        aim = 120 if args.synthetic >= 10000 else None
        per_real = real["total"] / max(1, real["datasets"])
        per_synth = synth["total"] / max(1, synth["datasets"])
        print(f"\nratio synthetic/real: total time x{synth['total'] / real['total']:.1f}, "
              f"per dataset x{per_synth / per_real:.2f}, peak RSS x{synth['peak'] / real['peak']:.1f}")
        if aim:
            print(f"  aim: {args.synthetic} datasets under {aim} s -> {'met' if synth['total'] < aim else 'NOT met'}")


if __name__ == "__main__":
    main()

"""The search catalog at scale (issue 16): 100,000 artifact versions, side by side in one run.

A repository is synthesised with the record and ref stores themselves (adding
100,000 versions one `add` at a time would take hours): ARTIFACTS artifacts of
VERSIONS versions each, every one with a metadata record (description, tags,
authors, license, task). Then, best and median of N:

- search: free text plus two tags, through the catalog, against the plain scan
  of every ref and metadata record that `search` was before the catalog;
- rebuild: `hpcfair index rebuild` from nothing (the target: under 15 s);
- lineage: the graph of a version with 1,000 revisions behind it (the target:
  under 100 ms), against only reading and parsing its 1,000 version records;
- add: one small file, with the catalog (its index update and the same-bytes
  lookup) against the same add with the catalog switched off (no index update;
  the same-bytes check and the path lookup answered by nothing), in the same
  repository, alternating; the catalog is caught up (untimed) after each add
  without it. The catalog's cost is the difference (the target: within 5%).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, os.fspath(ROOT))

from hpcfair_vcs import api  # noqa: E402
from hpcfair_vcs.repo import Repo  # noqa: E402
from hpcfair_vcs.storage.records import MetadataRecord, VersionRecord, canonical_bytes  # noqa: E402

WORDS = ("mnist cifar imagenet protein climate turbulence lattice galaxy genome seismic encoder decoder "
         "classifier regressor segmentation transformer convolutional graph sparse dense").split()
TAGS = ["vision", "physics", "biology", "chemistry", "nlp", "tabular", "prod", "paper", "baseline", "large"]


def synthesise(root: Path, artifacts: int, versions: int, seed: int = 0) -> None:
    """*artifacts* artifacts of *versions* versions each, written through the stores (no catalog)."""
    rng = random.Random(seed)
    Repo.init(root).close()
    with Repo(root) as r:
        r.refs.on_change = None
        for a in range(artifacts):
            name = f"art{a:06d}"
            words = " ".join(rng.sample(WORDS, 6))
            meta = MetadataRecord(name=name, kind="model" if a % 2 else "dataset", description=f"a {words} model",
                                  tags=rng.sample(TAGS, 3), authors=[f"Author {a % 97}"], license="MIT",
                                  task=rng.choice(["classification", "regression", "segmentation"]))
            meta_id = r.records.put_bytes(canonical_bytes(meta.to_dict()))
            parent, ids = None, []
            for v in range(versions):
                oid = f"{rng.getrandbits(256):064x}"
                record = VersionRecord(artifact=name, kind=meta.kind, number=v + 1,
                                       object={"oid": oid, "size": 1, "nfiles": 1}, path=f"data/{name}.bin",
                                       parent=parent, created="2026-12-02T00:00:00Z", metadata=meta_id)
                parent = r.records.put_bytes(canonical_bytes(record.to_dict()))
                ids.append(parent)
            ref = {"name": name, "kind": meta.kind, "path": f"data/{name}.bin", "versions": ids, "tags": {},
                   "metadata": meta_id}
            r.refs.dir.mkdir(parents=True, exist_ok=True)
            (r.refs.dir / f"{name}.json").write_text(json.dumps(ref))


def plain_scan(r: Repo, words: list[str], tags: list[str]) -> list[str]:
    """search as it was before the catalog: every ref and metadata record read and matched."""
    hits = []
    for ref in r.refs.all():
        meta = r.records.get(ref.metadata, MetadataRecord)
        if not set(tags) <= {*ref.tags, *meta.tags}:
            continue
        text = " ".join([ref.name, ref.path, ref.kind, meta.description, *meta.tags, *meta.authors]).lower()
        if all(w in text for w in words):
            hits.append(ref.name)
    return hits


def timed(fn, repeats: int) -> tuple[float, float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return min(times), statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="10,000 versions, 3 repeats")
    args = parser.parse_args()
    artifacts, versions, repeats = (2_000, 5, 3) if args.quick else (20_000, 5, 15)
    work = Path(tempfile.mkdtemp(prefix="hpcfair-bench-catalog-"))
    results: dict[str, object] = {"artifacts": artifacts, "versions": artifacts * versions}
    try:
        root = work / "repo"
        start = time.perf_counter()
        synthesise(root, artifacts, versions)
        results["synthesis_s"] = round(time.perf_counter() - start, 1)
        rebuilds = []
        for _ in range(3 if not args.quick else 1):
            with Repo(root) as r:
                start = time.perf_counter()
                count = r.catalog.rebuild()
                rebuilds.append(time.perf_counter() - start)
        assert count == artifacts, count
        results["rebuild_s"] = {"best": round(min(rebuilds), 2), "median": round(statistics.median(rebuilds), 2)}
        query, tags = "convolutional encoder", ["vision", "physics"]
        with Repo(root) as r:
            expected = sorted(plain_scan(r, query.split(), tags))
            assert sorted(r.catalog.search(query, tags=tags)) == expected, "catalog and scan disagree"
            results["matches"] = len(expected)
            catalog = timed(lambda: r.catalog.search(query, tags=tags), repeats)
            scan = timed(lambda: plain_scan(r, query.split(), tags), max(3, repeats // 5))
            verb = timed(lambda: api.search(query, tags=tags, repo=r, limit=20), repeats)
        results["search_ms"] = {"catalog": catalog, "search verb (20 shown)": verb, "plain scan": scan}
        adds: dict[str, list[float]] = {"with catalog": [], "without catalog": []}
        for i in range(repeats):
            for mode in adds:
                path = root / "new" / f"{mode[:4]}-{i}.bin"
                path.parent.mkdir(exist_ok=True)
                path.write_bytes(os.urandom(1024))
                with Repo(root) as r:
                    if mode == "without catalog":
                        r.refs.on_change = None
                        r.__dict__["catalog"] = type("NoCatalog", (), {
                            "holding": lambda self, oid: [], "by_path": lambda self, path: None,
                            "close": lambda self: None})()
                    start = time.perf_counter()
                    api.add([path], repo=r, convert=False)
                    adds[mode].append((time.perf_counter() - start) * 1000)
                if mode == "without catalog":  # untimed: catch the catalog up, as the next command would
                    with Repo(root) as r:
                        r.catalog.ensure_current()
        results["add_ms"] = {mode: (min(t), statistics.median(t)) for mode, t in adds.items()}
        chain = root / "chain"  # lineage: one artifact of 1,000 revisions, a graph of 1,000 nodes
        synthesise(chain, 1, 1000, seed=1)
        with Repo(chain) as r:
            ref = r.refs.get("art000000")
            nodes = len(api.lineage("art000000", repo=r).nodes)
            assert nodes == 1000, nodes
            walk = timed(lambda: api.lineage("art000000", repo=r), repeats)
            raw = timed(lambda: [json.loads(r.records.path(v).read_bytes()) for v in ref.versions], repeats)
        results["lineage_ms"] = {"lineage (1,000 nodes)": walk, "reading the 1,000 records (json only)": raw}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out = ROOT / "benchmarks" / "results" / ("catalog-quick.json" if args.quick else "catalog.json")
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

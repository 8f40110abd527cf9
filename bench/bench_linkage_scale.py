"""Deduplicate N synthetic early-years records end to end (everyfamily's linkage stage:
prepare, train, predict, cluster, families, stable ids, outputs) on DuckDB.

Prints one JSON line: the pairwise F1 against the planted truth (value), records per second,
the peak RSS of the process, and a deterministic baseline measured in the same
run (exact agreement on first name, surname and date of birth), whose F1 is the baseline.

    .venv/bin/python bench/bench_linkage_scale.py [N]     (default 50,000; --full: 1,000,000)
        [--name-variants | --no-name-variants | --address-history]
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from everyfamily.config import LinkageSettings


def _settings(argv: list[str]) -> LinkageSettings:
    from everyfamily.config import LinkageSettings

    if "--address-history" in argv:  # linkage.address_history (movers), measured on its own
        return LinkageSettings(address_history=True)
    if "--name-variants" in argv:
        return LinkageSettings(name_variants=True)
    if "--no-name-variants" in argv:
        return LinkageSettings(name_variants=False)
    return LinkageSettings()


def main(argv: list[str]) -> int:
    from everyfamily.engines import open_engine
    from everyfamily.linkage.quality import pairwise_quality
    from everyfamily.linkage.stage import link_records
    from everyfamily.linkage.synthetic import build_records

    sizes = [a for a in argv if not a.startswith("--")]
    n = int(float(sizes[0])) if sizes else (1_000_000 if "--full" in argv else 50_000)
    t = time.perf_counter()
    data = build_records(n, seed=20260331)
    gen_seconds = time.perf_counter() - t
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        engine = open_engine("duckdb", path=out / "store.duckdb")
        engine.write_table("records", data.records)
        t = time.perf_counter()
        result = link_records(
            engine,
            # --name-variants / --no-name-variants: issue 21's name comparisons on or off
            # (without either, the setting's default), for a before/after
            _settings(argv),
            key=b"bench-key-0123456789abcdef",
            out_dir=out,
            run="bench",
        )
        seconds = time.perf_counter() - t
        links = engine.query("SELECT source, record_id, person_id FROM links").to_pandas()
        engine.close()
    merged = data.truth.merge(links, on=["source", "record_id"])
    q = pairwise_quality(merged["person_id"], merged["child_id"])
    rec = data.records.select(
        ["source", "record_id", "first_name_match", "last_name_match", "date_of_birth"]
    ).to_pandas()
    key = (
        rec["first_name_match"]
        + "|"
        + rec["last_name_match"]
        + "|"
        + rec["date_of_birth"].astype(str)
    )
    base = data.truth.assign(det=pd.factorize(key)[0])
    qb = pairwise_quality(base["det"], base["child_id"])
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    # the stage times, readable, on stderr (the JSON line on stdout carries them too):
    # train (EM), predict_cluster (blocking, scoring, clustering), stable_ids (the registry)
    stages = ", ".join(f"{k} {v:.1f}" for k, v in result.timings_seconds.items())
    print(f"stage seconds: {stages} (total {seconds:.1f})", file=sys.stderr)
    print(
        json.dumps(
            {
                "bench": "linkage_scale",
                "metric": "pairwise_f1",
                "value": round(q.f1, 5),
                "baseline": round(qb.f1, 5),
                "ratio": round(q.f1 / qb.f1, 4),
                "n_records": result.n_records,
                "seconds": round(seconds, 2),
                "records_per_second": round(result.n_records / seconds),
                "precision": round(q.precision, 5),
                "recall": round(q.recall, 5),
                "pairs_scored": result.n_pairs_scored,
                "peak_rss_gb": round(peak_gb, 2),
                "generate_seconds": round(gen_seconds, 2),
                "stage_seconds": result.timings_seconds,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

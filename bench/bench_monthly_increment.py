"""What a monthly run costs against a full one: the linkage stage at N synthetic records.

Two consecutive monthly runs on one store, as a council runs them:

1. last month: the records less one month's share (``--month-share``, default 1/24: a
   seeded slice of records, so the month holds new sightings of known children and new
   children alike), linked from scratch (the model trained by EM): the *full run*;
2. this month: every record, with last month's run named as the previous run, so its id
   registry carries ids over (stable ids by the SQL rule, linkage/stable_ids.py) and its
   saved model is reused (``linkage.reuse_previous_model``, linkage/id_registry.py): the
   *monthly run*.

Prints one JSON line: both runs' seconds and stage seconds, and the ratio monthly / full
(issue 20's target: at most 0.25 at 1M records). ``--also-full`` links this month's records
from scratch too, in a fresh store, for the like-for-like full run at N.

    .venv/bin/python bench/bench_monthly_increment.py [N] [--month-share 0.0417] [--also-full]
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow as pa

KEY = b"bench-key-0123456789abcdef"


def _in_month(table: pa.Table, share: float) -> list[bool]:
    """A seeded slice of ``share`` of the records (by a hash of source and record id)."""
    cut = int(share * 2**32)
    return [
        int.from_bytes(hashlib.sha256(f"{s}|{r}".encode()).digest()[:4], "big") < cut
        for s, r in zip(
            table.column("source").to_pylist(), table.column("record_id").to_pylist(), strict=True
        )
    ]


def _link(engine: Any, records: pa.Table, out: Path, previous: Path | None) -> dict[str, Any]:
    from everyfamily.config import LinkageSettings
    from everyfamily.linkage.id_registry import reused_model
    from everyfamily.linkage.stage import link_records

    settings, reuse = reused_model(LinkageSettings(), previous)
    engine.write_table("records", records)
    t = time.perf_counter()
    result = link_records(engine, settings, key=KEY, out_dir=out, run=out.name, model_reuse=reuse)
    seconds = time.perf_counter() - t
    # what the pipeline writes to run.json, read by the next run's reused_model
    (out / "run.json").write_text(json.dumps({"linkage": result.to_dict()}), encoding="utf-8")
    return {
        "n_records": result.n_records,
        "seconds": round(seconds, 2),
        "model_reused": bool(reuse.get("reused")),
        "events": result.events,
        "stage_seconds": result.timings_seconds,
    }


def main(argv: list[str]) -> int:
    from everyfamily.engines import open_engine
    from everyfamily.linkage.synthetic import build_records

    share = float(argv[argv.index("--month-share") + 1]) if "--month-share" in argv else 1 / 24
    sizes = [a for a in argv if not a.startswith("--") and a != str(share)]
    n = int(float(sizes[0])) if sizes else 100_000
    records = build_records(n, seed=20260331).records
    month = pa.array(_in_month(records, share))
    before = records.filter(pa.compute.invert(month))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        engine = open_engine("duckdb", path=root / "store.duckdb")
        last = _link(engine, before, root / "last_month", None)
        this = _link(engine, records, root / "this_month", root / "last_month")
        engine.close()
        full = None
        if "--also-full" in argv:
            fresh = open_engine("duckdb", path=root / "fresh.duckdb")
            full = _link(fresh, records, root / "full", None)
            fresh.close()
    print(
        json.dumps(
            {
                "bench": "monthly_increment",
                "metric": "monthly_over_full_seconds",
                "value": round(this["seconds"] / last["seconds"], 3),
                "target": 0.25,
                "n_records": n,
                "month_share": round(share, 4),
                "full_run": last,
                "monthly_run": this,
                "full_run_at_n": full,
                "monthly_over_full_at_n": round(this["seconds"] / full["seconds"], 3)
                if full
                else None,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

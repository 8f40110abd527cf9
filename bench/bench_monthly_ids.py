"""The stable-id registry alone at N records: the pandas rule against the same rule as SQL
in DuckDB (linkage/stable_ids.py), on a first run (every cluster new, every id minted) and
on a monthly run (a registry from last month; a month's share of records new, some
clusters merged or split), with the project's HMAC mint. Checks the two give the same ids
and events, and prints one JSON line of seconds.

    .venv/bin/python bench/bench_monthly_ids.py [N] [--sql-only]     (default 1,000,000)
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from everyfamily.engines import Engine

KEY = b"bench-key-0123456789abcdef"


def _mint(source: str, record_id: str, attempt: int) -> str:
    from everyfamily.privacy.pseudonyms import pseudonym_maker

    parts = ("person", source, record_id) + ((str(attempt),) if attempt else ())
    return _MAKE.setdefault("P", pseudonym_maker(KEY, "P"))(*parts)


_MAKE: dict[str, Callable[..., str]] = {}


def _histories(n: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(this month's clusters, last month's registry): 2.5 records a child; 1/24 of the
    records new this month; 0.5% of last month's children merged into another, 0.5% split."""
    rng = np.random.default_rng(20)
    sources = np.array(["births", "health_visiting", "registrations", "attendances"])
    src = sources[rng.integers(0, 4, n)]
    rid = np.char.add("R", np.arange(n).astype(str))
    child = rng.integers(0, int(n / 2.5), n)
    new = rng.random(n) < 1 / 24
    prev = pd.DataFrame({"source": src[~new], "record_id": rid[~new], "child": child[~new]})
    ids = {c: f"P-{c:012X}" for c in np.unique(prev["child"])}
    prev["id"] = prev["child"].map(ids)
    cluster = child.copy()
    merged = rng.random(n) < 0.005
    cluster[merged] = rng.integers(0, int(n / 2.5), int(merged.sum()))
    split = rng.random(n) < 0.005
    cluster[split] = cluster[split] + 10 * n
    cur = pd.DataFrame({"source": src, "record_id": rid, "cluster": cluster})
    return cur, prev[["source", "record_id", "id"]]


def _run_sql(engine: Engine, cur: pd.DataFrame, prev: pd.DataFrame | None) -> tuple:
    from everyfamily.linkage.stable_ids import resolve_stable_ids_sql

    engine.write_table("cur", pa.Table.from_pandas(cur, preserve_index=False))
    if prev is not None:
        engine.write_table("prev", pa.Table.from_pandas(prev, preserve_index=False))
    t = time.perf_counter()
    res = resolve_stable_ids_sql(
        engine, "cur", "prev" if prev is not None else None, _mint, out="ids"
    )
    seconds = time.perf_counter() - t
    rows = engine.query("SELECT cluster, id FROM ids").to_pandas()
    return dict(zip(rows["cluster"], rows["id"], strict=True)), res.events, seconds, res.rounds


def main(argv: list[str]) -> int:
    from everyfamily.engines import open_engine
    from everyfamily.linkage.stable_ids import resolve_stable_ids

    sizes = [a for a in argv if not a.startswith("--")]
    n = int(float(sizes[0])) if sizes else 1_000_000
    cur, prev = _histories(n)
    out: dict[str, object] = {"bench": "monthly_ids", "n_records": n}
    with tempfile.TemporaryDirectory() as tmp:
        engine = open_engine("duckdb", path=Path(tmp) / "ids.duckdb")
        for case, previous in (("first_run", None), ("monthly_run", prev)):
            empty = pd.DataFrame(
                {c: pd.Series(dtype="string") for c in ("source", "record_id", "id")}
            )
            pandas_s = None
            if "--sql-only" not in argv:  # the pandas rule too, and the two checked equal
                t = time.perf_counter()
                want = resolve_stable_ids(cur, empty if previous is None else previous, _mint)
                pandas_s = round(time.perf_counter() - t, 2)
            ids, events, sql_s, rounds = _run_sql(engine, cur, previous)
            if pandas_s is not None:
                assert ids == want.ids and events == want.events, case
            out[case] = {
                "pandas_seconds": pandas_s,
                "sql_seconds": round(sql_s, 2),
                "rounds": rounds,
                "events": {k: sum(e.kind == k for e in events) for k in ("new", "merge", "split")},
            }
        engine.close()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

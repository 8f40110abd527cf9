"""Comparison with similar places and with other councils (the I/O edge of compare/benchmark).

Run by the trends stage. Reads the store's ``reach_released`` (the reach table after
disclosure control, as in reach.csv) and the project's benchmark file; writes

* ``compare.csv``: every small area, and every area of the larger levels but the borough
  (wards, MSOAs), against areas of similar deprivation and age mix (trends.compare: indirect
  standardisation, Byar / exact Poisson limits at 95% and 99.8%);
* ``benchmark.csv``: each benchmark row with the borough's released rate and Fingertips'
  label (trends.benchmark), when the project names a benchmark file.

Observed counts are the released ones; compare.csv's expected counts use the exact age mix of
each area (trends.compare, Privacy).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.csv as pa_csv

from everyfamily.engines.base import quote_ident
from everyfamily.spreadsheet_safe import neutralise_table
from everyfamily.trends.benchmark import benchmark_table, borough_values, read_benchmark
from everyfamily.trends.compare import BETTER, COMPARE_COLUMNS, WORSE, compare_table

if TYPE_CHECKING:
    import pandas as pd

    from everyfamily.pipeline import RunContext

COMPARE_FILE = "compare.csv"
BENCHMARK_FILE = "benchmark.csv"
#: The columns of benchmark.csv, in order.
BENCHMARK_COLUMNS: tuple[str, ...] = (
    "indicator",
    "indicator_label",
    "geography",
    "period",
    "value",
    "lower",
    "upper",
    "count",
    "denominator",
    "borough_value",
    "borough_lower",
    "borough_upper",
    "compared",
)


def write_comparisons(ctx: RunContext) -> dict[str, Any]:
    """Write compare.csv and benchmark.csv (module docstring); returns run.json's
    ``compare`` block."""
    if not ctx.engine.has_table("reach_released"):
        return {"skipped": "no reach_released table"}
    released = ctx.engine.query(f"SELECT * FROM {quote_ident('reach_released')}").to_pandas()
    small = ctx.project.geography.small_area_level
    exact = (
        ctx.engine.query(f"SELECT * FROM {quote_ident('reach')}").to_pandas()
        if ctx.engine.has_table("reach")
        else None
    )
    membership = (
        ctx.engine.query("SELECT level, area_code, small_area FROM area_membership").to_pandas()
        if ctx.engine.has_table("area_membership")
        else None
    )
    table = compare_table(released, small, exact, membership)
    _write_csv(ctx, table[list(COMPARE_COLUMNS)], COMPARE_FILE)
    smalls = table[table["level"] == small]
    meta: dict[str, Any] = {"file": COMPARE_FILE, "areas": int(smalls["area_code"].nunique())}
    meta["levels"] = sorted(str(v) for v in table["level"].unique())
    for m, rows in smalls.groupby("measure"):
        meta[f"{m}_worse_95"] = int((rows["compared_95"] == WORSE).sum())
        meta[f"{m}_better_95"] = int((rows["compared_95"] == BETTER).sum())
    if len(table):
        meta["strata"] = str(table["strata"].iloc[0])
    bench = ctx.project.trends.benchmark
    if bench is None:
        meta["benchmark"] = None
        return meta
    rows = read_benchmark(bench.path, bench.values)
    out = benchmark_table(rows, borough_values(released))
    _write_csv(ctx, out[list(BENCHMARK_COLUMNS)], BENCHMARK_FILE)
    meta["benchmark"] = {
        "file": BENCHMARK_FILE,
        "rows": len(out),
        "illustrative": bench.illustrative,
        "places": sorted(out["geography"].astype(str).unique().tolist()),
    }
    return meta


def report_lines(meta: dict[str, Any]) -> list[str]:
    """The report's sentences on the comparisons (counts of areas, no counts of children)."""
    if "file" not in meta:
        return []
    lines = [
        f"Against similar places ({meta.get('strata', 'age')}; compare.csv): of "
        f"{meta['areas']} small areas, {meta.get('registered_worse_95', 0)} register fewer "
        f"children and {meta.get('registered_better_95', 0)} more than similar places at 95%; "
        f"{meta.get('engaged_worse_95', 0)} have less sustained engagement and "
        f"{meta.get('engaged_better_95', 0)} more (exact Poisson limits; about 1 in 20 by "
        "chance alone)."
    ]
    bench = meta.get("benchmark")
    if bench:
        note = " ILLUSTRATIVE figures, not published ones." if bench.get("illustrative") else ""
        lines.append(
            f"Against {', '.join(bench['places'])}: benchmark.csv and the Compare page." + note
        )
    else:
        lines.append("No benchmark file (trends.benchmark): no comparison with other councils.")
    return lines


def _write_csv(ctx: RunContext, frame: pd.DataFrame, name: str) -> None:
    ctx.out_dir.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False)
    pa_csv.write_csv(neutralise_table(table), ctx.out_dir / name)

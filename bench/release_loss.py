"""Information loss of the two release methods on a finished run (docs/privacy.md).

Usage: .venv/bin/python bench/release_loss.py OUT_DIR

Reads the exact reach table, the area membership and the cell keys from the run's analysis
store (``everyfamily.stores.open_run_stores``), releases the table both ways with
``privacy.release.release_reach`` and prints, per protected count: cells withheld, mean
absolute change of the cells shown, and how many cells show 1-7; then the reach findings
(findings.stage.run_findings on the exact table, numbers from each released table) and how
many of them read "not released" or show no children affected. Prints only aggregates.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from everyfamily.privacy.release import PROTECTED_COUNTS, ReleaseRules, release_reach
from everyfamily.stores import open_run_stores, run_privacy


def main(out_dir: Path) -> None:
    privacy = run_privacy(out_dir)
    engine = open_run_stores(out_dir)
    try:
        reach = engine.query("SELECT * FROM reach").to_pandas()
        membership = engine.query("SELECT * FROM area_membership").to_pandas()
        keys = engine.query("SELECT * FROM reach_cell_keys").to_pandas()
    finally:
        engine.close()
    t = privacy.suppress_at_or_below
    run = json.loads((out_dir / "run.json").read_text(encoding="utf-8"))
    small_level = str(run["settings"]["geography"]["small_area_level"])
    print(f"cells per count: {len(reach)}")
    print("| method | count | withheld | mean abs change (shown) | max abs change | shown 1-7 |")
    print("|---|---|---|---|---|---|")
    for method in ("suppress_round", "cell_key"):
        rules = ReleaseRules(t, privacy.rounding, method)  # type: ignore[arg-type]
        out = release_reach(reach, membership, rules, cell_keys=keys)
        for c in PROTECTED_COUNTS:
            exact = reach[c].astype("float64").to_numpy()
            shown = out[c].astype("float64").to_numpy()
            ok = np.isfinite(shown)
            diff = np.abs(shown[ok] - exact[ok])
            small = int(((shown >= 1) & (shown <= t)).sum())
            print(
                f"| {method} | {c} | {int((~ok).sum())} | {diff.mean():.2f} | "
                f"{diff.max():.0f} | {small} |"
            )
        _findings_loss(method, reach, out, t, privacy.rounding, small_level)


def _findings_loss(
    method: str, reach: pd.DataFrame, released: pd.DataFrame, t: int, rounding: str, level: str
) -> None:
    """Reach findings (areas, groups, sites, unknown population) with numbers from this
    released table: how many withhold a number in the headline or children affected."""
    from everyfamily.findings.model import FindingsSettings
    from everyfamily.findings.stage import run_findings, withheld_cells
    from everyfamily.findings.text import ReleasedTable

    settings = FindingsSettings(
        small_area_level=level,
        suppress_at_or_below=t,
        rounding=rounding,  # type: ignore[arg-type]
        withheld=withheld_cells(released),
        released_table=ReleasedTable.from_frame(released),
    )
    _f, doc = run_findings(reach, settings=settings, generated_at="bench")
    found = doc["findings"]
    not_released = sum("not released" in f["headline"] for f in found)
    no_affected = sum(f["children_affected"] is None for f in found)
    print(
        f"findings ({method}): {len(found)} reach findings, {not_released} with 'not "
        f"released' in the headline, {no_affected} without children affected"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]))

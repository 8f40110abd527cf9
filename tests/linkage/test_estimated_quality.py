"""Model-based linkage quality (no truth): hand-computed sums and a planted weak group."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from everyfamily.linkage.estimated_quality import (
    MIN_GROUP_PAIRS,
    QUALITY_COLUMNS,
    QUALITY_FILE,
    QUALITY_TABLE,
    derive_dimensions,
    estimate_by_group,
    expected_quality,
    moved_flag,
    published_rows,
)
from everyfamily.linkage.nicknames import fold
from everyfamily.linkage.quality import evaluate_against_truth

from .helpers import population, run_link


def test_expected_counts_by_hand() -> None:
    # threshold 0.9: accepted 0.99 and 0.95; below: 0.5, 0.1, 0.02
    q = expected_quality(np.array([0.99, 0.95, 0.5, 0.1, 0.02]), 0.9)
    assert (q.n_pairs, q.n_accepted) == (5, 2)
    assert q.true_positives == pytest.approx(1.94)
    assert q.false_positives == pytest.approx(0.06)
    assert q.false_negatives == pytest.approx(0.62)
    assert q.precision == pytest.approx(1.94 / 2.0)
    assert q.recall == pytest.approx(1.94 / 2.56)
    empty = expected_quality(np.array([]), 0.9)
    assert empty.precision == 1.0 and empty.recall == 1.0  # nothing to get wrong


def test_variances_of_the_expected_counts_by_hand() -> None:
    # each pair a true link with probability p: Var = sum p(1 - p) on each side of 0.9
    q = expected_quality(np.array([0.99, 0.95, 0.5, 0.1, 0.02]), 0.9)
    assert q.true_positives_variance == pytest.approx(0.0099 + 0.0475)
    assert q.false_negatives_variance == pytest.approx(0.25 + 0.09 + 0.0196)
    # delta method on TP / (TP + FN): (FN^2 Var TP + TP^2 Var FN) / (TP + FN)^4
    expected = (0.62**2 * 0.0574 + 1.94**2 * 0.3596) / 2.56**4
    assert q.recall_variance == pytest.approx(expected)


def _tiny() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Four identities: 1 and 2 speak Polish (2 also English on another row), 3 English,
    4 records no language. Five scored pairs."""
    pairs = pd.DataFrame(
        {
            "unique_id_l": [1, 1, 2, 3, 1],
            "unique_id_r": [2, 3, 3, 4, 4],
            "match_probability": [0.98, 0.6, 0.92, 0.3, 0.0005],
            "moved": ["no", "yes", "yes", "unknown", "no"],
        }
    )
    values = pd.DataFrame(
        {
            "identity_id": [1, 2, 2, 3, 4],
            "dimension": ["main_language"] * 5,
            "group_value": ["Polish", "Polish", "English", "English", "unknown"],
        }
    )
    return pairs, values


def test_groups_take_pairs_either_record_carries() -> None:
    pairs, values = _tiny()
    table = estimate_by_group(pairs, values, threshold=0.9, floor=0.001, min_pairs=1)
    t = {(str(r["dimension"]), str(r["group_value"])): r for r in table.to_dict("records")}
    # the 0.0005 pair is below the floor: ignored everywhere
    assert t["all", "all"]["n_pairs"] == 4
    assert t["all", "all"]["true_positives"] == pytest.approx(0.98 + 0.92)
    assert t["all", "all"]["false_negatives"] == pytest.approx(0.6 + 0.3)
    # Polish: pairs (1,2) (1,3) (2,3), each counted once though (1,2) has Polish twice
    pl = t["main_language", "Polish"]
    assert pl["n_pairs"] == 3 and pl["n_accepted"] == 2
    assert pl["true_positives"] == pytest.approx(1.90)
    assert pl["false_positives"] == pytest.approx(0.10)
    assert pl["false_negatives"] == pytest.approx(0.6)
    assert pl["recall"] == pytest.approx(1.90 / 2.50)
    assert pl["precision"] == pytest.approx(1.90 / 2.0)
    assert pl["true_links"] == pytest.approx(2.50) and pl["predicted_links"] == 2.0
    # English: (1,2) via identity 2, (1,3), (2,3), (3,4)
    en = t["main_language", "English"]
    assert en["n_pairs"] == 4
    assert en["false_negatives"] == pytest.approx(0.9)
    # unknown only when neither record carries a value: (3,4) has English, so no pair
    assert ("main_language", "unknown") not in t
    # moved: a pair-level label
    assert t["moved", "yes"]["n_pairs"] == 2
    assert t["moved", "yes"]["recall"] == pytest.approx(0.92 / 1.52)
    assert t["moved", "unknown"]["recall"] == 0.0
    assert set(table["method"]) == {"model_estimate"}


def test_small_groups_are_suppressed_and_left_out_of_the_file() -> None:
    pairs, values = _tiny()
    t = estimate_by_group(pairs, values, threshold=0.9, floor=0.001, min_pairs=4)
    assert list(t.columns) == list(QUALITY_COLUMNS)
    assert list(t["dimension"][:1]) == ["all"]
    small = t[t["n_pairs"] < 4]
    assert len(small) and small["suppressed"].all()
    assert small["recall"].isna().all() and small["precision"].isna().all()
    out = published_rows(t)
    assert (out["n_pairs"] >= 4).all() and "suppressed" not in out.columns
    assert {"dimension", "group_value", "recall", "precision", "true_links"} <= set(out.columns)


def test_moved_flag_and_derived_dimensions() -> None:
    flag = moved_flag(
        pd.Series(["L36 9AA", "L36 9AA", None]), pd.Series(["L36 9AA", "L1 1AA", "L1 1AA"])
    )
    assert list(flag) == ["no", "yes", "unknown"]
    values = pd.DataFrame(
        {
            "identity_id": [1, 1, 2],
            "dimension": ["ethnicity", "mother_country_of_birth", "ethnicity"],
            "group_value": ["white_other", "Poland", "not_a_code"],
        }
    )
    d = derive_dimensions(values)
    got = set(map(tuple, d[["identity_id", "dimension", "group_value"]].to_numpy().tolist()))
    assert (1, "ethnicity_broad", "white") in got
    assert (2, "ethnicity_broad", "unknown") in got
    assert (1, "mother_region_of_birth", "eu8") in got


# --- planted: one language group's records degraded -------------------------------------------

LANGUAGE = {"british": "English", "south_asian": "Punjabi", "eastern_european": "Romanian"}


def _degrade(records: pa.Table, truth: pd.DataFrame, children: pd.DataFrame) -> pa.Table:
    """Give every record a main language by the family's origin, then degrade the Romanian
    speakers' records: no NHS number, and half get a typo in the given name and half a date
    of birth a day out (errors the model scores as weaker evidence, blocking still admits)."""
    from everyfamily.linkage.synthetic import _typo

    df = records.to_pandas()
    origin = truth.merge(children[["child_id", "origin"]], on="child_id")
    df = df.merge(origin[["source", "record_id", "origin"]], on=["source", "record_id"])
    df["main_language"] = df["origin"].map(LANGUAGE)
    rng = np.random.default_rng(5)
    for i in np.flatnonzero((df["origin"] == "eastern_european").to_numpy()):
        if rng.random() < 0.5:
            df.at[i, "first_name"] = _typo(rng, df.at[i, "first_name"])
            df.at[i, "first_name_match"] = fold(df.at[i, "first_name"])
        if rng.random() < 0.5:
            d = df.at[i, "date_of_birth"]
            df.at[i, "date_of_birth"] = d.replace(day=d.day + 1 if d.day < 28 else d.day - 1)
        df.at[i, "nhs_number"] = None
        df.at[i, "nhs_number_valid"] = None
    return pa.Table.from_pandas(
        df[records.column_names], schema=records.schema, preserve_index=False
    )


@pytest.fixture(scope="module")
def degraded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    data = population(3000, seed=11)
    records = _degrade(data.records, data.truth, data.children)
    out: Path = tmp_path_factory.mktemp("degraded")
    eng, _result, links = run_link(records, out)
    table = eng.query(f"SELECT * FROM {QUALITY_TABLE}").to_pandas()
    eng.close()
    groups = data.children.assign(main_language=data.children["origin"].map(LANGUAGE))
    truth = evaluate_against_truth(links, data.truth, groups[["child_id", "main_language"]])
    return {"table": table, "truth": truth, "out": out}


def test_degraded_group_has_lower_estimated_recall(degraded: dict[str, Any]) -> None:
    table = degraded["table"]
    lang = {
        str(r["group_value"]): r
        for r in table[table["dimension"] == "main_language"].to_dict("records")
    }
    assert set(lang) == {"English", "Punjabi", "Romanian"}
    rest = sum(lang[g]["true_positives"] for g in ("English", "Punjabi")) / sum(
        lang[g]["true_links"] for g in ("English", "Punjabi")
    )
    # planted: the truth says Romanian speakers link worse ...
    true_recall = {g.group: g.pairwise.recall for g in degraded["truth"].by_group}
    assert true_recall["Romanian"] < min(true_recall["English"], true_recall["Punjabi"]) - 0.03
    # ... and the estimate, which never saw the truth, says so too
    assert lang["Romanian"]["recall"] < rest - 0.01
    # expected missed links per true link: several times the English speakers' rate (the
    # counts themselves depend on the groups' sizes: English speakers are 8 in 10)
    rate = {g: lang[g]["false_negatives"] / lang[g]["true_links"] for g in lang}
    assert rate["Romanian"] > 4 * rate["English"]
    # the estimate sees less of the drop than there is (blocked-out pairs are invisible)
    assert lang["Romanian"]["recall"] > true_recall["Romanian"]


def test_quality_file_is_aggregate_and_drops_small_groups(degraded: dict[str, Any]) -> None:
    frame = pd.read_csv(degraded["out"] / "linkage" / QUALITY_FILE)
    assert (frame["n_pairs"] >= MIN_GROUP_PAIRS).all()
    assert frame.iloc[0][["dimension", "group_value"]].tolist() == ["all", "all"]
    # only categories: the synthetic records carry a language and a sex, nothing else
    assert set(frame["dimension"]) == {"all", "main_language", "sex", "moved"}
    assert set(frame["group_value"]) <= {
        "all",
        "English",
        "Punjabi",
        "Romanian",
        "female",
        "male",
        "unknown",
        "yes",
        "no",
    }

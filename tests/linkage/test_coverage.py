"""Pairs blocking never compared, by group (linkage/coverage.py), without truth."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

from everyfamily.linkage.coverage import COVERAGE_FILE, coverage_by_group

from .helpers import population, record, run_link, table


def test_coverage_by_group_by_hand() -> None:
    # two unblocked pairs: (1,2) p=0.9 carries Romanian, (3,4) p=0.5 carries English
    unblocked = pd.DataFrame(
        {"unique_id_l": [1, 3], "unique_id_r": [2, 4], "match_probability": [0.9, 0.5]}
    )
    values = pd.DataFrame(
        {
            "identity_id": [1, 2, 3, 4],
            "dimension": ["main_language"] * 4,
            "group_value": ["Romanian", "unknown", "English", "English"],
        }
    )
    estimate = pd.DataFrame(
        {
            "dimension": ["all", "main_language", "main_language"],
            "group_value": ["all", "English", "Romanian"],
            "n_pairs": [100, 80, 20],
            "true_positives": [50.0, 40.0, 10.0],
            "false_negatives": [2.0, 1.0, 1.0],
            "recall": [50 / 52, 40 / 41, 10 / 11],
        }
    )
    out = coverage_by_group(unblocked, values, estimate).set_index("group_value")
    assert out.loc["all", "unblocked_pairs"] == 2
    assert out.loc["all", "unblocked_expected_links"] == pytest.approx(1.4)
    assert out.loc["Romanian", "unblocked_expected_links"] == pytest.approx(0.9)
    assert out.loc["Romanian", "recall_with_unblocked"] == pytest.approx(10 / 11.9)
    assert out.loc["English", "recall_with_unblocked"] == pytest.approx(40 / 41.5)


def _hidden_pairs(n: int) -> list[dict[str, Any]]:
    """Pairs of one child that no prediction rule admits (no NHS number on one side, the
    given name and surname recorded differently, a new postcode) but that share the date of
    birth and the parent: what blocking misses and the probe must find. Romanian speakers."""
    rows = []
    for i in range(n):
        dob = (dt.date(2018, 2, 1) + dt.timedelta(days=5 * i)).isoformat()
        a = record("births", f"HB{i}", "Ionela", f"Petrescu{chr(65 + i)}", dob,
                   postcode="L36 1AA", parent_first="Marioara", parent_last="Dobre")  # fmt: skip
        b = record("registrations", f"HR{i}", "Ionesa", f"Dobre{chr(65 + i)}", dob,
                   postcode="L35 2BB", parent_first="Marioara", parent_last="Dobre")  # fmt: skip
        for r in (a, b):
            r["main_language"] = "Romanian"
        rows += [a, b]
    return rows


@pytest.mark.slow
def test_unblocked_pairs_are_reported_for_the_group_they_hide_in(tmp_path: Path) -> None:
    data = population(2000, seed=31)
    recs = data.records.to_pandas()
    recs["main_language"] = "English"
    base = pa.Table.from_pandas(recs, schema=data.records.schema, preserve_index=False)
    records = pa.concat_tables([base, table(_hidden_pairs(20), base)])
    eng, result, _links = run_link(records, tmp_path)
    eng.close()
    cov = pd.read_csv(tmp_path / "linkage" / COVERAGE_FILE)
    lang = cov[cov["dimension"] == "main_language"].set_index("group_value")
    # the 20 planted pairs are found by the probe and counted against Romanian speakers
    assert lang.loc["Romanian", "unblocked_pairs"] >= 20
    # blocking compared none of them: the estimate on scored pairs has nothing to say about
    # the group (no scored pair), counting the unblocked pairs it has recall near 0
    assert pd.isna(lang.loc["Romanian", "recall"])
    assert lang.loc["Romanian", "recall_with_unblocked"] < 0.2
    assert lang.loc["English", "recall_with_unblocked"] > 0.98
    assert result.blocking_coverage["unblocked_pairs"] >= 20
    # aggregate only: no name reaches the file
    text = (tmp_path / "linkage" / COVERAGE_FILE).read_text(encoding="utf-8").upper()
    assert "PETRESCU" not in text and "DOBRE" not in text

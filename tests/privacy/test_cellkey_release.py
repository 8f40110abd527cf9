"""The reach table released by the cell key method (privacy.release, release_method=cell_key):
planted children, hand-checkable facts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from everyfamily.privacy.cellkey import record_keys
from everyfamily.privacy.release import PROTECTED_COUNTS, ReleaseRules, release_reach

from . import truth

RULES = ReleaseRules(7, "midpoint6", "cell_key")
#: S3 holds exactly the children of L1: the same cells, so the same released values
HIER = pd.concat(
    [truth.HIERARCHY, pd.DataFrame([("reach_area", "S3", "L1")], columns=truth.HIERARCHY.columns)],
    ignore_index=True,
)
FLAG = {"known": "known", "registered": "reg_{s}", "engaged": "eng_{s}"}


def _cell_keys(kids: pd.DataFrame) -> pd.DataFrame:
    """Cell keys computed the slow, obvious way: sum of the counted children's keys mod N."""
    kids = kids.assign(rk=record_keys([f"c{i}" for i in range(len(kids))], b"test"))
    rows = []
    for dim in ("all", "ethnicity_broad", "ethnicity"):
        g = kids.assign(dimension=dim, group_value="all" if dim == "all" else kids[dim])
        for key, cell in g.merge(HIER, on="small_area").groupby(
            ["level", "area_code", "dimension", "group_value"]
        ):
            for s in truth.SERVICES:
                row = dict(
                    zip(["level", "area_code", "dimension", "group_value"], key, strict=True)
                )
                row["service"] = s
                row["ck_denominator"] = int(cell["rk"].sum()) % 4096
                for c, col in FLAG.items():
                    row[f"ck_{c}"] = int(cell.loc[cell[col.format(s=s)], "rk"].sum()) % 4096
                rows.append(row)
    return pd.DataFrame(rows)


def _exact(kids: pd.DataFrame) -> pd.DataFrame:
    # truth.exact_reach over the extended hierarchy
    saved = truth.HIERARCHY
    try:
        truth.HIERARCHY = HIER
        return truth.exact_reach(kids)
    finally:
        truth.HIERARCHY = saved


def test_cell_key_release_properties() -> None:
    kids = truth.children()
    exact = _exact(kids)
    released = release_reach(exact, HIER, RULES, cell_keys=_cell_keys(kids))
    m = exact.merge(released, on=["level", "area_code", "dimension", "group_value", "service"])
    for c in PROTECTED_COUNTS:
        shown = m[f"{c}_y"].astype("float64").to_numpy()
        true = m[f"{c}_x"].astype("float64").to_numpy()
        assert not np.isnan(shown).any()  # nothing withheld
        assert not ((shown >= 1) & (shown <= 7)).any()  # counts of 1-7 never appear
        assert (shown[true == 0] == 0).all()  # zeros preserved
        big = true >= 8
        assert (np.abs(shown[big] - true[big]) <= RULES.max_error).all()
        small = (true >= 1) & (true <= 7)
        assert set(np.unique(shown[small])) <= {0.0, 8.0}
    # some cells really are perturbed (the test can fail if perturbation is off)
    assert (m["denominator_x"] != m["denominator_y"]).any()
    # the same children give the same released values: S3 == L1 on every row
    cols = [*PROTECTED_COUNTS, "registered_rate", "engaged_rate"]
    s3 = released.loc[released["area_code"] == "S3", cols]
    l1 = released.loc[released["area_code"] == "L1", cols]
    pd.testing.assert_frame_equal(s3.reset_index(drop=True), l1.reset_index(drop=True))


def test_two_releases_and_re_release_agree() -> None:
    kids = truth.children()
    exact = _exact(kids)
    keys = _cell_keys(kids)
    first = release_reach(exact, HIER, RULES, cell_keys=keys)
    # a second release of a subset (one ward's rows) gives the very same values
    sub = exact[exact["area_code"].isin(["W1", "L1", "L2"])]
    second = release_reach(sub, HIER, RULES, cell_keys=keys)
    on = ["level", "area_code", "dimension", "group_value", "service"]
    both = second.merge(first, on=on, suffixes=("_2", "_1"))
    assert len(both) == len(sub)
    for c in PROTECTED_COUNTS:
        assert (both[f"{c}_2"] == both[f"{c}_1"]).all()
    # releasing the released table (the dashboard reading reach.csv) changes nothing
    again = release_reach(first, HIER, RULES)
    for c in PROTECTED_COUNTS:
        assert (again[c] == first[c]).all()


def test_max_error_of_each_method() -> None:
    assert ReleaseRules(7, "midpoint6", "cell_key").max_error == 3
    assert ReleaseRules(7, "midpoint6", "suppress_round").max_error == 3
    assert ReleaseRules(7, "nearest5", "suppress_round").max_error == 2
    assert ReleaseRules(7, "none", "suppress_round").max_error == 0
    assert ReleaseRules().max_error == 3  # the default: cell key, max perturbation 3


def test_release_method_setting_reaches_both_release_paths() -> None:
    from everyfamily.config import PrivacySettings

    assert ReleaseRules.from_settings({"release_method": "cell_key"}).method == "cell_key"
    # the default (issue 15): cell key; suppression and rounding stay a setting
    assert ReleaseRules.from_settings(PrivacySettings()).method == "cell_key"
    assert ReleaseRules.from_settings(None).method == "cell_key"
    assert ReleaseRules.from_run({"release_method": "cell_key"}).method == "cell_key"
    # a run folder whose run.json predates the setting was released by suppression
    assert ReleaseRules.from_run({}).method == "suppress_round"
    assert ReleaseRules.from_settings({"release_method": "suppress_round"}).method == (
        "suppress_round"
    )
    assert ReleaseRules.from_run({"release_method": "suppress_round"}).method == ("suppress_round")
    with pytest.raises(ValueError, match="release method"):
        ReleaseRules.from_settings({"release_method": "noise"})


def test_the_attacker_pins_no_small_count_under_cell_key() -> None:
    """Integer programming over every relation of the released table (attack.py, with the
    ptable's bounds for each shown count) pins no count of 1-7 to its true value."""
    from .attack import Attack, add_release

    kids = truth.children()
    exact = _exact(kids).reset_index(drop=True)
    released = release_reach(exact, HIER, RULES, cell_keys=_cell_keys(kids))
    attack = Attack(0, [], [], [], [], [])
    var = add_release(attack, released, HIER, "cell_key", 7)
    small = [
        (i, c)
        for c in PROTECTED_COUNTS
        for i in np.flatnonzero((exact[c] >= 1) & (exact[c] <= 7))
        if exact.loc[i, "service"] == "any" and exact.loc[i, "dimension"] != "ethnicity"
    ]
    assert len(small) >= 10  # the planted data has small cells to attack
    pinned = [(i, c) for i, c in small if attack.pinned(var[(i, c)], float(exact.loc[i, c]))]
    assert pinned == []

"""Every withheld count of the released reach table says why, on its row
(``withheld_reason``): hand-made tables whose reasons can be worked out on paper."""

from __future__ import annotations

import pandas as pd

from everyfamily.privacy.release import (
    PROTECTED_COUNTS,
    WITHHELD_REASON_COLUMN,
    WITHHELD_REASONS,
    ReleaseRules,
    release_reach,
    suppressed_cells,
)

from . import truth

SUPPRESS = ReleaseRules(7, "midpoint6", "suppress_round")
CELL_KEY = ReleaseRules(7, "midpoint6", "cell_key")


def _table() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Borough B = L1 + L2 + L3. L1: 20 children, 17 known (3 not known in a group of 20:
    the complement rule), 5 engaged (small). L2 goes as the secondary cell for known (else
    B - L2 - L3 = L1) and for engaged; L3 and B are released."""
    table = pd.DataFrame(
        {
            "level": ["borough", "lsoa", "lsoa", "lsoa"],
            "area_code": ["B", "L1", "L2", "L3"],
            "area_name": ["B", "L1", "L2", "L3"],
            "dimension": "all",
            "group_value": "all",
            "service": "any",
            "ons_population": float("nan"),
            "denominator": [150, 20, 60, 70],
            "known": [138, 17, 57, 64],
            "registered": [80, 10, 30, 40],
            "engaged": [40, 5, 15, 20],
        }
    )
    hierarchy = pd.DataFrame(
        {"level": "borough", "area_code": "B", "small_area": ["L1", "L2", "L3"]}
    )
    return table, hierarchy


def test_each_withheld_count_has_its_reason() -> None:
    table, hierarchy = _table()
    out = release_reach(table, hierarchy, SUPPRESS).set_index("area_code")
    reason = out[WITHHELD_REASON_COLUMN]
    assert reason["L1"] == "known: complement; engaged: small"
    assert reason["L2"] == "known: secondary; engaged: secondary"
    assert reason["L3"] == "" and reason["B"] == ""
    # one reason per withheld count, and none for a released one
    for code, row in out.iterrows():
        named = {part.split(": ")[0] for part in row[WITHHELD_REASON_COLUMN].split("; ") if part}
        assert named == {c for c in PROTECTED_COUNTS if pd.isna(row[c])}, code


def test_an_earlier_release_is_the_reason_under_either_method() -> None:
    table, hierarchy = _table()
    first = release_reach(table, hierarchy, SUPPRESS)
    registry = suppressed_cells(first)
    again = release_reach(table, hierarchy, SUPPRESS, previously_suppressed=registry)
    assert again.set_index("area_code").loc["L1", WITHHELD_REASON_COLUMN] == (
        "known: earlier_release; engaged: earlier_release"
    )
    ck = release_reach(table, hierarchy, CELL_KEY, previously_suppressed=registry)
    ck = ck.set_index("area_code")
    assert ck.loc["L1", WITHHELD_REASON_COLUMN] == (
        "known: earlier_release; engaged: earlier_release"
    )
    assert ck.loc["L3", WITHHELD_REASON_COLUMN] == ""


def test_the_cell_key_method_withholds_nothing_and_says_so() -> None:
    from .test_cellkey_release import HIER, _cell_keys, _exact

    kids = truth.children()
    released = release_reach(_exact(kids), HIER, CELL_KEY, cell_keys=_cell_keys(kids))
    assert (released[WITHHELD_REASON_COLUMN] == "").all()
    assert set(WITHHELD_REASONS) >= {"small", "complement", "secondary", "earlier_release"}


def test_an_exact_table_without_cell_keys_is_never_shown_as_it_is() -> None:
    """An older store holds the exact table and no cell keys: the cell key method cannot
    perturb it, so it is suppressed and rounded (the same result as suppress_round), not
    passed through as if released."""
    table, hierarchy = _table()
    ck = release_reach(table, hierarchy, CELL_KEY)
    sr = release_reach(table, hierarchy, SUPPRESS)
    pd.testing.assert_frame_equal(ck, sr)
    assert ck.set_index("area_code").loc["L3", "known"] == 63  # 64 rounded, not 64


def test_the_report_names_each_withheld_area_and_why() -> None:
    from everyfamily.report.build import ReportInputs, _withheld

    table, hierarchy = _table()
    released = release_reach(table, hierarchy, SUPPRESS)
    inputs = ReportInputs(reach=released, findings={}, title="t", reference_date="2024-03-31")
    got = {w["area"]: w["reason"] for w in _withheld(inputs)}
    assert got == {
        "L1": f"known: {WITHHELD_REASONS['complement']}; engaged: {WITHHELD_REASONS['small']}",
        "L2": f"known: {WITHHELD_REASONS['secondary']}; engaged: {WITHHELD_REASONS['secondary']}",
    }

"""Every number an access_barrier finding and the access outputs show is disclosure-controlled:
counts released by the reach rules (suppress 7 or fewer, the complement rule, midpoint-6
rounding) and every rate, interval and gap computed from the released counts. Hand-computed
with the project defaults.

Midpoint 6: n -> 6 * ceil(n / 6) - 3, so 255 -> 255, 93 -> 93, 199 -> 201, 40 -> 39,
162 -> 159, 102 -> 99, 153 -> 153.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pyproj import Transformer
from shapely.geometry import LineString

from everyfamily.access import barriers as br
from everyfamily.access.report import band_row
from everyfamily.access.stage import band_table, released_areas
from everyfamily.findings import stats
from everyfamily.findings.engine import p_bound, to_public
from everyfamily.findings.model import FindingsSettings
from everyfamily.privacy.disclosure import released_text
from findings.json_pairs import json_pairs

DEFAULTS = FindingsSettings()  # suppress 7 or fewer, midpoint 6
TO_WGS84 = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True).transform
M57 = br.Barrier(
    barrier_id="M57",
    name="M57",
    kind="motorway",
    geometry=LineString([(345000, 390000), (345000, 396000)]),
    length_m=6000.0,
    crossings=((345000.0, 391000.0), (345000.0, 395000.0)),
)


def side_test(x_cut: int, n_cut: int, x_other: int = 199, n_other: int = 255) -> br.SideTest:
    return br.SideTest(
        barrier=M57,
        cut_off=("E01000002", "E01000001"),
        other=("E01000003",),
        n_cut=n_cut,
        x_cut=x_cut,
        n_other=n_other,
        x_other=x_other,
        expected_cut=0.4,
        expected_other=0.6,
        walk_cut_m=2200.0,
        walk_other_m=800.0,
        detour_cut=1.8,
        detour_other=1.2,
        direction="south-west",
        z=-9.87654,
        p=1.234e-6,
        q=2.345e-5,
    )


def finding(t: br.SideTest, settings: FindingsSettings = DEFAULTS) -> Any:
    (f,) = br.make_findings(
        [t],
        settings=settings,
        area_labels={},
        place_names={"E01000001": "Cherryfield", "E01000002": "Cherryfield"},
        to_wgs84=TO_WGS84,
        approximate_note=None,
        speed_kmh=4.8,
    )
    return f


def test_barrier_finding_shows_released_counts_and_rates_of_them() -> None:
    f = finding(side_test(93, 255))
    # cut off: 93 -> 93 of 255 -> 255: 36%; other side: 199 -> 201 of 255: 79% (exact 78%)
    assert f.headline == (
        "Families south-west of the M57 in Cherryfield walk 2.2 km to their nearest centre; "
        "36% of 255 under-fives are registered, against 79% north-east of it"
    )
    assert f.observed == pytest.approx(93 / 255) and f.expected == pytest.approx(201 / 255)
    assert f.interval == pytest.approx(stats.wilson_interval(93, 255))
    cut, other = f.evidence["cut_off_side"], f.evidence["other_side"]
    assert (cut["children"], cut["registered"]) == (255, 93)
    assert (other["children"], other["registered"]) == (255, 201)
    assert other["rate"] == pytest.approx(round(201 / 255, 6))
    assert other["interval"] == pytest.approx(
        [round(v, 6) for v in stats.wilson_interval(201, 255)]
    )
    # expected registrations from composition: 0.4 x 255 = 102 -> 99; 0.6 x 255 = 153 -> 153
    assert cut["expected_rate_from_composition"] == pytest.approx(round(99 / 255, 6))
    assert other["expected_rate_from_composition"] == pytest.approx(round(153 / 255, 6))
    ev = f.evidence
    assert ev["gap"] == pytest.approx(round(108 / 255, 6))  # (201 - 93) / 255
    assert ev["gap_explained_by_composition"] == pytest.approx(round(54 / 255, 6), abs=1e-6)
    assert ev["unexplained_gap"] == pytest.approx(54 / 255, abs=1e-5)

    doc = to_public(f, DEFAULTS)
    json.dumps(doc, allow_nan=False)
    assert doc["children_affected"] == 159  # 255 - 93 = 162 -> 159
    assert doc["evidence"]["other_side"]["registered"] == 201
    assert doc["evidence"]["p_value"] == p_bound(1.234e-6) == 2e-6
    assert doc["evidence"]["q_value"] == p_bound(2.345e-5) == 3e-5
    pairs = json_pairs(doc)
    assert "z" not in {k for k, _v in pairs}
    # the exact counts and rates of the other side appear nowhere
    exact = {199, round(199 / 255, 6), round((199 - 93) / 255, 6)}
    assert all(v not in exact for _k, v in pairs if isinstance(v, int | float))


def test_barrier_finding_with_a_small_count_shows_no_rate_for_it() -> None:
    f = finding(side_test(5, 40))
    # 5 of 40: suppressed (fewer than 8), 40 -> 39; its rate is not released
    assert f.headline == (
        "Families south-west of the M57 in Cherryfield walk 2.2 km to their nearest centre; "
        "fewer than 8 of 39 under-fives are registered (rate not released), "
        "against 79% north-east of it"
    )
    assert math.isnan(f.observed) and all(math.isnan(v) for v in f.interval)
    doc = to_public(f, DEFAULTS)
    json.dumps(doc, allow_nan=False)
    cut = doc["evidence"]["cut_off_side"]
    assert cut["registered"] is None and cut["rate"] is None and cut["interval"] == [None, None]
    assert doc["evidence"]["gap"] is None and doc["evidence"]["unexplained_gap"] is None
    small = (5, 5 / 40, round(5 / 40, 6))
    assert all(v not in small for _k, v in json_pairs(doc) if isinstance(v, int | float))


def test_barrier_side_withheld_where_the_reach_release_suppresses_an_area() -> None:
    """reach.csv suppressed one cut-off area's registered count (say, as a secondary cell):
    the side's sum, shown next to the other areas' released counts, would give it back."""
    cell = ("lsoa", "E01000001", "all", "all", "any", "registered")
    settings = FindingsSettings(withheld=frozenset({cell}))
    f = finding(side_test(93, 255), settings)
    assert "a number not released of 255 under-fives are registered (rate not released)" in (
        f.headline
    )
    assert f.evidence["cut_off_side"]["registered"] is None


def test_a_large_withheld_side_shows_only_a_coarse_rate() -> None:
    """The other side (3,201 children, 2,630 registered: 82.2%) holds an area whose count
    reach.csv suppressed: its count stays withheld, but a 5% step hides +-80 children, far
    more than any suppressed count, so 'about 80%' may be shown."""
    cell = ("lsoa", "E01000003", "all", "all", "any", "registered")
    settings = FindingsSettings(withheld=frozenset({cell}))
    f = finding(side_test(93, 255, x_other=2630, n_other=3201), settings)
    assert f.headline.endswith(
        "36% of 255 under-fives are registered, against about 80% north-east of it"
    )
    other = f.evidence["other_side"]
    assert other["registered"] is None and other["children"] == 3201
    assert other["rate"] == pytest.approx(0.80) and other["rate_approximate"] is True
    assert other["interval"] == [None, None]
    # a withheld side of 255 is too small for even a 10% step: no rate at all
    small = finding(
        side_test(93, 255, x_other=199, n_other=255), FindingsSettings(withheld=frozenset({cell}))
    )
    assert small.headline.endswith("against rate not released north-east of it")


def _kids() -> pd.DataFrame:
    """Two small areas: A1 with 255 children (93 registered), A2 with 40 (36 registered)."""
    rows = []
    for area, n, reg in (("A1", 255, 93), ("A2", 40, 36)):
        for i in range(n):
            rows.append(
                {
                    "area_code": area,
                    "registered": i < reg,
                    "known": True,
                    "engaged": i < reg // 3,
                    "walk_band": "0-10" if area == "A1" else "10-20",
                }
            )
    return pd.DataFrame(rows)


def test_time_band_counts_are_released_and_report_rates_come_from_them() -> None:
    bands = band_table(_kids(), [10, 20], None, driving=False, settings=DEFAULTS)
    first, second = bands.iloc[0], bands.iloc[1]
    # exact counts stay (restricted store table); released ones beside them
    assert (first["children"], first["registered"]) == (255, 93)
    assert (first["children_shown"], first["registered_shown"], first["engaged_shown"]) == (
        255,
        93,
        33,  # 31 engaged -> 33
    )
    # 36 of 40: only 4 not registered, so the registered count is not released
    assert second["children_shown"] == 39 and pd.isna(second["registered_shown"])

    def released(n: float | None) -> str:
        return released_text(n)

    row = band_row({str(k): v for k, v in first.to_dict().items()}, released)
    lo, hi = stats.wilson_interval(93, 255)
    assert row["children"] == "255" and row["registered"] == "93" and row["rate"] == "36%"
    assert row["interval"] == f"{100 * lo:.0f}% to {100 * hi:.0f}%"
    assert row["engaged_rate"] == "13%"  # 33 / 255
    row = band_row({str(k): v for k, v in second.to_dict().items()}, released)
    assert row["children"] == "39"
    assert row["registered"] == "a number not released"
    assert row["rate"] == row["interval"] == "rate not released"


def test_area_layer_holds_released_counts_and_no_residual_z() -> None:
    areas = pd.DataFrame(
        {
            "area_code": ["A1", "A2"],
            "area_name": ["One", "Two"],
            "children": [255, 40],
            "registered": [93, 5],
            "expected": [102.0, 20.0],
            "registered_rate": [93 / 255, 5 / 40],
            "expected_rate": [102 / 255, 0.5],
            "residual_z": [-1.5, -3.0],
            "median_walk_m": [2200.0, 500.0],
        }
    )
    out = released_areas(areas, DEFAULTS)
    assert "residual_z" not in out.columns
    assert out["children"].tolist() == [255, 39]
    assert out["registered"].iloc[0] == 93 and pd.isna(out["registered"].iloc[1])
    assert out["registered_rate"].iloc[0] == pytest.approx(93 / 255)
    assert np.isnan(out["registered_rate"].iloc[1])
    # expected 102 -> 99 and 20 -> 21, over released children
    assert out["expected_rate"].tolist() == pytest.approx([99 / 255, 21 / 39])
    assert out["median_walk_m"].tolist() == [2200.0, 500.0]  # distances are not counts


# --- with the released reach table (the access stage always passes it; issue 15) -------------


def _table(rows: list[tuple[str, int, int]]) -> Any:
    """A released reach table of small areas (every child, any service): code, children,
    registered, as the table shows them (e.g. perturbed by the cell key method)."""
    from everyfamily.findings.text import ReleasedTable

    frame = pd.DataFrame(
        [
            {
                "level": "lsoa",
                "area_code": code,
                "dimension": "all",
                "group_value": "all",
                "service": "any",
                "denominator": n,
                "known": n,
                "registered": reg,
                "engaged": 0,
            }
            for code, n, reg in rows
        ]
    )
    return ReleasedTable.from_frame(frame)


def test_barrier_sides_are_sums_of_the_released_reach_cells() -> None:
    """The cut-off side is E01000001 + E01000002, the other side E01000003. The exact side
    counts (93 of 255 and 199 of 255) are NOT what the finding shows: it shows the sums of
    the released cells (60 + 36 = 96 of 130 + 128 = 258; 197 of 252), so the side reads what
    reach.csv shows for its areas, and children affected is 258 - 96 = 162, not a rounding
    of the exact 162 that would sit beside the perturbed cells."""
    table = _table([("E01000001", 130, 60), ("E01000002", 128, 36), ("E01000003", 252, 197)])
    settings = FindingsSettings(release_method="cell_key", released_table=table)
    f = finding(side_test(93, 255), settings)
    cut, other = f.evidence["cut_off_side"], f.evidence["other_side"]
    assert (cut["children"], cut["registered"]) == (258, 96)
    assert (other["children"], other["registered"]) == (252, 197)
    assert f.headline.endswith(
        "37% of 258 under-fives are registered, against 78% north-east of it"
    )
    assert f.observed == pytest.approx(96 / 258) and f.expected == pytest.approx(197 / 252)
    # expected registrations from composition: 0.4 x 258 = 103.2 -> 103; 0.6 x 252 = 151.2
    assert cut["expected_rate_from_composition"] == pytest.approx(round(103 / 258, 6))
    assert other["expected_rate_from_composition"] == pytest.approx(round(151 / 252, 6))
    # excess: 258 x (197/252 - 151/252 + 103/258) - 96 = 258 x 46/252 + 103 - 96 = 54.1 -> 54
    assert f.evidence["excess_unreached"] == 54
    doc = to_public(f, settings)
    json.dumps(doc, allow_nan=False)
    assert doc["children_affected"] == 162  # 258 - 96, released as it is (not rounded again)
    assert doc["evidence"]["cut_off_side"]["children"] == 258
    assert doc["evidence"]["other_side"]["registered"] == 197  # midpoint 6 would read 195
    assert doc["evidence"]["excess_unreached"] == 54
    # no exact side count or rate appears
    exact = {93, 199, 255, round(93 / 255, 6), round(199 / 255, 6)}
    assert all(v not in exact for _k, v in json_pairs(doc) if isinstance(v, int | float))


def test_a_side_with_a_withheld_cell_is_withheld_and_affected_is_not_released() -> None:
    """suppress_round: reach.csv withholds E01000002's registered count. The side's sum is
    withheld (it would give the cell back), and so is children affected."""
    from everyfamily.findings.text import ReleasedTable

    frame = pd.DataFrame(
        {
            "level": "lsoa",
            "area_code": ["E01000001", "E01000002", "E01000003"],
            "dimension": "all",
            "group_value": "all",
            "service": "any",
            "denominator": [129, 129, 255],
            "known": [129, 129, 255],
            "registered": [57, None, 201],
            "engaged": [0, 0, 0],
        }
    )
    settings = FindingsSettings(released_table=ReleasedTable.from_frame(frame))
    f = finding(side_test(93, 255), settings)
    assert f.evidence["cut_off_side"]["registered"] is None
    assert f.evidence["cut_off_side"]["children"] == 258
    assert "a number not released of 258 under-fives are registered (rate not released)" in (
        f.headline
    )
    assert to_public(f, settings)["children_affected"] is None


def test_released_counts_survive_the_candidate_table() -> None:
    """The access stage hands its findings to the find stage through JSON (the store's
    candidate_findings): a released count must come back released, not rounded again."""
    from everyfamily.findings.model import Finding
    from everyfamily.findings.text import ReleasedCount, tag_counts, untag_counts

    table = _table([("E01000001", 130, 60), ("E01000002", 128, 36), ("E01000003", 252, 197)])
    settings = FindingsSettings(release_method="cell_key", released_table=table)
    f = finding(side_test(93, 255), settings)
    back = Finding.from_record(untag_counts(json.loads(json.dumps(tag_counts(f.to_record())))))
    assert back == f
    assert isinstance(back.children_affected, ReleasedCount)
    assert to_public(back, settings)["evidence"]["other_side"]["registered"] == 197
    plain = Finding.from_record(json.loads(json.dumps(f.to_record())))
    assert to_public(plain, settings)["evidence"]["other_side"]["registered"] == 195  # teeth


def test_time_band_counts_under_the_cell_key_are_keyed_by_their_children() -> None:
    from everyfamily.privacy.cellkey import child_record_keys
    from everyfamily.privacy.release import ReleaseRules, release_child_counts

    kids = _kids()
    kids["person_id"] = [f"P{i:04d}" for i in range(len(kids))]
    # a third band of 3 children: a small count, never released as 1-7
    small = kids.iloc[:3].assign(walk_band="20+", person_id=["Q1", "Q2", "Q3"])
    kids = pd.concat([kids, small], ignore_index=True)
    ck = FindingsSettings(release_method="cell_key")
    bands = band_table(kids, [10, 20], None, driving=False, settings=ck)
    # the same children in another order read the same: the value is theirs, not the row's
    again = band_table(
        kids.sample(frac=1.0, random_state=3), [10, 20], None, driving=False, settings=ck
    )
    cols = ["children_shown", "registered_shown", "engaged_shown"]
    assert bands[cols].equals(again[cols])
    rules = ReleaseRules(ck.suppress_at_or_below, ck.rounding, "cell_key")
    for _, row in bands.iterrows():
        sub = kids[kids["walk_band"] == row["band"]]
        keys = child_record_keys(sub["person_id"]).to_numpy(dtype="int64")
        want = release_child_counts([len(sub)], [int(keys.sum())], rules)[0]
        assert row["children_shown"] == want
        exact = {"children_shown": "children", "registered_shown": "registered"}
        exact["engaged_shown"] = "engaged"
        for col in cols:
            v = int(row[col])
            assert not 1 <= v <= 7  # counts of 1-7 never appear
            # within the ptable's perturbation, or a small count sent to 0 or 8
            assert abs(v - int(row[exact[col]])) <= max(rules.max_perturbation, 8)
        assert row["registered_shown"] <= row["children_shown"]
        assert row["engaged_shown"] <= row["children_shown"]
    assert int(bands.loc[bands["band"] == "20+", "children_shown"].iloc[0]) in (0, 8)

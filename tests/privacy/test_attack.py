"""The attacker test: differencing across overlapping geographies, nested groups and two
releases recovers no suppressed count (nor pins it to a single value)."""

from __future__ import annotations

import pandas as pd
import pytest

from everyfamily.privacy import disclosure
from everyfamily.privacy.release import (
    PROTECTED_COUNTS,
    ReleaseRules,
    reach_relations,
    release_reach,
    suppressed_cells,
)

from . import truth
from .attack import Attack, add_release, not_known_bounds, recovered_cells

RULES = ReleaseRules(7, "midpoint6", "suppress_round")


def _release(kids: pd.DataFrame, registry: pd.DataFrame | None = None) -> pd.DataFrame:
    return release_reach(
        truth.exact_reach(kids), truth.HIERARCHY, RULES, previously_suppressed=registry
    )


def test_the_attacker_has_teeth_without_secondary_suppression() -> None:
    """Rounding alone: a total of 25 (shown 27) and one part of 18 (shown 15) pin the other
    part to exactly 7, which the attacker finds."""
    table = pd.DataFrame(
        {
            "level": ["borough", "lsoa", "lsoa"],
            "area_code": ["B", "L1", "L2"],
            "dimension": "all",
            "group_value": "all",
            "service": "any",
            "denominator": [25.0, 18.0, None],
            "known": [25.0, 18.0, None],
            "registered": [None, None, None],
            "engaged": [None, None, None],
        }
    )
    hierarchy = pd.DataFrame({"level": "borough", "area_code": "B", "small_area": ["L1", "L2"]})
    table.loc[0, ["denominator", "known"]] = 27.0  # as midpoint-6 shows 25
    table.loc[1, ["denominator", "known"]] = 15.0  # as midpoint-6 shows 18
    exact = table.assign(denominator=[25.0, 18.0, 7.0], known=[25.0, 18.0, 7.0])
    exact[["registered", "engaged"]] = 0.0
    got = {
        (i, c): v
        for i, c, v in recovered_cells(table, exact, hierarchy, "midpoint6", 7, primary_only=True)
    }
    assert got[(2, "denominator")] == 7.0


def test_secondary_suppression_leaves_no_relation_with_one_suppressed_cell() -> None:
    released = _release(truth.children())
    rel = reach_relations(released, truth.HIERARCHY, "lsoa")
    for c in PROTECTED_COUNTS:
        sup = released[c].isna().to_numpy()
        per_rel = pd.Series(sup[rel["cell"].to_numpy()]).groupby(rel["rel"].to_numpy()).sum()
        assert not (per_rel == 1).any(), c
    assert released["registered"].isna().sum() > 20  # the table does have suppressed cells


@pytest.mark.slow
def test_no_suppressed_cell_is_recovered_from_one_release() -> None:
    kids = truth.children()
    released = _release(kids)
    exact = truth.exact_reach(kids)
    # naive differencing first: parent minus released children, over every relation
    rel = reach_relations(released, truth.HIERARCHY, "lsoa")
    for c in PROTECTED_COUNTS:
        shown = released[c]
        for _r, g in rel.groupby("rel"):
            hidden = [i for i in g["cell"] if pd.isna(shown.iloc[i])]
            assert len(hidden) != 1
    # then the full integer-programming attack (overlapping reach areas S1/S2 included)
    assert recovered_cells(released, exact, truth.HIERARCHY, "midpoint6", 7) == []


@pytest.mark.slow
def test_two_releases_differenced_recover_nothing() -> None:
    """Release 2 adds three children in L6. Cells suppressed in release 1 stay suppressed,
    unchanged counts read the same, and an attacker who knows at most three children were
    added, holding both releases, pins no suppressed cell."""
    kids1 = truth.children()
    r1 = _release(kids1)
    extra = truth.children(seed=99, sizes={"L6": 3})
    kids2 = pd.concat([kids1, extra], ignore_index=True)
    r2 = _release(kids2, registry=suppressed_cells(r1))

    keys = ["level", "area_code", "dimension", "group_value", "service"]
    both = r1.merge(r2, on=keys, suffixes=("_1", "_2"))
    e1, e2 = truth.exact_reach(kids1), truth.exact_reach(kids2)
    ex = e1.merge(e2, on=keys, suffixes=("_1", "_2"))
    for c in PROTECTED_COUNTS:
        was = both[f"{c}_1"].isna()
        assert both.loc[was, f"{c}_2"].isna().all(), f"{c}: un-suppressed in release 2"
        same = (ex[f"{c}_1"] == ex[f"{c}_2"]).to_numpy()
        a, b = both[f"{c}_1"][same], both[f"{c}_2"][same]
        shown = a.notna() & b.notna()
        assert (a[shown] == b[shown]).all(), f"{c}: the same count released differently"

    attack = Attack(0, [], [], [], [], [])
    v1 = add_release(attack, r1, truth.HIERARCHY, "midpoint6", 7)
    r2_rows = r2.reset_index(drop=True)
    v2 = add_release(attack, r2_rows, truth.HIERARCHY, "midpoint6", 7)
    pos2 = {tuple(k): i for i, k in enumerate(r2_rows[keys].astype(str).itertuples(index=False))}
    for i, k in enumerate(r1[keys].astype(str).itertuples(index=False)):
        j = pos2.get(tuple(k))
        if j is None:
            continue
        for c in PROTECTED_COUNTS:  # each count grew by 0 to 3 between the releases
            attack.constrain({v2[(j, c)]: 1.0, v1[(i, c)]: -1.0}, 0, 3)
    # Unchanged cells read the same in both releases (checked above), so differencing can
    # only tell something about the areas that hold L6; the single-release test covers the
    # rest. Attack every suppressed cell of those areas in both releases.
    touched = {"L6", "W3", "M2", "B", "S2"}
    pinned = []
    for table, exact, var in ((r1, e1, v1), (r2_rows, e2, v2)):
        for (i, c), v in var.items():
            if table["area_code"].iloc[i] not in touched or not pd.isna(table[c].iloc[i]):
                continue
            if attack.pinned(v, float(exact[c].iloc[i])):
                pinned.append((i, c))
    assert pinned == []


def test_known_is_complement_protected_in_small_groups_only() -> None:
    """Hand-made: an area of 20 children with 17 known (3 not known) and an area of 60 with
    57 known (3 not known), and a third of 70 with 64 known. The group limit is
    5 x (7 + 1) = 40 children, so the 17 is suppressed (its complement 3 would single out
    three children of a small group); the 57 of 60 is not (a large group) but goes as the
    secondary cell (the smallest other part of the borough total: else B - L2 - L3 = L1);
    the 64 and the borough's 138 are released rounded (64 -> 63, 138 -> 135)."""
    from everyfamily.privacy.release import known_complement_group_limit

    assert known_complement_group_limit(7) == 40
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
    out = release_reach(table, hierarchy, RULES).set_index("area_code")
    assert pd.isna(out.loc["L1", "known"])  # 3 not known in a group of 20
    assert pd.isna(out.loc["L2", "known"])  # secondary: the smallest other part
    assert out.loc["L3", "known"] == 63 and out.loc["B", "known"] == 135
    assert out.loc["L1", "denominator"] == 21 and out.loc["L2", "denominator"] == 57
    # everyone known in a small group is protected as well, so suppression does not mark
    # the groups with someone not known
    all_known = table.assign(known=table["denominator"])
    out2 = release_reach(all_known, hierarchy, RULES).set_index("area_code")
    assert pd.isna(out2.loc["L1", "known"])


@pytest.mark.slow
def test_a_small_not_known_complement_is_not_recovered(monkeypatch: pytest.MonkeyPatch) -> None:
    """The integer-programming attacker bounds denominator - known (children NOT known to
    universal services) of every group where it is 1 to 7: none is pinned to one value, and
    in every small group (40 children or fewer) the attacker cannot even prove that anyone is
    not known (the smallest value it can prove is 0). Without the rule, the same attacker
    proves that some small groups have a child not known (the test has teeth)."""
    from everyfamily.privacy import release
    from everyfamily.privacy.release import known_complement_group_limit

    kids = truth.children()
    exact = truth.exact_reach(kids).reset_index(drop=True)
    small_group = exact["denominator"] <= known_complement_group_limit(7)

    bounds = not_known_bounds(_release(kids), exact, truth.HIERARCHY, "midpoint6", 7)
    assert len(bounds) > 30  # the table has many groups with a few children not known
    assert [(i, t) for i, t, lo, hi in bounds if lo == hi] == []  # none pinned
    assert [(i, lo) for i, _t, lo, _hi in bounds if small_group[i] and lo > 0] == []

    monkeypatch.setattr(release, "KNOWN_COMPLEMENT_GROUP_FACTOR", 0)  # the rule off
    without = not_known_bounds(_release(kids), exact, truth.HIERARCHY, "midpoint6", 7)
    assert [i for i, _t, lo, _hi in without if small_group[i] and lo > 0] != []


@pytest.mark.parametrize("rounding", ["midpoint6", "nearest5"])
def test_release_is_idempotent(rounding: str) -> None:
    rules = ReleaseRules(7, rounding, "suppress_round")  # type: ignore[arg-type]
    once = release_reach(truth.exact_reach(truth.children()), truth.HIERARCHY, rules)
    twice = release_reach(once, truth.HIERARCHY, rules)
    pd.testing.assert_frame_equal(once, twice)


def test_round_counts_matches_the_scalar_rule() -> None:
    import numpy as np

    values = np.array([0, 1, 6, 7, 12, 13, 1236, 2, 3, 12, 13])
    assert disclosure.round_counts(values, "midpoint6").tolist()[:7] == [0, 3, 3, 9, 9, 15, 1233]
    assert disclosure.round_counts(values[7:], "nearest5").tolist() == [0, 5, 10, 15]


# --- the cell key method (the default): one release and two releases --------------------------


def _cell_key_release(kids: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(exact, released) by the cell key method over the extended hierarchy of
    test_cellkey_release (a child's record key follows the child: 'c<row>')."""
    from .test_cellkey_release import HIER, _cell_keys, _exact
    from .test_cellkey_release import RULES as CK

    exact = _exact(kids).reset_index(drop=True)
    return exact, release_reach(exact, HIER, CK, cell_keys=_cell_keys(kids))


@pytest.mark.slow
def test_two_cell_key_releases_pin_nothing() -> None:
    """Release 2 adds three children in L6 (the first release's children keep their record
        keys). An attacker holding both releases, knowing every count grew by 0 to 3, with the
        ptable's bounds for every shown count and every additive relation of both tables, pins
        no count of 1-7 in either release, and no larger count either (the ptable's design: a
        shown count says the truth is within 3; a relation may narrow that, never to one
        value). Cells no child entered read the same in both releases (unless a new child
    changed the denominator that caps a released numerator)."""
    import numpy as np

    from .test_cellkey_release import HIER

    kids1 = truth.children()
    kids2 = pd.concat([kids1, truth.children(seed=99, sizes={"L6": 3})], ignore_index=True)
    e1, r1 = _cell_key_release(kids1)
    e2, r2 = _cell_key_release(kids2)
    keys = ["level", "area_code", "dimension", "group_value", "service"]
    both = r1.merge(r2, on=keys, suffixes=("_1", "_2"))
    ex = e1.merge(e2, on=keys, suffixes=("_1", "_2"))
    for c in PROTECTED_COUNTS:
        # the same children (and the same denominator, which caps a released numerator)
        same = (ex[f"{c}_1"] == ex[f"{c}_2"]) & (ex["denominator_1"] == ex["denominator_2"])
        assert same.sum() > len(ex) / 2
        assert (both[f"{c}_1"][same] == both[f"{c}_2"][same]).all(), c
        assert both[f"{c}_1"].notna().all() and both[f"{c}_2"].notna().all()  # none withheld
        for r in (r1, r2):
            v = r[c].astype("float64")
            assert not ((v >= 1) & (v <= 7)).any(), c  # counts of 1-7 never appear

    attack = Attack(0, [], [], [], [], [])
    v1 = add_release(attack, r1, HIER, "cell_key", 7)
    v2 = add_release(attack, r2, HIER, "cell_key", 7)
    pos2 = {tuple(k): i for i, k in enumerate(r2[keys].astype(str).itertuples(index=False))}
    for i, k in enumerate(r1[keys].astype(str).itertuples(index=False)):
        j = pos2.get(tuple(k))
        if j is not None:
            for c in PROTECTED_COUNTS:
                attack.constrain({v2[(j, c)]: 1.0, v1[(i, c)]: -1.0}, 0, 3)
    targets = []
    for exact, var in ((e1, v1), (e2, v2)):
        for c in PROTECTED_COUNTS:
            col = exact[c].to_numpy(dtype="float64")
            ok = (exact["service"] == "any").to_numpy() & (exact["dimension"] != "ethnicity")
            small = np.flatnonzero(ok & (col >= 1) & (col <= 7))
            big = np.flatnonzero(ok & (col >= 8))[::20]  # a sample of larger counts
            targets += [(var[(int(i), c)], float(col[i])) for i in (*small, *big)]
    assert len(targets) >= 40
    pinned = [(v, t) for v, t in targets if attack.pinned(v, t)]
    assert pinned == []


# --- access-barrier and emerging-community findings under the cell key method (issue 15) -------


@pytest.mark.slow
def test_barrier_and_community_numbers_narrow_no_cell_key_cell() -> None:
    """Released with the reach table by the cell key method:

    - an access_barrier finding (cut-off side L1 + L2, other side L3) shows, for each side,
      exactly the sums of the released small-area cells, so it adds no constraint to the
      attack on the table;
    - an emerging community (the female white_other children of L1 + L2: no cell of the
      table) shows its children and registered perturbed by their own cell keys
      (privacy.release.release_child_counts) and everyone else as the borough's released
      counts minus those (no new fact). The attacker holding the table, the finding's
      counts with the ptable's bounds, "the community is part of its areas' white_other
      cells" and "registered <= children" pins none of the community's counts and no count
      of 1-7 of the areas around it; no count of 1-7 is shown."""
    import math

    import numpy as np
    from pyproj import Transformer
    from shapely.geometry import LineString

    from everyfamily.access import barriers as br
    from everyfamily.findings.engine import to_public
    from everyfamily.findings.model import FindingsSettings
    from everyfamily.findings.text import ReleasedTable
    from everyfamily.privacy.cellkey import record_keys
    from everyfamily.privacy.release import release_child_counts

    from .attack import block
    from .test_cellkey_release import HIER
    from .test_cellkey_release import RULES as CK

    kids = truth.children()
    kids["rk"] = record_keys([f"c{i}" for i in range(len(kids))], b"test")
    exact, released = _cell_key_release(kids)
    table = ReleasedTable.from_frame(released)
    settings = FindingsSettings(release_method="cell_key", released_table=table)

    # the barrier: exact side counts go in, sums of released cells come out
    cut, other = kids[kids["small_area"].isin(["L1", "L2"])], kids[kids["small_area"] == "L3"]
    test = br.SideTest(
        barrier=br.Barrier("rail", "", "railway", LineString([(0, 0), (0, 3000)]), 3000.0, ()),
        cut_off=("L1", "L2"),
        other=("L3",),
        n_cut=len(cut),
        x_cut=int(cut["reg_any"].sum()),
        n_other=len(other),
        x_other=int(other["reg_any"].sum()),
        expected_cut=0.6,  # composition predicts the cut-off side better: a gap unexplained
        expected_other=0.3,
        walk_cut_m=2000.0,
        walk_other_m=700.0,
        detour_cut=1.9,
        detour_other=1.1,
        direction="west",
        z=-5.0,
        p=1e-6,
        q=1e-5,
    )
    (f,) = br.make_findings(
        [test],
        settings=settings,
        area_labels={},
        place_names={},
        to_wgs84=Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True).transform,
        approximate_note=None,
        speed_kmh=4.8,
    )
    doc = to_public(f, settings)

    def cells(areas: list[str], column: str) -> int:
        rows = released[
            released["area_code"].isin(areas)
            & (released["dimension"] == "all")
            & (released["service"] == "any")
        ]
        return int(rows[column].sum())

    for side, areas in (("cut_off_side", ["L1", "L2"]), ("other_side", ["L3"])):
        shown = doc["evidence"][side]
        assert shown["children"] == cells(areas, "denominator"), side
        assert shown["registered"] == cells(areas, "registered"), side
    affected = cells(["L1", "L2"], "denominator") - cells(["L1", "L2"], "registered")
    assert doc["children_affected"] == (None if 1 <= affected <= 7 else affected)

    # the community: its own cells, perturbed by their own cell keys
    group = cut[(cut["sex"] == "female") & (cut["ethnicity"] == "white_other")]
    exact_counts = [len(group), int(group["reg_any"].sum())]
    keys = [int(group["rk"].sum()), int(group.loc[group["reg_any"], "rk"].sum())]
    g_n, g_reg = release_child_counts(exact_counts, keys, CK)
    assert exact_counts == [2, 2]  # a small community, every child registered (100%)
    assert (g_n, g_reg) == (8.0, 8.0)  # shown as the ptable's floor, never as 1-7

    attack = Attack(0, [], [], [], [], [])
    var = add_release(attack, released, HIER, "cell_key", 7)
    v_n, v_reg = attack.var(*block(g_n, "cell_key", 7)), attack.var(*block(g_reg, "cell_key", 7))
    rows = released.reset_index(drop=True)

    def row_vars(dim: str, value: str, column: str) -> dict[int, float]:
        hit = rows.index[
            rows["area_code"].isin(["L1", "L2"])
            & (rows["dimension"] == dim)
            & (rows["group_value"] == value)
            & (rows["service"] == "any")
        ]
        return {var[(int(i), column)]: -1.0 for i in hit}

    attack.constrain({v_n: 1.0, **row_vars("ethnicity", "white_other", "denominator")}, -1e4, 0)
    attack.constrain({v_reg: 1.0, **row_vars("ethnicity", "white_other", "registered")}, -1e4, 0)
    attack.constrain({v_n: 1.0, v_reg: -1.0}, 0, 1e4)
    targets = [(v_n, float(exact_counts[0])), (v_reg, float(exact_counts[1]))]
    ex = exact.reset_index(drop=True)
    near = ex["area_code"].isin(["L1", "L2", "W1"]) & (ex["service"] == "any")
    for c in PROTECTED_COUNTS:
        col = ex[c].to_numpy(dtype="float64")
        small = np.flatnonzero(near.to_numpy() & (col >= 1) & (col <= 7))
        targets += [(var[(int(i), c)], float(col[i])) for i in small]
    assert len(targets) >= 8
    pinned = [(v, t) for v, t in targets if attack.pinned(v, t)]
    assert pinned == []
    assert all(math.isfinite(t) for _v, t in targets)

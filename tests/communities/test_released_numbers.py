"""Every number an emerging_community finding shows is disclosure-controlled: counts released
by the reach rules (suppress 7 or fewer, the complement rule, midpoint-6 rounding) and every
rate, share and ratio computed from the released counts. Hand-computed with the defaults.

The world: four small areas of 500 known under-fives each, 100 born in each of the five
birth years; in A1, 30 of them are Romanian (20 born in the latest year, 10 the year
before, none earlier), everyone else is British or Irish. 1,500 of the 1,970 others are
registered.

Midpoint 6: n -> 6 * ceil(n / 6) - 3, so 30 -> 27, 13 -> 15, 1970 -> 1971, 1500 -> 1497,
500 -> 501, 26 -> 27, 0 -> suppressed.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pandas as pd
import pytest

from everyfamily.communities.detect import DetectSettings, detect
from everyfamily.findings.engine import p_bound, to_public
from everyfamily.findings.model import FindingsSettings

REF = dt.date(2026, 3, 31)
SETTINGS = DetectSettings(reference_date=REF)


def world(registered_romanian: int) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    others_registered = 0
    for area in ("A1", "A2", "A3", "A4"):
        for year in range(5):
            for i in range(100):
                romanian = area == "A1" and ((year == 0 and i < 20) or (year == 1 and i < 10))
                rows.append(
                    {
                        "person_id": f"P{len(rows)}",
                        "area_code": area,
                        "date_of_birth": REF - dt.timedelta(days=365 * year + 100),
                        "in_age_range": True,
                        "known": True,
                        "engaged": False,
                        "origin_group": "romanian" if romanian else "british_irish",
                        "basis": "country_of_birth" if romanian else "none",
                        "registered": False,
                    }
                )
                if not romanian and others_registered < 1500:
                    rows[-1]["registered"] = True
                    others_registered += 1
    frame = pd.DataFrame(rows)
    mine = frame.index[frame["origin_group"] == "romanian"][:registered_romanian]
    frame.loc[mine, "registered"] = True
    return frame


def found(registered_romanian: int) -> Any:
    result = detect(world(registered_romanian), SETTINGS)
    (f,) = result.findings
    (doc,) = result.communities
    return f, doc


def test_community_finding_shows_released_counts_and_rates_of_them() -> None:
    f, layer = found(13)
    # births: 0 earlier (suppressed), 30 in the last two years -> 27 / 2 = 13.5 -> 14 a year;
    # 13 -> 15 of 30 -> 27 registered: 56% (exact 43%); everyone else 1497 / 1971 = 76%
    assert f.headline == (
        "Births of Romanian-origin children in A1 rose from fewer than 8 to 14 a year since "
        "Apr 2024; 15 of 27 under-fives of Romanian origin there are registered with a centre "
        "(56%, against 76% for everyone else)."
    )
    assert f.observed == pytest.approx(15 / 27) and f.expected == pytest.approx(1497 / 1971)
    ev = f.evidence
    assert (ev["known"], ev["registered"], ev["rest_known"], ev["rest_registered"]) == (
        27,
        15,
        1971,
        1497,
    )
    assert ev["share_of_known"] == pytest.approx(round(27 / 501, 6))  # 500 in A1 -> 501
    assert ev["signals"] == {"country_of_birth": 1.0}
    assert ev["rate_ratio"] is None  # nothing released before: no ratio of released counts
    assert layer["children"] == 27 and layer["registered"] == 15
    assert layer["q_value"] == p_bound(ev["q_value"])
    doc = to_public(f, FindingsSettings())
    json.dumps(doc, allow_nan=False)
    assert doc["evidence"]["p_value_growth"] == p_bound(ev["p_value_growth"])
    assert doc["children_affected"] == 15  # 30 - 13 = 17 -> 15
    # the exact 13 of 30 appears nowhere as a count or a rate
    text = json.dumps(doc)
    assert "0.433333" not in text and '"registered": 13' not in text


def test_community_count_suppressed_by_the_complement_rule_reads_not_released() -> None:
    f, layer = found(26)
    # 26 of 30: only 4 not registered, so 26 is not released (and it is not small: it is
    # "a number not released", not "fewer than 8"); everyone else is withheld with it, since
    # the borough's registered total (public in reach.csv) minus it would give it back
    assert f.headline.endswith(
        "; a number not released of 27 under-fives of Romanian origin there are registered "
        "with a centre (rate not released, against rate not released for everyone else)."
    )
    assert f.evidence["registered"] is None and f.evidence["rest_registered"] is None
    assert f.evidence["rest_known"] == 1971
    assert layer["registered"] is None
    doc = to_public(f, FindingsSettings())
    json.dumps(doc, allow_nan=False)
    assert doc["observed"] is None and doc["interval"] == [None, None]


def test_community_with_a_small_count_says_fewer_than_8() -> None:
    f, _layer = found(3)
    assert "; fewer than 8 of 27 under-fives of Romanian origin there are registered with a " in (
        f.headline
    )
    assert "(rate not released, against rate not released for everyone else)." in f.headline


# --- the cell key method (the project default; issue 15) --------------------------------------


def _perturbed(frame: pd.DataFrame) -> int:
    """What the cell key method releases for exactly these children, computed here the
    obvious way: record keys (HMAC of person_id), summed mod 4096, through the default
    ptable."""
    from everyfamily.privacy.cellkey import build_ptable, child_record_keys

    key = int(child_record_keys(frame["person_id"]).sum()) % 4096 if len(frame) else 0
    return int(build_ptable().perturb([len(frame)], [key])[0])


def _borough_table(children: int, registered: int) -> Any:
    """A released reach table holding the borough's (released) children and registered."""
    from everyfamily.findings.text import ReleasedTable

    return ReleasedTable.from_frame(
        pd.DataFrame(
            [
                {
                    "level": "borough",
                    "area_code": "B",
                    "dimension": "all",
                    "group_value": "all",
                    "service": "any",
                    "denominator": children,
                    "known": children,
                    "registered": registered,
                    "engaged": 0,
                }
            ]
        )
    )


def test_cell_key_community_counts_are_the_cell_key_release_of_their_children() -> None:
    """Every count of the finding is the cell key release of exactly the children it counts;
    everyone else is the borough's released counts minus the group's; the same children
    read the same wherever they are counted (the 30 Romanian under-fives are both the
    group's children and its births in the last two years); no count of 1-7 appears."""
    kids = world(13)
    kids["person_id"] = "S10-" + kids["person_id"]  # record keys that move both counts
    fs = FindingsSettings(release_method="cell_key", released_table=_borough_table(2003, 1510))
    result = detect(kids, DetectSettings(reference_date=REF, findings=fs))
    (f,) = result.findings
    ro = kids[kids["origin_group"] == "romanian"]
    n, reg = _perturbed(ro), _perturbed(ro[ro["registered"]])
    assert (n, reg) == (28, 15)  # exact 30 and 13: the ptable moved both
    ev = f.evidence
    assert (ev["known"], ev["registered"]) == (n, reg)
    assert (ev["rest_known"], ev["rest_registered"]) == (2003 - n, 1510 - reg)
    born = pd.to_datetime(ro["date_of_birth"])
    latest = born > pd.Timestamp(REF - dt.timedelta(days=365))
    births = [p["births"] for p in ev["births_by_period"]]
    assert births[-1] == _perturbed(ro[latest]) and births[-2] == _perturbed(ro[~latest])
    assert births[:3] == [0, 0, 0]
    # the group's births over the last two years are the same 30 children: the same value
    # (the earlier years released as 0, which under the cell key means "0 to 7")
    assert f"rose from fewer than 8 to {n / 2:,.0f} a year" in f.headline
    assert f.headline.endswith(
        f"{reg} of {n} under-fives of Romanian origin there are registered with a centre "
        f"({100 * reg / n:.0f}%, against {100 * (1510 - reg) / (2003 - n):.0f}% for everyone "
        "else)."
    )
    assert ev["children_corrected"]["estimate"] == n  # no classifier: the count itself
    doc = to_public(f, fs)
    json.dumps(doc, allow_nan=False)
    assert doc["children_affected"] == n - reg  # released counts, not rounded again
    assert doc["evidence"]["known"] == n and doc["evidence"]["rest_known"] == 2003 - n

    from everyfamily.findings.engine import COUNT_KEYS

    child_counts = {*COUNT_KEYS, "children_affected", "births", "estimate", "lower", "upper"}

    def counts(node: Any, key: str = "") -> list[int]:
        if isinstance(node, dict):
            return [v for k, x in node.items() for v in counts(x, k)]
        if isinstance(node, list):
            return [v for x in node for v in counts(x, key)]
        is_count = isinstance(node, int) and not isinstance(node, bool) and key in child_counts
        return [node] if is_count else []

    assert len(counts(doc)) >= 15
    assert not [v for v in counts(doc) if 1 <= v <= 7]


def test_cell_key_community_counts_read_the_same_in_a_second_release() -> None:
    """A second release after three more children arrive elsewhere (A2, not Romanian): the
    community's children are the same, so every count of theirs reads the same (differencing
    the two releases gives nothing); only the borough's totals moved."""
    kids = world(13)
    kids["person_id"] = "S10-" + kids["person_id"]
    more = kids[kids["area_code"] == "A2"].head(3).copy()
    more["person_id"] = ["new-1", "new-2", "new-3"]
    kids2 = pd.concat([kids, more], ignore_index=True)
    docs = []
    for frame, (n, reg) in ((kids, (2003, 1510)), (kids2, (2006, 1510))):
        fs = FindingsSettings(release_method="cell_key", released_table=_borough_table(n, reg))
        (f,) = detect(frame, DetectSettings(reference_date=REF, findings=fs)).findings
        docs.append(to_public(f, fs))
    first, second = docs
    for key in ("known", "registered", "engaged", "births_by_period", "children_corrected"):
        assert first["evidence"][key] == second["evidence"][key], key
    assert first["children_affected"] == second["children_affected"]
    assert second["evidence"]["rest_known"] == first["evidence"]["rest_known"] + 3


def test_a_released_zero_births_reads_fewer_than_8_under_cell_key() -> None:
    # the ptable sends 1-7 to 0, so a released 0 is "0 to 7": the headline must not say
    # "rose from 0"; under suppression a 0 is a true 0 (zeros are not suppressed)
    from everyfamily.communities.detect import per_year

    cell_key = FindingsSettings(release_method="cell_key")
    assert per_year(5, 0, 4, cell_key) == "fewer than 8"
    assert per_year(0, 0, 4, cell_key) == "fewer than 8"
    assert per_year(76, 76, 4, cell_key) == "19"
    assert per_year(0, 0, 4, FindingsSettings(release_method="suppress_round")) == "0"


def test_under_fives_by_signal_are_cell_key_counts_of_their_children() -> None:
    from everyfamily.communities.stage import _released_by_basis
    from everyfamily.privacy.cellkey import child_record_keys
    from everyfamily.privacy.release import ReleaseRules, release_child_counts

    in_age = pd.DataFrame(
        {
            "person_id": [f"P{i:03d}" for i in range(240)],
            "basis": ["name"] * 200 + ["language"] * 37 + ["country_of_birth"] * 3,
        }
    )
    fs = FindingsSettings(release_method="cell_key")
    got = _released_by_basis(in_age, fs)
    assert got == _released_by_basis(in_age.sample(frac=1.0, random_state=1), fs)
    rules = ReleaseRules(fs.suppress_at_or_below, fs.rounding, "cell_key")
    for basis, n in (("name", 200), ("language", 37), ("country_of_birth", 3)):
        keys = child_record_keys(in_age.loc[in_age["basis"] == basis, "person_id"])
        want = release_child_counts([n], [int(keys.sum())], rules)[0]
        assert got[basis] == round(float(want))
    assert got["country_of_birth"] in (0, 8)  # 3 children: never shown as 1-7
    # under suppress_round: suppressed at 7 or fewer, midpoint-6 rounding
    sr = _released_by_basis(in_age, FindingsSettings(release_method="suppress_round"))
    assert sr["country_of_birth"] is None and sr["name"] == 201 and sr["language"] == 39

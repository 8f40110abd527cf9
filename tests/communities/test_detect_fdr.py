"""Emerging communities: the false discovery rate is controlled on the evidence a finding
claims, growth AND above the baseline (p = the larger of the two), on a hand-made table."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from everyfamily.communities.detect import DetectSettings, detect
from everyfamily.findings.stats import bh_adjust

REF = dt.date(2026, 3, 31)


def _children(polish: dict[str, list[int]], births: int = 40, areas: int = 12) -> pd.DataFrame:
    """``areas`` areas with ``births`` known births a year for 5 years; ``polish``: area ->
    Polish births by year of age (index 0 = the most recent year), recorded directly."""
    rows = []
    pid = 0
    for a in range(areas):
        code = f"A{a:02d}"
        for age in range(5):
            dob = REF - dt.timedelta(days=365 * age + 100)
            n_pol = polish.get(code, [0] * 5)[age]
            for i in range(births):
                rows.append(
                    {
                        "person_id": f"p{pid}",
                        "area_code": code,
                        "date_of_birth": dob.isoformat(),
                        "known": True,
                        "registered": i % 3 != 0,
                        "engaged": False,
                        "in_age_range": True,
                        "origin_group": "polish" if i < n_pol else "british_irish",
                        "basis": "ethnicity",
                    }
                )
                pid += 1
    return pd.DataFrame(rows)


def test_growth_and_baseline_are_one_test_controlled_together() -> None:
    # A00: a new community (0 -> 14 a year); A01: an old one, steady at 8 a year (above
    # the rest of the borough, not growing): only A00 is a finding
    kids = _children({"A00": [14, 12, 2, 0, 0], "A01": [8, 8, 8, 8, 8]})
    det = detect(kids, DetectSettings(reference_date=REF, groups=("polish",)))
    t = det.tests
    p = np.maximum(t["p_growth"].to_numpy(), t["p_baseline"].to_numpy())
    assert np.allclose(t["p_finding"].to_numpy(), p)
    # the family: units with at least min_recent_births (10) of the group's births in all
    fam = (t["recent"] + t["earlier"]).to_numpy() >= 10
    assert fam.sum() >= 2 and not fam.all()
    assert np.allclose(t["q_finding"].to_numpy()[fam], bh_adjust(p[fam]))
    assert t["q_finding"][~fam].isna().all()
    assert t.loc[t["unit"] == "A01", "p_baseline"].iloc[0] < 1e-6  # above the baseline...
    assert t.loc[t["unit"] == "A01", "q_finding"].iloc[0] > 0.05  # ...but not growing
    assert [f.areas for f in det.findings] == [("A00",)]
    assert det.findings[0].evidence["q_value"] == float(
        t.loc[t["unit"] == "A00", "q_finding"].iloc[0]
    )

"""A small synthetic exact reach table with planted truth (seeded), built independently of
everyfamily.reach: children are drawn, then counted by area, group and service here.

Geography: six small areas L1-L6; wards W1 (L1, L2), W2 (L3, L4), W3 (L5, L6); MSOAs
M1 (L1-L3) and M2 (L4-L6); borough B (all); two OVERLAPPING centre reach areas S1 (L1-L4)
and S2 (L3-L6). Groups: sex, broad ethnic group and ethnic group (nested).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SMALL = ("L1", "L2", "L3", "L4", "L5", "L6")
HIERARCHY = pd.DataFrame(
    [("lsoa", s, s) for s in SMALL]
    + [("ward", "W1", s) for s in ("L1", "L2")]
    + [("ward", "W2", s) for s in ("L3", "L4")]
    + [("ward", "W3", s) for s in ("L5", "L6")]
    + [("msoa", "M1", s) for s in ("L1", "L2", "L3")]
    + [("msoa", "M2", s) for s in ("L4", "L5", "L6")]
    + [("borough", "B", s) for s in SMALL]
    + [("reach_area", "S1", s) for s in ("L1", "L2", "L3", "L4")]
    + [("reach_area", "S2", s) for s in ("L3", "L4", "L5", "L6")],
    columns=["level", "area_code", "small_area"],
)
ETHNICITY = {
    "white_british": 0.72,
    "white_other": 0.14,
    "asian_pakistani": 0.08,
    "black_african": 0.06,
}
SERVICES = ("any", "S1")
SIZES = {"L1": 40, "L2": 25, "L3": 60, "L4": 18, "L5": 33, "L6": 12}


def children(seed: int = 7, sizes: dict[str, int] | None = None) -> pd.DataFrame:
    """One row per child: small area, sex, ethnicity, known, registered at S1/S2, engaged."""
    rng = np.random.default_rng(seed)
    rows = []
    for area, n in (sizes or SIZES).items():
        for _ in range(n):
            s1 = rng.random() < (0.55 if area in ("L1", "L2", "L3") else 0.2)
            s2 = rng.random() < (0.5 if area in ("L4", "L5", "L6") else 0.15)
            rows.append(
                {
                    "small_area": area,
                    "sex": "female" if rng.random() < 0.5 else "male",
                    "ethnicity": rng.choice(list(ETHNICITY), p=list(ETHNICITY.values())),
                    "known": bool(rng.random() < 0.93),
                    "reg_S1": s1,
                    "reg_S2": s2,
                    "eng_S1": bool(s1 and rng.random() < 0.5),
                    "eng_S2": bool(s2 and rng.random() < 0.5),
                }
            )
    frame = pd.DataFrame(rows)
    frame["reg_any"] = frame["reg_S1"] | frame["reg_S2"]
    frame["eng_any"] = frame["eng_S1"] | frame["eng_S2"]
    broad = {"white_british": "white", "white_other": "white"}
    frame["ethnicity_broad"] = (
        frame["ethnicity"].map(broad).fillna(frame["ethnicity"].str.split("_").str[0])
    )
    return frame


def exact_reach(kids: pd.DataFrame) -> pd.DataFrame:
    """The exact reach table of these children (every area x group x service that has
    children, plus every area's 'all' row)."""
    m = HIERARCHY
    long = []
    for dim in ("all", "ethnicity_broad", "ethnicity"):
        g = kids.assign(dimension=dim, group_value="all" if dim == "all" else kids[dim])
        long.append(g)
    frame = pd.concat(long, ignore_index=True).merge(m, on="small_area")
    rows = []
    keys = ["level", "area_code", "dimension", "group_value"]
    for key, g in frame.groupby(keys, sort=True):
        for service in SERVICES:
            rows.append(
                {
                    **dict(zip(keys, key, strict=True)),
                    "area_name": key[1],
                    "service": service,
                    "ons_population": np.nan,
                    "denominator": len(g),
                    "known": int(g["known"].sum()),
                    "registered": int(g[f"reg_{service}"].sum()),
                    "engaged": int(g[f"eng_{service}"].sum()),
                }
            )
    out = pd.DataFrame(rows)
    out["registered_rate"] = out["registered"] / out["denominator"]
    return out

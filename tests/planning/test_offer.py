"""The offer matched to each reach area, on planted children and sessions."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from everyfamily.errors import ConfigError
from everyfamily.planning.offer import NO_SESSION_DATA, match_offer, parse_sessions
from everyfamily.privacy.release import ReleaseRules

REF = date(2024, 6, 30)
RULES = ReleaseRules(method="suppress_round", rounding="none")


def _children() -> pd.DataFrame:
    """Centre N's reach area (N1, N2): 30 babies (under 1), 60 three-year-olds; 24 of the 90
    speak Somali at home, 12 of them need an interpreter. Centre S's area (S1): 40
    two-year-olds, all English. Centre X (X1) has 25 babies and no session data."""
    rows = []

    def add(n: int, area: str, dob: date, lang: str, interp: bool) -> None:
        for _ in range(n):
            rows.append(
                {
                    "person_id": f"P-{len(rows):05d}",
                    "small_area": area,
                    "date_of_birth": dob,
                    "main_language": lang,
                    "interpreter_needed": interp,
                }
            )

    add(18, "N1", date(2024, 1, 15), "English", False)  # 5 months
    add(12, "N2", date(2023, 9, 1), " somali", True)  # 9 months
    add(12, "N1", date(2021, 3, 1), "Somali", False)  # 3 years 3 months
    add(48, "N2", date(2021, 3, 1), "English", False)
    add(40, "S1", date(2022, 3, 1), "English", False)  # 2 years
    add(25, "X1", date(2024, 2, 1), "English", False)
    return pd.DataFrame(rows)


def _reach() -> pd.DataFrame:
    return pd.DataFrame(
        [("N", "North", "N1"), ("N", "North", "N2"), ("S", "South", "S1"), ("X", "X", "X1")],
        columns=["site_id", "site_name", "small_area"],
    )


SESSIONS = parse_sessions(
    [
        {"site": "N", "name": "stay and play", "per_week": 3, "min_age_months": 12},
        {"site": "S", "name": "baby group", "per_week": 1, "max_age_months": 11},
        {
            "site": "S",
            "name": "toddlers",
            "per_week": 2,
            "min_age_months": 12,
            "max_age_months": 35,
            "languages": ["English", "Polish"],
            "interpreter": True,
        },
    ]
)


def _row(t: pd.DataFrame, site: str, aspect: str, group: str) -> pd.Series:
    r = t[(t["site_id"] == site) & (t["aspect"] == aspect) & (t["group"] == group)]
    assert len(r) == 1, (site, aspect, group)
    return r.iloc[0]


def test_planted_counts_and_sessions() -> None:
    offer = match_offer(_children(), _reach(), SESSIONS, RULES, reference_date=REF)
    t = offer.table
    assert _row(t, "N", "age", "under 1")["children"] == 30
    assert _row(t, "N", "age", "under 1")["sessions_per_week"] == 0
    assert _row(t, "N", "age", "3-4 years")["sessions_per_week"] == 3
    assert _row(t, "N", "language", "somali")["children"] == 24
    assert _row(t, "N", "language", "somali")["share"] == pytest.approx(24 / 90)
    assert _row(t, "N", "language", "english")["sessions_per_week"] == 3  # default language
    assert _row(t, "N", "need", "interpreter")["children"] == 12
    assert _row(t, "S", "age", "2 years")["sessions_per_week"] == 2
    assert _row(t, "X", "age", "under 1")["mismatch"] == NO_SESSION_DATA
    assert np.isnan(_row(t, "X", "age", "under 1")["sessions_per_week"])


def test_mismatch_lines_only_where_the_numbers_support_them() -> None:
    offer = match_offer(_children(), _reach(), SESSIONS, RULES, reference_date=REF)
    assert offer.mismatches == (
        "North: 30 children aged under 1 (33% of its reach area) and no session for "
        "children aged under 1.",
        "North: 24 children whose main language is somali (27% of its reach area) and no "
        "session in somali.",
    )
    # 12 needing an interpreter is under min_children=20: no line; S is matched; X has no data
    strict = match_offer(
        _children(), _reach(), SESSIONS, RULES, reference_date=REF, min_children=25
    )
    assert len(strict.mismatches) == 1 and "under 1" in strict.mismatches[0]
    loose = match_offer(_children(), _reach(), SESSIONS, RULES, reference_date=REF, min_children=10)
    assert any("interpreter" in m for m in loose.mismatches)


def test_counts_are_released() -> None:
    rules = ReleaseRules(method="suppress_round")  # suppress <= threshold, midpoint6
    kids = _children()
    kids.loc[kids.index[:3], "main_language"] = "Tigrinya"  # 3 children: suppressed
    offer = match_offer(kids, _reach(), SESSIONS, rules, reference_date=REF, min_children=1)
    row = _row(offer.table, "N", "language", "tigrinya")
    assert np.isnan(row["children"]) and row["mismatch"] == ""
    assert _row(offer.table, "N", "age", "under 1")["children"] == 27  # 6 * ceil(30 / 6) - 3


def test_bad_session_is_one_config_error_line() -> None:
    with pytest.raises(ConfigError, match=r"planning.sessions\[0\].per_week"):
        parse_sessions([{"site": "N", "name": "x", "per_week": -1}])
    with pytest.raises(ConfigError, match="max_age_months is below"):
        parse_sessions([{"site": "N", "name": "x", "min_age_months": 24, "max_age_months": 12}])

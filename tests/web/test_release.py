"""Disclosure control as the dashboard applies it (hand-computed values)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from everyfamily.errors import ConfigError
from everyfamily.privacy.release import ReleaseRules, rule_text
from everyfamily.web.release import dashboard_reach, public_rows, run_rules


def test_counts_go_through_midpoint6_after_suppression() -> None:
    r = ReleaseRules(suppress_at_or_below=7, rounding="midpoint6")
    assert [r.count(n) for n in (0, 3, 7, 8, 12, 13, 100, None, float("nan"))] == [
        None,
        None,
        None,
        9,
        9,
        15,
        99,
        None,
        None,
    ]
    assert r.text(5) == "fewer than 8"
    assert r.text(1236) == "1,233"  # 1236 = 6 * 206: the block 1231-1236 shows as 1233


def test_settings_from_a_run() -> None:
    r = run_rules(
        {"suppress_at_or_below": 10, "rounding": "nearest5", "release_method": "suppress_round"}
    )
    assert r.count(10) is None and r.count(12) == 10 and r.count(13) == 15
    assert "Counts of 10 or fewer" in rule_text(r)
    # the default method, cell key: the rule names the ptable's bounds for these settings
    ck = run_rules({"suppress_at_or_below": 10, "release_method": "cell_key"})
    assert ck.method == "cell_key"
    assert "within 3 of the true count" in rule_text(ck)
    assert "counts of 1 to 10 are shown as 0 or 11" in rule_text(ck)
    # a run.json written before release_method existed was released by suppression
    assert run_rules({"suppress_at_or_below": 10}).method == "suppress_round"


@pytest.mark.parametrize("where", ["run", "settings"])
def test_an_unknown_rounding_rule_has_one_answer_everywhere_refused(where: str) -> None:
    """The web and the pipeline read the rules through one function: an unknown rounding rule
    is refused on both paths (the web used to show counts under midpoint6 instead), and the
    dashboard says so in one line naming run.json."""
    privacy = {"suppress_at_or_below": 7, "rounding": "nearest10", "release_method": "cell_key"}
    if where == "settings":
        with pytest.raises(ValueError, match="unknown rounding rule 'nearest10'"):
            ReleaseRules.from_settings(privacy)
        return
    with pytest.raises(ConfigError) as err:
        run_rules(privacy)
    assert "run.json" in err.value.one_line() and "nearest10" in err.value.one_line()
    assert "\n" not in err.value.one_line()


def test_a_dashboard_over_a_run_with_an_unknown_rounding_rule_does_not_start(
    tmp_path: Path,
) -> None:
    import json
    import shutil

    from everyfamily.web import create_app

    from .fixture_outputs import build_fixture

    out = build_fixture(tmp_path / "out").out_dir
    run = json.loads((out / "run.json").read_text())
    run["settings"]["privacy"]["rounding"] = "nearest10"
    (out / "run.json").write_text(json.dumps(run))
    # refused where the run folder is opened (the stores check run.json's privacy block),
    # before any count could be shown under another rule
    with pytest.raises(ConfigError, match=r"privacy settings recorded in run\.json"):
        create_app(out)
    shutil.rmtree(out)


@pytest.mark.parametrize(
    ("num", "den", "shown"),
    [
        (80, 100, True),  # 80 and 20 both above 7
        (5, 60, False),  # numerator suppressed
        (47, 50, False),  # only 3 not registered: the complement would be disclosed
        (8, 16, True),  # 8 and 8
        (0, 50, False),  # 0%: says something about everyone
        (50, 50, False),  # 100%
        (10, 0, False),  # no denominator
    ],
)
def test_rate_rule(num: int, den: int, shown: bool) -> None:
    r = ReleaseRules()
    assert r.rate_allowed(num, den) is shown
    assert (r.rate(num / den if den else None, num, den) is not None) is shown


def test_release_reach_keeps_raw_counts_out_of_public_rows() -> None:
    frame = pd.DataFrame(
        {
            "level": ["lsoa", "lsoa"],
            "area_code": ["A", "B"],
            "area_name": ["A", "B"],
            "dimension": ["all", "all"],
            "group_value": ["all", "all"],
            "service": ["any", "any"],
            "ons_population": [102.0, 9.0],
            "denominator": [100, 10],
            "known": [98, 10],
            "registered": [80, 6],
            "engaged": [40, 2],
            "registered_rate": [0.8, 0.6],
            "registered_rate_lower": [0.71, 0.3],
            "registered_rate_upper": [0.87, 0.85],
            "engaged_rate": [0.4, 0.2],
            "engaged_rate_lower": [0.3, 0.05],
            "engaged_rate_upper": [0.5, 0.5],
            "registered_rate_ons": [0.78, 0.67],
            "engaged_rate_ons": [0.39, 0.22],
            "known_completeness": [0.96, 1.11],
            "registered_rate_smoothed": [0.79, 0.7],
            "funnel_z": [2.1, -0.3],
            "funnel_band": ["above_95", "within"],
        }
    )
    out = dashboard_reach(frame, ReleaseRules(method="suppress_round"))
    rows = public_rows(out)
    assert not any(k.startswith("raw_") for k in rows[0])
    a, b = rows
    assert (a["denominator"], a["registered"], a["engaged"]) == (99, 81, 39)
    # rates from the released counts (issue 7); no borough row, so no funnel target
    assert a["registered_rate"] == round(81 / 99, 4) and a["funnel_band"] is None
    assert a["engaged_per_registered"] == round(39 / 81, 4)
    # area B: every count <= 7 except 10 (-> 9); no rate survives, nor its funnel position
    assert (b["denominator"], b["registered"], b["engaged"]) == (9, None, None)
    assert b["registered_rate"] is None and b["funnel_band"] is None and b["funnel_z"] is None
    # known 10 of 10: in a group this small a complement of 0 (everyone known) is
    # protected like any other small complement, so known is not released
    assert b["known"] is None and b["known_completeness"] is None


def test_a_withheld_count_says_why_in_the_api_and_on_the_area_page(viewer_url: str) -> None:
    """Knowsley 004B has 5 engaged children (a small count): withheld, with its reason on
    the area's row of the API and in words on the area page."""
    import html

    import httpx

    from everyfamily.privacy.release import WITHHELD_REASONS

    a = httpx.get(viewer_url + "/api/areas/E01006506", timeout=30).json()
    assert a["overall"]["engaged"] is None
    assert "engaged: small" in a["overall"]["withheld_reason"]
    assert f"engaged: {WITHHELD_REASONS['small']}" in a["overall"]["withheld_note"]
    page = html.unescape(httpx.get(viewer_url + "/areas/E01006506", timeout=30).text)
    assert "Withheld for this area, and why: " in page
    assert f"engaged: {WITHHELD_REASONS['small']}" in page

"""The dashboard's side of disclosure control: what is web-specific, nothing more.

The rules are :class:`everyfamily.privacy.release.ReleaseRules` (the one release path): the
run's rules are read once by :func:`run_rules`, the reach table is released by
:func:`everyfamily.privacy.release.release_reach` (the function that wrote reach.csv; releasing
a released table changes nothing), every other count by ``ReleaseRules.count`` and every rate
by ``ReleaseRules.rate``. The dashboard never formats a raw count itself.

What is left here is the dashboard's view of the released reach table
(:func:`dashboard_reach`: ``raw_*`` copies of the released counts for re-aggregation and the
``engaged_per_registered`` ratio) and its JSON rows (:func:`public_rows`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from everyfamily.errors import ConfigError
from everyfamily.privacy.release import (
    WITHHELD_REASON_COLUMN,
    ReleaseRules,
    release_reach,
    withheld_text,
)
from everyfamily.web.labels import group_label
from everyfamily.web.tables import clean, numeric

COUNT_COLUMNS = ("ons_population", "denominator", "known", "registered", "engaged")
#: rate column -> (numerator, denominator) whose release decides whether it is shown
RATE_COLUMNS: dict[str, tuple[str, str]] = {
    "registered_rate": ("registered", "denominator"),
    "registered_rate_lower": ("registered", "denominator"),
    "registered_rate_upper": ("registered", "denominator"),
    "engaged_rate": ("engaged", "denominator"),
    "engaged_rate_lower": ("engaged", "denominator"),
    "engaged_rate_upper": ("engaged", "denominator"),
    "registered_rate_ons": ("registered", "ons_population"),
    "engaged_rate_ons": ("engaged", "ons_population"),
    "registered_rate_smoothed": ("registered", "denominator"),
    "engaged_per_registered": ("engaged", "registered"),
}
KEY_COLUMNS = ("level", "area_code", "area_name", "dimension", "group_value", "service")
PUBLIC_COLUMNS: tuple[str, ...] = (
    *KEY_COLUMNS,
    *COUNT_COLUMNS,
    "known_completeness",
    *RATE_COLUMNS,
    "funnel_z",
    "funnel_band",
    "linkage_shift_lower",
    "linkage_shift_upper",
    WITHHELD_REASON_COLUMN,
)


def run_rules(privacy: Mapping[str, Any] | None) -> ReleaseRules:
    """The rules the run was released with (run.json ``settings.privacy``), by
    :meth:`ReleaseRules.from_run`. An unknown rounding rule or method (a hand-edited
    run.json: the settings file cannot hold one) stops the dashboard with one line: showing
    counts under a rule other than the run's would disagree with every released file."""
    try:
        return ReleaseRules.from_run(privacy)
    except ValueError as exc:
        raise ConfigError(
            f"run.json: settings.privacy: {exc}",
            hint="run the pipeline again, or correct the privacy block of run.json",
        ) from None


def dashboard_reach(
    reach: pd.DataFrame,
    rules: ReleaseRules,
    hierarchy: pd.DataFrame | None = None,
    small_area_level: str = "lsoa",
) -> pd.DataFrame:
    """The reach table as it may be shown: :func:`everyfamily.privacy.release.release_reach`
    plus ``engaged_per_registered`` from the released counts. The ``raw_*`` columns used for
    re-aggregation (legend classes, reach areas) hold the RELEASED counts too, so the
    dashboard holds no exact count at all."""
    released = release_reach(reach, hierarchy, rules, small_area_level=small_area_level)
    released = released.assign(
        **{
            c: pd.to_numeric(released[c], errors="coerce").astype("float64")
            for c in released.columns
            if c not in (*KEY_COLUMNS, "funnel_band", WITHHELD_REASON_COLUMN)
        }
    )
    out = released[list(KEY_COLUMNS)].copy()
    for c in COUNT_COLUMNS:
        out[f"raw_{c}"] = numeric(released, c)
        out[c] = numeric(released, c).round(0).astype("Int64")
    reg, eng = numeric(released, "registered"), numeric(released, "engaged")
    with np.errstate(divide="ignore", invalid="ignore"):
        per_reg = np.where(reg > 0, eng / reg, np.nan)
    # shown only when engaged, registered and registered-not-engaged would all be released
    ok = reg.notna() & eng.notna() & ((reg - eng) > rules.suppress_at_or_below)
    for col in RATE_COLUMNS:
        if col == "engaged_per_registered":
            out[col] = pd.Series(per_reg, index=out.index).where(ok).round(4)
        else:
            out[col] = numeric(released, col)
    for col in (
        "known_completeness",
        "funnel_z",
        "funnel_tau2",
        "linkage_shift_lower",
        "linkage_shift_upper",
    ):
        out[col] = numeric(released, col)
    out["funnel_band"] = released["funnel_band"].where(released["funnel_band"].notna(), None)
    if WITHHELD_REASON_COLUMN in released:  # why each withheld count is withheld (issue 15)
        out[WITHHELD_REASON_COLUMN] = released[WITHHELD_REASON_COLUMN].fillna("").astype(str)
    return out


def public_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of the released reach table as JSON-ready dicts (public columns only)."""
    cols = [c for c in PUBLIC_COLUMNS if c in frame.columns]
    rows = []
    for rec in frame[cols].to_dict("records"):
        row = {str(k): clean(v) for k, v in rec.items()}
        row["group_label"] = group_label(str(row["dimension"]), str(row["group_value"]))
        if row.get(WITHHELD_REASON_COLUMN):
            row["withheld_note"] = withheld_text(str(row[WITHHELD_REASON_COLUMN]))
        rows.append(row)
    return rows

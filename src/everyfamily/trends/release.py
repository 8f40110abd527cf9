"""The trends table: population estimates per period, disclosure control and rates (pure).

Counts are released by the project's method through
:func:`everyfamily.privacy.release.release_child_counts` with the record-key sums of exactly
the children each count holds (cell key method: the same children give the same released
value as in reach.csv), or suppressed and rounded. Rates and their Wilson 95% intervals
(Wilson 1927; Fingertips' method for proportions) are computed from the RELEASED counts
and shown only when the numerator and its complement are both released
(``ReleaseRules.rate_allowed``), so no rate undoes the protection of a count.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pandas as pd

from everyfamily.findings.stats import wilson_interval
from everyfamily.privacy.release import ReleaseRules, release_child_counts
from everyfamily.trends.periods import COUNTS

#: Rate columns of the released table: name -> (numerator, denominator).
RATES: dict[str, tuple[str, str]] = {
    "registered_rate": ("registered", "denominator"),
    "engaged_rate": ("engaged", "denominator"),
    "engaged_of_registered": ("engaged", "registered"),
}
#: The columns of trends.csv, in order.
RELEASED_COLUMNS: tuple[str, ...] = (
    "period_end",
    "level",
    "area_code",
    "area_name",
    "dimension",
    "group_value",
    "service",
    "age_band",
    *COUNTS,
    "ons_population",
    "registered_rate",
    "registered_rate_lower",
    "registered_rate_upper",
    "engaged_rate",
    "engaged_rate_lower",
    "engaged_rate_upper",
    "engaged_of_registered",
    "registered_trend",
    "engaged_trend",
)


def ons_by_period(
    period_ends: tuple[dt.date, ...],
    population_on: Callable[[dt.date], pd.DataFrame],
    band: tuple[int, int],
    membership: pd.DataFrame,
) -> pd.DataFrame:
    """The population estimate of the age band on each period end, by area of every level:
    period_index, level, area_code, ons_population. ``population_on(date)`` gives the
    estimate (small area, age, population) brought to that date (population.denominators);
    small areas are summed up through ``membership`` (level, area_code, small_area)."""
    frames = []
    for i, end in enumerate(period_ends):
        pop = population_on(end)
        pop = pop[(pop["age"] >= band[0]) & (pop["age"] <= band[1])]
        small = pop.groupby("area_code", as_index=False)["population"].sum()
        up = membership.merge(small, left_on="small_area", right_on="area_code", suffixes=("", "_"))
        agg = up.groupby(["level", "area_code"], as_index=False)["population"].sum()
        frames.append(agg.assign(period_index=i).rename(columns={"population": "ons_population"}))
    cols = ["period_index", "level", "area_code", "ons_population"]
    return pd.concat(frames, ignore_index=True)[cols] if frames else pd.DataFrame(columns=cols)


def release_trends(exact: pd.DataFrame, rules: ReleaseRules) -> pd.DataFrame:
    """The trends table as released (see the module docstring). ``exact`` has the counts of
    :data:`COUNTS` and their ``<count>_key`` sums (NaN where a count does not apply)."""
    out = exact.copy()
    for c in COUNTS:
        n = pd.to_numeric(out[c], errors="coerce").to_numpy(dtype="float64")
        keys = pd.to_numeric(out[f"{c}_key"], errors="coerce").fillna(0).to_numpy(dtype="int64")
        released = release_child_counts(np.where(np.isfinite(n), n, np.nan), keys, rules)
        out[c] = np.where(np.isfinite(n), released, np.nan)
    for name, (num, den) in RATES.items():
        rate, lo, hi = [], [], []
        for x, n in zip(out[num].to_numpy(), out[den].to_numpy(), strict=True):
            if not rules.rate_allowed(x, n):
                rate.append(np.nan)
                lo.append(np.nan)
                hi.append(np.nan)
                continue
            a, b = wilson_interval(float(x), float(n))
            rate.append(round(float(x) / float(n), 4))
            lo.append(round(a, 4))
            hi.append(round(b, 4))
        out[name] = rate
        if name != "engaged_of_registered":
            out[f"{name}_lower"], out[f"{name}_upper"] = lo, hi
    return out

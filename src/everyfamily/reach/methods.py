"""The methods text of the reach statistics: ONE place that says what reach/statistics.py does.

The report's methods section, its funnel caption and the dashboard's funnel title are built
here from the numbers the run actually used (the funnel family's over-dispersion from
run.json ``reach.funnel``, the release's ``max_error``), so the words cannot drift from the
code. Plain text: the templates escape it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: The references, as cited in docs/measures.md.
REFERENCES: dict[str, str] = {
    "wilson": "Wilson 1927; Newcombe 1998",
    "funnel": "Spiegelhalter 2005, Stat Med 24:1185-1202",
    "overdispersion": "Spiegelhalter 2005, Qual Saf Health Care 14:347-351",
    "empirical_bayes": "Kleinman 1973, JASA 68:46-54",
    "standardisation": "Breslow & Day 1987; Byar's approximation, as PHE's PHEindicatormethods",
}


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return f if f == f else None  # NaN -> None


def overdispersion_sentence(funnel: Mapping[str, Any] | None) -> str:
    """What the over-dispersion allowance was on this run, in one sentence."""
    f = funnel or {}
    tau2 = _num(f.get("tau2"))
    units = f.get("units")
    phi = _num(f.get("phi"))
    if tau2 is None or not units:
        return (
            "The between-area variance beyond chance (tau squared) could not be estimated "
            "here (fewer than three areas), so the limits are the plain binomial ones."
        )
    level = str(f.get("level") or "small area")
    phi_text = f", dispersion phi = {phi:.2f}" if phi is not None else ""
    if tau2 > 0:
        return (
            f"Across the {units} {level} areas the rates vary more than chance explains"
            f"{phi_text}; the additive between-area variance is tau squared = {tau2:.5f} "
            f"(tau = {100 * tau2**0.5:.1f} percentage points), so every limit is widened by it."
        )
    return (
        f"Across the {units} {level} areas the rates vary no more than chance explains"
        f"{phi_text}; tau squared = 0, so the limits are the plain binomial ones."
    )


def rates_and_limits(funnel: Mapping[str, Any] | None, *, max_error: int = 0) -> str:
    """The report's "Rates and limits" paragraph (plain text)."""
    release = (
        f" Released counts may each differ from the true count by up to {max_error}, so each "
        "interval is the union of the Wilson intervals over every count the shown ones may "
        "stand for."
        if max_error > 0
        else ""
    )
    return (
        f"Rates carry Wilson score 95% intervals ({REFERENCES['wilson']}).{release} "
        "Each area is compared on a funnel plot with the borough's rate for the same group "
        "and service (babies with the borough's babies), with 95% and 99.8% control limits "
        "p0 \u00b1 z \u221a(p0(1 \u2212 p0)/n + \u03c4\u00b2) "
        f"({REFERENCES['funnel']}). \u03c4\u00b2 is Spiegelhalter's additive random effect, "
        "estimated from z-scores winsorised at the 10th and 90th percentiles, their mean "
        "square divided by its value for chance alone (0.679) "
        f"({REFERENCES['overdispersion']}), once for each set of areas compared, and the "
        "same value is used in reach.csv, this report and the dashboard; the findings on "
        "areas also count children in families as fewer independent draws (the family "
        "design effect), so their allowance is the part families do not explain, stated in "
        "each finding. "
        f"{overdispersion_sentence(funnel)} "
        "Smoothed rates are beta-binomial empirical Bayes estimates: each area's rate is "
        "pulled towards the borough's in proportion to how little its own count tells "
        f"({REFERENCES['empirical_bayes']}, method of moments). Age-standardised ratios "
        "compare each area's registrations with those expected from the borough's rate at "
        "each single year of age (indirect standardisation; exact Poisson limits below 10 "
        f"registrations, Byar's above; {REFERENCES['standardisation']})."
    )


def funnel_caption(tau2: float | None) -> str:
    """How the drawn funnel limits were made, for a parenthesis after "95% and 99.8% limits"
    (report caption, dashboard chart title)."""
    t = _num(tau2) or 0.0
    if t > 0:
        return (
            "Spiegelhalter 2005; widened for the variation between areas beyond chance, "
            f"\u03c4 = {100 * t**0.5:.1f} percentage points"
        )
    return "Spiegelhalter 2005; not widened: the areas vary no more than chance explains"

"""Disclosure control for everything the dashboard shows or exports.

The reach table goes through :meth:`Release.reach`, which is
:func:`everyfamily.privacy.release.release_reach`: the same function the measure stage used
to write reach.csv (suppression, complement protection, secondary suppression, rounding,
rates from the protected counts). Every other count goes through :meth:`Release.count`
(which calls :func:`everyfamily.privacy.disclosure.released_count` with the run's privacy
settings), and every rate through :meth:`Release.rate`. The dashboard never formats a raw
count itself.

Rates: a proportion is shown only when its numerator AND its complement (denominator minus
numerator) would both be released. A suppressed numerator is otherwise recoverable from the
rate and the denominator, and a rate of 0% or 100% (or close to it in a small group)
discloses something about every member of the group (DOMAIN.md, "Disclosure control
conventions"). The rate itself is computed from the true counts and is not rounded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, cast

import pandas as pd

from everyfamily.privacy import disclosure
from everyfamily.privacy.release import (
    DEFAULT_METHOD,
    ReleaseMethod,
    ReleaseRules,
    release_reach,
    rule_text,
)


def _number(v: Any) -> float | None:
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


@dataclass(frozen=True)
class Release:
    """The run's disclosure rules (project ``privacy`` block)."""

    suppress_at_or_below: int = disclosure.DEFAULT_SUPPRESS_AT_OR_BELOW
    rounding: disclosure.Rounding = "midpoint6"
    method: ReleaseMethod = DEFAULT_METHOD

    @classmethod
    def from_settings(cls, privacy: dict[str, Any] | None) -> Release:
        privacy = privacy or {}
        rounding = str(privacy.get("rounding", "midpoint6"))
        if rounding not in ("midpoint6", "nearest5", "none"):
            rounding = "midpoint6"
        return cls(
            suppress_at_or_below=int(
                privacy.get("suppress_at_or_below", disclosure.DEFAULT_SUPPRESS_AT_OR_BELOW)
            ),
            rounding=cast(disclosure.Rounding, rounding),
            # run.json records release_method since it became a setting; a run folder
            # without it was released by suppression and rounding (the only method then)
            method=cast(
                ReleaseMethod,
                "cell_key" if privacy.get("release_method") == "cell_key" else "suppress_round",
            ),
        )

    def reach(
        self, reach: pd.DataFrame, hierarchy: pd.DataFrame | None, small_area_level: str
    ) -> pd.DataFrame:
        """The reach table released by THE release function (privacy.release)."""
        rules = ReleaseRules(self.suppress_at_or_below, self.rounding, self.method)
        return release_reach(reach, hierarchy, rules, small_area_level=small_area_level)

    def count(self, n: Any) -> int | None:
        """The count as released (None when suppressed or unknown)."""
        value = _number(n)
        if value is None:
            return None
        return disclosure.released_count(
            value, suppress_at_or_below=self.suppress_at_or_below, rounding=self.rounding
        )

    def again(self, n: Any) -> int | None:
        """A count that was RELEASED already (findings.json, reach.csv) as shown again: under
        the cell key method as it is (rounding a perturbed count again would only make it
        disagree with the table it came from), except that a count of
        ``1..suppress_at_or_below`` (which no release shows: a hand-edited file) is not
        shown; under suppression and rounding, :meth:`count` (idempotent on its output)."""
        if self.method != "cell_key":
            return self.count(n)
        value = _number(n)
        if value is None or value < 0 or 1 <= value <= self.suppress_at_or_below:
            return None
        return round(value)

    def text(self, n: Any) -> str:
        """The released count as text: '1,236' or 'fewer than 8'."""
        return disclosure.released_text(
            _number(n), suppress_at_or_below=self.suppress_at_or_below, rounding=self.rounding
        )

    def rate_allowed(self, numerator: Any, denominator: Any) -> bool:
        """May a rate numerator/denominator be shown? (see the module docstring)"""
        num, den = _number(numerator), _number(denominator)
        if num is None or den is None or den <= 0:
            return False
        return self.count(num) is not None and self.count(max(den - num, 0.0)) is not None

    def rate(self, value: Any, numerator: Any, denominator: Any) -> float | None:
        """``value`` (a rate or interval bound) when its counts allow it, else None."""
        v = _number(value)
        if v is None or not self.rate_allowed(numerator, denominator):
            return None
        return round(v, 4)

    @property
    def rule_text(self) -> str:
        """One sentence describing the rule, shown on every page and export."""
        return rule_text(ReleaseRules(self.suppress_at_or_below, self.rounding, self.method))

"""Disclosure control for released counts: suppress small counts, then round.

A small pure module with named constants, in the manner of OpenSAFELY's (ehrQL) disclosure
control: counts at or below a threshold are suppressed (redacted), the rest are rounded.
Every count that leaves the restricted zone (report, findings headlines, dashboards) goes
through :func:`released_count`, so one later change here tightens every output.

Rules (DOMAIN.md, "Disclosure control conventions"):

- suppression: ``n <= suppress_at_or_below`` is not released (OpenSAFELY redacts 7 or fewer);
- ``midpoint6``: 0 stays 0; 1-6 -> 3; 7-12 -> 9; ... i.e. ``6 * ceil(n / 6) - 3``. Unbiased
  for counts spread evenly within each block, and keeps zeros distinguishable;
- ``nearest5``: round half up to the nearest multiple of 5 (OpenSAFELY's rounding);
- ``none``: released as counted (only for trusted settings; say so on the output).

Suppression alone is vulnerable to differencing (a total minus its shown parts); rounding
every released count, including totals, is what makes differencing unreliable.
"""

from __future__ import annotations

import math
from typing import Literal

#: OpenSAFELY's default redaction threshold: counts of 7 or fewer are not released.
DEFAULT_SUPPRESS_AT_OR_BELOW = 7
#: Midpoint-6 rounding works in blocks of this size (1-6, 7-12, ...).
MIDPOINT6_BLOCK = 6
#: Nearest-5 rounding base.
NEAREST_BASE = 5
#: What a suppressed count is shown as in text.
SUPPRESSED_TEXT = "fewer than {limit}"

Rounding = Literal["midpoint6", "nearest5", "none"]


def round_midpoint6(n: int) -> int:
    """Midpoint-6 rounding: 0 -> 0; 1-6 -> 3; 7-12 -> 9; 13-18 -> 15 ..."""
    if n < 0:
        raise ValueError("counts are never negative")
    if n == 0:
        return 0
    return MIDPOINT6_BLOCK * math.ceil(n / MIDPOINT6_BLOCK) - MIDPOINT6_BLOCK // 2


def round_nearest5(n: int) -> int:
    """Round half up to the nearest multiple of 5: 2 -> 0, 3 -> 5, 12 -> 10, 13 -> 15."""
    if n < 0:
        raise ValueError("counts are never negative")
    return NEAREST_BASE * math.floor(n / NEAREST_BASE + 0.5)


def released_count(
    n: int | float | None,
    *,
    suppress_at_or_below: int = DEFAULT_SUPPRESS_AT_OR_BELOW,
    rounding: Rounding = "midpoint6",
) -> int | None:
    """The count as it may be released: ``None`` when suppressed, otherwise rounded.

    ``None``/NaN in gives ``None`` out (nothing to release). Non-integral input (an expected
    count) is rounded to the nearest whole child first.
    """
    if n is None or (isinstance(n, float) and math.isnan(n)):
        return None
    value = round(float(n))
    if value < 0:
        raise ValueError("counts are never negative")
    if value <= suppress_at_or_below:
        return None
    if rounding == "midpoint6":
        return round_midpoint6(value)
    if rounding == "nearest5":
        return round_nearest5(value)
    if rounding == "none":
        return value
    raise ValueError(f"unknown rounding rule {rounding!r}: use midpoint6, nearest5 or none")


def released_text(
    n: int | float | None,
    *,
    suppress_at_or_below: int = DEFAULT_SUPPRESS_AT_OR_BELOW,
    rounding: Rounding = "midpoint6",
) -> str:
    """The released count as text for headlines: '1,236', or 'fewer than 8' when suppressed."""
    if n is None or (isinstance(n, float) and math.isnan(n)):
        return "unknown"
    value = released_count(n, suppress_at_or_below=suppress_at_or_below, rounding=rounding)
    if value is None:
        return SUPPRESSED_TEXT.format(limit=suppress_at_or_below + 1)
    return f"{value:,}"

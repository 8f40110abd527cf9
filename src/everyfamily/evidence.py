"""How evidence is scored and written down: the shared, public formatting of findings.

Every stage that proposes a finding (``findings``, ``access``, ``communities``) scores its
evidence and writes its numbers the same way, so a reader can compare an access barrier
with an unreached group. These helpers are pure and depend on nothing in the package.

* :func:`strength` is the evidence score used to rank findings: ``-log10(q)``, capped at
  :data:`STRENGTH_CAP` (a q-value is a Benjamini-Hochberg adjusted p-value; Benjamini and
  Hochberg 1995). ``score = excess unreached children x strength`` (docs/findings.md).
* :func:`fnum` and :func:`sig` write floats for JSON (``findings.json`` has no NaN).
* :func:`p_bound` writes a released p- or q-value as a one-significant-figure upper bound,
  so that the shown value says little about the exact counts behind it (docs/privacy.md).
"""

from __future__ import annotations

import math

#: Evidence strength is -log10(q), capped here so one enormous sample cannot dominate the
#: ranking: beyond q = 1e-10 the evidence is overwhelming either way and size should decide.
STRENGTH_CAP = 10.0
#: The smallest q taken into the logarithm (q = 0 from an underflowing test reads as this).
_SMALLEST_Q = 1e-300


def strength(q: float | None) -> float:
    """Strength of evidence: ``-log10(q)``, capped at :data:`STRENGTH_CAP`; 0 when q is
    undefined (None, NaN or infinite)."""
    if q is None or not math.isfinite(q):
        return 0.0
    return float(min(-math.log10(max(q, _SMALLEST_Q)), STRENGTH_CAP))


def fnum(value: float | None) -> float | None:
    """A float for JSON: None for None, NaN or infinity, otherwise rounded to 6 places."""
    return round(float(value), 6) if value is not None and math.isfinite(value) else None


def sig(value: float | None) -> float | None:
    """A p- or q-value for JSON: None for None or NaN, otherwise 3 significant figures (tiny
    values are kept: 1.234e-12 -> 1.23e-12)."""
    if value is None or not math.isfinite(value):
        return None
    return float(f"{float(value):.3g}")


def p_bound(p: float | None) -> float | None:
    """A p- or q-value as released: rounded UP to one significant figure (0.0123 -> 0.02,
    3.1e-7 -> 4e-7), so the shown value is an upper bound (a finding with q <= 0.05 still
    shows q <= 0.05) that says little about the exact counts behind it."""
    if p is None or not math.isfinite(p):
        return None
    if p <= 0:
        return 0.0
    exponent = math.floor(math.log10(p))
    scale = 10.0**exponent
    return float(f"{math.ceil(round(p / scale, 9)) * scale:.1g}")

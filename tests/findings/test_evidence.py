"""everyfamily.evidence: the shared scoring and number formats, against hand-computed values."""

from __future__ import annotations

import math

import pytest

from everyfamily import evidence
from everyfamily.findings.model import STRENGTH_CAP


def test_strength_is_minus_log10_q_capped() -> None:
    assert evidence.strength(0.01) == pytest.approx(2.0)
    assert evidence.strength(0.05) == pytest.approx(1.30103, abs=1e-5)  # -log10(0.05)
    assert evidence.strength(1.0) == 0.0
    assert evidence.strength(1e-12) == evidence.STRENGTH_CAP == 10.0
    assert evidence.strength(0.0) == 10.0  # an underflowing q is as strong as the cap allows
    assert evidence.strength(None) == evidence.strength(math.nan) == 0.0
    assert STRENGTH_CAP is evidence.STRENGTH_CAP  # findings keeps the name, one value


def test_fnum_rounds_to_six_places_and_drops_non_finite() -> None:
    assert evidence.fnum(1 / 3) == 0.333333
    assert evidence.fnum(2.0000004) == 2.0
    assert evidence.fnum(-0.1234567) == -0.123457
    assert evidence.fnum(math.nan) is None
    assert evidence.fnum(math.inf) is None
    assert evidence.fnum(None) is None


def test_sig_keeps_three_significant_figures_of_tiny_values() -> None:
    assert evidence.sig(0.012345) == 0.0123
    assert evidence.sig(1.23456e-12) == 1.23e-12
    assert evidence.sig(0.99951) == 1.0
    assert evidence.sig(math.nan) is None


def test_p_bound_rounds_up_to_one_figure() -> None:
    assert evidence.p_bound(0.0123) == 0.02
    assert evidence.p_bound(3.1e-7) == 4e-7
    assert evidence.p_bound(0.05) == 0.05  # exactly one figure: unchanged, still <= 0.05
    assert evidence.p_bound(0.0) == 0.0
    assert evidence.p_bound(None) is None

"""The detectors: each reads the reach table and returns findings of one kind.

Every detector is pure (frames in, frozen findings out) and states its test in the
finding's evidence. Families of tests are controlled by Benjamini-Hochberg; the minimum
effect sizes and counts are the named constants of :mod:`everyfamily.findings.model`.

Tests run on the exact counts (the statistics are right), but every number a finding
shows is disclosure-controlled: counts in the headline and the evidence are released by the
rules of the reach release (suppression, the complement rule, rounding:
:func:`everyfamily.findings.text.released_pair`), and the finding's ``observed``,
``expected``, ``interval``, rates and shares are computed from those released counts, so
no shown number undoes the rounding of another (an exact 13/40 = 32.5% would reveal both
counts; 15/39 = 38% does not).

Each kind lives in its own module (areas, groups, sites, completeness, deprivation,
linkage; shared helpers in common); the public names stay importable from here.
"""

from __future__ import annotations

from everyfamily.findings.detectors.areas import find_unreached_areas
from everyfamily.findings.detectors.common import Neighbours, borough_row, strength
from everyfamily.findings.detectors.common import _fnum as _fnum
from everyfamily.findings.detectors.common import _sig as _sig
from everyfamily.findings.detectors.completeness import find_unknown_population
from everyfamily.findings.detectors.deprivation import (
    GRADIENT_DIMENSIONS,
    find_deprivation_gradients,
)
from everyfamily.findings.detectors.groups import find_unreached_groups
from everyfamily.findings.detectors.linkage import (
    PAIR_LEVEL_DIMENSIONS,
    find_linkage_quality_gaps,
)
from everyfamily.findings.detectors.sites import find_low_engagement_sites

__all__ = [
    "GRADIENT_DIMENSIONS",
    "PAIR_LEVEL_DIMENSIONS",
    "Neighbours",
    "borough_row",
    "find_deprivation_gradients",
    "find_linkage_quality_gaps",
    "find_low_engagement_sites",
    "find_unknown_population",
    "find_unreached_areas",
    "find_unreached_groups",
    "strength",
]

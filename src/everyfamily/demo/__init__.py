"""The synthetic Knowsley scenario: real open data, synthetic families, planted stories.

``generate_scenario(out_dir, seed, stories)`` writes a self-contained project folder (project
file, four council extracts in their own formats, a demo key, illustrative sites) plus the
ground truth that tests and benchmarks check the pipeline against.
"""

from __future__ import annotations

from everyfamily.demo.nhs import check_digit, is_valid, synthetic_nhs_numbers
from everyfamily.demo.scenario import Scenario, generate_scenario
from everyfamily.demo.stories import (
    ORIGINS,
    Barrier,
    EmergingCommunity,
    Gradients,
    LowEngagementSite,
    Stories,
)
from everyfamily.demo.world import REFERENCE_DATE, World, simulate

__all__ = [
    "ORIGINS",
    "REFERENCE_DATE",
    "Barrier",
    "EmergingCommunity",
    "Gradients",
    "LowEngagementSite",
    "Scenario",
    "Stories",
    "World",
    "check_digit",
    "generate_scenario",
    "is_valid",
    "simulate",
    "synthetic_nhs_numbers",
]

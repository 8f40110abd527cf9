"""Shared session fixtures.

``knowsley_scenario`` generates the synthetic Knowsley scenario once per test session (the
default seed and stories); ``make_scenario`` generates variants (another seed, stories moved
or switched off) into fresh temporary folders.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from everyfamily.demo import Scenario, Stories, generate_scenario

DEFAULT_SEED = 2026

#: postgres_server / postgres_dsn: a throwaway PostgreSQL server (tests/postgres_server.py)
pytest_plugins = ("postgres_server",)


@pytest.fixture(scope="session")
def knowsley_scenario(tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    """The default synthetic Knowsley scenario (seed 2026, every story), generated once."""
    return generate_scenario(tmp_path_factory.mktemp("knowsley") / "scenario", seed=DEFAULT_SEED)


@pytest.fixture
def make_scenario(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Scenario]:
    """A function ``make(seed=2026, stories=None) -> Scenario`` writing to a fresh folder."""

    def make(seed: int = DEFAULT_SEED, stories: Stories | None = None) -> Scenario:
        out: Path = tmp_path_factory.mktemp(f"scenario-{seed}") / "scenario"
        return generate_scenario(out, seed=seed, stories=stories)

    return make

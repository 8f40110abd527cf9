"""A small costed service model shared by the planning tests (numbers chosen by hand)."""

from __future__ import annotations

from typing import Any

import pytest

from everyfamily.planning.costs import ServiceModel, parse_service_model


def _model_data() -> dict[str, Any]:
    """Three sites and one venue; 'play' costs 100 a session, 'baby' 50, 48 weeks a year."""
    return {
        "source": "illustrative",
        "basis": "round numbers for tests",
        "weeks_per_year": 48,
        "session_types": [
            {"name": "play", "cost_per_session": 100},
            {"name": "baby", "cost_per_session": 50},
        ],
        "sites": [
            {
                "id": "A",
                "running_cost_per_year": 100_000,
                "sessions_per_week": {"play": 2},
                "places_per_session": 10,
                "opening_days_per_week": 5,
            },
            {
                "id": "B",
                "running_cost_per_year": 50_000,
                "sessions_per_week": {"play": 1, "baby": 2},
                "places_per_session": 8,
                "opening_days_per_week": 3,
            },
            {
                "id": "C",
                "running_cost_per_year": 80_000,
                "sessions_per_week": {},
                "places_per_session": 12,
                "opening_days_per_week": 5,
            },
        ],
        "venues": [
            {
                "id": "V",
                "kind": "library",
                "cost_to_use_per_year": 5_000,
                "sessions_per_week": {"baby": 1},
                "places_per_session": 6,
            }
        ],
        "outreach": {
            "cost_per_hour": 30,
            "visit_minutes": 30,
            "registrations_per_visit": 0.5,
            "yield_source": "assumption",
            "yield_basis": "half of visited families register (test figure)",
        },
    }


@pytest.fixture
def model_data() -> dict[str, Any]:
    """A fresh copy of the model's settings (a test may change it)."""
    return _model_data()


@pytest.fixture
def costs() -> ServiceModel:
    return parse_service_model(_model_data())

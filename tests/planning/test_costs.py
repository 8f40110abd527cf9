"""The costed service model: hand-computed annual costs and one-line validation errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from everyfamily.errors import ConfigError
from everyfamily.planning.costs import ServiceModel, parse_service_model


def test_annual_costs_by_hand(costs: ServiceModel) -> None:
    # A: 100,000 + 2 play x 100 x 48 = 109,600
    assert costs.place_cost_per_year("A") == 109_600
    # B: 50,000 + (1 x 100 + 2 x 50) x 48 = 59,600
    assert costs.place_cost_per_year("B") == 59_600
    assert costs.place_cost_per_year("C") == 80_000
    # V: 5,000 + 1 x 50 x 48 = 7,400
    assert costs.place_cost_per_year("V") == 7_400
    assert costs.baseline_cost_per_year == 109_600 + 59_600 + 80_000
    # outreach: 10 hours x 30; B with only its play session: 50,000 + 4,800
    assert costs.cost_per_year(["B"], sessions={"B": {"play": 1}}, outreach_hours_per_year=10) == (
        54_800 + 300
    )
    assert costs.sites[1].capacity_per_week == 3 * 8
    assert costs.venues[0].capacity_per_week == 6


def test_assumptions_are_named(costs: ServiceModel) -> None:
    text = " ".join(costs.assumptions)
    assert "illustrative" in text and "assumption" in text


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["sites"][1].update(running_cost_per_year=-5), "planning.sites[1].running"),
        (lambda d: d["sites"][0].update(colour="red"), "planning.sites[0].colour: unknown"),
        (lambda d: d.pop("basis"), "planning.basis: this setting is required"),
        (lambda d: d["sites"][2].update(sessions_per_week={"yoga": 1}), "unknown session type"),
        (lambda d: d["venues"][0].update(id="A"), "'A' is used twice"),
        (lambda d: d["outreach"].pop("yield_basis"), "needs its basis written down"),
        (lambda d: d["outreach"].update(registrations_per_visit=2), "registrations_per_visit"),
        (lambda d: d["sites"][0].update(opening_days_per_week=8), "opening_days_per_week"),
    ],
)
def test_validation_errors_are_one_line(
    change: Callable[[dict[str, Any]], object], expected: str, model_data: dict[str, Any]
) -> None:
    data = model_data
    change(data)
    with pytest.raises(ConfigError) as err:
        parse_service_model(data)
    msg = str(err.value)
    assert expected in msg
    assert "\n" not in msg
    assert "docs/planning.md" in msg


def test_council_yield_needs_no_basis(model_data: dict[str, Any]) -> None:
    data = model_data
    data["outreach"].update(yield_source="council", yield_basis=None)
    m = parse_service_model(data)
    assert isinstance(m, ServiceModel)
    assert not any("registrations per visit" in a for a in m.assumptions)


def test_unknown_place_is_a_config_error(costs: ServiceModel) -> None:
    with pytest.raises(ConfigError, match="no site or venue has the id 'Z'"):
        costs.place_cost_per_year("Z")

"""A solver that fails or times out gives a one-line error saying what to relax (issue 17),
for each model the planning stage and the bench solve: MCLP and p-median (spopt, CBC), the
budgeted MCLP and the capacitated one (HiGHS). A time limit of a millisecond stops each
solver before it has any set (CBC then reports the problem infeasible, which must still
read as a time-out; HiGHS gets 3,000 home points, which it cannot finish in a
millisecond); an infeasible capacity is a failure of its own."""

from __future__ import annotations

import numpy as np
import pytest

from everyfamily.errors import PlanningError
from everyfamily.planning import optimise as op

RNG = np.random.default_rng(1)
HOMES = RNG.uniform(0, 8000, (200, 2))
PLACES = RNG.uniform(0, 8000, (30, 2))
M = np.hypot(*(HOMES[:, None, :] - PLACES[None, :, :]).transpose(2, 0, 1)) / 80.0
W = RNG.integers(1, 6, 200).astype(float)
IDS = [f"p{j}" for j in range(30)]
COSTS = RNG.integers(20, 80, 30).astype(float) * 1000
TIMED_OUT = "the solver found no site set for the {} within 0.001 s"


def _big() -> tuple[np.ndarray, np.ndarray]:
    """3,000 home points: the 200 above x 15, moved up to 400 m."""
    homes = np.repeat(HOMES, 15, axis=0) + RNG.uniform(-400, 400, (3000, 2))
    m = np.hypot(*(homes[:, None, :] - PLACES[None, :, :]).transpose(2, 0, 1)) / 80.0
    return m, np.repeat(W, 15)


def _one_line(err: pytest.ExceptionInfo[PlanningError]) -> str:
    text = err.value.one_line()
    assert "\n" not in text and str(err.value).count("\n") == 0
    return text


def test_mclp_time_out_says_what_to_relax() -> None:
    with pytest.raises(PlanningError) as err:
        op.mclp(M, W, IDS, 10, time_limit_s=1e-3)
    text = _one_line(err)
    assert TIMED_OUT.format("covering problem") in text
    assert "raise the time limit (planning.solver_time_limit_seconds)" in text


def test_p_median_time_out_says_what_to_relax() -> None:
    with pytest.raises(PlanningError) as err:
        op.p_median(M, W, IDS, 10, time_limit_s=1e-3)
    text = _one_line(err)
    assert TIMED_OUT.format("p-median problem") in text
    assert "offer fewer candidate venues" in text


def test_budget_time_out_is_a_time_out_not_infeasible() -> None:
    # the same budget with time is solved; stopped after a millisecond, HiGHS either has no
    # set (a one-line time-out, never "no site set satisfies") or returns its best set
    # marked as not proven (the scenario's note then says "best found before the time limit")
    m, w = _big()
    assert op.best_for_budget(m, w, IDS, COSTS, 500_000).proven_optimal
    try:
        got = op.best_for_budget(m, w, IDS, COSTS, 500_000, time_limit_s=1e-3)
    except PlanningError as exc:
        text = exc.one_line()
        assert "\n" not in text
        assert TIMED_OUT.format("budget") in text and "no site set satisfies" not in text
    else:
        assert not got.proven_optimal and (got.cost_per_year or 0) <= 500_000


def test_capacitated_time_out_says_what_to_relax() -> None:
    caps = np.full(30, 30.0)
    done = op.best_for_budget(M, W, IDS, COSTS, 500_000, capacities=caps)
    assert done.proven_optimal and done.optimality_gap is not None
    m, w = _big()
    with pytest.raises(PlanningError) as err:
        op.best_for_budget(m, w, IDS, COSTS, 500_000, capacities=caps, time_limit_s=1e-3)
    text = _one_line(err)
    assert TIMED_OUT.format("budget with capacities") in text
    assert text.endswith("or turn planning.capacitated off)")


def test_p_median_over_capacity_says_what_to_relax() -> None:
    # 10 places of 50 cannot take the demand of ~600: fails before the solver, one line
    with pytest.raises(PlanningError) as err:
        op.p_median(M, W, IDS, 10, capacities=np.full(30, 50.0))
    assert "open more places or raise their capacities" in _one_line(err)


def test_sites_and_sessions_time_out_says_what_to_relax() -> None:
    from everyfamily.planning.sessions import SessionPlaces, best_sites_and_sessions

    places = SessionPlaces(
        fixed_cost=COSTS,
        session_cost=np.full(30, 2_000.0),
        places_per_session=np.full(30, 10.0),
        max_sessions=np.full(30, 6.0),
        fixed_capacity=np.zeros(30),
    )
    m, w = _big()
    with pytest.raises(PlanningError) as err:
        best_sites_and_sessions(
            m,
            w,
            w * 0.5,
            places,
            500_000,
            radius=15.0,
            fixed=np.zeros(30, dtype=bool),
            time_limit_s=1e-3,
        )
    text = _one_line(err)
    assert TIMED_OUT.format("budget with sessions and capacities") in text
    assert "planning.solver_time_limit_seconds" in text

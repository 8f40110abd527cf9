"""The attacker: integer programming over everything a set of released tables says.

For each suppressed cell, the attacker minimises and maximises its value subject to every
fact the releases give: the additive relations (a larger area is the sum of its small
areas, groups sum to their total), the rounding block of every released count, the rule
that a released count is above the threshold (and so is its complement; for known, in a
group the release calls small), registered and
engaged at most the denominator, and (across releases) how much each count can have grown.
A cell is recovered when its minimum equals its maximum. scipy's HiGHS MILP solves it.

Every solve's optimum is a feasible integer point of the same model, and the true table is
another: a cell that takes a value other than its true one at any point already found is
not pinned, with no solve of its own (exact, not a heuristic: it is the argument ``pinned``
makes with the extremes). This saves most of the solves.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, milp

from everyfamily.privacy.release import (
    KEYS,
    PROTECTED_COUNTS,
    known_complement_group_limit,
    reach_relations,
)

BIG = 10_000.0


@dataclass
class Attack:
    n: int
    lower: list[float]
    upper: list[float]
    rows: list[dict[int, float]]
    row_lo: list[float]
    row_hi: list[float]
    #: feasible integer points of the model as it is now (cleared when it grows)
    points: list[np.ndarray] = field(default_factory=list)
    points_of: tuple[int, int] = (0, 0)

    def var(self, lo: float, hi: float) -> int:
        self.lower.append(lo)
        self.upper.append(hi)
        self.n += 1
        return self.n - 1

    def constrain(self, coef: dict[int, float], lo: float, hi: float) -> None:
        self.rows.append(coef)
        self.row_lo.append(lo)
        self.row_hi.append(hi)

    def _constraints(self) -> LinearConstraint:
        from scipy.sparse import coo_array

        if getattr(self, "_cache", None) is None or self._cache[0] != len(self.rows):
            r, cidx, vals = [], [], []
            for i, coef in enumerate(self.rows):
                for j, c in coef.items():
                    r.append(i)
                    cidx.append(j)
                    vals.append(c)
            a = coo_array((vals, (r, cidx)), shape=(len(self.rows), self.n)).tocsr()
            self._cache = (len(self.rows), LinearConstraint(a, self.row_lo, self.row_hi))
        return self._cache[1]

    def extreme(self, v: int, sign: float) -> float:
        """The smallest (sign 1) or largest (sign -1) integer value variable v can take."""
        c = np.zeros(self.n)
        c[v] = sign
        res = milp(
            c,
            constraints=self._constraints(),
            integrality=np.ones(self.n),
            bounds=Bounds(self.lower, self.upper),
        )
        if not res.success:
            raise RuntimeError(f"attack model infeasible: {res.message}")
        self._feasible().append(np.asarray(res.x, dtype=float))
        return float(sign * res.fun)

    def _feasible(self) -> list[np.ndarray]:
        """The feasible points found for the model as it is (a new variable or constraint
        makes the old ones unknown, so they are dropped)."""
        if self.points_of != (self.n, len(self.rows)):
            self.points, self.points_of = [], (self.n, len(self.rows))
        return self.points

    def pinned(self, v: int, true_value: float) -> bool:
        """Is variable v forced to one value? The true table is one feasible point, so v is
        pinned exactly when both its largest and smallest feasible values equal the true
        value (the true value only saves a solve; it is not a constraint). A feasible
        point already found where v is another value settles it without a solve."""
        if any(abs(x[v] - true_value) > 0.5 for x in self._feasible()):
            return False
        if self.extreme(v, -1.0) > true_value + 0.5:
            return False
        return self.extreme(v, 1.0) > true_value - 0.5


def block(value: float, rounding: str, limit: int) -> tuple[float, float]:
    """What a released count says about the true count. ``cell_key``: the default ptable
    (privacy.cellkey): a shown 0 is 0-``limit``, a shown ``limit + 1`` is 1 to
    ``limit + 4`` (a small count sent up, or 8-11 perturbed by 0 to -3), a larger shown
    count is within 3 of the truth and above ``limit``."""
    if rounding == "cell_key":
        if value == 0:
            return 0.0, float(limit)
        if value == limit + 1:
            return 1.0, float(limit + 4)
        return max(value - 3, limit + 1), value + 3
    if rounding == "midpoint6":
        lo, hi = value - 2, value + 3
    elif rounding == "nearest5":
        lo, hi = value - 2, value + 2
    else:
        lo, hi = value, value
    return max(lo, limit + 1), hi


def add_release(
    attack: Attack,
    released: pd.DataFrame,
    hierarchy: pd.DataFrame,
    rounding: str,
    limit: int,
    small_level: str = "lsoa",
    *,
    primary_only: bool = False,
) -> dict[tuple[int, str], int]:
    """Variables and constraints for one released table; returns (row, column) -> var.
    ``primary_only``: the publisher is known to suppress only small counts, so every
    suppressed cell is at most ``limit`` (true of a release without secondary suppression;
    with it, a suppressed cell may hold any count)."""
    rel = released.reset_index(drop=True)
    var: dict[tuple[int, str], int] = {}
    for c in PROTECTED_COUNTS:
        for i, v in enumerate(rel[c]):
            if pd.isna(v):
                var[(i, c)] = attack.var(0, limit if primary_only else BIG)
            else:
                lo, hi = block(float(v), rounding, limit)
                var[(i, c)] = attack.var(lo, hi)
    keys = rel[list(KEYS)].astype(str)
    relations = reach_relations(keys, hierarchy, small_level)
    for c in PROTECTED_COUNTS:
        for _r, g in relations.groupby("rel"):
            coef: dict[int, float] = {}
            for cell, is_parent in zip(g["cell"], g["is_parent"], strict=True):
                j = var[(int(cell), c)]
                coef[j] = coef.get(j, 0.0) + (-1.0 if is_parent else 1.0)
            attack.constrain(coef, 0, 0)
    for i in range(len(rel)):
        den = var[(i, "denominator")]
        for c in ("known", "registered", "engaged"):
            attack.constrain({den: 1.0, var[(i, c)]: -1.0}, 0, BIG)
        for c in ("registered", "engaged"):
            if rounding == "cell_key":  # no complement rule under the cell key method
                continue
            if not pd.isna(rel.loc[i, c]):  # released: its complement was not small
                attack.constrain({den: 1.0, var[(i, c)]: -1.0}, limit + 1, BIG)
        # known released in a group the release shows as small: its complement was not small
        # (a publisher known to suppress only small counts makes no such promise)
        shown_den = rel.loc[i, "denominator"]
        if (
            not primary_only
            and rounding != "cell_key"
            and not pd.isna(rel.loc[i, "known"])
            and not pd.isna(shown_den)
            and float(shown_den) <= known_complement_group_limit(limit)
        ):
            attack.constrain({den: 1.0, var[(i, "known")]: -1.0}, limit + 1, BIG)
    # the same group's denominator and known on every service's row
    base = keys.drop(columns="service").astype(str).agg("|".join, axis=1)
    for _k, idx in base.groupby(base).groups.items():
        idx = list(idx)
        for c in ("denominator", "known"):
            for j in idx[1:]:
                attack.constrain({var[(idx[0], c)]: 1.0, var[(j, c)]: -1.0}, 0, 0)
    return var


def recovered_cells(
    released: pd.DataFrame,
    exact: pd.DataFrame,
    hierarchy: pd.DataFrame,
    rounding: str,
    limit: int,
    *,
    primary_only: bool = False,
) -> list[tuple[int, str, float]]:
    """Suppressed cells (row, column, true value) the attacker pins to a single value.
    ``exact``: the true table, row for row (only to check the attack's answer)."""
    attack = Attack(0, [], [], [], [], [])
    var = add_release(attack, released, hierarchy, rounding, limit, primary_only=primary_only)
    out = []
    rel = released.reset_index(drop=True)
    ex = exact.reset_index(drop=True)
    for (i, c), v in var.items():
        if pd.isna(rel.loc[i, c]) and attack.pinned(v, float(ex.loc[i, c])):
            out.append((i, c, float(ex.loc[i, c])))
    return out


def not_known_bounds(
    released: pd.DataFrame, exact: pd.DataFrame, hierarchy: pd.DataFrame, rounding: str, limit: int
) -> list[tuple[int, float, float, float]]:
    """For every row whose complement of known (denominator - known: children NOT known to
    universal services) is small and not zero (1 to ``limit``): (row, true complement,
    smallest and largest value the attacker can prove)."""
    attack = Attack(0, [], [], [], [], [])
    var = add_release(attack, released, hierarchy, rounding, limit)
    ex = exact.reset_index(drop=True)
    out = []
    for i in range(len(ex)):
        true = float(ex.loc[i, "denominator"] - ex.loc[i, "known"])
        if not 0 < true <= limit:
            continue
        c = attack.var(0, BIG)  # c = denominator - known
        attack.constrain({c: 1.0, var[(i, "denominator")]: -1.0, var[(i, "known")]: 1.0}, 0, 0)
        out.append((i, true, attack.extreme(c, 1.0), attack.extreme(c, -1.0)))
    return out


# --- findings: every number a finding shows must follow from the released table ---------------

#: Group values that are no group (findings.model.NOT_A_GROUP): "everyone else" leaves them out.
_NOT_A_GROUP = frozenset({"", "unknown", "not_stated", "not stated", "none", "nan"})


def _cell(released: pd.DataFrame, level: str, code: str, dim: str, value: str, service: str):
    k = released[list(KEYS)].astype(str)
    hit = released[
        (k["level"] == level)
        & (k["area_code"] == code)
        & (k["dimension"] == dim)
        & (k["group_value"] == value)
        & (k["service"] == service)
    ]
    return None if hit.empty else hit.iloc[0]


def _value(row: pd.Series | None, column: str) -> int | None:
    if row is None or pd.isna(row[column]):
        return None
    return int(row[column])


def _sum(values: list[int | None]) -> int | None:
    return None if not values or any(v is None for v in values) else int(sum(values))  # type: ignore[arg-type]


def finding_counts_from_table(
    finding: dict, released: pd.DataFrame, small_level: str = "lsoa"
) -> dict[str, int | None] | None:
    """The counts a reach finding shows (``evidence.counts`` and ``children_affected``),
    recomputed from the released reach table ALONE (None for kinds the table does not
    hold: access, communities, linkage). When they match what the finding shows, the
    finding tells an attacker who holds reach.csv nothing more: the attack on the table
    (:func:`add_release`) is then the attack on both."""
    kind = finding["kind"]
    ev = finding["evidence"]
    if kind == "unreached_group" and finding["group"]["value"] == "gradient":
        # a deprivation gradient shows an index refitted on released decile cells, not cell
        # counts (findings/detectors.find_deprivation_gradients)
        return None
    if kind == "unreached_area":
        rows = [_cell(released, small_level, a, "all", "all", "any") for a in finding["areas"]]
        boro = released[(released["level"] == "borough") & (released["dimension"] == "all")]
        b = boro[boro["service"] == "any"].iloc[0]
        children = _sum([_value(r, "denominator") for r in rows])
        registered = _sum([_value(r, "registered") for r in rows])
        counts = {
            "children": children,
            "registered": registered,
            "borough_children": _value(b, "denominator"),
            "borough_registered": _value(b, "registered"),
        }
    elif kind == "unreached_group":
        level, code = ev["level"], finding["areas"][0]
        dim, value = finding["group"]["dimension"], finding["group"]["value"]
        g = _cell(released, level, code, dim, value, "any")
        t = _cell(released, level, code, "all", "all", "any")
        k = released[list(KEYS)].astype(str)
        unknown = released[
            (k["level"] == level)
            & (k["area_code"] == code)
            & (k["dimension"] == dim)
            & (k["service"] == "any")
            & k["group_value"].str.strip().str.lower().isin(_NOT_A_GROUP)
        ]

        def rest(column: str) -> int | None:
            parts = [_value(g, column), *(_value(r, column) for _i, r in unknown.iterrows())]
            total, minus = _value(t, column), _sum(parts)
            return None if total is None or minus is None else max(total - minus, 0)

        children, registered = _value(g, "denominator"), _value(g, "registered")
        rest_children, rest_registered = rest("denominator"), rest("registered")
        if rest_children is not None and rest_registered is not None:
            rest_registered = min(rest_registered, rest_children)
        counts = {
            "children": children,
            "registered": registered,
            "rest_children": rest_children,
            "rest_registered": rest_registered,
        }
    elif kind == "low_engagement_site":
        sites = released[
            (released["level"] == "borough")
            & (released["dimension"] == "all")
            & (released["service"] != "any")
        ]
        mine = sites[sites["service"].astype(str) == finding["site"]].iloc[0]
        others = sites[sites["service"].astype(str) != finding["site"]]
        others = others[pd.to_numeric(others["registered"]) >= 20]  # MIN_SITE_REGISTERED
        registered, engaged = _value(mine, "registered"), _value(mine, "engaged")
        counts = {
            "registered": registered,
            "engaged": engaged,
            "rest_registered": _sum([_value(r, "registered") for _i, r in others.iterrows()]),
            "rest_engaged": _sum([_value(r, "engaged") for _i, r in others.iterrows()]),
        }
        children, registered = registered, engaged  # affected = registered - engaged
    else:
        return None
    affected = None if children is None or registered is None else children - registered
    return {**counts, "children_affected": affected}


def barrier_counts_from_table(
    finding: dict, released: pd.DataFrame, small_level: str = "lsoa"
) -> dict[str, dict[str, int | None]]:
    """The counts an access_barrier finding shows for each side (children, registered),
    recomputed from the released reach table ALONE: the sums of the side's small areas'
    released cells (every child, any service)."""
    out: dict[str, dict[str, int | None]] = {}
    for side in ("cut_off_side", "other_side"):
        rows = [
            _cell(released, small_level, a, "all", "all", "any")
            for a in finding["evidence"][side]["areas"]
        ]
        children = _sum([_value(r, "denominator") for r in rows])
        registered = _sum([_value(r, "registered") for r in rows])
        if children is not None and registered is not None:
            registered = min(registered, children)
        out[side] = {"children": children, "registered": registered}
    return out


def community_rest_from_table(finding: dict, released: pd.DataFrame) -> dict[str, int | None]:
    """An emerging_community finding's "everyone else" (rest_known, rest_registered),
    recomputed from the released reach table and the finding's own released counts: the
    borough's children and registered minus the community's. The community's own counts
    are cells of their own (perturbed with their own cell keys), not in the table."""
    ev = finding["evidence"]
    boro = released[
        (released["level"] == "borough")
        & (released["dimension"] == "all")
        & (released["service"] == "any")
    ].iloc[0]

    def minus(column: str, part: int | None) -> int | None:
        total = _value(boro, column)
        return None if total is None or part is None else max(total - part, 0)

    rest_known = minus("denominator", ev["known"])
    rest_registered = minus("registered", ev["registered"])
    if rest_known is not None and rest_registered is not None:
        rest_registered = min(rest_registered, rest_known)
    return {"rest_known": rest_known, "rest_registered": rest_registered}

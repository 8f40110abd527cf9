"""The cell key method: small, consistent perturbation of released counts.

The method of Fraser & Wooton (2005), "A proposed method for confidentialising tabular output
to protect against differencing" (ABS TableBuilder), used by ONS for Census 2021 tables
("Cell key perturbation", ONS SDC methodology):

1. every record (child) gets a **record key**: a uniform integer in ``[0, modulus)``, fixed
   for that child (:func:`record_keys`: a keyed hash of the child's pseudonymous id, so the
   key is the same in every run and table, and cannot be recomputed without the project key);
2. a table cell's **cell key** is the sum of its records' keys modulo ``modulus``
   (:func:`cell_keys`); the same set of children always gives the same cell key, whichever
   table, release or page the cell appears in;
3. a **perturbation table** (ptable, :class:`PTable`) indexed by (cell count, capped at
   ``max_row``; cell key) gives the perturbation to add (:meth:`PTable.perturb`). The same
   cell therefore always gets the same released value, so differencing two releases or two
   overlapping tables gains nothing but the noise.

Why our own ptable generator: no installable Python package provides one (PyPI has no
cell-key or ptable generator: ``ptable`` there prints ASCII tables; the reference generator
is the R package ``ptable`` of sdcTools, with ``cellKey`` applying it). The generator here
follows that package's design choices in a simpler, closed form (:func:`build_ptable`).

Properties of the default ptable (tested in tests/privacy/test_cellkey.py, documented in
docs/privacy.md):

- **zero preservation**: a count of 0 is released as 0, and nothing else is released as 0
  except small counts (below);
- **small counts** ``1..small`` (default 7) are never released: each becomes 0 or
  ``small + 1`` (8), with probability ``n / (small + 1)`` of the latter, so the expected
  released value is ``n`` (unbiased up to the key quantisation ``1 / modulus``);
- **larger counts** get a perturbation in ``[-max_perturbation, +max_perturbation]``
  (default 3), symmetric (mean exactly zero) with probability of no change ``p_unchanged``
  (default 0.5) and triangular weights beyond it (variance 1.67 with the defaults); near the
  floor the range is narrowed symmetrically so that no count above ``small`` is released
  within ``1..small`` (the mean stays zero, the variance drops);
- released values are never negative and never in ``1..small``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Record keys are uniform in [0, MODULUS). A power of two so a hash modulo it is uniform.
DEFAULT_MODULUS = 4096
DEFAULT_SMALL = 7
DEFAULT_MAX_PERTURBATION = 3
DEFAULT_P_UNCHANGED = 0.5


@dataclass(frozen=True)
class PTable:
    """A perturbation table: for each row (cell count, capped at :attr:`max_row`) the
    perturbation of every cell key, as an integer array ``shifts[row, key]``."""

    shifts: np.ndarray
    modulus: int
    small: int
    max_perturbation: int
    p_unchanged: float

    @property
    def max_row(self) -> int:
        """Counts at or above this use the last row (the same distribution)."""
        return int(self.shifts.shape[0] - 1)

    @property
    def max_error(self) -> int:
        """The most a released count above ``small`` can differ from the true count."""
        return self.max_perturbation

    def perturb(
        self, counts: Sequence[float] | np.ndarray, keys: Sequence[int] | np.ndarray
    ) -> np.ndarray:
        """Released counts for exact ``counts`` with cell keys ``keys`` (NaN stays NaN)."""
        n = np.asarray(counts, dtype="float64")
        k = np.asarray(keys, dtype="float64")
        out = np.full(n.shape, np.nan)
        ok = np.isfinite(n) & np.isfinite(k)
        if np.any(n[ok] < 0):
            raise ValueError("counts are never negative")
        whole = np.rint(n[ok]).astype(np.int64)
        row = np.minimum(whole, self.max_row)
        key = np.mod(k[ok].astype(np.int64), self.modulus)
        out[ok] = whole + self.shifts[row, key]
        return out

    def distribution(self, n: int) -> dict[int, float]:
        """Perturbation -> probability for a count ``n`` (a uniform cell key)."""
        row = self.shifts[min(n, self.max_row)]
        values, counts = np.unique(row, return_counts=True)
        return {int(v): float(c) / self.modulus for v, c in zip(values, counts, strict=True)}


def _allocate(weights: dict[int, float], modulus: int) -> dict[int, int]:
    """Integer slot counts for symmetric weights over -d..d summing to ``modulus``,
    symmetric exactly (so the mean perturbation is exactly zero)."""
    slots: dict[int, int] = {}
    for d, w in weights.items():
        if d > 0:
            slots[d] = slots[-d] = round(w * modulus)
    slots[0] = modulus - sum(slots.values())
    if slots[0] < 0:
        raise ValueError("perturbation weights exceed 1")
    return slots


def build_ptable(
    *,
    small: int = DEFAULT_SMALL,
    max_perturbation: int = DEFAULT_MAX_PERTURBATION,
    p_unchanged: float = DEFAULT_P_UNCHANGED,
    modulus: int = DEFAULT_MODULUS,
) -> PTable:
    """The perturbation table (see the module docstring for its properties).

    Rows ``0..small + max_perturbation + 1``; within a row the cell keys are laid out in
    increasing order of perturbation (as in the sdcTools ``ptable``), so the row is a
    quantile function of the perturbation distribution evaluated at ``key / modulus``.
    """
    if small < 0 or max_perturbation < 0 or not 0.0 < p_unchanged <= 1.0 or modulus < 16:
        raise ValueError("ptable parameters out of range")
    tri = {d: float(max_perturbation + 1 - d) for d in range(1, max_perturbation + 1)}
    rows: list[np.ndarray] = []
    for n in range(small + max_perturbation + 2):
        if n == 0:
            slots = {0: modulus}
        elif n <= small:
            up = round(modulus * n / (small + 1))
            slots = {-n: modulus - up, small + 1 - n: up}
        else:
            reach = min(max_perturbation, n - small - 1)
            total = sum(tri[d] for d in range(1, reach + 1))
            weights = (
                {d: (1.0 - p_unchanged) / 2.0 * tri[d] / total for d in range(1, reach + 1)}
                if reach
                else {}
            )
            slots = _allocate(weights, modulus)
        row = np.concatenate([np.full(c, d, dtype=np.int64) for d, c in sorted(slots.items())])
        rows.append(row)
    return PTable(np.vstack(rows), modulus, small, max_perturbation, p_unchanged)


def record_keys(ids: Iterable[str], secret: bytes, modulus: int = DEFAULT_MODULUS) -> np.ndarray:
    """Record keys, uniform in ``[0, modulus)``: HMAC-SHA256 of each (pseudonymous) child id
    under ``secret``, reduced modulo ``modulus`` (a power of two, so uniform). The same child
    gets the same key in every run; without the secret nobody can recompute it."""
    if modulus & (modulus - 1):
        raise ValueError("modulus must be a power of two")
    out = [
        int.from_bytes(hmac.new(secret, str(i).encode(), hashlib.sha256).digest()[:8], "big")
        % modulus
        for i in ids
    ]
    return np.asarray(out, dtype=np.int64)


def cell_keys(
    records: pd.DataFrame,
    by: list[str],
    key_column: str = "record_key",
    modulus: int = DEFAULT_MODULUS,
) -> pd.DataFrame:
    """Count and cell key of every cell ``by`` of a record table: ``by`` columns, ``n``,
    ``cell_key`` (sum of the cell's record keys modulo ``modulus``)."""
    grouped = records.groupby(by, dropna=False, sort=True)[key_column]
    out = grouped.agg(n="size", cell_key="sum").reset_index()
    out["cell_key"] = out["cell_key"].astype(np.int64) % modulus
    return out


#: The fixed HMAC secret of record keys. The input is the child's ``person_id``, itself a
#: keyed pseudonym (privacy.pseudonyms) held only in the restricted stores, so the record key
#: cannot be recomputed outside them; keeping this secret fixed keeps a child's record key
#: the same across runs (needed for consistent releases).
RECORD_KEY_SECRET = b"everyfamily cell key record key v1"


def child_record_keys(person_ids: pd.Series, modulus: int = DEFAULT_MODULUS) -> pd.Series:
    """The record key of every child (see :data:`RECORD_KEY_SECRET`)."""
    keys = record_keys(person_ids.astype(str), RECORD_KEY_SECRET, modulus)
    return pd.Series(keys, index=person_ids.index, name="record_key")


def reach_cell_keys(
    children: pd.DataFrame,
    child_sites: pd.DataFrame,
    membership: pd.DataFrame,
    small_area_level: str,
    modulus: int = DEFAULT_MODULUS,
) -> pd.DataFrame:
    """The cell key of every count of the reach table (``privacy.release.CELL_KEY_COLUMNS``):
    the sums of record keys over exactly the children, groups and services
    :func:`everyfamily.reach.measure.build_reach` counts (both use
    :func:`everyfamily.reach.measure.cell_sums`, the one grouping), modulo ``modulus``.
    ``children`` needs ``record_key`` (or it is derived from ``person_id``)."""
    from everyfamily.reach import measure

    if "record_key" not in children:
        children = children.assign(record_key=child_record_keys(children["person_id"], modulus))
    lc, ls = measure.cell_sums(
        children, child_sites, membership, small_area_level, weight="record_key"
    )
    level_keys = ["level", "area_code", "dimension", "group_value"]
    lc = lc.rename(columns={"known": "ck_known", "denominator": "ck_denominator"})
    ls = ls.rename(columns={"registered": "ck_registered", "engaged": "ck_engaged"})
    # service-free counts are the same on every service's row, 'any' included
    services = sorted(set(ls.index.get_level_values("service")) | {measure.ANY_SERVICE})
    free = lc.reset_index().merge(pd.DataFrame({"service": services}), how="cross")
    out = free.merge(ls.reset_index(), on=[*level_keys, "service"], how="left")
    for c in ("ck_known", "ck_denominator", "ck_registered", "ck_engaged"):
        out[c] = out[c].fillna(0).astype(np.int64) % modulus
    for c in (*level_keys, "service"):
        out[c] = out[c].astype(str)
    return out[
        [
            "level",
            "area_code",
            "dimension",
            "group_value",
            "service",
            "ck_denominator",
            "ck_known",
            "ck_registered",
            "ck_engaged",
        ]
    ].reset_index(drop=True)

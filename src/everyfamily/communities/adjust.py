"""Carrying the name classifier's error into area counts (pure).

A count of children *classified* into each group is not a count of children *in* each group:
some Romanian names are read as 'other', some British names as Polish. With the
misclassification matrix M (M[t, p] = P(predicted p | true t), measured on held-out names),
the expected predicted counts are c = M^T n for true counts n. The corrected estimate solves
that system for n >= 0 by non-negative least squares (the matrix method of misclassification
correction; see e.g. Buonaccorsi 2010, "Measurement Error", ch. 3, and for names Elliott et
al. 2009 on surname-based estimates). Only children whose group came from their name are
corrected; a recorded country of birth or language is taken as given.

The interval adds the two errors we can measure: the matrix itself is estimated from a
finite held-out sample (each row drawn from its Dirichlet posterior, Jeffreys prior 0.5) and
the predicted counts are themselves small (Poisson draws). It is a seeded Monte Carlo
percentile interval, approximate by design; docs/name-origin.md says what it leaves out.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import nnls

#: Monte Carlo draws for the interval; 400 keep the 2.5/97.5% points within about a child
#: of their limit for the counts of a small area.
DRAWS = 400
SEED = 7


def misclassification_matrix(confusion: np.ndarray) -> np.ndarray:
    """Row-normalised confusion counts: P(predicted | true)."""
    counts = np.asarray(confusion, dtype="float64")
    totals = counts.sum(axis=1, keepdims=True)
    return np.asarray(np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0))


def adjust_counts(predicted: np.ndarray, misclassification: np.ndarray) -> np.ndarray:
    """True-count estimate n >= 0 with M^T n closest to the predicted counts (NNLS)."""
    c = np.asarray(predicted, dtype="float64")
    if c.sum() == 0:
        return np.zeros_like(c)
    n, _ = nnls(np.asarray(misclassification, dtype="float64").T, c)
    return np.asarray(n)


def adjusted_interval(
    predicted: np.ndarray,
    confusion: np.ndarray,
    *,
    direct: np.ndarray | None = None,
    draws: int = DRAWS,
    seed: int = SEED,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(estimate, lower, upper) per group of ``direct + corrected(predicted)``, 95%.

    ``direct``: counts from recorded signals (added as they are, no error assumed).
    """
    c = np.asarray(predicted, dtype="float64")
    d = np.zeros_like(c) if direct is None else np.asarray(direct, dtype="float64")
    estimate = d + adjust_counts(c, misclassification_matrix(confusion))
    if c.sum() == 0:
        return estimate, estimate.copy(), estimate.copy()
    rng = np.random.default_rng(seed)
    counts = np.asarray(confusion, dtype="float64")
    sims = np.empty((draws, len(c)))
    for s in range(draws):
        m = np.vstack([rng.dirichlet(row + 0.5) for row in counts])
        sims[s] = d + adjust_counts(rng.poisson(c).astype("float64"), m)
    lo, hi = np.percentile(sims, [2.5, 97.5], axis=0)
    return estimate, lo, hi

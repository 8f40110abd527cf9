"""linkage_quality_gap: groups whose linkage recall is lower than the rest of their dimension."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from everyfamily.findings import stats
from everyfamily.findings.detectors.common import (
    _fnum,
    _interval,
    _sig,
    strength,
)
from everyfamily.findings.model import (
    NOT_A_GROUP,
    Finding,
    FindingsSettings,
)
from everyfamily.findings.text import (
    group_phrase,
    pct,
    released_pair,
)
from everyfamily.privacy.disclosure import released_rate

# --- linkage_quality_gap -------------------------------------------------------------------

_COUNT_COLUMNS = (
    "true_links",
    "n",
    "n_true_links",
    "pairs",
    "n_pairs",
    "records",
    "n_records",
    "children",
    "n_children",
    "count",
)

#: Expected-count columns of a model-based quality table (linkage.estimated_quality) with
#: the model's own variances: with them, the gap is tested against its own uncertainty.
_MODEL_COLUMNS = (
    "true_positives",
    "false_negatives",
    "true_positives_variance",
    "false_negatives_variance",
)

#: Dimensions defined by the compared pair rather than by the child: ``moved`` is "the two
#: records' postcodes differ", one of the comparisons the model weighs, so its group has a
#: lower estimated recall by construction (every disagreement lowers a pair's probability).
#: Such a gap is reported as *watch* at most: it describes the model, not a group of children.
PAIR_LEVEL_DIMENSIONS = frozenset({"moved"})


def _model_gap_test(part: pd.DataFrame, j: int) -> tuple[float, float, float, float]:
    """(recall, rest recall, z, one-sided p) for row ``j`` of one dimension of a model table.

    Recall_est = TP / (TP + FN) with TP, FN sums of pair probabilities; its variance by the
    delta method from Var[TP] = sum p(1 - p) (accepted pairs) and Var[FN] (the rest), pairs
    independent (linkage.estimated_quality.recall_variance). The rest of the dimension pools
    the other groups' expected counts and variances. Wald test:
    z = (R_g - R_rest) / sqrt(Var R_g + Var R_rest), p = Phi(z).
    """
    from everyfamily.linkage.estimated_quality import recall_variance

    cols = {
        c: pd.to_numeric(part[c], errors="coerce").fillna(0).to_numpy("float64")
        for c in _MODEL_COLUMNS
    }
    tp, fn = cols["true_positives"], cols["false_negatives"]
    vtp, vfn = cols["true_positives_variance"], cols["false_negatives_variance"]
    rest = np.ones(len(part), dtype=bool)
    rest[j] = False
    r_tp, r_fn = float(tp[rest].sum()), float(fn[rest].sum())
    g_total, r_total = tp[j] + fn[j], r_tp + r_fn
    if g_total <= 0 or r_total <= 0:
        return math.nan, math.nan, math.nan, 1.0
    rec, rest_rec = float(tp[j] / g_total), r_tp / r_total
    var = recall_variance(float(tp[j]), float(fn[j]), float(vtp[j]), float(vfn[j]))
    var += recall_variance(r_tp, r_fn, float(vtp[rest].sum()), float(vfn[rest].sum()))
    if var <= 0:
        z = -math.inf if rec < rest_rec else (math.inf if rec > rest_rec else 0.0)
    else:
        z = (rec - rest_rec) / math.sqrt(var)
    return rec, rest_rec, z, float(stats.lower_p_from_z(z))


def find_linkage_quality_gaps(
    quality: pd.DataFrame | None, *, settings: FindingsSettings
) -> list[Finding]:
    """Groups whose linkage recall is notably lower than everyone else's in the dimension.

    Reads a ``linkage_quality_by_group`` table (columns ``dimension``, ``group_value``,
    ``recall`` and a count column such as ``n``/``true_links``). With counts: a one-sided
    two-proportion test of the group's recall against the pooled recall of the rest of its
    dimension, Benjamini-Hochberg across groups, and a gap of at least ``min_recall_gap``.
    Without counts there is nothing to test, so a gap of at least twice ``min_recall_gap``
    gives a *watch* finding.

    A model-based table (linkage.estimated_quality: expected TP and FN with their variances,
    columns :data:`_MODEL_COLUMNS`) holds estimates, not counts: a binomial test would treat
    E[TP] as observed. Its gap is tested against its own uncertainty instead
    (:func:`_model_gap_test`). Groups of :data:`PAIR_LEVEL_DIMENSIONS` are *watch* at most.
    """
    q = _quality_rows(quality)
    if q is None:
        return []
    rows = _gap_rows(q, settings)
    if not rows:
        return []
    tab = pd.DataFrame(rows)
    tab["q"] = stats.bh_adjust(tab["p"].to_numpy(dtype="float64"))
    model = set(_MODEL_COLUMNS) <= set(q.columns)
    out: list[Finding] = []
    for _, r in tab.iterrows():
        gap = float(r["rest_recall"] - r["recall"])
        tested = math.isfinite(r["p"])
        if tested:
            if not (r["q"] <= settings.fdr_alpha and gap >= settings.min_recall_gap):
                continue
            pair_level = str(r["dimension"]) in PAIR_LEVEL_DIMENSIONS
            severity = "watch" if pair_level else "striking"
        else:
            if gap < 2 * settings.min_recall_gap:
                continue
            severity = "watch"
        out.append(_gap_finding(r, gap, tested, model, severity, settings))
    return out


def _quality_rows(quality: pd.DataFrame | None) -> pd.DataFrame | None:
    """The quality table's group rows with a recall (``group`` renamed ``group_value``; the
    ``all`` rows and unknown values left out); None when there is nothing to test."""
    if quality is None or quality.empty:
        return None
    if not {"dimension", "recall"} <= set(quality.columns) or not (
        {"group_value", "group"} & set(quality.columns)
    ):
        return None
    q = quality.copy()
    if "group_value" not in q.columns and "group" in q.columns:  # linkage.quality's naming
        q = q.rename(columns={"group": "group_value"})
    q = q[q["dimension"].astype(str) != "all"]
    q = q[~q["group_value"].astype(str).str.strip().str.lower().isin(NOT_A_GROUP)]
    q["recall"] = pd.to_numeric(q["recall"], errors="coerce")
    q = q[q["recall"].notna()].reset_index(drop=True)
    return None if q.empty else q


def _gap_rows(q: pd.DataFrame, settings: FindingsSettings) -> list[dict[str, Any]]:
    """One row per group of a dimension with 2+ groups: its recall, the rest's, counts and
    the one-sided p (NaN without counts)."""
    count_col = next((c for c in _COUNT_COLUMNS if c in q.columns), None)
    model = set(_MODEL_COLUMNS) <= set(q.columns)
    rows: list[dict[str, Any]] = []
    for dim, part in q.groupby("dimension", sort=True):
        if len(part) < 2:
            continue
        if count_col is not None:
            rows += _counted_rows(str(dim), part, count_col, model, settings)
        else:
            recs = part["recall"].to_numpy(dtype="float64")
            for j, (_, r) in enumerate(part.iterrows()):
                rest = float(np.delete(recs, j).mean())
                rows.append(
                    {
                        "dimension": str(dim),
                        "group_value": str(r["group_value"]),
                        "recall": recs[j],
                        "rest_recall": rest,
                        "n": math.nan,
                        "found": math.nan,
                        "rest_n": math.nan,
                        "rest_found": math.nan,
                        "p": math.nan,
                    }
                )
    return rows


def _counted_rows(
    dim: str, part: pd.DataFrame, count_col: str, model: bool, settings: FindingsSettings
) -> list[dict[str, Any]]:
    """The groups of one dimension of a table with counts, each tested against the rest."""
    n = pd.to_numeric(part[count_col], errors="coerce").fillna(0).to_numpy(dtype="float64")
    if {"true_links", "true_positives"} <= set(part.columns):
        tp = pd.to_numeric(part["true_positives"], errors="coerce").fillna(0)
        found = tp.to_numpy(dtype="float64")
    else:
        found = np.round(part["recall"].to_numpy(dtype="float64") * n)
    rows: list[dict[str, Any]] = []
    for j, (_, r) in enumerate(part.iterrows()):
        rn, rf = n.sum() - n[j], found.sum() - found[j]
        if n[j] < settings.min_group_known or rn < settings.min_group_known:
            continue
        if model:
            rec, rest_rec, _z, p = _model_gap_test(part, j)
        else:
            _z, p = stats.two_proportion_lower(int(found[j]), int(n[j]), int(rf), int(rn))
            rec, rest_rec = found[j] / n[j], rf / rn
        rows.append(
            {
                "dimension": dim,
                "group_value": str(r["group_value"]),
                "recall": rec,
                "rest_recall": rest_rec,
                "n": n[j],
                "found": found[j],
                "rest_n": rn,
                "rest_found": rf,
                "p": p,
            }
        )
    return rows


def _gap_finding(
    r: pd.Series, gap: float, tested: bool, model: bool, severity: str, settings: FindingsSettings
) -> Finding:
    """One finding for a group row ``r`` that passed (released numbers, evidence)."""
    missed = float(r["n"] * gap) if tested else math.nan
    st = strength(float(r["q"])) if tested else 1.0
    phrase = group_phrase(str(r["dimension"]), str(r["group_value"]))
    if tested:  # shown: recall from released counts (the test used exact ones)
        sf, sn = released_pair(float(r["found"]), float(r["n"]), settings)
        srf, srn = released_pair(float(r["rest_found"]), float(r["rest_n"]), settings)
        recall, rest_recall = released_rate(sf, sn), released_rate(srf, srn)
        lo, hi = _interval(sf, sn)
    else:  # a table of rates only: nothing to release but the rates it gives
        recall, rest_recall = float(r["recall"]), float(r["rest_recall"])
        lo, hi = math.nan, math.nan
        sn = None
    headline = (
        f"Linkage finds {pct(recall)} of true matches for {phrase} "
        f"(everyone else {pct(rest_recall)}): their reach may be understated"
    )
    evidence = {
        "test": _gap_test_text(str(r["dimension"]), tested, model),
        "p_value": _sig(float(r["p"])),
        "q_value": _sig(float(r["q"])),
        "fdr_alpha": settings.fdr_alpha,
        "counts": {"records": sn} if tested else {},
        "recall_gap": _fnum(rest_recall - recall),
        "excess_unreached": _fnum(missed),
        "strength": _fnum(st),
    }
    return Finding(
        kind="linkage_quality_gap",
        areas=(),
        group=(str(r["dimension"]), str(r["group_value"])),
        site=None,
        measure="linkage_recall",
        observed=recall,
        expected=rest_recall,
        interval=(lo, hi),
        children_affected=round(missed) if tested else 0,
        headline=headline,
        evidence=evidence,
        score=(max(missed, 0.0) * st) if tested else 0.0,
        severity=severity,
        level="borough",
    )


def _gap_test_text(dimension: str, tested: bool, model: bool) -> str:
    """The evidence's statement of the test."""
    if not tested:
        return "recall gap only (the quality table has no counts to test)"
    if model:
        test = (
            "one-sided Wald test of the group's estimated linkage recall against the rest "
            "of its dimension, with the delta-method variance of each estimate from the "
            "model's pair probabilities; Benjamini-Hochberg across groups"
        )
    else:
        test = (
            "one-sided two-proportion test of the group's linkage recall against the "
            "rest of its dimension; Benjamini-Hochberg across groups"
        )
    if dimension in PAIR_LEVEL_DIMENSIONS:
        test += (
            "; a group defined by the compared pair (a field the two records disagree "
            "on), so watch at most"
        )
    return test

"""Recall by group from a trusted identifier (issue 21): what the names alone would link.

The model-based estimate (estimated_quality.py) sums the model's own probabilities, so it
cannot see a true match the model scores as a non-match because, in one community, names
arrive mangled more often (a Windows-1252 export, a transliteration, names swapped): the
model is trained on everyone and is confident those pairs are different children. The
probe of coverage.py sees only the pairs blocking missed. Neither saw the origin gap.

A trusted identifier gives a subset with a known answer. Pairs whose records carry the same
valid NHS number are, all but a recording error in a million, the same child (``model``'s
NHS_AGREE_U): a *gold-standard subset*, the usual way to evaluate linkage where a shared
identifier exists for some records (Harron et al. 2017, "A guide to evaluating linkage
quality for the analysis of linked data", Int J Epidemiol 46:1699; Aldridge et al. 2015,
"Accuracy of probabilistic linkage using the enhanced matching system for public health and
epidemiological studies", PLoS ONE 10:e0136179, used the NHS number the same way). For each
such *anchor* pair this module asks whether the model would have linked it *without* the
NHS number: its match weight less the NHS agreement's weight (log2 m/u of that level) still
reaches the threshold, and some blocking rule other than the NHS number's admits it. The
share that would, by group, is the recall of linking on names, date of birth and household
(``name_recall``) for that group's children.

Pairs without a shared NHS number depend on exactly that. If the NHS number is missing
independently of how the names were recorded (within a group), the links scored among them
(``E[TP]``, the model's own expectation) are a share ``name_recall`` of the true ones, so

    recall_anchored = (A + L) / (A + L / name_recall)

with ``A`` the group's anchor pairs (linked by the NHS number) and ``L`` its expected links
among the other scored pairs. A group whose names arrive mangled has a low ``name_recall``
and so a low ``recall_anchored``, while the model's own estimate for it stays high. Writes
``linkage/anchor_recall.csv`` (aggregates; groups with fewer than
:data:`MIN_ANCHOR_PAIRS` anchors left out). Weak where few records carry NHS numbers, and
blind to any group whose records never do.

A group of a few dozen anchors shows a low share by chance (two misses in forty is 0.95), so
the lowest figure alone names a group on noise. A group is *flagged* low only when the
evidence says so: a one-sided Fisher exact test of its anchors linked by the names against
every other anchor pair's (Fisher 1922), its p-values adjusted across the groups tested by
Benjamini & Hochberg (1995, "Controlling the false discovery rate", JRSS B 57:289), flagged
at an adjusted p below :data:`FLAG_ALPHA` (``flagged_low``, ``p_low_adjusted``).
:func:`lowest_flagged` names the lowest flagged group, or none.

With few anchors nothing can be flagged, whatever the group's names: the test has no
power. Each group tested therefore carries ``min_anchors_to_test``, the fewest anchors at
which a group linking :data:`DETECTABLE_GAP` fewer of them than the rest would be flagged
(its expected count in the Fisher test, unadjusted p below :data:`FLAG_ALPHA`), and
``test_status``: "tested", or "too few to test" below that count unless flagged all the
same (a wider gap shows with fewer anchors); its not being flagged then says nothing.
summary.json counts the groups too few to test (:func:`write_anchor_recall`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import fisher_exact
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

from everyfamily.engines.base import Engine
from everyfamily.linkage import estimated_quality as eq
from everyfamily.spreadsheet_safe import neutralise_frame

#: Output file (aggregates only).
ANCHOR_FILE = "anchor_recall.csv"
#: Working table of anchor pairs (identifiable store; dropped at the end of the stage).
ANCHORS = "ef_link_anchors"
#: The identifier that makes an anchor, as the model's comparison names it.
ANCHOR_COLUMN = "nhs_number"
#: Groups with fewer anchor pairs get no figures (noise) and are left out of the CSV.
MIN_ANCHOR_PAIRS = 20
#: False discovery rate at which a group is flagged as linked worse than the rest.
FLAG_ALPHA = 0.05
#: The gap (share of anchors the names link, against the rest's) a group must have enough
#: anchors to show: the size of the origin gap issue 21 describes (about 10% missed against
#: under 1%), halved.
DETECTABLE_GAP = 0.05
#: test_status values.
TESTED, TOO_FEW, NOT_TESTED = "tested", "too few to test", "not tested"
#: Group values never flagged: the whole, and records carrying no value.
_NOT_TESTED = ("all", "unknown")


def anchor_weight(model: dict[str, Any]) -> float | None:
    """log2(m/u) of the NHS number's exact-agreement level in a saved Splink model (the
    weight an anchor pair owes to the identifier), or None if the model has no such level."""
    for comp in model.get("comparisons", []):
        if comp.get("output_column_name") != ANCHOR_COLUMN:
            continue
        for level in comp.get("comparison_levels", []):
            cond = str(level.get("sql_condition", ""))
            m, u = level.get("m_probability"), level.get("u_probability")
            bare = cond.replace('"', "").replace("`", "")  # DuckDB's or Spark's quoting
            if bare == f"{ANCHOR_COLUMN}_l = {ANCHOR_COLUMN}_r" and m and u:
                return math.log2(float(m) / float(u))
    return None


def other_rules(model: dict[str, Any]) -> list[str]:
    """The model's prediction blocking rules (SQL over aliases l and r) that do not use the
    anchor identifier."""
    rules = []
    for rule in model.get("blocking_rules_to_generate_predictions", []):
        sql = rule["blocking_rule"] if isinstance(rule, dict) else str(rule)
        if ANCHOR_COLUMN not in sql:
            rules.append(sql)
    return rules


def anchored_recall(
    anchors: pd.DataFrame,
    values: pd.DataFrame,
    estimate: pd.DataFrame,
    *,
    threshold: float,
    min_pairs: int = MIN_ANCHOR_PAIRS,
) -> pd.DataFrame:
    """Per (dimension, group_value): anchor pairs, the share the names alone would link
    (``name_recall``), the expected links among the other scored pairs and
    ``recall_anchored`` (module docstring). ``anchors``: unique_id_l, unique_id_r,
    match_probability, ``linked_without`` (bool) and ``moved``; ``values``: the group values
    their identities carry (as ``estimated_quality.read_inputs`` returns them);
    ``estimate``: the model-based table over every scored pair (dimension, group_value,
    true_positives), whose E[TP] less the anchors' own is the other pairs' expected links
    (so the stage does not read every scored pair a second time)."""
    a = anchors.assign(match_probability=anchors["linked_without"].astype("float64"))
    by_a = eq.estimate_by_group(a, values, threshold=0.5, floor=0.0, min_pairs=0)
    by_a = by_a[["dimension", "group_value", "n_pairs", "true_positives"]].rename(
        columns={"n_pairs": "anchor_pairs", "true_positives": "linked_without_identifier"}
    )
    own = eq.estimate_by_group(anchors, values, threshold=threshold, floor=0.0, min_pairs=0)
    own = own[["dimension", "group_value", "true_positives"]].rename(
        columns={"true_positives": "anchor_links"}
    )
    every = estimate[["dimension", "group_value", "true_positives"]]
    out = by_a.merge(own, on=["dimension", "group_value"], how="left", sort=False)
    out = out.merge(every, on=["dimension", "group_value"], how="left", sort=False)
    links = out["true_positives"].fillna(0.0) - out["anchor_links"].fillna(0.0)
    out["other_expected_links"] = links.clip(lower=0.0)
    out = out.drop(columns=["true_positives", "anchor_links"])
    n_a = out["anchor_pairs"].astype("float64")
    share = np.where(n_a > 0, out["linked_without_identifier"] / n_a.where(n_a > 0, 1), np.nan)
    out["name_recall"] = share
    # Wilson 95% interval of the share (a few anchors per group: a share of 0.95 can be one
    # pair of twenty), carried into recall_anchored's bounds by the same formula
    low, high = proportion_confint(
        out["linked_without_identifier"].round().astype("int64"),
        n_a.where(n_a > 0, 1).astype("int64"),
        alpha=0.05,
        method="wilson",
    )
    out["name_recall_low"], out["name_recall_high"] = low, high
    links = out["other_expected_links"]
    with np.errstate(divide="ignore", invalid="ignore"):
        true_other = np.where(share > 0, links / share, np.inf)
        out["recall_anchored"] = np.where(n_a > 0, (n_a + links) / (n_a + true_other), np.nan)
        for bound in ("low", "high"):
            r = out[f"name_recall_{bound}"]
            other = np.where(r > 0, links / r.where(r > 0, 1), np.inf)
            out[f"recall_anchored_{bound}"] = np.where(
                n_a > 0, (n_a + links) / (n_a + other), np.nan
            )
    out["suppressed"] = out["anchor_pairs"] < min_pairs
    figures = ["name_recall", "recall_anchored"]
    figures += [f"{f}_{b}" for f in figures for b in ("low", "high")]
    out.loc[out["suppressed"], figures] = np.nan
    return flag_low_groups(out)


def flag_low_groups(table: pd.DataFrame, alpha: float = FLAG_ALPHA) -> pd.DataFrame:
    """``table`` (as :func:`anchored_recall` builds it, first row 'all') with ``p_low``: the
    one-sided Fisher exact p-value that a group's anchors are linked by the names less often
    than every other anchor pair (its 2x2 table: the group's linked and missed anchors
    against the rest's), ``p_low_adjusted`` (Benjamini-Hochberg over the groups tested) and
    ``flagged_low`` (adjusted p below ``alpha``). Groups suppressed, 'all' and 'unknown' are
    not tested (NaN, never flagged)."""
    out = table.copy()
    total = out.iloc[0]
    all_n, all_k = float(total["anchor_pairs"]), float(total["linked_without_identifier"])
    tested = ~out["suppressed"] & ~out["group_value"].isin(_NOT_TESTED)
    tested &= ~out["dimension"].isin(_NOT_TESTED)
    p = np.full(len(out), np.nan)
    for i in np.flatnonzero(tested.to_numpy()):
        n = float(out["anchor_pairs"].iloc[i])
        k = round(float(out["linked_without_identifier"].iloc[i]))
        rest_n, rest_k = round(all_n - n), round(all_k - k)
        if rest_n <= 0:
            continue
        grid = [[k, round(n) - k], [rest_k, rest_n - rest_k]]
        p[i] = float(fisher_exact(grid, alternative="less").pvalue)
    out["p_low"] = p
    out["p_low_adjusted"] = np.nan
    has_p = ~np.isnan(p)
    if has_p.any():
        out.loc[has_p, "p_low_adjusted"] = multipletests(p[has_p], method="fdr_bh")[1]
    out["flagged_low"] = out["p_low_adjusted"].lt(alpha).to_numpy()
    return _power(out, tested, alpha)


def min_anchors_to_test(
    rest_n: int, rest_k: int, gap: float = DETECTABLE_GAP, alpha: float = FLAG_ALPHA
) -> int | None:
    """The fewest anchor pairs a group needs for the one-sided Fisher test of
    :func:`flag_low_groups` to reach p < ``alpha`` when its names link ``gap`` fewer of them
    than the rest's (``rest_k`` of ``rest_n``), at the expected count; None when no group
    size up to 10^6 would (the rest links fewer than ``gap``)."""
    share = rest_k / rest_n - gap if rest_n > 0 else -1.0
    if share < 0:
        return None

    def p(n: int) -> float:
        k = round(n * share)
        grid = [[k, n - k], [rest_k, rest_n - rest_k]]
        return float(fisher_exact(grid, alternative="less").pvalue)

    lo, hi = 1, 1_000_000
    if p(hi) >= alpha:
        return None
    while lo < hi:  # p falls as the group grows (up to the rounding of k)
        mid = (lo + hi) // 2
        lo, hi = (mid + 1, hi) if p(mid) >= alpha else (lo, mid)
    return lo


def _power(out: pd.DataFrame, tested: pd.Series, alpha: float) -> pd.DataFrame:
    """``min_anchors_to_test`` and ``test_status`` of each group (module docstring)."""
    total = out.iloc[0]
    all_n, all_k = float(total["anchor_pairs"]), float(total["linked_without_identifier"])
    need = np.full(len(out), np.nan)
    whole = out["group_value"].isin(_NOT_TESTED) | out["dimension"].isin(_NOT_TESTED)
    status = np.where(tested.to_numpy(), TESTED, NOT_TESTED).astype(object)
    status[(out["suppressed"] & ~whole).to_numpy()] = TOO_FEW
    for i in np.flatnonzero(tested.to_numpy()):
        n = float(out["anchor_pairs"].iloc[i])
        k = float(out["linked_without_identifier"].iloc[i])
        least = min_anchors_to_test(round(all_n - n), round(all_k - k), alpha=alpha)
        if least is not None:
            need[i] = least
        if (least is None or n < least) and not out["flagged_low"].iloc[i]:
            status[i] = TOO_FEW  # a bigger gap than DETECTABLE_GAP may still be flagged
    out["min_anchors_to_test"] = need
    out["test_status"] = status
    return out


def lowest_flagged(table: pd.DataFrame) -> pd.Series | None:
    """The flagged group (:func:`flag_low_groups`) with the lowest ``recall_anchored``, or
    None when no group is linked significantly worse than the rest."""
    flagged = table.loc[table["flagged_low"].astype(bool)]
    if flagged.empty:
        return None
    return flagged.sort_values("recall_anchored", kind="stable").iloc[0]


def _anchor_sql(engine: Engine, pairs_table: str, identities_table: str, rules: list[str]) -> str:
    q = engine.dialect.quote_ident
    blocked = " OR ".join(f"({r})" for r in rules) if rules else "FALSE"
    return f"""SELECT p.unique_id_l, p.unique_id_r, p.match_probability, p.match_weight,
               CASE WHEN {blocked} THEN 1 ELSE 0 END AS blocked_otherwise
        FROM {q(pairs_table)} AS p
        JOIN {q(identities_table)} AS l ON l.unique_id = p.unique_id_l
        JOIN {q(identities_table)} AS r ON r.unique_id = p.unique_id_r
        WHERE l.{q(ANCHOR_COLUMN)} = r.{q(ANCHOR_COLUMN)}"""


def write_anchor_recall(
    engine: Engine,
    diag_dir: Path,
    model: dict[str, Any],
    *,
    threshold: float,
    pairs_table: str,
    identities_table: str,
    record_identity_table: str,
    records_table: str,
) -> dict[str, Any]:
    """Write ``diag_dir/anchor_recall.csv`` from the stage's working tables and the saved
    model; returns the overall figures (for summary.json), or why it was skipped."""
    weight = anchor_weight(model)
    if weight is None:
        return {"skipped": f"the model has no {ANCHOR_COLUMN} agreement level"}
    engine.replace_table_as(
        ANCHORS, _anchor_sql(engine, pairs_table, identities_table, other_rules(model))
    )
    common = {
        "identities_table": identities_table,
        "record_identity_table": record_identity_table,
        "records_table": records_table,
    }
    anchors, values = eq.read_inputs(engine, pairs_table=ANCHORS, **common)
    flags = engine.query(
        f"SELECT unique_id_l, unique_id_r, match_weight, blocked_otherwise FROM {ANCHORS}"
    ).to_pandas()
    anchors = anchors.merge(flags, on=["unique_id_l", "unique_id_r"])
    cut = math.log2(threshold / (1 - threshold))
    anchors["linked_without"] = (anchors["match_weight"] - weight >= cut) & (
        anchors["blocked_otherwise"] == 1
    )
    engine.drop_table(ANCHORS)
    with engine.zone("analysis"):
        estimate = engine.query(
            f"SELECT dimension, group_value, true_positives FROM {eq.QUALITY_TABLE}"
        ).to_pandas()
    table = anchored_recall(anchors, values, estimate, threshold=threshold)
    published = table.loc[~table["suppressed"]].drop(columns="suppressed").round(6)
    neutralise_frame(published).to_csv(diag_dir / ANCHOR_FILE, index=False)
    overall = table.iloc[0]
    return {
        "anchor_pairs": int(overall["anchor_pairs"]),
        "name_recall": None
        if pd.isna(overall["name_recall"])
        else round(float(overall["name_recall"]), 6),
        "recall_anchored": None
        if pd.isna(overall["recall_anchored"])
        else round(float(overall["recall_anchored"]), 6),
        # groups linked significantly worse than the rest, lowest first (flag_low_groups)
        "flagged_low": [
            f"{r.dimension}={r.group_value}"
            for r in table.loc[table["flagged_low"]]
            .sort_values("recall_anchored", kind="stable")
            .itertuples()
        ],
        # groups whose anchors are too few for a gap to be flagged (suppressed ones too)
        "groups_too_few_to_test": int(table["test_status"].eq(TOO_FEW).sum()),
        "file": f"linkage/{ANCHOR_FILE}",
    }

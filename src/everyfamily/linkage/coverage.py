"""Pairs blocking never compared, by group (issue 21): the part of the error the model-based
estimate (estimated_quality.py) cannot see on its own.

Blocking scores only the pairs that agree exactly on some rule's columns; a true match that
agrees on none (a name mangled in both fields, a new postcode, no NHS number) is never scored,
so the estimate, which sums probabilities over *scored* pairs, cannot count it. Names that
arrive mangled more often in some communities make this gap fall unequally, which is how the
estimate saw the movers' gap but not the origin gap. This module measures it without truth:

1. a *probe* blocking rule wider than the prediction rules, here every pair of distinct
   records sharing a date of birth (the field all rules but the NHS number one keep), is
   scored by the trained model (Splink's ``predict`` with only that rule);
2. probe pairs the prediction rules did not compare, and that the model gives at least the
   quality floor, are the *unblocked* pairs; the sum of their probabilities is the expected
   number of true links blocking never compared (the same Belin-Rubin reasoning as the
   estimate: a calibrated probability is the chance the pair is a match);
3. by group (the estimate's own dimensions and rule for which group a pair counts in),
   ``blocking_coverage.csv`` reports the unblocked pairs, their expected links, and the
   recall the estimate would give if it counted them: E[TP] / (E[TP] + E[FN] + unblocked).

Matches that disagree on the date of birth too are beyond this probe; the probe is skipped
(and says so) when it would score more than :data:`MAX_PROBE_PAIRS` pairs.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from everyfamily.engines.base import Engine
from everyfamily.linkage import estimated_quality as eq
from everyfamily.spreadsheet_safe import neutralise_frame

logger = logging.getLogger(__name__)

#: Working table of unblocked probe pairs (identifiable store; dropped with the others).
UNBLOCKED = "ef_link_unblocked"
#: Output file (aggregates only; groups with few pairs left out).
COVERAGE_FILE = "blocking_coverage.csv"
#: The probe: pairs sharing a date of birth.
PROBE_RULE = "l.date_of_birth = r.date_of_birth"
#: Largest probe the stage runs (pairs); beyond it the probe is skipped and reported so.
MAX_PROBE_PAIRS = 5_000_000


def probe_size(engine: Engine, identities_table: str) -> int:
    """Pairs the probe rule would compare (records sharing a date of birth)."""
    t = engine.dialect.quote_ident(identities_table)
    value = (
        engine.query(
            f"SELECT sum(n * (n - 1) / 2) FROM (SELECT count(*) AS n FROM {t} "
            f"WHERE date_of_birth IS NOT NULL GROUP BY date_of_birth) AS g"
        )
        .column(0)[0]
        .as_py()
    )
    return int(value or 0)


def score_unblocked(
    engine: Engine,
    linker: Any,
    *,
    identities_table: str,
    pairs_table: str,
    floor: float,
    max_pairs: int = MAX_PROBE_PAIRS,
) -> dict[str, Any]:
    """Score the probe with ``linker``'s trained model and keep, in :data:`UNBLOCKED`, the
    pairs the prediction rules never compared; returns what was done (for summary.json)."""
    from splink import Linker

    n_probe = probe_size(engine, identities_table)
    if n_probe > max_pairs:
        return {"probe": PROBE_RULE, "probe_pairs": n_probe, "skipped": "too many pairs"}
    model = linker.misc.save_model_to_json()
    model["blocking_rules_to_generate_predictions"] = [PROBE_RULE]
    api = engine.splink_api()
    # Any: Splink's table management is untyped
    probe: Any = Linker(api.register(identities_table), model, log_level=logging.WARNING)
    try:
        pred = probe.inference.predict(threshold_match_probability=floor, warning_mode="never")
    except Exception as exc:  # diagnostics must not stop a run
        probe.table_management.delete_tables_created_by_splink_from_db()
        return {"probe": PROBE_RULE, "skipped": type(exc).__name__}
    q = engine.dialect.quote_ident
    engine.replace_table_as(
        UNBLOCKED,
        f"""SELECT p.unique_id_l, p.unique_id_r, p.match_probability
        FROM {q(pred.physical_name)} AS p
        LEFT JOIN {q(pairs_table)} AS s
          ON s.unique_id_l = p.unique_id_l AND s.unique_id_r = p.unique_id_r
        WHERE s.unique_id_l IS NULL""",
    )
    # the probe's own term-frequency and prediction tables are working tables: none may
    # stay in the identifiable store (the catalogue lists every table a store holds)
    probe.table_management.delete_tables_created_by_splink_from_db()
    return {"probe": PROBE_RULE, "probe_pairs": n_probe}


def coverage_by_group(
    unblocked: pd.DataFrame, values: pd.DataFrame, estimate: pd.DataFrame
) -> pd.DataFrame:
    """Per (dimension, group_value) of ``estimate`` (the ``linkage_quality_by_group`` table):
    unblocked pairs, their expected links and the recall counting them. ``unblocked`` and
    ``values`` as ``estimated_quality.read_inputs`` returns them for the unblocked pairs."""
    # threshold above 1: nothing is accepted, every probability counts as a missed link
    un = eq.estimate_by_group(unblocked, values, threshold=1.5, min_pairs=0)
    un = un[["dimension", "group_value", "n_pairs", "false_negatives"]].rename(
        columns={"n_pairs": "unblocked_pairs", "false_negatives": "unblocked_expected_links"}
    )
    base = estimate[
        ["dimension", "group_value", "n_pairs", "true_positives", "false_negatives", "recall"]
    ]
    # outer: a group whose links blocking missed entirely has no scored pair at all
    out = base.merge(un, on=["dimension", "group_value"], how="outer", sort=False)
    counts = ["n_pairs", "true_positives", "false_negatives"]
    counts += ["unblocked_pairs", "unblocked_expected_links"]
    out[counts] = out[counts].fillna(0)
    denom = out["true_positives"] + out["false_negatives"] + out["unblocked_expected_links"]
    out["recall_with_unblocked"] = np.where(denom > 0, out["true_positives"] / denom, np.nan)
    out["suppressed"] = out["n_pairs"] + out["unblocked_pairs"] < eq.MIN_GROUP_PAIRS
    out.loc[out["suppressed"], ["recall", "recall_with_unblocked"]] = np.nan
    return out


def write_blocking_coverage(
    engine: Engine,
    diag_dir: Path,
    *,
    threshold: float,
    pairs_table: str,
    identities_table: str,
    record_identity_table: str,
    records_table: str,
    probe: dict[str, Any],
) -> dict[str, Any]:
    """Write ``diag_dir/blocking_coverage.csv`` (groups with enough pairs only) from the
    unblocked pairs :func:`score_unblocked` kept; returns the overall figures."""
    if "skipped" in probe or not engine.has_table(UNBLOCKED):
        return probe
    common = {
        "identities_table": identities_table,
        "record_identity_table": record_identity_table,
        "records_table": records_table,
    }
    pairs, values = eq.read_inputs(engine, pairs_table=pairs_table, **common)
    estimate = eq.estimate_by_group(pairs, values, threshold=threshold)
    unblocked, un_values = eq.read_inputs(engine, pairs_table=UNBLOCKED, **common)
    table = coverage_by_group(unblocked, un_values, estimate)
    published = table.loc[~table["suppressed"]].drop(columns="suppressed").round(6)
    neutralise_frame(published).to_csv(diag_dir / COVERAGE_FILE, index=False)
    overall = table.iloc[0]
    return {
        **probe,
        "unblocked_pairs": int(overall["unblocked_pairs"]),
        "unblocked_expected_links": round(float(overall["unblocked_expected_links"]), 2),
        "recall_with_unblocked": round(float(overall["recall_with_unblocked"]), 6),
        "file": f"linkage/{COVERAGE_FILE}",
    }

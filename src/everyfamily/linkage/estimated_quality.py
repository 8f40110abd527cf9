"""Linkage precision and recall by group *without* a truth, from the model's own probabilities.

A council has no ground truth, yet reach needs to know how far linkage error could move its
figures, and the findings need to know whether linkage fails one community more than others
(issue 4). A Fellegi-Sunter model that is well calibrated says, for every scored pair, the
probability ``p`` that the two records are the same child. Summing those probabilities gives
the expected numbers of each kind of error (Belin & Rubin 1995, "A method for calibrating
false-match rates in record linkage", JASA 90:694; Splink's docs discuss the same use of
``match_probability`` to estimate precision and recall without labels). With threshold ``t``:

    E[TP] = sum(p)     over pairs with p >= t   (accepted pairs that are true links)
    E[FP] = sum(1 - p) over pairs with p >= t   (accepted pairs that are not)
    E[FN] = sum(p)     over pairs with p <  t   (true links left apart)

    precision_est = E[TP] / (E[TP] + E[FP]),  recall_est = E[TP] / (E[TP] + E[FN])

What it cannot see, and so ignores (both make recall_est an *upper* bound on the model's own
terms):

* pairs the blocking rules never compared (their probability is unknown here; coverage.py
  scores a wider date-of-birth probe with the trained model and reports them by group in
  linkage/blocking_coverage.csv, with the recall that counts them);
* pairs scored below :data:`QUALITY_FLOOR` (each adds less than the floor to E[FN]);
* links implied only through clustering (A~B, B~C accepted, A~C never scored) and false
  links a cluster merge adds among other records: the estimate is about scored pairs.

The caveat: the estimate is only as good as the model's calibration. Conditional independence
rarely holds (twins agree on everything but the given name; a moved family disagrees on
every place field at once), and pairs near the threshold are where calibration is worst.
On the synthetic Knowsley scenario (tests/linkage/test_knowsley.py) the estimate is within
0.0003 of the true precision and recall, but it counts too few errors: 2.4 expected false
links against 9 true ones, 11.5 expected missed links against 16. In a planted test where one
language group's records lost their NHS numbers and gained slips in the given name and date
of birth (test_estimated_quality.py), the group's estimated recall fell to 0.980 against 0.999
for the rest, while its true recall fell to 0.940: the estimate points at the right group
but sees about a third of the drop, the rest being pairs blocking never compared or the
model scored as impossible. Treat the figures
as a floor on error, good for comparing groups, not as a measured error rate. A clerical
review of the sample (store table clerical_review; `everyfamily extract OUT clerical_review
--to FILE`) is the way to check them.

Unit: distinct records (Splink's identities, see ``prepare``), not rows: identical rows (an
attendance register's forty sessions) are linked by construction and would swamp the pairs.

Groups: a pair belongs to a group when *either* record carries that value (an identity carries
every value seen on any of its rows), and to ``unknown`` only when neither does, so a
missed link between a Polish-speaking child's birth record, which records no language, and her
registration, which does, counts against Polish speakers. Dimensions are the ones reach
reports that records carry: ``ethnicity``, ``ethnicity_broad``, ``main_language``,
``mother_country_of_birth``, ``mother_region_of_birth``, ``sex``, and ``moved``: a pair-level
proxy for a family that moved, ``yes`` when both records have a valid postcode and they differ,
``no`` when they are equal, ``unknown`` otherwise. The sex of the parent is not recorded on
records, and the name-origin classifier is a later issue, so neither is a dimension yet.

Pure core (:func:`estimate_by_group`) over two small tables; :func:`write_estimated_quality`
is the I/O edge that reads them from the linkage stage's working tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from everyfamily.engines.base import Engine
from everyfamily.schema import ETHNICITY_2021
from everyfamily.spreadsheet_safe import neutralise_frame

#: Store table written here and read by reach (linkage shifts) and findings (quality gaps).
QUALITY_TABLE = "linkage_quality_by_group"
#: Output file (aggregates only; groups with few pairs left out).
QUALITY_FILE = "quality_by_group.csv"
#: The ``method`` column: these are model-based expectations, not counts against a truth.
METHOD = "model_estimate"
#: Pairs are scored down to this probability so borderline non-links are seen (each pair
#: below it would add less than this to E[FN]; they are ignored).
QUALITY_FLOOR = 0.001
#: Groups with fewer scored pairs than this get no precision or recall (the figures would be
#: noise) and are left out of the CSV.
MIN_GROUP_PAIRS = 10
UNKNOWN = "unknown"
ALL = "all"

#: Dimensions read from ``records`` (record column), in output order; ``ethnicity_broad`` and
#: ``mother_region_of_birth`` are derived from them, ``moved`` from the pair's postcodes.
RECORD_DIMENSIONS: tuple[str, ...] = (
    "ethnicity",
    "main_language",
    "mother_country_of_birth",
    "sex",
)
DIMENSIONS: tuple[str, ...] = (
    "ethnicity",
    "ethnicity_broad",
    "main_language",
    "mother_country_of_birth",
    "mother_region_of_birth",
    "sex",
    "moved",
)

#: Columns of the store table, in order. ``true_positives`` .. ``true_links`` are expected
#: values (floats), named as in ``quality.GroupQuality`` so a truth-based table has the same
#: shape; ``predicted_links`` equals ``n_accepted`` (E[TP] + E[FP] sums p + (1 - p)).
QUALITY_COLUMNS: tuple[str, ...] = (
    "dimension",
    "group_value",
    "n_pairs",
    "n_accepted",
    "true_positives",
    "false_positives",
    "false_negatives",
    "predicted_links",
    "true_links",
    "precision",
    "recall",
    "suppressed",
    "method",
    "match_threshold",
    "probability_floor",
    "true_positives_variance",
    "false_negatives_variance",
)


@dataclass(frozen=True)
class ExpectedQuality:
    """Expected link counts over a set of scored pairs, and the rates they imply."""

    n_pairs: int
    n_accepted: int
    true_positives: float
    false_positives: float
    false_negatives: float
    #: Var[TP] = sum p(1 - p) over accepted pairs and Var[FN] over the rest: each pair a
    #: true link with probability p, independently (the model's own uncertainty).
    true_positives_variance: float = 0.0
    false_negatives_variance: float = 0.0

    @property
    def precision(self) -> float:
        # No accepted pairs means no false links: 1 by convention, as in quality.py.
        d = self.true_positives + self.false_positives
        return self.true_positives / d if d > 0 else 1.0

    @property
    def recall(self) -> float:
        d = self.true_positives + self.false_negatives
        return self.true_positives / d if d > 0 else 1.0

    @property
    def recall_variance(self) -> float:
        """Delta-method variance of recall_est = TP / (TP + FN), TP and FN independent:
        (FN^2 Var[TP] + TP^2 Var[FN]) / (TP + FN)^4 (Casella & Berger 2002, s.5.5.4)."""
        return recall_variance(
            self.true_positives,
            self.false_negatives,
            self.true_positives_variance,
            self.false_negatives_variance,
        )


def recall_variance(tp: float, fn: float, var_tp: float, var_fn: float) -> float:
    """Delta-method variance of tp / (tp + fn) for independent tp and fn (0 when empty)."""
    total = tp + fn
    if total <= 0:
        return 0.0
    return (fn * fn * var_tp + tp * tp * var_fn) / total**4


def expected_quality(probabilities: np.ndarray | pd.Series, threshold: float) -> ExpectedQuality:
    """E[TP], E[FP], E[FN] for one set of pair probabilities (formulas in the module doc)."""
    p = np.asarray(probabilities, dtype="float64")
    acc = p >= threshold
    return ExpectedQuality(
        n_pairs=int(p.size),
        n_accepted=int(acc.sum()),
        true_positives=float(p[acc].sum()),
        false_positives=float((1.0 - p[acc]).sum()),
        false_negatives=float(p[~acc].sum()),
        true_positives_variance=float((p[acc] * (1.0 - p[acc])).sum()),
        false_negatives_variance=float((p[~acc] * (1.0 - p[~acc])).sum()),
    )


def moved_flag(postcode_l: pd.Series, postcode_r: pd.Series) -> pd.Series:
    """'yes' when both postcodes are known and differ, 'no' when equal, else 'unknown'."""
    a = postcode_l.astype("string")
    b = postcode_r.astype("string")
    known = (a.notna() & b.notna()).to_numpy(dtype=bool)
    same = (a == b).fillna(False).to_numpy(dtype=bool)
    out = np.where(known, np.where(same, "no", "yes"), UNKNOWN)
    return pd.Series(out, index=postcode_l.index, dtype=object)


def derive_dimensions(values: pd.DataFrame) -> pd.DataFrame:
    """Add ``ethnicity_broad`` (ONS 2021 broad group of each ethnicity code) and
    ``mother_region_of_birth`` (reach's region map) rows to identity values
    (identity_id, dimension, group_value), as reach derives them for children."""
    from everyfamily.reach.regions import region_of_birth

    broad = {code: group for code, (_label, group) in ETHNICITY_2021.items()}
    eth = values[values["dimension"] == "ethnicity"]
    eth_b = eth.assign(
        dimension="ethnicity_broad",
        group_value=eth["group_value"].map(lambda v: broad.get(str(v), UNKNOWN)),
    )
    cob = values[values["dimension"] == "mother_country_of_birth"]
    country = cob["group_value"].where(cob["group_value"] != UNKNOWN)
    region = cob.assign(
        dimension="mother_region_of_birth", group_value=region_of_birth(country).to_numpy()
    )
    out = pd.concat([values, eth_b, region], ignore_index=True)
    return out.drop_duplicates(["identity_id", "dimension", "group_value"], ignore_index=True)


def estimate_by_group(
    pairs: pd.DataFrame,
    identity_values: pd.DataFrame,
    *,
    threshold: float,
    floor: float = QUALITY_FLOOR,
    min_pairs: int = MIN_GROUP_PAIRS,
) -> pd.DataFrame:
    """The ``linkage_quality_by_group`` table (columns :data:`QUALITY_COLUMNS`).

    ``pairs``: unique_id_l, unique_id_r, match_probability (every pair scored at or above
    ``floor``), and optionally ``moved`` (see :func:`moved_flag`). ``identity_values``:
    identity_id, dimension, group_value, one row per value an identity carries ('unknown'
    for none). A pair counts in each group either of its identities carries (once, even when
    both do), and in 'unknown' only when neither carries a value. The first row
    is dimension 'all', group 'all' (every pair); rows with fewer than ``min_pairs`` pairs
    keep their counts but get NaN precision and recall and ``suppressed`` True. A dimension
    with no value on any paired record (only 'unknown') is left out.
    """
    p = pairs.loc[pairs["match_probability"] >= floor].reset_index(drop=True)
    prob = p["match_probability"].to_numpy(dtype="float64")
    rows = [_row(ALL, ALL, expected_quality(prob, threshold))]

    key = pd.DataFrame({"k": np.arange(len(p))})
    sides = []
    for side in ("unique_id_l", "unique_id_r"):
        ids = key.assign(identity_id=p[side].to_numpy())
        sides.append(
            ids.merge(identity_values, on="identity_id")[["k", "dimension", "group_value"]]
        )
    if "moved" in p.columns:
        sides.append(key.assign(dimension="moved", group_value=p["moved"].astype(str).to_numpy()))
    member = pd.concat(sides, ignore_index=True)
    member["group_value"] = member["group_value"].astype(str)
    member = member.drop_duplicates(ignore_index=True)
    # 'unknown' only when neither record carries a value (as reach's unknown child has none).
    known = member["group_value"] != UNKNOWN
    has_value = known.groupby([member["k"], member["dimension"]]).transform("any")
    member = member.loc[known | ~has_value.to_numpy(dtype=bool)]
    # A dimension no record carries (only 'unknown') says nothing: left out.
    carried = member.loc[member["group_value"] != UNKNOWN, "dimension"].unique()
    member = member.loc[member["dimension"].isin(carried)]
    member["p"] = prob[member["k"].to_numpy()]
    order = {d: i for i, d in enumerate(DIMENSIONS)}
    groups = sorted(
        member.groupby(["dimension", "group_value"], sort=False)["p"],
        key=lambda kv: (order.get(str(kv[0][0]), len(order)), str(kv[0][0]), str(kv[0][1])),
    )
    for (dim, value), probs in groups:
        rows.append(_row(str(dim), str(value), expected_quality(probs.to_numpy(), threshold)))

    out = pd.DataFrame(rows)
    out["suppressed"] = out["n_pairs"] < min_pairs
    out.loc[out["suppressed"], ["precision", "recall"]] = np.nan
    out["method"] = METHOD
    out["match_threshold"] = float(threshold)
    out["probability_floor"] = float(floor)
    return out[list(QUALITY_COLUMNS)]


def _row(dimension: str, value: str, q: ExpectedQuality) -> dict[str, Any]:
    return {
        "dimension": dimension,
        "group_value": value,
        "n_pairs": q.n_pairs,
        "n_accepted": q.n_accepted,
        "true_positives": q.true_positives,
        "false_positives": q.false_positives,
        "false_negatives": q.false_negatives,
        "predicted_links": float(q.n_accepted),
        "true_links": q.true_positives + q.false_negatives,
        "precision": q.precision,
        "recall": q.recall,
        "true_positives_variance": q.true_positives_variance,
        "false_negatives_variance": q.false_negatives_variance,
    }


def published_rows(table: pd.DataFrame) -> pd.DataFrame:
    """The CSV: groups with enough pairs only, expected counts to one decimal place."""
    out = table.loc[~table["suppressed"]].drop(columns="suppressed").copy()
    for c in ("true_positives", "false_positives", "false_negatives", "true_links"):
        out[c] = out[c].round(1)
    for c in ("precision", "recall"):
        out[c] = out[c].round(6)
    return out.reset_index(drop=True)


# --- I/O edge ------------------------------------------------------------------------------


def read_inputs(
    engine: Engine,
    *,
    pairs_table: str,
    identities_table: str,
    record_identity_table: str,
    records_table: str,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read the scored pairs (with the ``moved`` flag) and the group values each paired
    identity carries from the linkage stage's working tables. Values stay in the engine
    except the group labels (categories such as a language, never a name or number)."""
    quote_ident = engine.dialect.quote_ident
    pt, it = quote_ident(pairs_table), quote_ident(identities_table)
    rt, rec = quote_ident(record_identity_table), quote_ident(records_table)
    pairs = engine.query(f"""
        SELECT p.unique_id_l, p.unique_id_r, p.match_probability,
               CASE WHEN l.postcode IS NULL OR r.postcode IS NULL THEN 'unknown'
                    WHEN l.postcode = r.postcode THEN 'no' ELSE 'yes' END AS moved
        FROM {pt} AS p
        JOIN {it} AS l ON l.unique_id = p.unique_id_l
        JOIN {it} AS r ON r.unique_id = p.unique_id_r
    """).to_pandas()
    have = set(engine.columns(records_table))
    selects = []
    for dim in RECORD_DIMENSIONS:
        if dim not in have:
            continue
        col = quote_ident(dim)
        value = (
            f"CASE WHEN x.{col} IN ('female', 'male') THEN x.{col} END"
            if dim == "sex"
            else f"NULLIF(trim(CAST(x.{col} AS VARCHAR)), '')"
        )
        selects.append(
            f"SELECT i.identity_id, '{dim}' AS dimension, {value} AS group_value "
            f"FROM paired AS i JOIN {rt} AS ri ON ri.identity_id = i.identity_id "
            f"JOIN {rec} AS x ON x.source = ri.source AND x.record_id = ri.record_id"
        )
    if not selects:
        return pairs, pd.DataFrame(columns=["identity_id", "dimension", "group_value"])
    values = engine.query(f"""
        WITH paired AS (SELECT unique_id_l AS identity_id FROM {pt}
                        UNION SELECT unique_id_r FROM {pt}),
             v AS (SELECT DISTINCT * FROM ({" UNION ALL ".join(selects)}) AS u)
        SELECT identity_id, dimension, group_value FROM v WHERE group_value IS NOT NULL
        UNION ALL
        SELECT identity_id, dimension, 'unknown' FROM v
        GROUP BY identity_id, dimension HAVING count(group_value) = 0
    """).to_pandas()
    return pairs, derive_dimensions(values)


def write_estimated_quality(
    engine: Engine,
    diag_dir: Path,
    *,
    threshold: float,
    pairs_table: str,
    identities_table: str,
    record_identity_table: str,
    records_table: str = "records",
    floor: float = QUALITY_FLOOR,
) -> ExpectedQuality:
    """Estimate quality by group, write the store table and ``diag_dir/quality_by_group.csv``;
    returns the overall ('all') expected counts."""
    pairs, values = read_inputs(
        engine,
        pairs_table=pairs_table,
        identities_table=identities_table,
        record_identity_table=record_identity_table,
        records_table=records_table,
    )
    table = estimate_by_group(pairs, values, threshold=threshold, floor=floor)
    # Aggregates only (small groups flagged): they belong to the analysis zone the
    # dashboard reads, not to the identifiable zone linkage works in.
    with engine.zone("analysis"):
        engine.write_table(QUALITY_TABLE, pa.Table.from_pandas(table, preserve_index=False))
    neutralise_frame(published_rows(table)).to_csv(diag_dir / QUALITY_FILE, index=False)
    prob = pairs.loc[pairs["match_probability"] >= floor, "match_probability"]
    return expected_quality(prob.to_numpy(dtype="float64"), threshold)

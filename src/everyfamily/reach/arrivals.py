"""New arrivals or a local birth record that was quarantined?

The outreach list of newly arrived families (web/pages/outreach.py) holds children known to a
universal service with no local birth record. A child born here whose birth record was
quarantined at ingest (a missing, impossible or future date of birth) has no birth record in
the linked data either, and so looked like a new arrival: on the demo, 17 of the list's 19
wrong entries.

This module weighs, for each such child, the evidence that one of the quarantined birth rows
is theirs, with the run's own trained linkage model: the Fellegi-Sunter posterior (Fellegi &
Sunter 1969, JASA 64:1183) from the model's prior match probability and the Bayes factors
(m/u) of its comparison levels, as Splink computes it (Splink docs, "The Fellegi-Sunter
model"). The date of birth, which is why the row was quarantined, is treated as missing (a
Bayes factor of 1, as Splink treats a null comparison); the NHS number, first name, surname
and postcode, and sex are compared at the model's exact-agreement and disagreement levels
(the intermediate fuzzy levels are not used: a cautious simplification, since exact
agreement is the stronger evidence). A child whose best pair reaches the linkage
``match_threshold`` has a local birth record in quarantine: not a new arrival.

Pure functions, and one I/O edge (:func:`mark_quarantined_births`) called by the measure stage.
Nothing identifiable leaves: the result is one yes/no column per pseudonymous child.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from everyfamily.reach.outreach import normalise_postcode

if TYPE_CHECKING:
    from everyfamily.pipeline import RunContext

BIRTHS = "births"
#: The pseudonymous column the measure stage adds to the analysis ``children``.
FLAG = "birth_record_quarantined"
#: Fields compared (record field names, as in the ``records`` table).
FIELDS = ("nhs_number", "first_name_match", "last_name_match", "postcode", "sex")


@dataclass(frozen=True)
class Evidence:
    """Bayes factors (m/u) of agreement and disagreement per comparison, and the prior."""

    prior: float  # probability that two random records match (the model's lambda)
    nhs: tuple[float, float]
    first_name: tuple[float, float]
    sex: tuple[float, float]
    #: household comparison: same surname and postcode, same surname only, all other
    household: tuple[float, float, float]


#: Each compared field's exact-agreement level: its position in the comparison as
#: linkage.model.comparisons builds it (0 is the null level, 1 exact agreement, in both
#: name models: first_name_match compares first_name_key in the name-variant model),
#: which is the ``level`` column of linkage/match_weights.csv. Read by position, not by
#: Splink's label wording; tests/reach/test_arrivals.py checks it against the built
#: comparisons (reach sits below linkage: it cannot import the model).
EXACT_LEVEL: dict[str, int] = {"nhs_number": 1, "first_name_match": 1, "sex": 1}
#: A comparison's last level (Splink's else level, "All other comparisons").
LAST = -1


def _level(table: pd.DataFrame, comparison: str, level: int | str) -> float | None:
    """A level's Bayes factor: ``level`` a position in the comparison (the ``level``
    column: EXACT_LEVEL for exact agreement, :data:`LAST` for the else
    level), or a label the project set itself (the household levels)."""
    sel = table[table["comparison"] == comparison]
    if isinstance(level, str):
        sel = sel[sel["label"].astype(str) == level]
    else:
        at = pd.to_numeric(sel["level"], errors="coerce")
        if at.isna().all():
            return None
        sel = sel[at == (at.max() if level == LAST else level)]
    if sel.empty:
        return None
    try:
        bf = float(str(sel["bayes_factor"].iloc[0]))  # exactly as written (no fast parser)
    except ValueError:
        return None
    return None if math.isnan(bf) else bf


def evidence_from_weights(weights: pd.DataFrame, prior: float) -> Evidence | None:
    """The :class:`Evidence` from the linkage model's match-weight table (linkage/
    match_weights.csv: comparison, level, label, bayes_factor): exact agreement at the
    level EXACT_LEVEL places it (whatever column the comparison compares and
    however Splink words its label), disagreement at the comparison's last level; None when
    the model lacks a level this needs (another model: the list then stays as it was)."""
    if "level" not in weights.columns:
        return None
    wanted: dict[str, tuple[tuple[str, int | str], ...]] = {
        key: ((comparison, EXACT_LEVEL[comparison]), (comparison, LAST))
        for key, comparison in (
            ("nhs", "nhs_number"),
            ("first_name", "first_name_match"),
            ("sex", "sex"),
        )
    }
    wanted["household"] = (
        ("household", "Same surname and postcode"),
        ("household", "Same surname only"),
        ("household", LAST),
    )
    got: dict[str, tuple[float, ...]] = {}
    for key, levels in wanted.items():
        values = [_level(weights, c, level) for c, level in levels]
        if any(v is None or v <= 0 for v in values):
            return None
        got[key] = tuple(float(v) for v in values if v is not None)
    if not 0 < prior < 1:
        return None
    return Evidence(
        prior=prior,
        nhs=(got["nhs"][0], got["nhs"][1]),
        first_name=(got["first_name"][0], got["first_name"][1]),
        sex=(got["sex"][0], got["sex"][1]),
        household=(got["household"][0], got["household"][1], got["household"][2]),
    )


def _agree(a: str, b: str, bf: tuple[float, float]) -> float:
    """The Bayes factor of one comparison: 1 when either side is missing."""
    if not a or not b:
        return 1.0
    return bf[0] if a == b else bf[1]


def pair_probability(a: Mapping[str, str], b: Mapping[str, str], ev: Evidence) -> float:
    """The Fellegi-Sunter match probability of two identities (:data:`FIELDS`, normalised
    text, "" when missing), the date of birth left out."""
    log_bf = math.log(_agree(a["nhs_number"], b["nhs_number"], ev.nhs))
    log_bf += math.log(_agree(a["first_name_match"], b["first_name_match"], ev.first_name))
    log_bf += math.log(_agree(a["sex"], b["sex"], ev.sex))
    if a["last_name_match"] and b["last_name_match"]:
        same_name = a["last_name_match"] == b["last_name_match"]
        same_pc = bool(a["postcode"]) and a["postcode"] == b["postcode"]
        log_bf += math.log(
            ev.household[0] if same_name and same_pc else ev.household[1 if same_name else 2]
        )
    odds = math.log(ev.prior / (1 - ev.prior)) + log_bf
    return 1.0 / (1.0 + math.exp(-odds)) if odds > -700 else 0.0


def fold(text: object) -> str:
    """A name for matching: ASCII-folded, letters only, upper case (as ``*_match``)."""
    t = unicodedata.normalize("NFKD", str(text or ""))
    return re.sub(r"[^A-Z]", "", t.encode("ascii", "ignore").decode().upper())


def normalise_identity(row: Mapping[str, Any]) -> dict[str, str]:
    """The compared fields of one record or raw row, in one form."""

    def text(v: Any) -> str:
        return "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v).strip()

    nhs = re.sub(r"\D", "", text(row.get("nhs_number")))
    sex = text(row.get("sex")).lower()
    return {
        "nhs_number": nhs if len(nhs) == 10 else "",
        "first_name_match": fold(row.get("first_name_match") or row.get("first_name")),
        "last_name_match": fold(row.get("last_name_match") or row.get("last_name")),
        "postcode": normalise_postcode(text(row.get("postcode")))
        if text(row.get("postcode"))
        else "",
        "sex": sex if sex in ("female", "male") else "",
    }


def quarantined_identities(
    quarantine: pd.DataFrame,
    columns: Mapping[str, Mapping[str, str]],
    sex_maps: Mapping[str, Mapping[str, str]],
) -> list[dict[str, str]]:
    """The identities of quarantined rows of birth sources. ``quarantine``: source, raw (the
    raw row as JSON); ``columns``: per birth source, canonical field -> its column name;
    ``sex_maps``: per source, its value map for sex."""
    out: list[dict[str, str]] = []
    for source, raw in zip(quarantine["source"].astype(str), quarantine["raw"], strict=True):
        if source not in columns:
            continue
        try:
            row = json.loads(str(raw))
        except ValueError:
            continue
        if not isinstance(row, dict):
            continue
        canon = {f: row.get(col) for f, col in columns[source].items()}
        sex = str(canon.get("sex") or "").strip()
        canon["sex"] = sex_maps.get(source, {}).get(sex, sex)
        ident = normalise_identity(canon)
        if any(ident[f] for f in ("nhs_number", "last_name_match")):
            out.append(ident)
    return out


def quarantined_birth_matches(
    candidates: pd.DataFrame, quarantined: list[dict[str, str]], ev: Evidence, threshold: float
) -> set[str]:
    """The person ids among ``candidates`` (one row per record: person_id and
    :data:`FIELDS`) with a quarantined birth row matching at ``threshold`` or above. Pairs
    are blocked on the NHS number or on surname and postcode (as linkage blocks)."""
    by_nhs: dict[str, list[int]] = {}
    by_name: dict[tuple[str, str], list[int]] = {}
    for k, q in enumerate(quarantined):
        if q["nhs_number"]:
            by_nhs.setdefault(q["nhs_number"], []).append(k)
        if q["last_name_match"] and q["postcode"]:
            by_name.setdefault((q["last_name_match"], q["postcode"]), []).append(k)
    found: set[str] = set()
    for rec in candidates.to_dict("records"):
        pid = str(rec["person_id"])
        if pid in found:
            continue
        a = normalise_identity({str(k): v for k, v in rec.items()})
        pairs = set(by_nhs.get(a["nhs_number"], [])) if a["nhs_number"] else set()
        if a["last_name_match"] and a["postcode"]:
            pairs |= set(by_name.get((a["last_name_match"], a["postcode"]), []))
        if any(pair_probability(a, quarantined[k], ev) >= threshold for k in pairs):
            found.add(pid)
    return found


def mark_quarantined_births(ctx: RunContext, children: pd.DataFrame) -> pd.DataFrame:
    """``children`` with :data:`FLAG`: True for a child known to a universal service without
    a linked birth record whose birth row is (by the linkage model) in quarantine. Left as
    it was (no column) without a quarantine table, birth sources or the model's weights."""
    p, engine = ctx.project, ctx.engine
    births = {s.name: s for s in p.sources if s.role == BIRTHS}
    weights_file = Path(ctx.out_dir) / "linkage" / "match_weights.csv"
    model_file = Path(ctx.out_dir) / "linkage" / "model.json"
    if not births or not engine.has_table("quarantine") or not weights_file.is_file():
        return children
    try:
        prior = float(
            json.loads(model_file.read_text("utf-8"))["probability_two_random_records_match"]
        )
    except (OSError, ValueError, KeyError, TypeError):
        return children
    ev = evidence_from_weights(pd.read_csv(weights_file, dtype=str), prior)
    if ev is None:
        return children
    known = [
        [] if v is None or isinstance(v, str | float) else list(v) for v in children["known_by"]
    ]
    maybe = [bool(r) and BIRTHS not in r for r in known]
    ids = children.loc[maybe, "person_id"].astype(str)
    flagged: set[str] = set()
    if len(ids):
        q = engine.dialect.quote_ident
        quarantine = engine.query(f"SELECT source, raw FROM {q('quarantine')}").to_pandas()
        quarantined = quarantined_identities(
            quarantine,
            {n: dict(s.columns) for n, s in births.items()},
            {n: dict(s.value_maps.get("sex", {})) for n, s in births.items()},
        )
        if quarantined:
            cols = ", ".join(f"r.{q(c)}" for c in FIELDS)
            recs = engine.query(
                f"SELECT l.{q('person_id')} AS person_id, {cols} FROM {q('records')} r "
                f"JOIN {q('links')} l ON l.{q('source')} = r.{q('source')} "
                f"AND l.{q('record_id')} = r.{q('record_id')}"
            ).to_pandas()
            recs = recs[recs["person_id"].astype(str).isin(set(ids))]
            flagged = quarantined_birth_matches(recs, quarantined, ev, p.linkage.match_threshold)
    ctx.echo(
        f"  new arrivals: {len(flagged):,} of {len(ids):,} children without a linked birth "
        "record match a quarantined birth row (not counted as arrivals)"
    )
    return children.assign(**{FLAG: children["person_id"].astype(str).isin(flagged)})

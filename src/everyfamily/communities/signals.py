"""Each child's origin group from the signals its linked records hold (pure, restricted).

Signals are taken in order of specificity (groups.SIGNALS): mother's country of birth, then
main language, then ethnicity when it points to one group, then the child's name through
the classifier. The first that says something decides; ``basis`` records which one, so area
counts can correct the name-based part for the classifier's error (adjust.py) and so a
report can say which signals carried an estimate. The table never leaves the stage.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from everyfamily.communities.groups import (
    group_from_country,
    group_from_ethnicity,
    group_from_language,
)
from everyfamily.communities.nameorigin import NameOriginModel


def _mode_by_person(frame: pd.DataFrame, column: str) -> pd.Series:
    """Most frequent non-empty value per person (ties: the first record, which the caller
    sorted universal sources first)."""
    sub = frame.loc[frame[column].notna() & (frame[column].astype(str).str.strip() != "")]
    if sub.empty:
        return pd.Series(dtype=object)
    sub = sub.assign(_order=np.arange(len(sub)))
    counts = sub.groupby(["person_id", column], sort=False).agg(
        n=("_order", "size"), first=("_order", "min")
    )
    counts = counts.reset_index().sort_values(
        ["person_id", "n", "first"], ascending=[True, False, True]
    )
    return counts.drop_duplicates("person_id").set_index("person_id")[column]


def child_names(records: pd.DataFrame) -> pd.DataFrame:
    """person_id -> given_name, surname: each the most frequent across the child's records,
    universal sources first on ties. ``records`` has person_id, service_type, first_name,
    last_name (either name may be missing)."""
    r = records.copy()
    r["_universal"] = r["service_type"].astype(str) == "universal"
    r = r.sort_values(["_universal"], ascending=False, kind="mergesort")
    out = pd.DataFrame(index=pd.Index(sorted(r["person_id"].dropna().unique()), name="person_id"))
    for src, dst in (("first_name", "given_name"), ("last_name", "surname")):
        out[dst] = _mode_by_person(r, src) if src in r else None
    return out.reset_index()


def assign_groups(
    children: pd.DataFrame, names: pd.DataFrame | None, model: NameOriginModel | None
) -> pd.DataFrame:
    """Add ``origin_group``, ``basis`` and ``name_group`` to the children table.

    ``children`` has person_id and (any of) mother_country_of_birth, main_language,
    ethnicity; ``names`` has person_id, given_name, surname. Missing columns are signals the
    council does not hold: they are skipped, not errors.
    """
    out = children.copy()
    n = len(out)
    group = np.full(n, None, dtype=object)
    basis = np.full(n, None, dtype=object)
    for column, fn, label in (
        ("mother_country_of_birth", group_from_country, "country_of_birth"),
        ("main_language", group_from_language, "language"),
        ("ethnicity", group_from_ethnicity, "ethnicity"),
    ):
        if column not in out:
            continue
        values = np.array([fn(v) for v in out[column].to_numpy()], dtype=object)
        take = (group == None) & (values != None)  # noqa: E711 - elementwise on object arrays
        group[take] = values[take]
        basis[take] = label
    name_group = np.full(n, None, dtype=object)
    if names is not None and model is not None and not names.empty:
        nm = out[["person_id"]].merge(names, on="person_id", how="left")
        name_group = np.array(
            model.predict_many(nm["given_name"].tolist(), nm["surname"].tolist()), dtype=object
        )
        take = (group == None) & (name_group != None)  # noqa: E711
        group[take] = name_group[take]
        basis[take] = "name"
    out["origin_group"] = group
    out["basis"] = basis
    out["name_group"] = name_group
    return out

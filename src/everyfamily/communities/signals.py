"""Each child's origin group from the signals its linked records hold (pure, restricted).

Signals are taken in order of specificity (groups.SIGNALS): mother's country of birth, then
main language, then ethnicity when it points to one group, then the child's name through
the classifier. The first that says something decides; ``basis`` records which one, so area
counts can correct the name-based part for the classifier's error (adjust.py) and so a
report can say which signals carried an estimate. The table never leaves the stage.

Interpreter need is an indirect language signal: a family that needs an interpreter does not
speak English well enough to use services in it, so it is not read as British or Irish, but
the need does not say which language. It is used only when no main language is recorded
(a recorded language is the better signal; "English" with an interpreter is contradictory
and left to the language) and no country or ethnicity decided: a name classified as a named
group keeps that group (basis ``name``); a name read as British or Irish, or no name reading,
gives ``other`` with basis ``interpreter``. So the interpreter flag can only move a child out
of british_irish (the classifier's most common reading of an anglicised or unfamiliar name),
never into a named group, and counts with basis ``interpreter`` are direct (not corrected
for the classifier's error).
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
from everyfamily.ingest import codelists
from everyfamily.ingest.codelists import code_key


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


BRITISH = "british_irish"
OTHER = "other"


def _recorded(value: object) -> object:
    """The value, or None when it is a missing-value spelling ("Not known", "N/K" ...).
    Ingest already stores these as NULL; this guards stores loaded before it did, so a
    "Not known" country never counts as a foreign one."""
    if isinstance(value, str) and (
        not code_key(value) or code_key(value) in codelists.MISSING_KEYS
    ):
        return None
    return value


def _is_yes(value: object) -> bool:
    if isinstance(value, bool | np.bool_):
        return bool(value)
    return isinstance(value, str) and value.strip().casefold() in {"yes", "true"}


def _interpreter_without_language(children: pd.DataFrame) -> np.ndarray:
    """True where the child's family needs an interpreter and no main language is recorded."""
    n = len(children)
    if "interpreter_needed" not in children:
        return np.zeros(n, dtype=bool)
    out = np.array([_is_yes(v) for v in children["interpreter_needed"].tolist()], dtype=bool)
    if "main_language" in children:
        lang = children["main_language"]
        recorded = lang.notna() & (lang.astype(str).str.strip() != "")
        out &= ~recorded.to_numpy(dtype=bool)
    return out


def assign_groups(
    children: pd.DataFrame, names: pd.DataFrame | None, model: NameOriginModel | None
) -> pd.DataFrame:
    """Add ``origin_group``, ``basis`` and ``name_group`` to the children table.

    ``children`` has person_id and (any of) mother_country_of_birth, main_language,
    ethnicity, interpreter_needed; ``names`` has person_id, given_name, surname. Missing
    columns are signals the council does not hold: they are skipped, not errors. Without
    ``names``, a ``name_group`` column of ``children`` (the model's reading, as
    communities.engine_sums.cells gives it: rows there are cells of children) is used.
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
        values = np.array([fn(_recorded(v)) for v in out[column].to_numpy()], dtype=object)
        take = (group == None) & (values != None)  # noqa: E711 - elementwise on object arrays
        group[take] = values[take]
        basis[take] = label
    name_group = np.full(n, None, dtype=object)
    if names is None and "name_group" in out:
        # cells counted in the engine carry the model's reading already (engine_sums.py)
        name_group = np.array(
            [v if isinstance(v, str) else None for v in out["name_group"].tolist()], dtype=object
        )
    elif names is not None and model is not None and not names.empty:
        nm = out[["person_id"]].merge(names, on="person_id", how="left")
        name_group = np.array(
            model.predict_many(nm["given_name"].tolist(), nm["surname"].tolist()), dtype=object
        )
    # The name decides, unless the family needs an interpreter (and no language is recorded)
    # and the name reads as British or Irish; such a child, or one without a name reading, is
    # 'other' on the interpreter signal (module docstring).
    interpreter = _interpreter_without_language(out)
    overruled = interpreter & (name_group == BRITISH)
    take = (group == None) & (name_group != None) & ~overruled  # noqa: E711
    group[take] = name_group[take]
    basis[take] = "name"
    take = interpreter & (group == None)  # noqa: E711
    group[take] = OTHER
    basis[take] = "interpreter"
    out["origin_group"] = group
    out["basis"] = basis
    out["name_group"] = name_group
    return out

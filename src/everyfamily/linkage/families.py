"""Children into families: a rule over linked children (not a second Splink model).

Why a rule: "same family" is a different entity from "same child", and a Fellegi-Sunter model
trained without labels on family-level fields (surname, postcode, parent) has no second field
set to tell families apart; what identifies a family is a shared household, which is a few
exact facts. Two children are in the same family when any of their records share

- the parent's formal given name (nicknames mapped), the parent's family name and the
  postcode (a named parent at an address), or
- the normalised address, the postcode and the child's family name (a household whose
  records lack the parent's name).

Families are the connected components of children joined by these keys, so a family that
moved stays one family when any child was recorded at both addresses (or siblings share the
new one). A common parent name alone (Sarah Smith) never joins families: every key includes
where they live.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components


def _norm_address(s: pd.Series) -> pd.Series:
    return (
        s.astype("string")
        .str.upper()
        .str.replace(r"[^A-Z0-9 ]", " ", regex=True)
        .str.split()
        .str.join(" ")
    )


def family_components(rows: pd.DataFrame) -> pd.Series:
    """Family label (an integer) for each person.

    ``rows``: one row per (person, household facts) with columns person,
    parent_first_name_canonical, parent_last_name_match, postcode, address, last_name_match.
    Returns a Series indexed by person.
    """
    persons, person_code = np.unique(rows["person"].to_numpy(), return_inverse=True)
    n_p = len(persons)
    sep = "\x1f"
    k1 = (
        "P"
        + sep
        + rows["parent_first_name_canonical"].astype("string")
        + sep
        + rows["parent_last_name_match"].astype("string")
        + sep
        + rows["postcode"].astype("string")
    )
    addr = _norm_address(rows["address"])
    k2 = (
        "A"
        + sep
        + addr
        + sep
        + rows["postcode"].astype("string")
        + sep
        + rows["last_name_match"].astype("string")
    )
    keys = pd.concat([k1, k2], ignore_index=True)
    owners = np.concatenate([person_code, person_code])
    ok = keys.notna().to_numpy()
    keys, owners = keys[ok], owners[ok]
    key_code, _ = pd.factorize(keys)
    n_k = int(key_code.max()) + 1 if len(key_code) else 0
    graph = coo_matrix(
        (np.ones(len(owners), dtype=np.int8), (owners, n_p + key_code)),
        shape=(n_p + n_k, n_p + n_k),
    )
    _, labels = connected_components(graph, directed=False)
    return pd.Series(labels[:n_p], index=persons, name="family")

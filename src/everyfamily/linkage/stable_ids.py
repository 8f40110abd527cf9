"""Stable pseudonymous ids across runs: who keeps which id when clusters merge or split.

Splink removed its incremental-linkage feature, and its cluster ids are arbitrary per run, so
we carry ids forward ourselves (a registry of record -> id from the previous run). The rule is
deterministic, so re-running on the same inputs gives the same ids and the same events:

1. For each new cluster, count its records' previous ids.
2. Give out previous ids greedily, biggest (cluster, previous id) overlap first; ties broken
   by previous id, then by the cluster's founding record (its smallest (source, record_id)).
   Each previous id goes to at most one cluster and each cluster takes at most one id.
3. A cluster whose records held no previous id is new: its id is the pseudonym of its
   founding record (HMAC under the project key), so the same record founds the same id.
4. A cluster holding several previous ids keeps one and records a *merge* (id kept, ids
   merged into it).
5. A previous id whose records now fall in several clusters stays with one of them (step 2)
   or, if every one of them kept another id, is retired; the other clusters get fresh ids and
   a *split* is recorded (the previous id, the ids its records went to).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class IdEvent:
    kind: str  # new | merge | split
    id: str  # the id the event is about (kept, or newly minted)
    other_ids: tuple[str, ...]  # merge: ids retired into it; split: the id it split from
    n_records: int


@dataclass(frozen=True)
class IdResolution:
    ids: dict[Hashable, str]  # cluster -> stable id
    events: tuple[IdEvent, ...]


def resolve_stable_ids(
    current: pd.DataFrame, previous: pd.DataFrame, mint: Callable[[str, str, int], str]
) -> IdResolution:
    """Stable ids for the clusters of ``current`` (columns source, record_id, cluster).

    ``previous`` has source, record_id, id (an empty frame on a first run). ``mint(source,
    record_id, attempt)`` makes a fresh id from a founding record; ``attempt`` increases if
    the id is already taken (an HMAC prefix collision), keeping the outcome deterministic.
    """
    cur = current[["source", "record_id", "cluster"]].copy()
    cur["key"] = list(zip(cur["source"].astype(str), cur["record_id"].astype(str), strict=True))
    founding = cur.groupby("cluster", sort=False)["key"].min()
    sizes = cur.groupby("cluster", sort=False).size()
    prev = previous[["source", "record_id", "id"]].dropna(subset=["id"])
    joined = cur.merge(prev, on=["source", "record_id"], how="inner")
    overlap = joined.groupby(["cluster", "id"], sort=False).size().rename("n").reset_index()
    overlap["founding"] = overlap["cluster"].map(founding)
    overlap = overlap.sort_values(
        ["n", "id", "founding"], ascending=[False, True, True], kind="mergesort"
    )

    ids: dict[Hashable, str] = {}
    taken: set[str] = set(prev["id"].unique())  # never reuse an id a record has held
    given: set[str] = set()
    for cluster, pid in zip(overlap["cluster"], overlap["id"], strict=True):
        if cluster in ids or pid in given:
            continue
        ids[cluster] = pid
        given.add(pid)

    held: dict[Hashable, tuple[str, ...]] = {
        c: tuple(sorted(set(g))) for c, g in overlap.groupby("cluster", sort=False)["id"]
    }
    found: dict[Hashable, tuple[str, str]] = founding.to_dict()
    size_of: dict[Hashable, int] = {k: int(v) for k, v in sizes.items()}
    order = sorted(size_of, key=found.__getitem__)
    for cluster in order:
        if cluster in ids:
            continue
        source, record_id = found[cluster]
        attempt = 0
        new_id = mint(source, record_id, attempt)
        while new_id in taken or new_id in given:
            attempt += 1
            new_id = mint(source, record_id, attempt)
        ids[cluster] = new_id
        given.add(new_id)

    events: list[IdEvent] = []
    for cluster in order:
        before = held.get(cluster, ())
        if not before:
            events.append(IdEvent("new", ids[cluster], (), size_of[cluster]))
        elif len(before) > 1:
            others = tuple(i for i in before if i != ids[cluster])
            events.append(IdEvent("merge", ids[cluster], others, size_of[cluster]))
    spread = overlap.groupby("id", sort=True)
    for pid, rows in spread:
        if len(rows) > 1:
            others = tuple(sorted(ids[c] for c in rows["cluster"] if ids[c] != pid))
            events.append(IdEvent("split", str(pid), others, int(rows["n"].sum())))
    return IdResolution(ids=ids, events=tuple(events))

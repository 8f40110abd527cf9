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
from typing import Any

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
        ids[cluster] = _unused_id(mint, source, record_id, taken, given)
        given.add(ids[cluster])

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


# --- The same rule as SQL over the engine's tables -------------------------------------------
#
# Greedy assignment in a strict total order of (cluster, previous id) pairs (overlap
# descending, then previous id, then founding record: no two pairs tie, since a founding
# record belongs to one cluster) gives the same matching as taking, in rounds, every pair that
# ranks first among the remaining pairs of its cluster AND of its previous id ("locally
# dominant" pairs), then dropping the pairs of the clusters and ids just matched: the pair
# greedy takes next is always locally dominant, and a locally dominant pair is never blocked
# by a better one (Preis 1999, "Linear time 1/2-approximation algorithm for maximum weighted
# matching in general graphs", STACS; Hoepman 2004). One round settles every cluster whose
# best pair is its previous id's best too, which on a monthly run is nearly all of them.

_W = "ef_sid_"  # working tables of the SQL resolver, dropped at the end


@dataclass(frozen=True)
class SqlIdResolution:
    """Where the SQL resolver put its answer: ``table`` (cluster, id) in the engine, the
    events (as :func:`resolve_stable_ids` gives them) and the rounds the matching took."""

    table: str
    events: tuple[IdEvent, ...]
    rounds: int


def _unused_id(
    mint: Callable[[str, str, int], str],
    source: str,
    record_id: str,
    taken: set[str],
    given: set[str],
) -> str:
    """The founding record's pseudonym (attempt 0), or its next attempt while that id is a
    previous run's or already given in this one (step 3 of the module docstring)."""
    attempt = 0
    new_id = mint(source, record_id, attempt)
    while new_id in taken or new_id in given:
        attempt += 1
        new_id = mint(source, record_id, attempt)
    return new_id


def _text_order(engine: Any, expr: str) -> str:
    """``expr`` ordered by code point, as Python orders str: DuckDB and Spark compare
    strings byte by byte (UTF-8, so by code point); PostgreSQL by the database's collation,
    so there the byte-wise collation "C" is named."""
    return f'{expr} COLLATE "C"' if engine.dialect.name == "postgres" else expr


def _rows(engine: Any, sql: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = engine.query(sql).to_pylist()
    return rows


def resolve_stable_ids_sql(
    engine: Any,
    current: str,
    previous: str | None,
    mint: Callable[[str, str, int], str],
    *,
    out: str,
    previous_id: str = "id",
) -> SqlIdResolution:
    """:func:`resolve_stable_ids` as SQL over the engine's tables: the same ids and events.

    ``current``: a table of (source, record_id, cluster); ``previous``: a table of (source,
    record_id, ``previous_id``) or None on a first run. Writes ``out`` (cluster, id, one
    row per cluster). Only the founding records of the clusters that keep no previous id come
    to Python, to be minted (``mint`` is the project's HMAC), with the previous ids when
    there are any (to refuse a colliding mint, as the pandas rule does).
    """
    q = engine.dialect.quote_ident
    found = q(_W + "found")
    src, rid = _text_order(engine, "source"), _text_order(engine, "record_id")
    engine.replace_table_as(
        _W + "found",
        f"""SELECT cluster, source AS f_source, record_id AS f_record, n_records FROM (
              SELECT cluster, source, record_id,
                     row_number() OVER (PARTITION BY cluster ORDER BY {src}, {rid}) AS k,
                     count(*) OVER (PARTITION BY cluster) AS n_records
              FROM {q(current)}) AS t WHERE k = 1""",
    )
    pid = _text_order(engine, "o.id")
    fs, fr = _text_order(engine, "f.f_source"), _text_order(engine, "f.f_record")
    prev_rows = (
        f"""SELECT c.cluster, p.{q(previous_id)} AS id FROM {q(current)} AS c
            JOIN {q(previous)} AS p ON p.source = c.source AND p.record_id = c.record_id
            WHERE p.{q(previous_id)} IS NOT NULL"""
        if previous is not None
        else f"SELECT cluster, CAST(NULL AS VARCHAR) AS id FROM {q(current)} WHERE 1 = 0"
    )
    engine.replace_table_as(
        _W + "overlap",
        f"""SELECT o.cluster, o.id, o.n,
                   row_number() OVER (ORDER BY o.n DESC, {pid}, {fs}, {fr}) AS g
            FROM (SELECT cluster, id, count(*) AS n FROM ({prev_rows}) AS j
                  GROUP BY cluster, id) AS o
            JOIN {found} AS f ON f.cluster = o.cluster""",
    )
    rounds = _match_in_rounds(engine)
    _mint_new(engine, previous, previous_id, mint, out)
    events = _events_sql(engine, out)
    for name in ("found", "overlap", "left", "given", "minted"):
        engine.drop_table(_W + name)
    return SqlIdResolution(table=out, events=events, rounds=rounds)


def _match_in_rounds(engine: Any) -> int:
    """Fill ``ef_sid_given`` (cluster, id) with the greedy matching, in rounds of locally
    dominant pairs (module comment above); returns the number of rounds."""
    q = engine.dialect.quote_ident
    left, given, chosen = q(_W + "left"), q(_W + "given"), q(_W + "chosen")
    engine.replace_table_as(_W + "left", f"SELECT cluster, id, g FROM {q(_W + 'overlap')}")
    engine.replace_table_as(_W + "given", f"SELECT cluster, id FROM {left} WHERE 1 = 0")
    rounds = 0
    while engine.query(f"SELECT count(*) AS n FROM {left}").column(0)[0].as_py():
        rounds += 1
        engine.replace_table_as(
            _W + "chosen",
            f"""SELECT cluster, id FROM (
                  SELECT cluster, id, g, min(g) OVER (PARTITION BY cluster) AS gc,
                         min(g) OVER (PARTITION BY id) AS gi FROM {left}) AS t
                WHERE g = gc AND g = gi""",
        )
        engine.replace_table_as(
            _W + "given", f"SELECT cluster, id FROM {given} UNION ALL SELECT * FROM {chosen}"
        )
        engine.replace_table_as(
            _W + "left",
            f"""SELECT l.cluster, l.id, l.g FROM {left} AS l
                WHERE NOT EXISTS (SELECT 1 FROM {chosen} AS c WHERE c.cluster = l.cluster)
                  AND NOT EXISTS (SELECT 1 FROM {chosen} AS c WHERE c.id = l.id)""",
        )
        engine.drop_table(_W + "chosen")
    return rounds


def _mint_new(
    engine: Any,
    previous: str | None,
    previous_id: str,
    mint: Callable[[str, str, int], str],
    out: str,
) -> None:
    """Mint ids for the clusters that kept none, in founding-record order, skipping any id a
    record has held or this run has given (as :func:`resolve_stable_ids`); write ``out``."""
    import pyarrow as pa

    q = engine.dialect.quote_ident
    found, given = q(_W + "found"), q(_W + "given")
    fresh = engine.query(
        f"""SELECT f.cluster, f.f_source, f.f_record FROM {found} AS f
            WHERE NOT EXISTS (SELECT 1 FROM {given} AS g WHERE g.cluster = f.cluster)"""
    )
    keys = list(
        zip(fresh.column("f_source").to_pylist(), fresh.column("f_record").to_pylist(), strict=True)
    )
    order = sorted(range(len(keys)), key=keys.__getitem__)
    taken: set[str] = set()
    if previous is not None and keys:
        taken = set(
            engine.query(
                f"SELECT DISTINCT {q(previous_id)} AS id FROM {q(previous)}"
                f" WHERE {q(previous_id)} IS NOT NULL"
            )
            .column(0)
            .to_pylist()
        )
    minted: list[str] = [""] * len(keys)
    made: set[str] = set()
    for i in order:
        source, record_id = keys[i]
        minted[i] = _unused_id(mint, source, record_id, taken, made)
        made.add(minted[i])
    engine.write_table(
        _W + "minted",
        pa.table({"cluster": fresh.column("cluster"), "id": pa.array(minted, pa.string())}),
    )
    engine.replace_table_as(
        out, f"SELECT cluster, id FROM {given} UNION ALL SELECT cluster, id FROM {q(_W + 'minted')}"
    )


def _events_sql(engine: Any, out: str) -> tuple[IdEvent, ...]:
    """New and merge events in founding-record order, then splits by previous id: the
    events of :func:`resolve_stable_ids`, from the overlap table and the ids given."""
    q = engine.dialect.quote_ident
    found, overlap, ids = q(_W + "found"), q(_W + "overlap"), q(out)
    held = engine.query(
        f"""SELECT f.f_source, f.f_record, f.n_records, i.id AS kept, o.id AS held
            FROM {found} AS f JOIN {ids} AS i ON i.cluster = f.cluster
            LEFT JOIN {overlap} AS o ON o.cluster = f.cluster
            WHERE f.cluster NOT IN (SELECT cluster FROM {overlap} GROUP BY cluster
                                    HAVING count(*) = 1)"""
    )
    cols = held.column
    founding = list(zip(cols("f_source").to_pylist(), cols("f_record").to_pylist(), strict=True))
    sizes, kept_ids, held_ids = (
        cols("n_records").to_pylist(),
        cols("kept").to_pylist(),
        cols("held").to_pylist(),
    )
    merged: dict[tuple[str, str], list[str]] = {}
    for k, h in enumerate(held_ids):
        if h is not None:
            merged.setdefault(founding[k], []).append(h)
    events: list[IdEvent] = []
    seen: set[tuple[str, str]] = set()
    for k in sorted(range(len(founding)), key=founding.__getitem__):
        f = founding[k]
        if f not in merged:
            events.append(IdEvent("new", kept_ids[k], (), int(sizes[k])))
        elif f not in seen:
            seen.add(f)
            others = tuple(sorted(i for i in set(merged[f]) if i != kept_ids[k]))
            events.append(IdEvent("merge", kept_ids[k], others, int(sizes[k])))
    spread = _rows(
        engine,
        f"""SELECT o.id AS pid, o.n, i.id AS now FROM {overlap} AS o
            JOIN {ids} AS i ON i.cluster = o.cluster
            WHERE o.id IN (SELECT id FROM {overlap} GROUP BY id HAVING count(*) > 1)""",
    )
    splits: dict[str, tuple[int, list[str]]] = {}
    for r in spread:
        n, went = splits.setdefault(str(r["pid"]), (0, []))
        splits[str(r["pid"])] = (n + int(r["n"]), went)
        if r["now"] != r["pid"]:
            went.append(str(r["now"]))
    for p in sorted(splits):
        n, went = splits[p]
        events.append(IdEvent("split", p, tuple(sorted(went)), n))
    return tuple(events)

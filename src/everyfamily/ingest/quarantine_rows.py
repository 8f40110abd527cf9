"""Quarantine rows and duplicate record ids (moved from standardise.py unchanged, issue 19;
``ingest.standardise`` re-exports these names).

Duplicate record ids (docs/input-contract.md): the first row with a given record id (in file
order) is the one that counts; a later row with the same id goes to quarantine, as
``duplicate_row`` when it is an exact copy of that first row, or ``duplicate_record_id`` when
its content differs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from everyfamily.ingest import rules
from everyfamily.ingest.readers import RawBatch
from everyfamily.schema import QUARANTINE_COLUMNS

UNREADABLE_KEY = "_unreadable_row"
QUARANTINE_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("row_number", pa.int64()),
        ("record_id", pa.string()),
        ("batch_id", pa.string()),
        ("reasons", pa.list_(pa.string())),
        ("raw", pa.string()),
    ]
)
if tuple(QUARANTINE_SCHEMA.names) != QUARANTINE_COLUMNS:
    raise RuntimeError("QUARANTINE_SCHEMA is out of step with schema.QUARANTINE_COLUMNS")


def _json_text(v: Any) -> str:
    return "null" if v is None else json.dumps(v, ensure_ascii=False)


def json_objects(columns: Sequence[tuple[str, pa.Array]], n: int) -> pa.Array:
    """One JSON object text per row from named text columns (NULL -> null). Each distinct
    value is JSON-escaped once, then the pieces are joined with Arrow."""
    if not columns:
        return pa.array(["{}"] * n, type=pa.string())
    parts: list[Any] = []
    for i, (name, arr) in enumerate(columns):
        parts.append(("{" if i == 0 else ",") + json.dumps(name, ensure_ascii=False) + ":")
        enc = rules.map_unique(arr, _json_text)
        parts.append(pc.fill_null(enc, "null"))
    parts.append("}")
    out = pc.binary_join_element_wise(*parts, "")
    return out.combine_chunks() if isinstance(out, pa.ChunkedArray) else out


def find_duplicates(
    raw: RawBatch, record_id: pa.Array, unreadable: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(exact copy of the first row with its id, same id with different content)."""
    n = raw.rows_read
    dup_row = np.zeros(n, dtype=bool)
    dup_id = np.zeros(n, dtype=bool)
    ids = pd.Series(record_id.to_pandas(), dtype=object)
    ids[unreadable] = None
    present = ids.notna().to_numpy()
    later = ids.duplicated(keep="first").to_numpy() & present
    id_list: list[str | None] = record_id.to_pylist() if later.any() else []
    if not later.any():
        return dup_row, dup_id
    involved = np.flatnonzero(ids.duplicated(keep=False).to_numpy() & present)
    rows = raw.table.take(pa.array(involved)).to_pylist()
    first_content: dict[str | None, tuple[Any, ...]] = {}
    for i, row in zip(involved.tolist(), rows, strict=True):
        content = tuple(row.values())
        key = id_list[i]
        if not later[i]:
            first_content[key] = content
        elif content == first_content[key]:
            dup_row[i] = True
        else:
            dup_id[i] = True
    return dup_row, dup_id


def quarantine_table(
    raw: RawBatch,
    source: str,
    record_id: pa.Array,
    row_number: pa.Array,
    reasons: pa.Array,
    bad_idx: pa.Array,
    unreadable: np.ndarray,
) -> pa.Table:
    m = len(bad_idx)
    sub = raw.table.take(bad_idx)
    raw_json = json_objects([(c, sub.column(c).combine_chunks()) for c in raw.columns], m)
    if raw.unreadable is not None and unreadable.any():
        line = raw.unreadable.take(bad_idx)
        as_json = rules.map_unique(
            line, lambda v: None if v is None else _json_text({UNREADABLE_KEY: v})
        )
        raw_json = pc.coalesce(as_json, raw_json)
    return pa.table(
        {
            "source": pa.array([source] * m, type=pa.string()),
            "row_number": pc.take(row_number, bad_idx),
            "record_id": pc.take(record_id, bad_idx),
            "batch_id": pa.array([raw.batch_id] * m, type=pa.string()),
            "reasons": pc.take(reasons, bad_idx),
            "raw": raw_json,
        },
        schema=QUARANTINE_SCHEMA,
    )

"""Hand-made records planted into a seeded synthetic population (so training has data)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from everyfamily.config import LinkageSettings
from everyfamily.engines import open_engine
from everyfamily.ingest.rules import fold_name
from everyfamily.linkage.stage import LinkageResult, link_records
from everyfamily.linkage.synthetic import SyntheticLinkageData, build_records
from everyfamily.schema import RECORDS_COLUMNS

KEY = b"test-key-0123456789abcdef-not-secret"
SENTINEL = "Zzqsentinel"  # a surname that must never reach logs or released outputs


def record(
    source: str,
    record_id: str,
    first: str,
    last: str,
    dob: str,
    *,
    nhs: str | None = None,
    sex: str = "female",
    postcode: str | None = "L36 9ZZ",
    parent_first: str | None = "Maureen",
    parent_last: str | None = None,
    address: str = "1 Sentinel Row",
) -> dict[str, Any]:
    parent_last = last if parent_last is None else parent_last
    row: dict[str, Any] = dict.fromkeys(RECORDS_COLUMNS)
    row.update(
        {
            "source": source,
            "role": source,
            "service_type": "targeted",
            "record_id": record_id,
            "row_number": 1,
            "batch_id": "planted",
            "nhs_number": nhs,
            "nhs_number_valid": None if nhs is None else True,
            "first_name": first,
            "last_name": last,
            "first_name_match": fold_name(first),
            "last_name_match": fold_name(last),
            "date_of_birth": dt.date.fromisoformat(dob),
            "sex": sex,
            "postcode": postcode,
            "postcode_valid": None if postcode is None else True,
            "postcode_sector": postcode[:-2] if postcode else None,
            "postcode_district": postcode.split(" ")[0] if postcode else None,
            "address": address,
            "parent_first_name": parent_first,
            "parent_last_name": parent_last,
            "parent_first_name_match": fold_name(parent_first),
            "parent_last_name_match": fold_name(parent_last),
            "flags": [],
        }
    )
    return row


def table(rows: list[dict[str, Any]], like: pa.Table) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=like.schema)


def population(n_records: int = 3000, seed: int = 11, **kw: Any) -> SyntheticLinkageData:
    return build_records(n_records, seed=seed, **kw)


def run_link(
    records: pa.Table,
    out_dir: Path,
    *,
    run: str = "run-1",
    engine: Any = None,
    settings: LinkageSettings | None = None,
) -> tuple[Any, LinkageResult, pd.DataFrame]:
    eng = engine or open_engine("duckdb", path=out_dir / "store.duckdb")
    eng.write_table("records", records)
    result = link_records(
        eng,
        settings or LinkageSettings(),
        key=KEY,
        out_dir=out_dir,
        run=run,
    )
    links = eng.query("SELECT * FROM links").to_pandas()
    return eng, result, links

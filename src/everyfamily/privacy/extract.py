"""``everyfamily extract``: the one way a restricted table leaves the encrypted stores.

Some restricted tables are needed as files: quarantined rows to fix at source, the
clerical-review sample to mark up, the id registry to carry ids into a run in a new folder.
Writing them is deliberate (a named table, a stated purpose), needs the run's key, and is
audited (who, which table, how many rows, why; never a value) *before* the file is written,
so an extract that fails half-way is still on the record.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from everyfamily.errors import ConfigError
from everyfamily.spreadsheet_safe import neutralise_table
from everyfamily.stores import EXTRACTABLE, open_run_stores

MIN_PURPOSE_CHARS = 10


def extract_table(
    out_dir: Path,
    table: str,
    to: Path,
    *,
    purpose: str,
    audit: Any,
    who: str,
    environ: Mapping[str, str] | None = None,
) -> int:
    """Write ``table`` of the run in ``out_dir`` to ``to`` (.csv or .parquet); returns the
    number of rows. ``audit`` has ``audit(username, action, detail, purpose)``."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    if table not in EXTRACTABLE:
        raise ConfigError(
            f"{table!r}: not an extractable table",
            hint="use one of " + ", ".join(EXTRACTABLE),
        )
    purpose = " ".join(purpose.split())
    if len(purpose) < MIN_PURPOSE_CHARS:
        raise ConfigError(
            f"--purpose: say why you need {table} (at least {MIN_PURPOSE_CHARS} characters)",
            hint='e.g. --purpose "fix quarantined rows at source, ticket 123"',
        )
    suffix = to.suffix.lower()
    if suffix not in {".csv", ".parquet"}:
        raise ConfigError(f"{to}: write .csv or .parquet", hint="change the file name")
    if to.exists():
        raise ConfigError(f"{to}: exists", hint="choose a new file name or remove it first")
    engine = open_run_stores(out_dir, zones=(EXTRACTABLE[table],), environ=environ)
    try:
        if table == "quarantine":
            from everyfamily.ingest.stage import quarantine_rows

            data = quarantine_rows(engine)
        elif engine.has_table(table):
            data = engine.query(f"SELECT * FROM {engine.dialect.quote_ident(table)}")
        else:
            raise ConfigError(
                f"{out_dir}: the run has no {table} table",
                hint="rerun the pipeline with this version of everyfamily",
            )
    finally:
        engine.close()
    audit.audit(who, "extract", f"{table}: {data.num_rows} rows to {to.name}", purpose)
    to.parent.mkdir(parents=True, exist_ok=True)
    # Person-level rows: readable by the file's owner only (0600), from the moment it exists.
    fd = os.open(to, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.chmod(to, 0o600)  # an existing file keeps its old mode through os.open
    with os.fdopen(fd, "wb") as fh:
        if suffix == ".csv":
            pacsv.write_csv(neutralise_table(data), fh)
        else:
            pq.write_table(data, fh)
    return int(data.num_rows)

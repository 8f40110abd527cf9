"""A run's two stores, and which tables live in which.

Direct identifiers (names, NHS numbers, exact dates of birth, postcodes, addresses) and the
keys back to source records stay in the **identifiable** zone, ``OUT/restricted/
identifiable.duckdb``: ingest writes there and linkage works there (so Splink's working
tables, which hold names, never touch the other file). Everything after linkage works in the
**analysis** zone, ``OUT/everyfamily.duckdb``: keyed pseudonyms, month and year of birth, the
LSOA, groups and aggregates. Both files are encrypted with keys derived from the
pseudonymisation key (``privacy.encryption``) unless ``privacy.encrypt_at_rest`` is off.

Re-identification (the outreach list's names) reads the identifiable zone, on demand, and
only for roles allowed to (``everyfamily.privacy.reidentify``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from everyfamily.catalogue import ANALYSIS, IDENTIFIABLE, extractable, tables_in
from everyfamily.engines.layout import DUCKDB_ZONE_FILES, SPARK_ZONE_DIRS, zone_file
from everyfamily.errors import ConfigError, InputError

if TYPE_CHECKING:
    from everyfamily.config import PrivacySettings, Project
    from everyfamily.engines.base import Engine
    from everyfamily.engines.duckdb_engine import DuckDBEngine, StoreFile

ZONES: tuple[str, ...] = (IDENTIFIABLE, ANALYSIS)

#: Where each zone's database lives, relative to the output folder, on the DuckDB engine
#: (zones as files; a PostgreSQL engine keeps them as schemas: ``Engine.capabilities.zones``).
#: The engine owns this layout (``everyfamily.engines.layout``); this is a copy for readers.
STORE_PATHS: dict[str, str] = dict(DUCKDB_ZONE_FILES)

#: Where each zone's folder of tables lives, relative to the output folder, on an engine
#: whose zones are storage locations (Spark, ``capabilities.zones == "locations"``) when its
#: warehouse is the output folder (the default): copied into the next run's staging folder
#: as the DuckDB files are.
STORE_DIRS: dict[str, str] = dict(SPARK_ZONE_DIRS)

#: Tables of the identifiable zone a run leaves (working tables of linkage stay there too
#: while it runs). Derived from the catalogue (``everyfamily.catalogue.STORE_TABLES``).
IDENTIFIABLE_TABLES: tuple[str, ...] = tables_in(IDENTIFIABLE)

#: Restricted tables that may be extracted to a file on request (``everyfamily extract``),
#: with the zone that holds each. Derived from the catalogue.
EXTRACTABLE: dict[str, str] = extractable()


def store_files(out_dir: Path, key: bytes | None, zones: Sequence[str] = ZONES) -> list[StoreFile]:
    """The StoreFile of each zone (first = the zone new tables go to); ``key`` None means
    unencrypted."""
    from everyfamily.engines.duckdb_engine import StoreFile as File
    from everyfamily.privacy.encryption import store_key

    return [
        File(
            zone=z,
            path=zone_file(out_dir, z),
            key=store_key(key, z) if key is not None else None,
        )
        for z in zones
    ]


def open_stores(
    out_dir: Path,
    privacy: PrivacySettings,
    *,
    zones: Sequence[str] = ZONES,
    read_only: bool = False,
    environ: Mapping[str, str] | None = None,
    **engine_options: Any,
) -> DuckDBEngine:
    """Open a run's stores (encrypted unless ``privacy.encrypt_at_rest`` is off) on one
    engine; the first of ``zones`` is where new tables go."""
    from everyfamily.engines.duckdb_engine import DuckDBEngine

    key: bytes | None = None
    if privacy.encrypt_at_rest:
        from everyfamily.privacy.pseudonyms import load_key

        key = load_key(privacy, environ)
    return DuckDBEngine.open_stores(
        store_files(out_dir, key, zones), read_only=read_only, **engine_options
    )


def open_project_stores(
    out_dir: Path,
    project: Project,
    *,
    zones: Sequence[str] = ZONES,
    read_only: bool = False,
    environ: Mapping[str, str] | None = None,
) -> Engine:
    """Open a run's stores on the project's engine (``engine:``): DuckDB's encrypted files
    (:func:`open_stores`) or Spark's zone folders (``engines.layout.SPARK_ZONE_DIRS``, under
    ``spark.warehouse`` or the output folder). Spark does not encrypt its tables: with
    ``privacy.encrypt_at_rest`` on, ``spark.storage_encrypted`` must confirm the storage
    does."""
    if project.engine != "spark":
        return open_stores(
            out_dir, project.privacy, zones=zones, read_only=read_only, environ=environ
        )
    from everyfamily.engines.layout import spark_zone_locations
    from everyfamily.engines.spark_engine import SparkEngine

    settings = project.spark
    if project.privacy.encrypt_at_rest and not settings.storage_encrypted:
        raise ConfigError(
            "engine spark: Spark does not encrypt its tables and privacy.encrypt_at_rest is on",
            hint="set spark.storage_encrypted: true once the cluster's storage encrypts at "
            "rest (docs/scale.md), or privacy.encrypt_at_rest: false for test data",
        )
    warehouse = settings.warehouse or str(Path(out_dir).resolve())
    return SparkEngine(
        warehouse,
        zones=tuple(zones),
        read_only=read_only,
        master=settings.master,
        config=settings.config,
        locations=spark_zone_locations(warehouse, tuple(zones)),
    )


def run_privacy(out_dir: Path) -> PrivacySettings:
    """The privacy settings a run recorded in run.json (where its key lives, whether its
    stores are encrypted): what a reader of the output folder needs to open the stores."""
    path = Path(out_dir) / "run.json"
    try:
        run = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(
            f"{path}: no run metadata", hint="give the output folder of an everyfamily run"
        ) from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InputError(f"{path}: run.json is not valid JSON", hint="rerun the pipeline") from None
    return privacy_of(run if isinstance(run, dict) else {}, path)


def privacy_of(run: Mapping[str, Any], path: Path) -> PrivacySettings:
    """The privacy settings in a run's metadata already read from ``path`` (run.json)."""
    from pydantic import ValidationError

    from everyfamily.config import PrivacySettings

    block = (run.get("settings") or {}).get("privacy")
    try:
        return PrivacySettings.model_validate(block or {})
    except ValidationError:
        raise ConfigError(
            f"{path}: the privacy settings recorded in run.json are not valid",
            hint="rerun the pipeline with this version of everyfamily",
        ) from None


def open_run_stores(
    out_dir: Path,
    *,
    zones: Sequence[str] = (ANALYSIS,),
    read_only: bool = True,
    environ: Mapping[str, str] | None = None,
) -> DuckDBEngine:
    """Open the stores of a finished run (read-only by default) with the key its run.json
    says where to find: for the dashboard, the demo check, ``everyfamily extract``."""
    return open_stores(
        out_dir, run_privacy(out_dir), zones=zones, read_only=read_only, environ=environ
    )


def export_to_duckdb(
    engine: Engine,
    out_dir: Path,
    privacy: PrivacySettings,
    *,
    zones: Sequence[str] = ZONES,
    environ: Mapping[str, str] | None = None,
) -> dict[str, int]:
    """Copy every table of ``zones`` from ``engine`` (a run's stores on an engine whose zones
    are storage locations: Spark) into the run's DuckDB store files in ``out_dir``,
    encrypted as ``privacy`` says, replacing what they held; returns the rows copied per
    zone.

    The readers of a finished run (the dashboard, ``extract``, ``plan --run``, the next run's
    ``since`` stage, ``compare_runs``) open those files: a web process never starts a JVM,
    and the Spark run's analysis outputs are read exactly as a DuckDB run's are
    (docs/scale.md). Each table passes through Arrow on the driver, one table at a time."""
    copied = dict.fromkeys(zones, 0)
    duck = open_stores(out_dir, privacy, zones=zones, environ=environ)
    try:
        for zone in zones:
            names = engine.tables(zone)
            with duck.zone(zone), engine.zone(zone):
                for stale in set(duck.tables(zone)) - set(names):
                    duck.drop_table(stale)
                for name in names:
                    rows = engine.query(f"SELECT * FROM {engine.dialect.quote_ident(name)}")
                    duck.write_table(name, rows)
                    copied[zone] += rows.num_rows
    finally:
        duck.close()
    return copied

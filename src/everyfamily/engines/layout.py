"""Where an engine keeps a run's zones: the store layout belongs to the engine.

On DuckDB each zone is one database file under the output folder (:data:`DUCKDB_ZONE_FILES`,
``capabilities.zones == "files"``); on PostgreSQL each zone is a schema of one database
(``capabilities.zones == "schemas"``, ``postgres_engine.DEFAULT_ZONES``), so nothing of it is
in the output folder. Code outside engines/ asks here (or ``everyfamily.stores``) and never
spells a store's file name itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from everyfamily.catalogue import ANALYSIS, IDENTIFIABLE

#: Each zone's database file on the DuckDB engine, relative to the output folder: the
#: identifiable zone under ``restricted/`` (a folder an administrator can lock down).
DUCKDB_ZONE_FILES: Mapping[str, str] = MappingProxyType(
    {
        IDENTIFIABLE: "restricted/identifiable.duckdb",
        ANALYSIS: "everyfamily.duckdb",
    }
)


#: Each zone's folder of Parquet tables on the Spark engine (``capabilities.zones ==
#: "locations"``), relative to the warehouse (by default the output folder): identifiable
#: data again under ``restricted/``.
SPARK_ZONE_DIRS: Mapping[str, str] = MappingProxyType(
    {
        IDENTIFIABLE: "restricted/spark/identifiable",
        ANALYSIS: "spark/analysis",
    }
)


def spark_zone_locations(warehouse: str, zones: tuple[str, ...]) -> dict[str, str]:
    """Where each of ``zones`` keeps its tables on the Spark engine under ``warehouse``."""
    base = str(warehouse).rstrip("/")
    return {z: f"{base}/{SPARK_ZONE_DIRS.get(z, z)}" for z in zones}


def zone_file(out_dir: Path, zone: str) -> Path:
    """The DuckDB database file of ``zone`` in the output folder ``out_dir``."""
    try:
        return Path(out_dir) / DUCKDB_ZONE_FILES[zone]
    except KeyError:
        raise ValueError(f"unknown zone {zone!r}; use one of {tuple(DUCKDB_ZONE_FILES)}") from None

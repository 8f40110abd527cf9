"""The id registry of the link stage: stable person and family ids for this run's clusters,
carried over from the previous run's registry (the rule: stable_ids.py, run as SQL in the
engine; the family rule: families.py). Split from stage.py, which writes the registry."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from everyfamily.config import LinkageSettings
from everyfamily.engines.base import Engine
from everyfamily.errors import LinkageError
from everyfamily.linkage.families import family_components
from everyfamily.linkage.prepare import IDENTITIES, RECORD_IDENTITY
from everyfamily.linkage.stable_ids import SqlIdResolution, resolve_stable_ids_sql
from everyfamily.privacy.pseudonyms import pseudonym_maker


@dataclass(frozen=True)
class StableIds:
    """Every record with its cluster, stable person and family ids; the previous registry
    and the id events of persons and families."""

    records: pd.DataFrame
    previous: pd.DataFrame
    persons: SqlIdResolution
    families: SqlIdResolution


_SID_RECORDS, _SID_PREVIOUS = "ef_sid_records", "ef_sid_previous"
_SID_PERSON, _SID_FAMILY_OF, _SID_FAMILY = "ef_sid_person", "ef_sid_family_of", "ef_sid_family"
_SID_FAMILY_RECORDS = "ef_sid_family_records"


def stable_ids(
    engine: Engine,
    settings: LinkageSettings,
    key: bytes,
    records_table: str,
    clusters: str,
    registry: str,
) -> StableIds:
    """Stable person ids from the clusters and family ids from the households (see
    stable_ids.py and families.py), carried over from the previous registry. The rule runs
    as SQL in the engine (``resolve_stable_ids_sql``); only the households (for the family
    components) and the founding records of new clusters (to mint) come to Python."""
    q = engine.dialect.quote_ident
    rec = q(records_table)
    ri, cl, ids = q(RECORD_IDENTITY), q(clusters), q(IDENTITIES)
    engine.replace_table_as(
        _SID_RECORDS,
        f"""SELECT r.source, r.record_id, c.cluster_id AS cluster
            FROM {ri} AS r JOIN {cl} AS c ON c.unique_id = r.identity_id""",
    )
    previous = previous_registry(engine, settings.previous_ids_path, registry)
    prev_table: str | None = None
    if settings.previous_ids_path is not None:
        cols = ["source", "record_id", "person_id", "family_id"]
        engine.write_table(
            _SID_PREVIOUS,
            pa.table({c: pa.array(previous[c].astype("string"), pa.string()) for c in cols}),
        )
        prev_table = _SID_PREVIOUS
    elif engine.has_table(registry):
        prev_table = registry

    def mint(prefix: str, entity: str) -> Callable[[str, str, int], str]:
        make = pseudonym_maker(key, prefix)  # = pseudonym(key, *parts, prefix=prefix)

        def _mint(source: str, record_id: str, attempt: int) -> str:
            return make(entity, source, record_id, *((str(attempt),) if attempt else ()))

        return _mint

    persons = resolve_stable_ids_sql(
        engine,
        _SID_RECORDS,
        prev_table,
        mint("P", "person"),
        out=_SID_PERSON,
        previous_id="person_id",
    )
    households = engine.query(f"""
        SELECT DISTINCT c.cluster_id AS person, i.parent_first_name_canonical,
               i.parent_last_name_match, i.postcode, rec.address, i.last_name_match
        FROM {ri} AS r
        JOIN {cl} AS c ON c.unique_id = r.identity_id
        JOIN {ids} AS i ON i.unique_id = r.identity_id
        JOIN {rec} AS rec ON rec.source = r.source AND rec.record_id = r.record_id
    """).to_pandas()
    fam_of_person = family_components(households)
    person_type = engine.query(f"SELECT cluster FROM {q(_SID_RECORDS)} WHERE 1 = 0").schema
    engine.write_table(
        _SID_FAMILY_OF,
        pa.table(
            {
                "cluster": pa.array(fam_of_person.index.to_list(), person_type.field(0).type),
                "family": pa.array(fam_of_person.to_numpy(), pa.int64()),
            }
        ),
    )
    engine.replace_table_as(
        _SID_FAMILY_RECORDS,
        f"""SELECT r.source, r.record_id, f.family AS cluster FROM {q(_SID_RECORDS)} AS r
            JOIN {q(_SID_FAMILY_OF)} AS f ON f.cluster = r.cluster""",
    )
    fams = resolve_stable_ids_sql(
        engine,
        _SID_FAMILY_RECORDS,
        prev_table,
        mint("F", "family"),
        out=_SID_FAMILY,
        previous_id="family_id",
    )
    records = engine.query(f"""
        SELECT r.source, r.record_id, r.cluster, p.id AS person_id,
               f.cluster AS family_cluster, fi.id AS family_id
        FROM {q(_SID_RECORDS)} AS r
        JOIN {q(_SID_PERSON)} AS p ON p.cluster = r.cluster
        JOIN {q(_SID_FAMILY_RECORDS)} AS f
          ON f.source = r.source AND f.record_id = r.record_id
        JOIN {q(_SID_FAMILY)} AS fi ON fi.cluster = f.cluster
    """).to_pandas()
    for name in (
        _SID_RECORDS,
        _SID_PREVIOUS,
        _SID_PERSON,
        _SID_FAMILY_OF,
        _SID_FAMILY,
        _SID_FAMILY_RECORDS,
    ):
        engine.drop_table(name)
    return StableIds(records, previous, persons, fams)


def previous_registry(engine: Engine, path: Path | None, registry: str) -> pd.DataFrame:
    """The previous run's id registry: the file ``path`` when given, else the store's
    ``registry`` table, else an empty frame (a first run)."""
    cols = ["source", "record_id", "person_id", "family_id"]
    if path is not None:
        if not Path(path).is_file():
            raise LinkageError(
                f"{path}: the previous id registry was not found",
                hint="extract an earlier run's registry with `everyfamily extract OLD_OUT "
                "id_registry --to ids.parquet` and point linkage.previous_ids_path at it",
            )
        frame = pd.read_parquet(path)
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise LinkageError(
                f"{path}: the previous id registry has no column {missing[0]!r}",
                hint="use an id registry extracted by `everyfamily extract`",
            )
        return frame
    if engine.has_table(registry):
        sql = f"SELECT * FROM {engine.dialect.quote_ident(registry)}"
        held: pd.DataFrame = engine.query(sql).to_pandas()
        return held
    return pd.DataFrame({c: pd.Series(dtype="string") for c in cols})


def model_fingerprint(settings: LinkageSettings) -> dict[str, Any]:
    """The settings a saved model's comparisons and blocking depend on: a model is reused
    only by a run whose fingerprint is the same."""
    return {"name_variants": settings.name_variants, "blocking_rules": settings.blocking_rules}


def reused_model(
    settings: LinkageSettings, previous_run: Path | None
) -> tuple[LinkageSettings, dict[str, Any]]:
    """The settings to link with and what was decided about the previous run's model.

    With ``linkage.reuse_previous_model`` and a named previous run whose linkage/model.json
    exists and was made under the same :func:`model_fingerprint`, the model is reused
    (``model_path`` set to it) unless it has already been reused ``retrain_every_runs``
    runs in a row (``age``: runs since it was trained, from the previous run.json). The
    record says ``reused`` (bool), ``age`` and ``reason``; it is {} when no previous run is
    named or ``model_path`` is given (the user's own model)."""
    if previous_run is None or settings.model_path is not None:
        return settings, {}
    fingerprint = model_fingerprint(settings)
    record: dict[str, Any] = {"reused": False, "age": 0, "fingerprint": fingerprint}
    if not settings.reuse_previous_model:
        return settings, record | {"reason": "linkage.reuse_previous_model is off"}
    model = Path(previous_run) / "linkage" / "model.json"
    try:
        meta = json.loads((Path(previous_run) / "run.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        meta = {}
    before = (meta.get("linkage") or {}).get("model_reuse") or {}
    if not model.is_file():
        return settings, record | {"reason": "the previous run saved no model"}
    if before.get("fingerprint", fingerprint) != fingerprint:
        return settings, record | {"reason": "name_variants or blocking_rules changed"}
    age = int(before.get("age", 0)) + 1
    if age > settings.retrain_every_runs:
        return settings, record | {
            "reason": f"reused {age - 1} runs in a row (linkage.retrain_every_runs)"
        }
    reused = settings.model_copy(update={"model_path": model})
    return reused, record | {"reused": True, "age": age, "reason": "the previous run's model"}

"""Re-identification for the outreach list: pseudonyms back to names and addresses.

The one place person_ids are turned back into contact details. It reads the identifiable
store (``records`` joined to ``links``), so it needs the run's key; callers must have checked
the role, scoped the ids to the user's areas and written the audit entry *before* calling
(everyfamily.web does). Nothing here logs a value.

For each child the contact details come from one record: the most recent one that holds
an address (an outreach worker needs a door, and the health-visiting record often holds only
a postcode), its date being the event date or, for a record without one such as a birth
registration, the date of birth; then the first by source and record id so the choice is
deterministic. A child with no address anywhere gets the most recent record with a postcode.
When a record newer than the chosen one holds another postcode, the family may have moved
since: ``newer_postcode_from`` names that record's source and date (never its postcode), so
the worker checks the address before knocking.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from everyfamily.engines.base import Engine

#: The identifying fields re-identification adds to the outreach list, in display order.
CONTACT_COLUMNS: tuple[str, ...] = (
    "first_name",
    "last_name",
    "date_of_birth",
    "parent_first_name",
    "parent_last_name",
    "address",
    "postcode",
)


def contact_details(engine: Engine, person_ids: Iterable[str]) -> pd.DataFrame:
    """person_id plus :data:`CONTACT_COLUMNS`, ``contact_source``/``contact_as_of`` (the
    source and date of the record the details come from) and ``newer_postcode_from`` (empty,
    or "source date" of a newer record with another postcode), one row per id found."""
    ids = sorted({str(p) for p in person_ids})
    cols = ["person_id", *CONTACT_COLUMNS, "contact_source", "contact_as_of", "newer_postcode_from"]
    if not ids:
        return pd.DataFrame({c: pd.Series(dtype="string") for c in cols})
    fields = ", ".join(f"r.{c}" for c in CONTACT_COLUMNS)
    # The ids go in as one bound list parameter (the store is opened read-only), in the
    # engine's dialect; the SQL is otherwise portable (the conformance suite runs it).
    table = engine.query(
        f"""
            WITH c AS (
                SELECT l.person_id, {fields}, r.source AS contact_source, r.record_id,
                       coalesce(r.event_date, r.date_of_birth) AS contact_as_of,
                       (r.address IS NOT NULL AND trim(r.address) <> '') AS has_address,
                       upper(replace(r.postcode, ' ', '')) AS pc
                FROM links AS l
                JOIN records AS r ON r.source = l.source AND r.record_id = l.record_id
                WHERE {engine.dialect.in_list("l.person_id")}
            ), ranked AS (
                SELECT c.*, row_number() OVER (
                           PARTITION BY person_id
                           ORDER BY has_address DESC, (pc IS NOT NULL) DESC,
                                    contact_as_of DESC NULLS LAST, contact_source, record_id
                       ) AS k
                FROM c
            ), newer AS (
                SELECT b.person_id, n.contact_source AS newer_source,
                       n.contact_as_of AS newer_as_of,
                       row_number() OVER (
                           PARTITION BY b.person_id
                           ORDER BY n.contact_as_of DESC, n.contact_source, n.record_id
                       ) AS k
                FROM ranked AS b
                JOIN c AS n ON n.person_id = b.person_id
                WHERE b.k = 1 AND b.pc IS NOT NULL AND n.pc IS NOT NULL AND n.pc <> b.pc
                      AND n.contact_as_of > b.contact_as_of
            )
            SELECT b.person_id, {", ".join(f"b.{c}" for c in CONTACT_COLUMNS)},
                   b.contact_source, b.contact_as_of, w.newer_source, w.newer_as_of
            FROM ranked AS b
            LEFT JOIN newer AS w ON w.person_id = b.person_id AND w.k = 1
            WHERE b.k = 1
            ORDER BY b.person_id
        """,
        [ids],
    )
    frame = table.to_pandas()
    for c in ("date_of_birth", "contact_as_of", "newer_as_of"):
        frame[c] = pd.to_datetime(frame[c]).dt.strftime("%Y-%m-%d")
    newer = frame["newer_source"].astype("string") + " " + frame["newer_as_of"].astype("string")
    frame["newer_postcode_from"] = newer
    out: pd.DataFrame = frame[cols].astype("string").fillna("")
    return out

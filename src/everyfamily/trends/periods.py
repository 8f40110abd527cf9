"""Reach at every quarter end, in one pass over the store (pure: SQL text and frames).

What a period's reach is (docs/trends.md): on a quarter end ``t``, a child counts when born
by ``t``, aged within the trend's age band on ``t`` and known to a universal service,
registered or engaged by ``t``; the child's area is the small area of its highest-priority
record dated on or before ``t`` (universal sources first, then the most recent: the rule of
``reach.children`` applied as at ``t``); registered means a registration dated on or before
``t``; engaged means at least ``min_attendances`` attendances in the window ending on ``t``.
Age on a month end depends on the month of birth only, so the analysis store's
``month_of_birth`` gives the exact age and no full date of birth is read.

Everything is one SQL statement (:func:`periods_sql`): the periods are a VALUES list joined
to the events, then grouped with the period as a dimension, so twelve quarters cost one scan
of the records, not twelve runs of the measure stage. It is written in the reference dialect
(DuckDB's) with ``?`` placeholders and no engine-specific function, so
``engine.dialect.portable`` can carry it to another engine.

Coverage: an extract of today's under-fives cannot show who was under five three years ago,
and attendances kept for two years cannot say who was engaged over a year three years ago.
:func:`coverage_start` finds the first month a source's events flow at a steady rate;
:func:`age_band` lowers the oldest age counted so every period sees complete birth cohorts,
and periods whose engagement window starts before attendances are covered get no engaged
count (NaN), rather than a fall that is only missing data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd

#: Count columns of the trends table, in output order; each has a ``<column>_key`` (the
#: sum of the counted children's record keys, for the cell key method).
COUNTS: tuple[str, ...] = ("denominator", "known", "registered", "engaged")
#: The keys of a trends row (period_index is the period's position, 0 = the earliest).
KEYS: tuple[str, ...] = (
    "period_index",
    "level",
    "area_code",
    "dimension",
    "group_value",
    "service",
)
ANY_SERVICE = "any"
UNKNOWN = "unknown"


def quarter_ends(reference_date: dt.date, n: int) -> tuple[dt.date, ...]:
    """The last ``n`` quarter ends (31 March, 30 June, 30 September, 31 December) on or
    before ``reference_date``, earliest first."""
    q_month = ((reference_date.month - 1) // 3 + 1) * 3
    end = _month_end(reference_date.year, q_month)
    if end > reference_date:
        q_month -= 3
        year = reference_date.year
        if q_month == 0:
            q_month, year = 12, year - 1
        end = _month_end(year, q_month)
    out = [end]
    while len(out) < n:
        y, m = out[-1].year, out[-1].month - 3
        if m <= 0:
            y, m = y - 1, m + 12
        out.append(_month_end(y, m))
    return tuple(reversed(out))


def _month_end(year: int, month: int) -> dt.date:
    first_next = dt.date(year + month // 12, month % 12 + 1, 1)
    return first_next - dt.timedelta(days=1)


def window_start(period_end: dt.date, window_months: int) -> dt.date:
    """First day NOT in the engagement window ending on ``period_end`` (as
    ``reach.children.ChildParameters.window_start``)."""
    return (pd.Timestamp(period_end) - pd.DateOffset(months=window_months)).date()


def coverage_start(monthly: pd.DataFrame, share: float = 0.25) -> dt.date | None:
    """The first day of the first month from which a source's events flow: the earliest
    month holding at least ``share`` of the median monthly count (``monthly``: month (any
    date in the month), n). A few stray early dates (a typo, a family's old record) do not
    move it; a partial first month does. None when there are no events."""
    if monthly.empty:
        return None
    m = monthly.assign(month=pd.to_datetime(monthly["month"]).dt.to_period("M"))
    counts = m.groupby("month")["n"].sum().sort_index()
    full = pd.period_range(counts.index.min(), counts.index.max(), freq="M")
    counts = counts.reindex(full, fill_value=0)
    floor = share * float(counts[counts > 0].median())
    first = counts[counts >= floor].index.min()
    day: dt.date = first.to_timestamp().date()
    return day


def age_band(
    min_age: int, max_age: int, first_period: dt.date, births_from: dt.date | None
) -> tuple[int, int] | None:
    """The ages counted in every period: ``[min_age, max_age]``, the oldest lowered until
    children of that age at the first period were all born after ``births_from`` (the
    extract's coverage of births). None when not even ``min_age`` is covered."""
    if births_from is None:
        return (min_age, max_age)
    top = max_age
    # oldest child aged `top` on first_period was born a day after first_period - (top+1) years
    while top >= min_age:
        oldest = (pd.Timestamp(first_period) - pd.DateOffset(years=top + 1)).date()
        if oldest >= births_from - dt.timedelta(days=1):
            return (min_age, top)
        top -= 1
    return None


@dataclass(frozen=True)
class PeriodQuery:
    """What the one-pass statement needs: the periods (with each one's engagement window),
    the age band, the engagement rule, the person-level group dimensions (columns of
    ``children``, measured at ``group_level`` only) and the area level sites are measured
    at (None: no site rows)."""

    period_ends: tuple[dt.date, ...]
    window_months: int
    min_attendances: int
    min_age: int
    max_age: int
    dimensions: tuple[str, ...] = ()
    group_level: str | None = None


#: The site counts of :func:`periods_sql` (registered and engaged at each site, by period and
#: area at ``group_level``): CTEs that follow ``base`` and ``counts`` in its WITH clause.
_SITE_CTES = """site_status AS (
  SELECT period_index, person_id, site,
         MAX(CASE WHEN role = 'registrations' THEN 1 ELSE 0 END) AS registered,
         SUM(CASE WHEN role = 'attendances' AND event_date > window_start THEN 1 ELSE 0 END)
           AS attendances
  FROM ev_p WHERE site IS NOT NULL AND role IN ('registrations', 'attendances')
  GROUP BY period_index, person_id, site
),
site_flags AS (
  SELECT b.period_index, b.small_area, b.record_key, s.site, s.registered,
         CASE WHEN s.attendances >= ? THEN 1 ELSE 0 END AS engaged
  FROM base b JOIN site_status s
    ON s.period_index = b.period_index AND s.person_id = b.person_id
),
site_counts AS (
  SELECT f.period_index, m.level, m.area_code, 'all' AS dimension, 'all' AS group_value,
         CAST(f.site AS VARCHAR) AS service,
         NULL AS denominator, NULL AS known, SUM(f.registered) AS registered,
         SUM(f.engaged) AS engaged,
         NULL AS denominator_key, NULL AS known_key,
         SUM(f.record_key * f.registered) AS registered_key,
         SUM(f.record_key * f.engaged) AS engaged_key
  FROM site_flags f JOIN area_membership m ON m.small_area = f.small_area
  WHERE m.level = ? AND (f.registered = 1 OR f.engaged = 1)
  GROUP BY f.period_index, m.level, m.area_code, f.site
)
"""


def periods_sql(
    q: PeriodQuery, quote: Callable[[str], str] | None = None
) -> tuple[str, list[object]]:
    """The statement and its parameters: one row per period x area (every level of
    ``area_membership``) x dimension x group x service ('any', and each site at
    ``group_level``), with the counts of :data:`COUNTS` and their record-key sums.

    Reads ``records`` and ``links`` (identifiable zone: source, role, service_type,
    area_code, event_date, date_of_birth, site) and ``children`` / ``area_membership``
    (analysis zone). No value is pasted into the text: periods, ages, the attendance
    threshold and the levels are bound parameters; dimension names are checked
    identifiers (``quote``: the engine's identifier quoting)."""
    qi = quote if quote is not None else _quote
    params: list[object] = []
    rows = []
    for i, end in enumerate(q.period_ends):
        rows.append("(?, CAST(? AS DATE), CAST(? AS DATE))")
        params += [i, end.isoformat(), window_start(end, q.window_months).isoformat()]
    age = (
        "(EXTRACT(YEAR FROM p.period_end) - EXTRACT(YEAR FROM c.month_of_birth) - "
        "CASE WHEN EXTRACT(MONTH FROM c.month_of_birth) > EXTRACT(MONTH FROM p.period_end) "
        "THEN 1 ELSE 0 END)"
    )
    dims = ", ".join(f"c.{qi(d)} AS {qi('g_' + d)}" for d in q.dimensions)
    sql = f"""
WITH periods (period_index, period_end, window_start) AS (VALUES {", ".join(rows)}),
ev AS (
  SELECT l.person_id, r.source, r.record_id, r.role, r.area_code, r.event_date, r.site,
         CASE WHEN r.service_type = 'universal' THEN 1 ELSE 0 END AS universal,
         COALESCE(r.event_date, r.date_of_birth) AS d
  FROM records r JOIN links l ON l.source = r.source AND l.record_id = r.record_id
),
ev_p AS (
  SELECT p.period_index, p.window_start, e.*
  FROM ev e JOIN periods p ON e.d <= p.period_end
),
placed AS (
  SELECT period_index, person_id, area_code,
         ROW_NUMBER() OVER (PARTITION BY period_index, person_id
                            ORDER BY universal DESC, d DESC, source, record_id) AS rk
  FROM ev_p WHERE area_code IS NOT NULL
),
status AS (
  SELECT period_index, person_id,
         MAX(universal) AS known,
         MAX(CASE WHEN role = 'registrations' THEN 1 ELSE 0 END) AS registered,
         SUM(CASE WHEN role = 'attendances' AND event_date > window_start THEN 1 ELSE 0 END)
           AS attendances
  FROM ev_p GROUP BY period_index, person_id
),
base AS (
  SELECT s.period_index, s.person_id, pl.area_code AS small_area, c.record_key,
         s.known, s.registered,
         CASE WHEN s.attendances >= ? THEN 1 ELSE 0 END AS engaged{", " + dims if dims else ""}
  FROM status s
  JOIN placed pl ON pl.period_index = s.period_index AND pl.person_id = s.person_id
       AND pl.rk = 1
  JOIN children c ON c.person_id = s.person_id
  JOIN periods p ON p.period_index = s.period_index
  WHERE c.month_of_birth <= p.period_end AND {age} BETWEEN ? AND ?
    AND (s.known = 1 OR s.registered = 1 OR s.attendances >= ?)
),
long AS (
  SELECT period_index, person_id, small_area, record_key, known, registered, engaged,
         'all' AS dimension, 'all' AS group_value FROM base
{_group_unions(q.dimensions, qi)}
),
counts AS (
  SELECT g.period_index, m.level, m.area_code, g.dimension, g.group_value,
         '{ANY_SERVICE}' AS service,
         COUNT(*) AS denominator, SUM(g.known) AS known, SUM(g.registered) AS registered,
         SUM(g.engaged) AS engaged,
         SUM(g.record_key) AS denominator_key, SUM(g.record_key * g.known) AS known_key,
         SUM(g.record_key * g.registered) AS registered_key,
         SUM(g.record_key * g.engaged) AS engaged_key
  FROM long g JOIN area_membership m ON m.small_area = g.small_area
  WHERE g.dimension = 'all' OR m.level = ?
  GROUP BY g.period_index, m.level, m.area_code, g.dimension, g.group_value
),
{_SITE_CTES}SELECT * FROM counts
UNION ALL
SELECT * FROM site_counts
ORDER BY period_index, level, area_code, dimension, group_value, service
"""
    group_level = q.group_level if q.group_level is not None else ""
    params += [q.min_attendances, q.min_age, q.max_age, q.min_attendances]
    params += list(q.dimensions)  # the group unions' dimension names, in order
    params += [group_level, q.min_attendances, group_level]
    return sql, params


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _group_unions(dimensions: Sequence[str], qi: Callable[[str], str]) -> str:
    out = []
    for d in dimensions:
        col = qi(f"g_{d}")
        value = f"COALESCE(NULLIF(CAST({col} AS VARCHAR), ''), '{UNKNOWN}')"
        out.append(
            "  UNION ALL SELECT period_index, person_id, small_area, record_key, known, "
            f"registered, engaged, ?, {value} FROM base"
        )
    return "\n".join(out)

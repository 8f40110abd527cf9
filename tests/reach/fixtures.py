# ruff: noqa: E501  (the ASCII table of records is wider than a line)
"""Tiny hand-made records + links, written as ASCII tables, with hand-computed answers.

Reference date 2025-03-31, 12-month window (attendances after 2024-03-31), engaged at 3+.

Children (P6 is 6 years old and out of range; P7 is registered but in no universal source):

    person  home  age  known  registered at   attendances in window   engaged
    P1      A1    2    yes    S1              3 at S1                 yes (any, S1)
    P2      A1    2    yes    S1, S2          1 at S2 (+2 at S1 old)  no
    P3      A1    3    yes    -               -                       no
    P4      A2    0    yes    -               -                       no
    P5      A2    4    yes    -               -                       no
    P6      A2    6    yes    S2              -                       (out of range)
    P7      A2    3    no     S2              -                       no

Small areas A1 (ward W1) and A2 (ward W2), both in MSOA M1 and borough E08.
ONS 0-4: A1 has 2 at each age (10), A2 has 1 at each age (5).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

REFERENCE_DATE = dt.date(2025, 3, 31)

RECORDS = """
| source | record_id | person_id | role          | service_type | date_of_birth | sex    | area_code | ethnicity       | main_language | mother_country_of_birth | event_date | site |
| births | b1        | P1        | births        | universal    | 2022-05-01    | female | A1        | white_british   | english       | United Kingdom          | 2022-05-01 |      |
| births | b2        | P2        | births        | universal    | 2023-01-10    | male   | A1        | asian_pakistani | urdu          | Pakistan                | 2023-01-10 |      |
| births | b3        | P3        | births        | universal    | 2021-06-30    | female | A2        | white_other     | polish        | Poland                  | 2021-06-30 |      |
| hv     | h3        | P3        | health_visiting | universal  | 2021-06-30    | female | A1        | white_other     | polish        | PL                      | 2022-01-05 |      |
| hv     | h4        | P4        | health_visiting | universal  | 2024-11-02    | male   | A2        |                 | english       |                         | 2024-11-20 |      |
| births | b5        | P5        | births        | universal    | 2020-08-15    | female | A2        | white_british   | english       | England                 | 2020-08-15 |      |
| births | b6        | P6        | births        | universal    | 2019-01-01    | male   | A2        | white_british   | english       | United Kingdom          | 2019-01-01 |      |
| reg    | r1        | P1        | registrations | targeted     | 2022-05-01    | female | A1        | white_british   | english       |                         | 2022-09-01 | S1   |
| reg    | r2        | P2        | registrations | targeted     | 2023-01-10    | male   | A1        | other_any       | urdu          |                         | 2023-06-01 | S1   |
| reg    | r3        | P2        | registrations | targeted     | 2023-01-10    | male   | A1        | asian_pakistani | urdu          |                         | 2024-06-01 | S2   |
| reg    | r6        | P6        | registrations | targeted     | 2019-01-01    | male   | A2        |                 |               |                         | 2020-01-01 | S2   |
| reg    | r7        | P7        | registrations | targeted     | 2022-02-02    | female | A2        | black_african   | somali        | Somalia                 | 2024-02-01 | S2   |
| att    | a1        | P1        | attendances   | targeted     | 2022-05-01    | female | A1        |                 |               |                         | 2024-04-01 | S1   |
| att    | a2        | P1        | attendances   | targeted     | 2022-05-01    | female | A1        |                 |               |                         | 2024-09-01 | S1   |
| att    | a3        | P1        | attendances   | targeted     | 2022-05-01    | female | A1        |                 |               |                         | 2025-03-31 | S1   |
| att    | a4        | P1        | attendances   | targeted     | 2022-05-01    | female | A1        |                 |               |                         | 2025-04-01 | S1   |
| att    | a5        | P2        | attendances   | targeted     | 2023-01-10    | male   | A1        |                 |               |                         | 2024-10-01 | S2   |
| att    | a6        | P2        | attendances   | targeted     | 2023-01-10    | male   | A1        |                 |               |                         | 2024-01-01 | S1   |
| att    | a7        | P2        | attendances   | targeted     | 2023-01-10    | male   | A1        |                 |               |                         | 2024-03-31 | S1   |
"""

SMALL_AREAS = pd.DataFrame({"area_code": ["A1", "A2"], "area_name": ["Area one", "Area two"]})
HIERARCHY = pd.DataFrame(
    {
        "area_code": ["A1", "A2"],
        "ward": ["W1", "W2"],
        "ward_name": ["Ward one", "Ward two"],
        "msoa": ["M1", "M1"],
        "lad": ["E08", "E08"],
    }
)
ONS = pd.DataFrame(
    {
        "area_code": ["A1"] * 5 + ["A2"] * 5,
        "age": list(range(5)) * 2,
        "population": [2.0] * 5 + [1.0] * 5,
    }
)
# Projected coordinates (metres): A1's centroid is next to S1, A2's next to S2.
AREA_XY = pd.DataFrame({"area_code": ["A1", "A2"], "x": [1000.0, 5000.0], "y": [1000.0, 1000.0]})
SITES = pd.DataFrame(
    {
        "site_id": ["S1", "S2"],
        "site_name": ["Centre one", "Centre two"],
        "latitude": [0.0, 0.0],
        "longitude": [0.0, 0.0],
        "reach_areas": [None, None],
        "capacity": [float("nan")] * 2,
    }
)
SITES_XY = pd.DataFrame({"site_id": ["S1", "S2"], "x": [1200.0, 4600.0], "y": [1000.0, 1300.0]})


def ascii_table(text: str) -> pd.DataFrame:
    """Parse a '| a | b |' table; empty cells become missing values."""
    lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip().startswith("|")]
    rows = [[c.strip() for c in ln.strip("|").split("|")] for ln in lines]
    frame = pd.DataFrame(rows[1:], columns=rows[0])
    return frame.replace("", None)


def records_and_links(text: str = RECORDS) -> tuple[pd.DataFrame, pd.DataFrame]:
    t = ascii_table(text)
    for c in ("date_of_birth", "event_date"):
        t[c] = pd.to_datetime(t[c]).dt.date
    links = t[["source", "record_id", "person_id"]].assign(
        family_id=lambda f: "F-" + f["person_id"]
    )
    records = t.drop(columns=["person_id"])
    return records, links

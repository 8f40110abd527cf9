"""A second synthetic world: a randomised town, so that nothing depends on Knowsley.

``generate_town(out_dir, seed, stories, n_areas)`` writes a self-contained project folder
like the Knowsley demo's, for a town that exists nowhere: its own areas, postcodes, streets,
barrier, sites, population, census and deprivation tables, council extracts whose column
names, formats, encodings, date formats and missing fields are drawn per seed, and planted
stories placed at random, with their ground truth in ``truth/`` (never read by the project).

Run ``python -m everyfamily.demo.town OUT --seed N`` to write one.
"""

from __future__ import annotations

from everyfamily.demo.town.geography import Geography, build_geography
from everyfamily.demo.town.scenario import Town, generate_town
from everyfamily.demo.town.stories import TownStories, UnreachedCluster

__all__ = [
    "Geography",
    "Town",
    "TownStories",
    "UnreachedCluster",
    "build_geography",
    "generate_town",
]

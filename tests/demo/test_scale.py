"""The demo size option: a scaled world has that share of the children, and the population
file the project reads says the same (so completeness is unchanged)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from everyfamily.demo import world as w
from everyfamily.demo.stories import Stories
from everyfamily.demo.town import TownStories, generate_town
from everyfamily.demo.town.geography import build_geography
from everyfamily.errors import ConfigError


def test_scale_ages_by_hand() -> None:
    areas = pd.DataFrame({"lsoa": ["A", "B"], **{f"age_{a}": [20 + a, 3] for a in range(5)}})
    half = w.scale_ages(areas, 0.5)
    # 20, 21, 22, 23, 24 -> 10, 10 (10.5 to even), 11, 12 (11.5 to even), 12; 3 -> 2 (1.5)
    assert half.loc[0, [f"age_{a}" for a in range(5)]].tolist() == [10, 10, 11, 12, 12]
    assert half.loc[1, "age_0"] == 2
    assert areas.loc[0, "age_0"] == 20  # the input is left alone
    assert w.scale_ages(areas, 1.0) is areas  # the default world is untouched
    for bad in (0.0, 0.05, 1.5):
        with pytest.raises(ConfigError, match=r"between 0\.1 and 1"):
            w.scale_ages(areas, bad)


def test_a_quarter_size_town_has_a_quarter_of_the_children(tmp_path: Path) -> None:
    seed, n_areas = 7, 12
    full = build_geography(seed, n_areas).areas
    ages = [f"age_{a}" for a in range(5)]
    town = generate_town(
        tmp_path / "t", seed=seed, stories=TownStories.none(), n_areas=n_areas, scale=0.25
    )
    expected = np.rint(full[ages].to_numpy(dtype="float64") * 0.25).astype(int)
    # the population file the project reads holds the scaled counts, area by area
    spec = yaml.safe_load(town.project_file.read_text(encoding="utf-8"))["population"]
    pop = pd.read_csv(town.out_dir / spec["path"], dtype=str).set_index(spec["area_column"])
    columns = [spec["age_columns"][a] for a in range(5)]
    counts = pop.loc[full["lsoa"], columns].astype(int).to_numpy()
    assert (counts == expected).all()
    # and the world simulated that many children (every child the counts promise)
    children = pd.read_csv(town.truth_dir / "children.csv", dtype=str)
    assert town.n_children == len(children)
    assert len(children) == pytest.approx(expected.sum(), rel=0.02)
    assert expected.sum() == pytest.approx(full[ages].to_numpy().sum() * 0.25, rel=0.02)


def test_a_tenth_size_knowsley_still_has_an_emerging_community_anchor() -> None:
    # At full size the anchor is the area with most residents born abroad among areas with
    # 80+ under-fives; a tenth-size world has no such area and once crashed with IndexError.
    data = w.load_open_data()
    scaled = dataclasses.replace(data, areas=w.scale_ages(data.areas, 0.1))
    chosen = w._community_areas(scaled, Stories())
    assert len(chosen) == Stories().emerging_community.n_areas
    assert len(set(chosen)) == len(chosen)
    assert set(chosen) <= set(scaled.areas["lsoa"])

"""Training: levels random sampling never saw get the rule of three's u (model.unobserved_u)."""

from __future__ import annotations

import json
from contextlib import closing
from pathlib import Path

import pytest

from everyfamily.engines import open_engine
from everyfamily.linkage import model as link_model
from everyfamily.linkage.nicknames import nickname_map
from everyfamily.linkage.prepare import IDENTITIES, prepare_identities

from .helpers import population


@pytest.mark.parametrize("name_variants", [False, True])
def test_levels_sampling_never_saw_get_the_rule_of_three(
    tmp_path: Path, name_variants: bool
) -> None:
    """3,000 records and only 20,000 random pairs: two random records agreeing on a whole
    household (surname, postcode and parent) is rarer than one in 20,000, so some household
    levels are never sampled. Splink would score them with its generic default u (a few
    percent: a bit or two of weight for a whole household agreeing); they get u = 3 / 20,000
    instead, the upper 95% bound of a share seen 0 times in 20,000 (Hanley & Lippman-Hand
    1983), and every level of the saved model carries a u."""
    pairs = 2e4
    data = population(3000, seed=5)
    with closing(open_engine("duckdb", path=tmp_path / "s.duckdb")) as engine:
        engine.write_table("records", data.records)
        prepare_identities(
            engine, nickname_map(multilingual=name_variants), name_variants=name_variants
        )
        linker = link_model.build_linker(
            engine.splink_api(),
            IDENTITIES,
            model_path=None,
            blocking_rules=None,
            name_variants=name_variants,
        )
        report = link_model.train(
            linker, seed=1, max_pairs_for_u=pairs, max_pairs_for_em=1e6, name_variants=name_variants
        )
        linker.misc.save_model_to_json(str(tmp_path / "model.json"), overwrite=True)
    model = json.loads((tmp_path / "model.json").read_text(encoding="utf-8"))
    floor = 3 / pairs
    levels = [
        level
        for comparison in model["comparisons"]
        for level in comparison["comparison_levels"]
        if not level.get("is_null_level")
    ]
    assert all(isinstance(level.get("u_probability"), float) for level in levels)
    at_floor = [level for level in levels if level["u_probability"] == pytest.approx(floor)]
    assert report.u_levels_unobserved >= 1
    assert len(at_floor) == report.u_levels_unobserved

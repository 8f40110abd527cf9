"""Training: levels random sampling never saw get the rule of three's u (model.unobserved_u);
m probabilities EM drives to almost nothing are floored the same way (model.floor_m)."""

from __future__ import annotations

import json
from contextlib import closing
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from everyfamily.engines import open_engine
from everyfamily.linkage import model as link_model
from everyfamily.linkage.nicknames import nickname_map
from everyfamily.linkage.prepare import IDENTITIES, RECORD_IDENTITY, prepare_identities
from everyfamily.linkage.synthetic import nhs_check_digit

from .helpers import SENTINEL, population, record, table


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


def _valid_nhs(nine: str) -> str:
    check = nhs_check_digit(nine)
    assert check is not None
    return f"{nine}{check}"


def _planted_probability(engine: Any, linker: Any, a: str, b: str) -> float:
    """The match probability the linker gives the identities of planted records a and b."""
    ids = engine.query(
        f"SELECT record_id, identity_id FROM {RECORD_IDENTITY} WHERE record_id IN (?, ?)", [a, b]
    ).to_pandas()
    i, j = sorted(int(v) for v in ids["identity_id"])
    pairs = linker.inference.predict(threshold_match_probability=0.0).as_pandas_dataframe()
    hit = pairs[(pairs["unique_id_l"] == i) & (pairs["unique_id_r"] == j)]
    return float(hit["match_probability"].iloc[0]) if len(hit) else 0.0


def test_em_m_is_floored_so_a_wrong_nhs_number_no_longer_vetoes(tmp_path: Path) -> None:
    """At a million records EM drove the m of 'two different valid NHS numbers' to 2e-17 (no
    expected match had one: a typo fails the check digit and counts as missing), a weight
    of -55 bits that vetoes any link. model.floor_m raises it to 3 / expected matches, so a
    child whose two records carry two different valid NHS numbers but agree on everything
    else links, while twins (who differ on the given name too) stay apart. The trained model
    is given EM's 1M value for that level, then floored."""
    data = population(3000, seed=5)
    wrong_a, wrong_b = _valid_nhs("401234567"), _valid_nhs("401234578")
    twin_a, twin_b = _valid_nhs("401234589"), _valid_nhs("401234590")
    assert len({wrong_a, wrong_b, twin_a, twin_b}) == 4
    planted = [
        record("births", "W1", "Quillon", SENTINEL, "2022-02-03", nhs=wrong_a),
        record("health_visiting", "W2", "Quillon", SENTINEL, "2022-02-03", nhs=wrong_b),
        record("births", "W3", "Ysolde", "Brackwater", "2022-05-06", nhs=twin_a),
        record("health_visiting", "W4", "Tamsin", "Brackwater", "2022-05-06", nhs=twin_b),
    ]
    records = pa.concat_tables([data.records, table(planted, data.records)])
    with closing(open_engine("duckdb", path=tmp_path / "s.duckdb")) as engine:
        engine.write_table("records", records)
        n = prepare_identities(engine, nickname_map(multilingual=True), name_variants=True)
        linker = link_model.build_linker(
            engine.splink_api(), IDENTITIES, model_path=None, blocking_rules=None,
            name_variants=True,
        )  # fmt: skip
        report = link_model.train(
            linker, seed=1, max_pairs_for_u=1e6, max_pairs_for_em=1e6, name_variants=True
        )
        assert report.m_levels_floored == 0  # no n_identities given: no floor
        comparisons = linker._settings_obj.comparisons
        (nhs,) = [c for c in comparisons if c.output_column_name == "nhs_number"]
        nhs._comparison_levels_excluding_null[-1].m_probability = 2e-17
        vetoed = _planted_probability(engine, linker, "W1", "W2")
        floored, floor = link_model.floor_m(linker, n)
        m = float(nhs._comparison_levels_excluding_null[-1].m_probability)
        linked = _planted_probability(engine, linker, "W1", "W2")
        twins = _planted_probability(engine, linker, "W3", "W4")
    prior = report.probability_two_random_records_match
    assert floor == pytest.approx(3 / (prior * n * (n - 1) / 2))
    assert floored >= 1 and m == pytest.approx(floor)
    assert vetoed < 0.01, vetoed  # EM's value: the wrong number alone keeps them apart
    assert linked >= 0.9, linked  # floored: the names, date and household carry the link
    assert twins < 0.5, twins

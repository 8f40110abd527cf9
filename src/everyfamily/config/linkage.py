"""``linkage:``: the record-linkage model and its thresholds."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from everyfamily.config.base import Strict


class LinkageSettings(Strict):
    match_threshold: float = Field(
        0.9, gt=0, lt=1, description="Match probability at or above which two records are linked."
    )
    family_threshold: float = Field(
        0.8, gt=0, lt=1, description="Match probability for grouping children into families."
    )
    model_path: Path | None = Field(
        None, description="A saved Splink model (JSON) to reuse instead of training."
    )
    blocking_rules: list[str] | None = Field(
        None, description="Splink blocking rules (SQL) replacing the defaults."
    )
    seed: int = Field(42, description="Seed for Splink's sampling (u estimation).")
    name_variants: bool = Field(
        True,
        description="Compare names allowing the ways real systems mangle them: mojibake, "
        "letters lost in a Windows-1252 export, transliteration systems, nicknames in other "
        "languages, given and family names swapped, one part of a double surname, the other "
        "parent's surname (issue 21). Off: the comparisons before issue 21, the baseline of "
        "bench/bench_linkage_fairness.py.",
    )
    address_history: bool = Field(
        False,
        description="Build each household's dated postcode history across sources and score "
        "a pair whose two postcodes are a move that history shows as its own level, not as "
        "a disagreement (issue 21, movers; linkage/moves.py). Off until measured on the 1M "
        "and FEBRL4 benchmarks; bench/bench_linkage_fairness.py compares it.",
    )
    max_pairs_for_u: float = Field(
        2e6, gt=0, description="Pairs sampled at random to estimate u probabilities."
    )
    max_pairs_for_em: float = Field(
        5e6,
        gt=0,
        description="Most blocked pairs used by each expectation-maximisation pass (sampled).",
    )
    review_min_probability: float = Field(
        0.05,
        gt=0,
        lt=1,
        description="Pairs scored at or above this are kept for the clerical-review sample.",
    )
    clerical_review_per_band: int = Field(
        20, ge=0, description="Pairs sampled per probability band for clerical review."
    )
    previous_ids_path: Path | None = Field(
        None,
        description="Id registry of an earlier run whose child and family ids to keep, as "
        "written by `everyfamily extract OLD_OUT id_registry --to FILE.parquet` (default: the "
        "store's id_registry table when the output folder is reused).",
    )
    reuse_previous_model: bool = Field(
        True,
        description="When the run names a previous run (`everyfamily run --previous-run DIR` "
        "or project.previous_run_path, e.g. last month's) and that run saved its model "
        "(DIR/linkage/model.json) with the same name_variants and blocking_rules, score "
        "with that model instead of training again (EM is a quarter of a 1M-record link); "
        "retrained every retrain_every_runs runs. run.json and linkage/summary.json say "
        "which (linkage.model_reuse). Ignored when model_path is given.",
    )
    retrain_every_runs: int = Field(
        6,
        ge=1,
        description="A model reused by this many runs in a row is trained afresh on the "
        "next run, so new names, sources and data-quality changes reach the m and u "
        "probabilities (monthly runs: twice a year).",
    )

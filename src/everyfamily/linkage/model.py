"""The Splink model for children: comparisons, blocking rules, unsupervised training.

Fellegi-Sunter (Fellegi & Sunter 1969, "A theory for record linkage", JASA 64:1183) as
implemented by Splink: u probabilities from random pairs (almost all non-matches), m
probabilities by expectation maximisation on blocked pairs (no labels), and term-frequency
adjustments on names so a shared rare surname counts for more than a shared common one.

Everything here is backend-neutral: comparisons use Splink's level library (which writes the
SQL for each dialect) or plain SQL equalities on columns that ``prepare`` derives (dob_day,
dob_month, *_canonical, postcode_sector), so a Spark engine can reuse the same settings.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import Linker, SettingsCreator, block_on
from splink.blocking_rule_library import CustomRule

from everyfamily.errors import LinkageError

logger = logging.getLogger(__name__)


#: Fixed parameters, with why. EM cannot learn these from unlabelled data because of how
#: children cluster in families (Splink discussion #2023: twins share everything but the
#: given name, so EM folds them into the "match" class and learns a mild penalty for a
#: different name).
#: - A wholly different given name (not a typo, not a known nickname) for the same child:
#:   taken as 1 in 100,000 records. So twins without NHS numbers stay apart, while an NHS
#:   number agreement (about +20 bits) can still link a renamed child.
FIRST_NAME_DIFFERENT_M = 1e-5
#: - Two different children sharing a valid NHS number happens only by a recording error:
#:   1 in a million pairs. Random sampling on a small borough's data would otherwise count
#:   the true duplicates it draws and underrate the NHS number.
NHS_AGREE_U = 1e-6


def _custom_level(sql_condition: str, **kwargs: Any) -> Any:
    """A Splink CustomLevel whose SQL is written in DuckDB's dialect (double-quoted names,
    DuckDB's functions): Splink transpiles it for another engine (Spark reads ``"x"`` as a
    string, so untranslated conditions would silently never match there)."""
    return cll.CustomLevel(sql_condition, base_dialect_str="duckdb", **kwargs)


def _first_name_comparison(col: str, canonical: str, label: str) -> Any:
    return cl.CustomComparison(
        [
            cll.NullLevel(col),
            cll.ExactMatchLevel(col).configure(tf_adjustment_column=col),
            cll.ExactMatchLevel(canonical).configure(
                label_for_charts="Same formal name (nickname or alias)"
            ),
            cll.JaroWinklerLevel(col, 0.92),
            cll.JaroWinklerLevel(col, 0.80),
            cll.ElseLevel().configure(m_probability=FIRST_NAME_DIFFERENT_M, fix_m_probability=True),
        ],
        output_column_name=col,
        comparison_description=label,
    )


def _eq(col: str) -> str:
    return f'"{col}_l" = "{col}_r"'


def _variant_first_name_comparison() -> Any:
    """The child's given name, allowing the ways real systems mangle it (issue 21): the
    keys of ``names.normalise`` (mojibake repaired, any script transliterated, "?" of a
    Windows-1252 export dropped), formal names through English and other languages'
    nicknames, the letters a Windows-1252 export loses, romanisation systems, and given and
    family names recorded the other way round. Ordered from strongest to weakest evidence;
    EM learns each level's m, random sampling its u."""
    col = "first_name_key"
    # both ways: one way alone (a given name equal to another child's surname: Charles,
    # Elliott, Howard) linked different children born the same day in the town world
    swapped = '"first_name_key_l" = "last_name_key_r" AND "last_name_key_l" = "first_name_key_r"'
    return cl.CustomComparison(
        [
            cll.NullLevel(col),
            cll.ExactMatchLevel(col).configure(tf_adjustment_column=col),
            cll.ExactMatchLevel("first_name_formal").configure(
                label_for_charts="Same formal name (nickname or alias, any language)"
            ),
            cll.Or(
                cll.ExactMatchLevel("first_name_cp1252"), cll.ExactMatchLevel("first_name_skeleton")
            ).configure(
                label_for_charts="Same name but for letters an export lost or a "
                "transliteration system changed"
            ),
            _custom_level(swapped, label_for_charts="Given and family names swapped"),
            cll.JaroWinklerLevel(col, 0.92),
            cll.JaroWinklerLevel(col, 0.80),
            cll.ElseLevel().configure(m_probability=FIRST_NAME_DIFFERENT_M, fix_m_probability=True),
        ],
        output_column_name="first_name_match",  # the name diagnostics and reports know
        comparison_description="Child's given name (export, transliteration and order variants)",
    )


def _surname_compatible() -> str:
    """SQL: two records' child surnames are the same family name as recorded by different
    systems: equal keys, equal after an export's lost letters or a transliteration system,
    one part of a double or hyphenated surname, names swapped, or the child recorded under
    the other parent's surname (mother's vs father's)."""
    fp, lp = "last_name_first_part", "last_name_last_part"
    return (
        "("
        + " OR ".join(
            [
                _eq("last_name_key"),
                _eq("last_name_cp1252"),
                _eq("last_name_skeleton"),
                # one part of a double or hyphenated surname (its first or last part:
                # equalities on columns prepare derives, cheaper than a LIKE on every pair)
                _eq(fp),
                _eq(lp),
                f'"{fp}_l" = "{lp}_r"',
                f'"{lp}_l" = "{fp}_r"',
                '"last_name_key_l" = "first_name_key_r"',
                '"first_name_key_l" = "last_name_key_r"',
                '"last_name_key_l" = "parent_last_name_key_r"',
                '"parent_last_name_key_l" = "last_name_key_r"',
            ]
        )
        + ")"
    )


#: The child's surname and the parent's names as each model compares them (by name_variants).
_HOUSEHOLD_COLUMNS = {
    True: ("last_name_key", "parent_first_name_formal", "parent_last_name_key"),
    False: ("last_name_match", "parent_first_name_canonical", "parent_last_name_match"),
}


def _household_comparison(*, name_variants: bool = False, address_history: bool = False) -> Any:
    """Child's surname, postcode and parent's names as ONE comparison.

    They are family-level facts and strongly correlated (siblings share all of them), which
    breaks the Fellegi-Sunter independence assumption: as separate comparisons their weights
    add up to "same family" several times over and siblings link. As one comparison, its
    top level carries the weight of "same household" once (u = chance two random records
    share a household).

    ``name_variants`` (issue 21): the names are compared by their keys, and three levels
    more take the child's surname as 'compatible' (see :func:`_surname_compatible`) where
    the others ask for equal; a surname recorded differently earns its own (learned) weight,
    not that of an equal one (a common surname as the other parent's is weaker evidence).
    A different postcode is not held against the pair more than once: "same surname and
    parent (moved)" keeps a family that moved together.

    ``address_history`` (issue 21, movers): one level more, above that one, for a pair
    whose postcodes are a move the household's dated history shows (``moves.add_moves``):
    the other record's postcode is where the household lived just before or just after."""
    last, parent_first, parent_last = _HOUSEHOLD_COLUMNS[name_variants]
    parent = f"{_eq(parent_first)} AND {_eq(parent_last)}"
    surname = _eq(last)
    postcode = _eq("postcode")
    surname_fuzzy = cll.JaroWinklerLevel(last, 0.88)
    null_sql = (
        f'("{last}_l" IS NULL OR "{last}_r" IS NULL) AND '
        '("postcode_l" IS NULL OR "postcode_r" IS NULL) AND '
        f'("{parent_last}_l" IS NULL OR "{parent_last}_r" IS NULL)'
    )

    def level(sql: str, label: str) -> Any:
        return _custom_level(sql, label_for_charts=label)

    # the levels only the name-variant comparison has are added where `compatible` is set
    compatible = _surname_compatible() if name_variants else None
    levels = [
        level(null_sql, "Surname, postcode, parent all missing").configure(is_null_level=True),
        level(f"{surname} AND {postcode} AND {parent}", "Same surname, postcode and parent"),
    ]
    if compatible:
        levels.append(
            level(
                f"{compatible} AND {postcode} AND {parent}",
                "Surname as recorded elsewhere, same postcode and parent",
            )
        )
    levels.append(level(f"{surname} AND {postcode}", "Same surname and postcode"))
    if address_history:
        moved = '("postcode_after_l" = "postcode_r" OR "postcode_before_l" = "postcode_r")'
        levels.append(
            level(
                f"{surname} AND {parent} AND {moved}",
                "Same surname and parent, postcodes a move in the household's history",
            )
        )
    levels.append(level(f"{surname} AND {parent}", "Same surname and parent (moved)"))
    if compatible:
        levels += [
            level(
                f"{compatible} AND {postcode}", "Surname as recorded elsewhere and same postcode"
            ),
            level(
                f"{compatible} AND {parent}",
                "Surname as recorded elsewhere and same parent (moved)",
            ),
        ]
    levels += [
        cll.And(surname_fuzzy, cll.Or(_custom_level(postcode), _custom_level(parent))).configure(
            label_for_charts="Similar surname, same postcode or parent"
        ),
        level(f"{postcode} AND {parent}", "Same postcode and parent, other surname"),
        level(f"{surname} AND {_eq('postcode_sector')}", "Same surname and postcode sector"),
        cll.ExactMatchLevel(last).configure(
            tf_adjustment_column=last, label_for_charts="Same surname only"
        ),
    ]
    if compatible:
        levels.append(level(compatible, "Surname as recorded elsewhere only"))
    levels += [
        surname_fuzzy.configure(label_for_charts="Similar surname only"),
        level(f"{postcode} OR ({parent})", "Same postcode or parent only"),
        cll.ElseLevel(),
    ]
    return cl.CustomComparison(
        levels,
        output_column_name="household",
        comparison_description="Child's surname (as variously recorded), home postcode and "
        "parent's names together"
        if name_variants
        else "Child's surname, home postcode and parent's names together",
    )


def comparisons(*, name_variants: bool = False, address_history: bool = False) -> list[Any]:
    """Default comparisons for UK early-years records (see docs in the module header).
    ``name_variants``: compare names by the keys of ``names.normalise`` (issue 21; needs
    ``prepare_identities(..., name_variants=True)``); ``address_history``: a move the
    household's history shows is its own level (needs ``address_history=True`` there)."""
    nhs = cl.CustomComparison(
        [
            cll.NullLevel("nhs_number"),
            cll.ExactMatchLevel("nhs_number").configure(
                u_probability=NHS_AGREE_U, fix_u_probability=True
            ),
            cll.ElseLevel(),
        ],
        output_column_name="nhs_number",
        comparison_description="NHS number (valid numbers only; invalid ones count as missing)",
    )
    # No "one digit differs" level for NHS numbers: the modulus-11 check digit catches every
    # single-digit slip and transposition, so two valid numbers one edit apart are two numbers.
    dob = cl.CustomComparison(
        [
            cll.NullLevel("date_of_birth"),
            cll.ExactMatchLevel("date_of_birth"),
            _custom_level(
                "dob_year_l = dob_year_r AND dob_month_l = dob_day_r AND dob_day_l = dob_month_r",
                label_for_charts="Day and month swapped",
            ),
            cll.DamerauLevenshteinLevel("dob_text", 1).configure(
                label_for_charts="One digit differs or two digits transposed"
            ),
            cll.AbsoluteDateDifferenceLevel(
                "date_of_birth", input_is_string=False, threshold=31, metric="day"
            ),
            cll.ElseLevel(),
        ],
        output_column_name="date_of_birth",
        comparison_description="Date of birth allowing day/month swaps and typing slips",
    )
    sex = cl.CustomComparison(
        [cll.NullLevel("sex"), cll.ExactMatchLevel("sex"), cll.ElseLevel()],
        output_column_name="sex",
        comparison_description="Sex (unknown counts as missing)",
    )
    household = _household_comparison(name_variants=name_variants, address_history=address_history)
    if name_variants:
        return [nhs, _variant_first_name_comparison(), dob, sex, household]
    return [
        nhs,
        _first_name_comparison("first_name_match", "first_name_canonical", "Child's given name"),
        dob,
        sex,
        household,
    ]


def default_blocking_rules(*, name_variants: bool = False) -> list[Any]:
    """Pairs worth scoring. Each rule admits the pairs that agree exactly on its columns; the
    union of rules is scored. Chosen so a true match with one or two errors is still admitted
    (e.g. a day/month swap still shares names and year; a nickname still shares the date).
    With ``name_variants`` the name columns are the keys, and three rules more admit a name
    an export mangled (its Windows-1252 key), written by another romanisation (skeleton) or
    recorded the other way round (given name of one = family name of the other)."""
    if name_variants:
        return [
            block_on("nhs_number"),
            block_on("date_of_birth", "first_name_formal"),
            block_on("date_of_birth", "last_name_key"),
            block_on("date_of_birth", "postcode"),
            block_on("first_name_formal", "last_name_key", "dob_year"),
            block_on("last_name_key", "postcode", "dob_year"),
            block_on("date_of_birth", "last_name_cp1252"),
            block_on("date_of_birth", "first_name_skeleton"),
            # a rule creator, not bare SQL: model_in_dialect rebuilds it in another dialect
            CustomRule(
                "l.date_of_birth = r.date_of_birth AND l.first_name_key = r.last_name_key",
                sql_dialect="duckdb",
            ),
        ]
    return [
        block_on("nhs_number"),
        block_on("date_of_birth", "first_name_canonical"),
        block_on("date_of_birth", "last_name_match"),
        block_on("date_of_birth", "postcode"),
        block_on("first_name_canonical", "last_name_match", "dob_year"),
        block_on("last_name_match", "postcode", "dob_year"),
    ]


#: Rules whose pairs are almost surely matches, for the prior match probability
#: (Splink's estimate_probability_two_random_records_match, with their assumed recall).
DETERMINISTIC_RULES_RECALL = 0.7


_MATCH = ("first_name_match", "last_name_match")


def _deterministic_rules(name_variants: bool = False) -> list[Any]:
    first, last = ("first_name_key", "last_name_key") if name_variants else _MATCH
    return [
        block_on("nhs_number", "date_of_birth"),
        block_on(first, last, "date_of_birth", "postcode"),
    ]


def em_session_count(name_variants: bool = False) -> int:
    """How many EM sessions :func:`train` runs (for the console's step count)."""
    return len(_em_rules(name_variants))


def _em_rules(name_variants: bool = False) -> list[Any]:
    """Two EM passes: blocking on date of birth trains the name, place and parent levels;
    blocking on names trains the date of birth, postcode and NHS levels."""
    if name_variants:
        return [block_on("date_of_birth"), block_on("first_name_formal", "last_name_key")]
    return [block_on("date_of_birth"), block_on("first_name_canonical", "last_name_match")]


def settings_creator(
    blocking_rules: list[Any] | None,
    *,
    retain_intermediate: bool = False,
    name_variants: bool = False,
    address_history: bool = False,
) -> SettingsCreator:
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=comparisons(name_variants=name_variants, address_history=address_history),
        blocking_rules_to_generate_predictions=blocking_rules
        or default_blocking_rules(name_variants=name_variants),
        retain_intermediate_calculation_columns=retain_intermediate,
        retain_matching_columns=True,
        additional_columns_to_retain=[],
        max_iterations=25,
        em_convergence=0.0001,
    )


@dataclass(frozen=True)
class TrainingReport:
    trained: bool  # False when a saved model was reused
    model_source: str  # "trained" or the model path
    em_sessions: int
    probability_two_random_records_match: float
    em_sessions_skipped: int = 0  # sessions where EM drove a level's m to 0 (see train)
    #: levels no randomly sampled pair fell into, given u = 3 / pairs (see unobserved_u)
    u_levels_unobserved: int = 0
    #: levels whose EM-trained m was raised to the floor, and the floor (see floor_m)
    m_levels_floored: int = 0
    m_floor: float = 0.0


def model_in_dialect(
    saved: dict[str, Any],
    dialect: str,
    blocking_rules: list[str] | None,
    *,
    name_variants: bool = False,
    address_history: bool = False,
) -> dict[str, Any]:
    """A model saved on one engine (its SQL in that engine's dialect: DuckDB's
    ``jaro_winkler_similarity``, ``EPOCH``, double-quoted names) for another engine: the
    same comparisons, built by Splink's libraries in ``dialect``, carrying the saved
    parameters (prior; each level's m and u, matched level by level). Custom blocking
    rules, being SQL text, are the settings' own (``linkage.blocking_rules``)."""
    if blocking_rules is None and any(
        br.get("sql_dialect") not in (None, dialect)
        and br.get("blocking_rule")
        not in {
            r.get_blocking_rule(br["sql_dialect"]).blocking_rule_sql
            for r in default_blocking_rules(name_variants=name_variants)
        }
        for br in saved.get("blocking_rules_to_generate_predictions", [])
    ):
        raise LinkageError(
            "the saved linkage model has custom blocking rules in another engine's SQL",
            hint="give them in linkage.blocking_rules, or train the model on this engine",
        )
    fresh = settings_creator(
        blocking_rules, name_variants=name_variants, address_history=address_history
    ).create_settings_dict(dialect)
    by_name = {c["output_column_name"]: c for c in saved.get("comparisons", [])}
    for comparison in fresh["comparisons"]:
        old = by_name.get(comparison["output_column_name"])
        levels = comparison["comparison_levels"]
        if old is None or len(old["comparison_levels"]) != len(levels):
            raise LinkageError(
                f"the saved linkage model's {comparison['output_column_name']!r} comparison "
                "differs from this version's",
                hint="train the model again (remove linkage.model_path)",
            )
        for level, was in zip(levels, old["comparison_levels"], strict=True):
            for key in ("m_probability", "u_probability", "tf_adjustment_column"):
                if key in was:
                    level[key] = was[key]
    for key in ("probability_two_random_records_match", "linker_uid"):
        if key in saved:
            fresh[key] = saved[key]
    fresh["sql_dialect"] = dialect
    return fresh


def build_linker(
    db_api: Any,
    table_name: str,
    *,
    model_path: Path | None,
    blocking_rules: list[str] | None,
    name_variants: bool = False,
    address_history: bool = False,
) -> Linker:
    """A Linker over the identity table: from a saved model, or fresh default settings."""
    df = db_api.register(table_name)
    if model_path is not None:
        if not Path(model_path).is_file():
            raise LinkageError(
                f"{model_path}: the saved linkage model was not found",
                hint="check linkage.model_path, or remove it to train afresh",
            )
        saved = json.loads(Path(model_path).read_text(encoding="utf-8"))
        dialect = db_api.sql_dialect.sql_dialect_str
        if saved.get("sql_dialect", dialect) != dialect:
            model = model_in_dialect(
                saved,
                dialect,
                blocking_rules,
                name_variants=name_variants,
                address_history=address_history,
            )
            return Linker(df, model, log_level=logging.WARNING)
        return Linker(df, str(model_path), log_level=logging.WARNING)
    return Linker(
        df,
        settings_creator(
            list(blocking_rules) if blocking_rules else None,
            name_variants=name_variants,
            address_history=address_history,
        ),
        log_level=logging.WARNING,
    )


#: Upper 95% bound on a proportion of which none was seen in n trials is about 3 / n, the
#: "rule of three" (Hanley & Lippman-Hand 1983, "If nothing goes wrong, is everything all
#: right?", JAMA 249:1743).
RULE_OF_THREE = 3.0


def unobserved_u(linker: Linker, max_pairs_for_u: float) -> int:
    """Give every comparison level that random sampling never saw (no sampled pair fell into
    it) u = 3 / pairs sampled, the rule of three's upper 95% bound, fixed through EM; returns
    how many levels that was.

    Splink leaves such a level "not observed" and scores it with its generic default u, a
    share of a percent or more, where the level's real u is that of two random records
    agreeing on a whole household (below one in a million). The weight of a rare level then
    collapses to a bit or two, and the larger the data the more levels go unobserved: at a
    million records and two million sampled pairs, four household levels of the name-variant
    comparisons were, and the true matches they held (a child's surname with a typo, the
    same parent or postcode) fell below the threshold (recall 0.9925 against 0.9961).
    The bound is conservative: it never gives a level more weight than the sample supports."""
    floor = RULE_OF_THREE / float(max_pairs_for_u)
    n = 0
    for comparison in linker._settings_obj.comparisons:
        for level in comparison._comparison_levels_excluding_null:
            if level._u_is_trained or level._fix_u_probability:
                continue
            level.u_probability = floor
            level._fix_u_probability = True
            n += 1
    return n


def floor_m(linker: Linker, n_identities: int) -> tuple[int, float]:
    """Floor every EM-trained m probability at 3 / (the matching pairs expected among
    ``n_identities`` records, from the trained prior), the rule of three's upper 95% bound
    for a share of matches never seen (as :func:`unobserved_u` does for u); returns how many
    levels were raised and the floor.

    EM can drive a level's m to almost nothing when no expected match falls into it: on the
    1M bench the NHS number's "different valid number" level came out at m = 2e-17, a weight
    of -55 bits that vetoes every match with a wrongly recorded (but valid) NHS number,
    whatever the names, date of birth and household say. An m below the floor claims more
    than the sample can show; at the floor the level still weighs heavily against a link
    (-17 bits at a million records) but no longer alone. Levels whose m is fixed by design
    (:data:`FIRST_NAME_DIFFERENT_M`) and levels EM never trained keep theirs. The m values of
    a comparison then sum to slightly more than 1 (by at most the floor per level), as
    Splink allows."""
    prior = float(linker._settings_obj._probability_two_random_records_match)
    expected = prior * n_identities * (n_identities - 1) / 2
    floor = min(1.0, RULE_OF_THREE / max(expected, 1.0))
    n = 0
    for comparison in linker._settings_obj.comparisons:
        for level in comparison._comparison_levels_excluding_null:
            if level._fix_m_probability or level._m_probability is None:
                continue
            unseen = not level._m_is_trained  # EM's "level not observed"
            if unseen or float(level._m_probability) < floor:
                level.m_probability = floor
                n += 1
    return n, floor


def train(
    linker: Linker,
    *,
    seed: int,
    max_pairs_for_u: float,
    max_pairs_for_em: float,
    name_variants: bool = False,
    n_identities: int | None = None,
    step: Callable[[str], None] = lambda _m: None,
) -> TrainingReport:
    """Unsupervised training: prior, u by random sampling, m by EM (each session seeded),
    then m floored (:func:`floor_m`) when ``n_identities`` (the rows being linked) is given.
    ``step`` names each step for the console (everyfamily.console: counts only)."""
    try:
        step("training: the prior from deterministic rules")
        linker.training.estimate_probability_two_random_records_match(
            _deterministic_rules(name_variants), recall=DETERMINISTIC_RULES_RECALL
        )
        step(f"training: u from up to {max_pairs_for_u:,.0f} random pairs")
        linker.training.estimate_u_using_random_sampling(max_pairs=max_pairs_for_u, seed=seed)
        unobserved = unobserved_u(linker, max_pairs_for_u)
        sessions = skipped = 0
        rules = _em_rules(name_variants)
        for k, rule in enumerate(rules, start=1):
            step(f"training: EM session {k} of {len(rules)}")
            # Splink 5 (EMTrainingSession.__init__) takes the comparisons the session's
            # blocking rule uses OUT of the linker's own settings and puts the trained copy
            # back only when the session succeeds: a session that raises would leave the
            # model without them (a quarter-size world saved a model of nhs_number,
            # date_of_birth and sex only). So the settings are kept and put back.
            kept = linker._settings_obj.core_model_settings.copy()  # type: ignore[no-untyped-call]
            try:
                linker.training.estimate_parameters_using_expectation_maximisation(
                    rule, max_pairs=max_pairs_for_em
                )
            except ValueError as exc:
                # On a small extract EM can drive a level's m to exactly 0 (no expected match
                # takes it), which Splink refuses (M_U_CLAMP_MIN). Skipping the session leaves
                # the model as the other sessions made it (a comparison no session trained
                # keeps Splink's default m, with Splink's warning); the count is in the
                # training report.
                if "below the minimum allowed value" not in str(exc):
                    raise
                linker._settings_obj.core_model_settings = kept
                skipped += 1
                continue
            sessions += 1
        if sessions == 0:
            raise LinkageError(
                f"the linkage model could not be trained (all {skipped} EM sessions failed)",
                hint="too few records or too little overlap between sources; "
                "give linkage.model_path to reuse a model trained on more data",
            )
        floored, m_floor = floor_m(linker, n_identities) if n_identities else (0, 0.0)
    except LinkageError:
        raise
    except Exception as exc:  # Splink raises plain exceptions; turn them into one line
        raise LinkageError(
            f"the linkage model could not be trained ({type(exc).__name__})",
            hint="too few records or too little overlap between sources; "
            "give linkage.model_path to reuse a model trained on more data",
        ) from exc
    prob = float(linker._settings_obj._probability_two_random_records_match)
    return TrainingReport(
        trained=True,
        model_source="trained",
        em_sessions=sessions,
        probability_two_random_records_match=prob,
        em_sessions_skipped=skipped,
        u_levels_unobserved=unobserved,
        m_levels_floored=floored,
        m_floor=m_floor,
    )

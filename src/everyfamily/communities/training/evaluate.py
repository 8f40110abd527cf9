"""Measure the shipped name-origin model on names from an independent source (mimesis).

    python -m everyfamily.communities.training.evaluate     # print the tables of
                                                           # docs/name-origin.md

The model is trained on Faker's lists, which the demo also draws from, so held-out Faker
names are not independent (docs/name-origin.md). Here each covered group's (given name,
surname) pairs come from mimesis's lists (``everyfamily.testing.names``): a different
project, compiled by other people, with its own spellings and its own mix of common and
rare names. The two sources share many common names (Adam, Maria, Nowak); the share of each
group's evaluation names that also appear in the training lists is reported, and accuracy is
also given on pairs where neither part was in training ("unseen pairs").

Pairs per group: PAIRS_PER_GROUP, drawn with a fixed seed: a locale of the group (equal
weights), a sex (equal weights), a given name of that sex and a surname of that sex's form.
Predictions are over all ten groups (equal priors, as in the pipeline). Requires the
development dependencies (mimesis, pypinyin).
"""

from __future__ import annotations

import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from everyfamily.communities.groups import GROUPS
from everyfamily.communities.nameorigin import NameOriginModel, fold, load_model
from everyfamily.communities.training.train import faker_name_lists
from everyfamily.testing.names import INDEPENDENT_LOCALES, UNCOVERED, locale_names

PAIRS_PER_GROUP = 400
SEED = 20261204


@dataclass(frozen=True)
class GroupResult:
    """One covered group's figures on independent names."""

    group: str
    locales: tuple[str, ...]
    pairs: int
    accuracy: float
    given_names: int
    given_only_accuracy: float
    surnames: int
    surname_only_accuracy: float
    given_seen_share: float  # share of the group's given names also in the training lists
    surname_seen_share: float
    unseen_pairs: int
    unseen_pair_accuracy: float | None


@dataclass(frozen=True)
class IndependentEvaluation:
    """Per-group results, the confusion counts (rows: covered true groups in GROUPS order,
    columns: every group) and the groups the source does not cover, with the reason."""

    results: dict[str, GroupResult]
    confusion: dict[str, tuple[int, ...]]
    uncovered: dict[str, str]

    @property
    def overall_accuracy(self) -> float:
        right = sum(row[GROUPS.index(g)] for g, row in self.confusion.items())
        return right / sum(sum(row) for row in self.confusion.values())


def _training_names() -> tuple[set[str], set[str]]:
    lists = faker_name_lists()
    given = {fold(n) for names in lists.given.values() for n in names}
    surname = {fold(n) for names in lists.surname.values() for n in names}
    return given, surname


def _share(names: Sequence[str], seen: set[str]) -> float:
    return round(sum(fold(n) in seen for n in names) / len(names), 4)


def _accuracy(hits: int, total: int) -> float:
    return round(hits / total, 4)


def evaluate(model: NameOriginModel | None = None) -> IndependentEvaluation:
    """The model (default: the shipped one) on every covered group's independent names."""
    model = model or load_model()
    seen_given, seen_surname = _training_names()
    results: dict[str, GroupResult] = {}
    confusion: dict[str, tuple[int, ...]] = {}
    for group, locales in INDEPENDENT_LOCALES.items():
        if not locales:
            continue
        lists = [locale_names(loc) for loc in locales]
        given = tuple(dict.fromkeys(n for ln in lists for n in ln.female + ln.male))
        surnames = tuple(
            dict.fromkeys(n for ln in lists for n in ln.surnames_male + ln.surnames_female)
        )
        rng = random.Random(f"{group}:{SEED}")  # noqa: S311 (seeded sampling, not security)
        row = np.zeros(len(GROUPS), dtype=int)
        unseen = unseen_right = 0
        for _ in range(PAIRS_PER_GROUP):
            ln = rng.choice(lists)
            if rng.random() < 0.5:
                g, s = rng.choice(ln.female), rng.choice(ln.surnames_female)
            else:
                g, s = rng.choice(ln.male), rng.choice(ln.surnames_male)
            pred = model.predict(g, s)
            if pred is not None:
                row[GROUPS.index(pred)] += 1
            if fold(g) not in seen_given and fold(s) not in seen_surname:
                unseen += 1
                unseen_right += pred == group
        given_right = sum(model.predict(n, None) == group for n in given)
        surname_right = sum(model.predict(None, n) == group for n in surnames)
        confusion[group] = tuple(int(v) for v in row)
        results[group] = GroupResult(
            group=group,
            locales=locales,
            pairs=int(row.sum()),
            accuracy=_accuracy(int(row[GROUPS.index(group)]), int(row.sum())),
            given_names=len(given),
            given_only_accuracy=_accuracy(given_right, len(given)),
            surnames=len(surnames),
            surname_only_accuracy=_accuracy(surname_right, len(surnames)),
            given_seen_share=_share(given, seen_given),
            surname_seen_share=_share(surnames, seen_surname),
            unseen_pairs=unseen,
            unseen_pair_accuracy=_accuracy(unseen_right, unseen) if unseen else None,
        )
    return IndependentEvaluation(results, confusion, dict(UNCOVERED))


def markdown(ev: IndependentEvaluation) -> str:
    """The tables of docs/name-origin.md's independent section."""
    lines = [
        f"Overall pair accuracy on covered groups: **{ev.overall_accuracy:.3f}**",
        "",
        "| group | mimesis locales | pairs | accuracy | given name only | surname only "
        "| given / surnames in training | unseen pairs | accuracy on unseen pairs |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in ev.results.values():
        unseen = "-" if r.unseen_pair_accuracy is None else f"{r.unseen_pair_accuracy:.3f}"
        lines.append(
            f"| {r.group} | {', '.join(r.locales)} | {r.pairs} | {r.accuracy:.3f} "
            f"| {r.given_only_accuracy:.3f} ({r.given_names}) "
            f"| {r.surname_only_accuracy:.3f} ({r.surnames}) "
            f"| {r.given_seen_share:.0%} / {r.surname_seen_share:.0%} "
            f"| {r.unseen_pairs} | {unseen} |"
        )
    for g, why in ev.uncovered.items():
        lines.append(f"| {g} | none | - | - | - | - | - | - | - ({why}) |")
    abbrev = ("BI", "PL", "RO", "BA", "CEE", "SA", "AR", "CN", "WA", "OT")
    lines += [
        "",
        "| true \\ predicted | " + " | ".join(abbrev) + " |",
        "|---|" + "---|" * len(abbrev),
    ]
    for g, row in ev.confusion.items():
        lines.append(f"| {g} | " + " | ".join(str(v) for v in row) + " |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    del argv
    print(markdown(evaluate()), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())

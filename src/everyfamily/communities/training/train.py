"""Train the name-origin classifier from Faker's per-locale name lists and measure it on
names it was not trained on.

    python -m everyfamily.communities.training            # rewrite the shipped files
    python -m everyfamily.communities.training --check    # exit 1 if they would change

Writes ``data/name_origin.json`` (weights, the held-out confusion counts) and
``data/name_origin_evaluation.json`` (per-group accuracy and the confusion matrix). The
output depends only on the installed Faker lists and the constants here: no randomness
except a seeded generator for the evaluation pairs, so a rerun gives the same bytes.

Training material: Faker (MIT licence) person providers, read by
``everyfamily.fakernames`` (Cyrillic lists romanised, female surname forms made by rule);
this module never imports the demo.
Names are split into training and held-out sets BY NAME (a hash of the folded name), so a
held-out name never appears in training under any group. See docs/name-origin.md for what
held-out Faker names can and cannot tell.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from everyfamily.communities.groups import GROUPS
from everyfamily.communities.nameorigin import (
    EVALUATION_FILE,
    MODEL_FILE,
    NGRAM_MAX,
    NGRAM_MIN,
    SCALE,
    features,
    fold,
    model_from_document,
)
from everyfamily.fakernames import female_surname, locale_names

#: Faker locales of each group. The demo's locales (demo/namepools.ORIGIN_LOCALES) plus a
#: few neighbours that make a group broader than the demo's (hr_HR, sl_SI for other Central
#: and Eastern European; de_DE, nl_NL for other), so the model is not fitted to the demo only.
TRAINING_LOCALES: dict[str, tuple[str, ...]] = {
    "british_irish": ("en_GB", "en_IE"),
    "polish": ("pl_PL",),
    "romanian": ("ro_RO",),
    "baltic": ("lt_LT", "lv_LV"),
    "other_cee": ("cs_CZ", "sk_SK", "hu_HU", "bg_BG", "uk_UA", "hr_HR", "sl_SI"),
    "south_asian": ("en_PK", "en_IN"),
    "arabic": ("fr_DZ",),
    "chinese": ("zh_CN", "zh_TW"),
    "west_african": ("yo_NG", "ig_NG", "ha_NG", "en_NG", "tw_GH"),
    "other": ("es_ES", "pt_PT", "it_IT", "tr_TR", "fr_FR", "de_DE", "nl_NL"),
}
#: Share of names held out (by a hash of the folded name): one in five.
HOLDOUT_MODULUS = 5
#: Laplace/Lidstone smoothing of the n-gram counts.
ALPHA = 0.1
#: Features kept per name part, the most informative by chi-square: keeps the file small
#: (a few hundred KB) at almost no cost in held-out accuracy.
MAX_FEATURES = 3000
#: Held-out (given name, surname) pairs drawn per group for the confusion matrix.
PAIRS_PER_GROUP = 400
SEED = 20260331
VERSION = "name-origin-nb-1"


@dataclass(frozen=True)
class NameLists:
    """Unique names per group and part ('given' or 'surname'), as written (accents kept)."""

    given: dict[str, tuple[str, ...]]
    surname: dict[str, tuple[str, ...]]


def _held_out(name: str) -> bool:
    digest = hashlib.sha256(fold(name).encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") % HOLDOUT_MODULUS == 0


def faker_name_lists() -> NameLists:
    """Every group's given names and surnames (male and female forms) from Faker."""
    given: dict[str, list[str]] = {g: [] for g in GROUPS}
    surname: dict[str, list[str]] = {g: [] for g in GROUPS}
    for group, locales in TRAINING_LOCALES.items():
        for loc in locales:
            names = locale_names(loc)
            given[group].extend(names.female + names.male)
            for s in names.surnames:
                surname[group].append(s)
                for married in (False, True):
                    surname[group].append(female_surname(loc, s, married=married))

    def unique(values: list[str]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(v.strip() for v in values if v.strip()))

    return NameLists(
        given={g: unique(v) for g, v in given.items()},
        surname={g: unique(v) for g, v in surname.items()},
    )


def split(lists: NameLists) -> tuple[NameLists, NameLists]:
    """(training, held-out), split by name. A surname's female forms follow its folded
    form's hash too, so 'Kowalska' may be held out while 'Kowalski' is trained on: they are
    different strings, and a council's record holds one or the other."""

    def part(d: dict[str, tuple[str, ...]], held: bool) -> dict[str, tuple[str, ...]]:
        return {g: tuple(n for n in names if _held_out(n) == held) for g, names in d.items()}

    return (
        NameLists(part(lists.given, False), part(lists.surname, False)),
        NameLists(part(lists.given, True), part(lists.surname, True)),
    )


def _train_part(names: dict[str, tuple[str, ...]]) -> dict[str, Any]:
    """Multinomial naive Bayes counts -> the most informative features' log-probabilities.
    Each name is seen written as given and with its accents dropped (as many systems do)."""
    counts: dict[str, np.ndarray] = {}
    for gi, group in enumerate(GROUPS):
        for name in names[group]:
            forms = {name, fold(name)}
            for form in forms:
                for f in features(form):
                    row = counts.setdefault(f, np.zeros(len(GROUPS)))
                    row[gi] += 1
    vocab = sorted(counts)
    matrix = np.array([counts[f] for f in vocab])
    # Chi-square of each feature against the groups (feature present vs absent, by count).
    total = matrix.sum()
    col = matrix.sum(axis=0, keepdims=True)
    row = matrix.sum(axis=1, keepdims=True)
    expected = row * col / total
    chi2 = ((matrix - expected) ** 2 / np.where(expected > 0, expected, 1)).sum(axis=1)
    order = np.lexsort((np.array(vocab), -chi2))[:MAX_FEATURES]
    keep = sorted(order.tolist(), key=lambda i: vocab[i])
    kept = matrix[keep]
    log_prob = np.log((kept + ALPHA) / (kept.sum(axis=0) + ALPHA * len(keep)))
    return {
        "features": [vocab[i] for i in keep],
        "log_prob": np.rint(log_prob * SCALE).astype(int).tolist(),
    }


def _pairs(held: NameLists) -> list[tuple[str, str, str]]:
    """Seeded held-out (true group, given name, surname) pairs, PAIRS_PER_GROUP per group."""
    rng = np.random.default_rng(SEED)
    out: list[tuple[str, str, str]] = []
    for group in GROUPS:
        given, surname = held.given[group], held.surname[group]
        if not given or not surname:
            continue
        gi = rng.integers(0, len(given), PAIRS_PER_GROUP)
        si = rng.integers(0, len(surname), PAIRS_PER_GROUP)
        out.extend((group, given[a], surname[b]) for a, b in zip(gi, si, strict=True))
    return out


def train(lists: NameLists | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(model document, evaluation document); pure given the name lists."""
    lists = lists or faker_name_lists()
    training, held = split(lists)
    doc: dict[str, Any] = {
        "version": VERSION,
        "groups": list(GROUPS),
        "ngram_range": [NGRAM_MIN, NGRAM_MAX],
        "scale": SCALE,
        "smoothing_alpha": ALPHA,
        "training": {
            "source": "Faker person providers (MIT licence)",
            "locales": {g: list(v) for g, v in TRAINING_LOCALES.items()},
            "names": {
                g: {"given": len(training.given[g]), "surname": len(training.surname[g])}
                for g in GROUPS
            },
        },
        "given": _train_part(training.given),
        "surname": _train_part(training.surname),
        "confusion": [[0] * len(GROUPS) for _ in GROUPS],
    }
    model = model_from_document(doc)
    index = {g: i for i, g in enumerate(GROUPS)}
    confusion = np.zeros((len(GROUPS), len(GROUPS)), dtype=int)
    part_correct = {"given": np.zeros(len(GROUPS)), "surname": np.zeros(len(GROUPS))}
    part_total = {"given": np.zeros(len(GROUPS)), "surname": np.zeros(len(GROUPS))}
    for group, given, surname in _pairs(held):
        pred = model.predict(given, surname)
        if pred is not None:
            confusion[index[group], index[pred]] += 1
    for part, names in (("given", held.given), ("surname", held.surname)):
        for group in GROUPS:
            for name in names[group]:
                pred = model.predict(name, None) if part == "given" else model.predict(None, name)
                part_total[part][index[group]] += 1
                part_correct[part][index[group]] += pred == group
    doc["confusion"] = confusion.tolist()
    per_group = {}
    for g, i in index.items():
        n = int(confusion[i].sum())
        per_group[g] = {
            "pairs": n,
            "accuracy": round(float(confusion[i, i] / n), 4) if n else None,
            "precision": round(float(confusion[i, i] / confusion[:, i].sum()), 4)
            if confusion[:, i].sum()
            else None,
            "held_out_given_names": int(part_total["given"][i]),
            "given_name_only_accuracy": round(
                float(part_correct["given"][i] / part_total["given"][i]), 4
            )
            if part_total["given"][i]
            else None,
            "held_out_surnames": int(part_total["surname"][i]),
            "surname_only_accuracy": round(
                float(part_correct["surname"][i] / part_total["surname"][i]), 4
            )
            if part_total["surname"][i]
            else None,
        }
    evaluation = {
        "version": VERSION,
        "what": "Held-out Faker names (split by name): NOT an independent source; see "
        "docs/name-origin.md",
        "groups": list(GROUPS),
        "pairs_per_group": PAIRS_PER_GROUP,
        "seed": SEED,
        "overall_accuracy": round(float(np.trace(confusion) / confusion.sum()), 4),
        "per_group": per_group,
        "confusion_matrix": {
            "rows": "true group",
            "columns": "predicted group",
            "counts": confusion.tolist(),
        },
    }
    return doc, evaluation


def _dump(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n"


def _dump_pretty(doc: dict[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m everyfamily.communities.training")
    parser.add_argument("--check", action="store_true", help="exit 1 if the files would change")
    parser.add_argument("--out", type=Path, default=None, help="folder to write to")
    args = parser.parse_args(argv)
    model, evaluation = train()
    targets = {
        (args.out / MODEL_FILE.name if args.out else MODEL_FILE): _dump(model),
        (args.out / EVALUATION_FILE.name if args.out else EVALUATION_FILE): _dump_pretty(
            evaluation
        ),
    }
    if args.check:
        stale = [
            p for p, text in targets.items() if not p.is_file() or p.read_text("utf-8") != text
        ]
        for p in stale:
            print(f"{p} is out of date: run python -m everyfamily.communities.training")
        return 1 if stale else 0
    for path, text in targets.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path} ({len(text.encode('utf-8')) // 1024} KB)")
    print(f"held-out accuracy {evaluation['overall_accuracy']:.3f}")
    for g, row in evaluation["per_group"].items():
        print(f"  {g:14s} {row['accuracy']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Name origin: a character n-gram naive Bayes classifier from (given name, surname) to a
broad origin group, loaded from the shipped JSON weights (no pickle).

What it is for: area-level estimates only. A name says little about one person (families
name children across cultures; names cross borders), so a prediction is never shown or kept
as a fact about a person; it feeds the counts of an area, and the area's counts are then
corrected with the confusion matrix measured on held-out names (adjust.py), so the
classifier's error is carried into every estimate.

The model: multinomial naive Bayes (McCallum & Nigam 1998, "A comparison of event models for
naive Bayes text classification") over character 1- to 4-grams of each name part with word
boundaries ("^kow", "ski$"), plus one feature per non-ASCII letter ("~ł"), so a name keeps
its evidence when a system has dropped the accents (the training set holds both forms).
Given-name and surname models are separate; a person's score adds the two log-likelihoods
(naive independence) with equal priors for every group, so the classifier does not guess
from how common a group is; the area estimates put the population back in.

Why our own code (about 60 lines) instead of scikit-learn: the weights must ship as small,
readable JSON and load without scikit-learn's pickles; scoring is one sparse sum.
"""

from __future__ import annotations

import json
import math
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

MODEL_FILE = Path(__file__).parent / "data" / "name_origin.json"
EVALUATION_FILE = Path(__file__).parent / "data" / "name_origin_evaluation.json"

#: Character n-gram lengths (with boundary marks). 1-4 is the usual range for name
#: classification (e.g. Treeratpituk & Giles 2012 used 2-4 grams for ethnicity from names).
NGRAM_MIN = 1
NGRAM_MAX = 4
#: Weights are stored as integers: log-probability x SCALE (two decimals is far finer than
#: the classifier's own error).
SCALE = 100

#: Letters NFKD does not split into base letter + accent.
_SPECIAL = {"ł": "l", "đ": "d", "ı": "i", "ß": "ss", "ø": "o", "æ": "ae", "œ": "oe", "þ": "th"}


def fold(text: str) -> str:
    """Lower-case ASCII letters and single spaces: accents dropped, other marks as spaces."""
    out = []
    for ch in text.casefold():
        if ch in _SPECIAL:
            out.append(_SPECIAL[ch])
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        out.append(base if base.isascii() and base.isalpha() else " ")
    return " ".join("".join(out).split())


def features(name: str) -> list[str]:
    """The n-gram and accent features of one name part (repeats kept: counts matter)."""
    feats: list[str] = []
    for ch in name.casefold():
        if ch.isalpha() and not ch.isascii():
            feats.append("~" + ch)
    for token in fold(name).split():
        padded = f"^{token}$"
        for n in range(NGRAM_MIN, NGRAM_MAX + 1):
            feats.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
    return feats


@dataclass(frozen=True)
class PartModel:
    """Naive Bayes weights for one name part: feature -> row of log P(feature | group)."""

    index: dict[str, int]
    log_prob: np.ndarray  # (n_features, n_groups)

    def log_likelihood(self, name: str) -> np.ndarray | None:
        """Sum of log P(feature | group) over the name's known features; None if none."""
        rows = [self.index[f] for f in features(name) if f in self.index]
        if not rows:
            return None
        return np.asarray(self.log_prob[rows].sum(axis=0), dtype="float64")


@dataclass(frozen=True)
class NameOriginModel:
    """The shipped classifier: groups, the two part models and the held-out confusion
    counts (rows: true group, columns: predicted group) used to correct area counts."""

    groups: tuple[str, ...]
    given: PartModel
    surname: PartModel
    confusion: np.ndarray
    version: str

    def log_likelihood(self, given: str | None, surname: str | None) -> np.ndarray | None:
        parts = [
            m.log_likelihood(v)
            for m, v in ((self.given, given), (self.surname, surname))
            if isinstance(v, str) and v.strip()
        ]
        found = [p for p in parts if p is not None]
        if not found:
            return None
        return np.asarray(np.sum(found, axis=0))

    def predict(self, given: str | None, surname: str | None) -> str | None:
        """The most likely group (equal priors), or None when the name has no known feature."""
        ll = self.log_likelihood(given, surname)
        if ll is None:
            return None
        return self.groups[int(np.argmax(ll))]

    def predict_many(
        self, given: Iterable[str | None], surname: Iterable[str | None]
    ) -> list[str | None]:
        """``predict`` for pairs of names (repeated names are scored once)."""
        cache_: dict[tuple[str | None, str | None], str | None] = {}
        out: list[str | None] = []
        for g, s in zip(given, surname, strict=True):
            key = (g if isinstance(g, str) else None, s if isinstance(s, str) else None)
            if key not in cache_:
                cache_[key] = self.predict(*key)
            out.append(cache_[key])
        return out

    def misclassification(self) -> np.ndarray:
        """P(predicted | true) from the held-out confusion counts, rows summing to 1."""
        counts = self.confusion.astype("float64")
        totals = counts.sum(axis=1, keepdims=True)
        return np.asarray(np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0))


def _part_from_json(doc: dict[str, object]) -> PartModel:
    feats = list(doc["features"])  # type: ignore[call-overload]
    weights = np.asarray(doc["log_prob"], dtype="float64") / SCALE
    return PartModel(index={str(f): i for i, f in enumerate(feats)}, log_prob=weights)


def model_from_document(doc: dict[str, object]) -> NameOriginModel:
    """Build the model from its JSON document (see training/train.py for the format)."""
    return NameOriginModel(
        groups=tuple(str(g) for g in doc["groups"]),  # type: ignore[attr-defined]
        given=_part_from_json(doc["given"]),  # type: ignore[arg-type]
        surname=_part_from_json(doc["surname"]),  # type: ignore[arg-type]
        confusion=np.asarray(doc["confusion"], dtype="int64"),
        version=str(doc["version"]),
    )


@cache
def load_model(path: Path = MODEL_FILE) -> NameOriginModel:
    """Read the shipped model (cached per path)."""
    return model_from_document(json.loads(path.read_text(encoding="utf-8")))


def posterior(log_likelihood: Sequence[float]) -> list[float]:
    """Softmax of log-likelihoods (equal priors); for diagnostics, never for a person."""
    top = max(log_likelihood)
    e = [math.exp(v - top) for v in log_likelihood]
    s = sum(e)
    return [v / s for v in e]

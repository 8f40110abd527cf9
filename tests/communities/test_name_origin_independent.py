"""The shipped name-origin model on names from an independent source (mimesis), issue 19.

Floors sit a few points under the measured values (docs/name-origin.md), so a retrained
model that does worse on names it was not built from fails here. Groups mimesis does not
cover are listed with the reason; Estonian (the only Baltic language mimesis has) is a known
gap: the model was trained on Lithuanian and Latvian only.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from everyfamily.communities.groups import GROUPS
from everyfamily.communities.training import evaluate as ev_mod
from everyfamily.communities.training.evaluate import IndependentEvaluation, evaluate, markdown
from everyfamily.testing.names import INDEPENDENT_LOCALES, UNCOVERED

DOC = Path(__file__).parents[2] / "docs" / "name-origin.md"

#: Pair-accuracy floors per covered group (measured: british_irish 0.522, polish 0.882,
#: other_cee 0.757, chinese 0.830, other 0.760). British/Irish is low because mimesis's
#: en-gb lists are its US English lists (Acevedo, Alvarado ...), read as "other".
FLOORS = {
    "british_irish": 0.45,
    "polish": 0.80,
    "other_cee": 0.70,
    "chinese": 0.75,
    "other": 0.70,
}


@pytest.fixture(scope="module")
def evaluation() -> IndependentEvaluation:
    return evaluate()


@pytest.mark.parametrize("group", sorted(FLOORS))
def test_accuracy_on_independent_names_above_floor(
    evaluation: IndependentEvaluation, group: str
) -> None:
    assert evaluation.results[group].accuracy >= FLOORS[group]


@pytest.mark.xfail(strict=True, reason="the model is not trained on Estonian names")
def test_estonian_names_read_as_baltic(evaluation: IndependentEvaluation) -> None:
    assert evaluation.results["baltic"].accuracy >= 0.5


def test_every_group_is_measured_or_says_why_not(evaluation: IndependentEvaluation) -> None:
    assert set(evaluation.results) | set(evaluation.uncovered) == set(GROUPS)
    assert not set(evaluation.results) & set(evaluation.uncovered)
    assert set(evaluation.uncovered) == {g for g, locs in INDEPENDENT_LOCALES.items() if not locs}
    assert set(UNCOVERED) == set(evaluation.uncovered)


def test_accuracy_is_the_confusion_diagonal(evaluation: IndependentEvaluation) -> None:
    for group, row in evaluation.confusion.items():
        r = evaluation.results[group]
        assert sum(row) == r.pairs == ev_mod.PAIRS_PER_GROUP
        assert r.accuracy == round(row[GROUPS.index(group)] / sum(row), 4)
        assert 0 < r.unseen_pairs <= r.pairs


def test_docs_show_the_measured_figures(evaluation: IndependentEvaluation) -> None:
    assert markdown(evaluation) in DOC.read_text("utf-8")

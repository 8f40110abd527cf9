"""Quality measures on tiny hand-computed examples."""

from __future__ import annotations

import pandas as pd
import pytest

from everyfamily.linkage.quality import (
    cluster_quality,
    evaluate_against_truth,
    group_quality,
    pairwise_quality,
)

# five records: predicted clusters a a b b c; true clusters x x x y y
PRED = pd.Series(["a", "a", "b", "b", "c"])
TRUE = pd.Series(["x", "x", "x", "y", "y"])


def test_pairwise_counts_by_hand() -> None:
    q = pairwise_quality(PRED, TRUE)
    # predicted links: (1,2), (3,4) -> 2; true links: (1,2), (1,3), (2,3), (4,5) -> 4
    # both: (1,2) only -> 1
    assert (q.true_positives, q.predicted_links, q.true_links) == (1, 2, 4)
    assert q.precision == 0.5
    assert q.recall == 0.25
    assert q.f1 == pytest.approx(1 / 3)


def test_bcubed_and_exact_clusters_by_hand() -> None:
    q = cluster_quality(PRED, TRUE)
    # per-record precision 1, 1, 1/2, 1/2, 1 ; recall 2/3, 2/3, 1/3, 1/2, 1/2
    assert q.bcubed_precision == pytest.approx(4 / 5)
    assert q.bcubed_recall == pytest.approx((2 / 3 + 2 / 3 + 1 / 3 + 1 / 2 + 1 / 2) / 5)
    assert q.exact_cluster_accuracy == 0.0
    assert (q.n_predicted_clusters, q.n_true_clusters) == (3, 2)
    perfect = cluster_quality(TRUE.map({"x": "p", "y": "q"}), TRUE)
    assert perfect.exact_cluster_accuracy == 1.0
    assert perfect.pairwise.f1 == 1.0
    assert perfect.bcubed_precision == perfect.bcubed_recall == 1.0


def test_group_quality_by_hand() -> None:
    group = TRUE.map({"x": "g1", "y": "g2"})
    g1, g2 = group_quality(PRED, TRUE, group, dimension="origin")
    # g1 (x): true links 3, TP 1; predicted links touching x's records: (1,2) and (3,4) -> 2
    assert (
        g1.group,
        g1.pairwise.true_positives,
        g1.pairwise.true_links,
        g1.pairwise.predicted_links,
    ) == ("g1", 1, 3, 2)
    assert g1.pairwise.recall == pytest.approx(1 / 3)
    assert g1.pairwise.precision == 0.5
    # g2 (y): true link (4,5) missed; predicted link touching y: (3,4) -> precision 0
    assert (g2.pairwise.true_positives, g2.pairwise.true_links, g2.pairwise.predicted_links) == (
        0,
        1,
        1,
    )
    assert g2.pairwise.recall == 0.0 and g2.pairwise.precision == 0.0


def test_evaluate_against_truth_joins_on_source_and_record_id() -> None:
    links = pd.DataFrame(
        {
            "source": ["s"] * 5,
            "record_id": list("12345"),
            "person_id": list(PRED),
            "family_id": ["F1"] * 5,
        }
    )
    truth = pd.DataFrame(
        {
            "source": ["s"] * 5,
            "record_id": list("54321"),
            "child_id": list(reversed(TRUE)),
            "family_id": ["T"] * 5,
        }
    )
    groups = pd.DataFrame({"child_id": ["x", "y"], "origin": ["g1", "g2"], "moved": [True, False]})
    q = evaluate_against_truth(links, truth, groups)
    assert q.children.pairwise.f1 == pytest.approx(1 / 3)
    assert q.families is not None and q.families.pairwise.f1 == 1.0
    dims = {(g.dimension, g.group) for g in q.by_group}
    assert dims == {("origin", "g1"), ("origin", "g2"), ("moved", "True"), ("moved", "False")}
    d = q.to_dict()
    assert d["children"]["pairwise"]["precision"] == 0.5


def test_missing_links_are_an_error() -> None:
    links = pd.DataFrame(
        {"source": ["s"], "record_id": ["1"], "person_id": ["a"], "family_id": ["f"]}
    )
    truth = pd.DataFrame(
        {
            "source": ["s", "s"],
            "record_id": ["1", "2"],
            "child_id": ["x", "x"],
            "family_id": ["t", "t"],
        }
    )
    with pytest.raises(ValueError, match="1 records of the truth have no linked id"):
        evaluate_against_truth(links, truth)

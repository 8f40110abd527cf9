"""Linkage quality against a known truth: pairwise and cluster-level measures, by group.

Pure functions over tables of (record -> predicted id) and (record -> true id). The pipeline
never calls them (it has no truth); tests, benchmarks and the synthetic demo do.

Definitions (Christen 2012, "Data Matching", ch. 7; Bagga & Baldwin 1998 for B-cubed):
- pairwise: a pair of records is a predicted link when both share a predicted id, a true
  link when both share a true id. precision = TP / predicted links, recall = TP / true links,
  F1 = 2PR / (P + R). Counted in closed form from the contingency table of (predicted, true)
  ids: links in a group of n records = n(n-1)/2.
- B-cubed: per record, precision = |pred cluster ∩ true cluster| / |pred cluster| and recall
  = |...| / |true cluster|, averaged over records.
- exact-cluster accuracy: share of true clusters reproduced exactly by one predicted cluster.
- by group (e.g. name origin): recall over the true links of the group's children; precision
  over predicted links touching at least one of the group's records.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class PairwiseQuality:
    true_positives: int
    predicted_links: int
    true_links: int

    @property
    def precision(self) -> float:
        # No predicted links means no false links: precision is 1 by convention.
        return self.true_positives / self.predicted_links if self.predicted_links else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.true_links if self.true_links else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if (p + r) else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "precision": self.precision, "recall": self.recall, "f1": self.f1}


@dataclass(frozen=True)
class ClusterQuality:
    pairwise: PairwiseQuality
    bcubed_precision: float
    bcubed_recall: float
    exact_cluster_accuracy: float
    n_records: int
    n_predicted_clusters: int
    n_true_clusters: int

    @property
    def bcubed_f1(self) -> float:
        p, r = self.bcubed_precision, self.bcubed_recall
        return 2 * p * r / (p + r) if (p + r) else 0.0

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if k != "pairwise"}
        return {**out, "pairwise": self.pairwise.to_dict(), "bcubed_f1": self.bcubed_f1}


@dataclass(frozen=True)
class GroupQuality:
    dimension: str
    group: str
    n_children: int
    pairwise: PairwiseQuality

    def to_dict(self) -> dict[str, Any]:
        return {
            "dimension": self.dimension,
            "group": self.group,
            "n_children": self.n_children,
            **self.pairwise.to_dict(),
        }


@dataclass(frozen=True)
class LinkageQuality:
    children: ClusterQuality
    families: ClusterQuality | None
    by_group: tuple[GroupQuality, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "children": self.children.to_dict(),
            "families": self.families.to_dict() if self.families else None,
            "by_group": [g.to_dict() for g in self.by_group],
        }


def _links(sizes: np.ndarray | pd.Series) -> int:
    s = np.asarray(sizes, dtype=np.int64)
    return int((s * (s - 1) // 2).sum())


def pairwise_quality(predicted: pd.Series, truth: pd.Series) -> PairwiseQuality:
    """Pairwise counts for two aligned series of ids (one entry per record)."""
    if len(predicted) != len(truth):
        raise ValueError("predicted and truth must have one entry per record each")
    frame = pd.DataFrame({"p": predicted.to_numpy(), "t": truth.to_numpy()})
    return PairwiseQuality(
        true_positives=_links(frame.groupby(["p", "t"]).size()),
        predicted_links=_links(frame.groupby("p").size()),
        true_links=_links(frame.groupby("t").size()),
    )


def cluster_quality(predicted: pd.Series, truth: pd.Series) -> ClusterQuality:
    """Pairwise, B-cubed and exact-cluster measures for aligned id series."""
    frame = pd.DataFrame({"p": predicted.to_numpy(), "t": truth.to_numpy()})
    n = len(frame)
    if n == 0:
        raise ValueError("no records to evaluate")
    cell = frame.groupby(["p", "t"]).size().rename("both").reset_index()
    p_size = frame.groupby("p").size().rename("p_size")
    t_size = frame.groupby("t").size().rename("t_size")
    cell = cell.join(p_size, on="p").join(t_size, on="t")
    # Each record of a cell contributes both/p_size and both/t_size; cells have `both` records.
    bp = float((cell["both"] ** 2 / cell["p_size"]).sum() / n)
    br = float((cell["both"] ** 2 / cell["t_size"]).sum() / n)
    exact = int(((cell["both"] == cell["p_size"]) & (cell["both"] == cell["t_size"])).sum())
    return ClusterQuality(
        pairwise=pairwise_quality(frame["p"], frame["t"]),
        bcubed_precision=bp,
        bcubed_recall=br,
        exact_cluster_accuracy=exact / len(t_size),
        n_records=n,
        n_predicted_clusters=len(p_size),
        n_true_clusters=len(t_size),
    )


def group_quality(
    predicted: pd.Series, truth: pd.Series, group: pd.Series, *, dimension: str
) -> tuple[GroupQuality, ...]:
    """Pairwise recall and precision for each value of ``group`` (a per-record label that is
    constant within a true cluster, e.g. the child's name origin)."""
    frame = pd.DataFrame(
        {
            "p": predicted.to_numpy(),
            "t": truth.to_numpy(),
            "g": group.astype("string").fillna("unknown").to_numpy(),
        }
    )
    out: list[GroupQuality] = []
    p_size = frame.groupby("p").size()
    for value, sub in frame.groupby("g", sort=True):
        tp = _links(sub.groupby(["p", "t"]).size())
        true_links = _links(sub.groupby("t").size())
        # predicted links touching the group: all links of its predicted clusters minus those
        # among the clusters' other records: C(n,2) - C(n - n_g, 2).
        n_g = sub.groupby("p").size()
        n_all = p_size.loc[n_g.index].to_numpy()
        rest = n_all - n_g.to_numpy()
        predicted_links = _links(n_all) - _links(rest)
        out.append(
            GroupQuality(
                dimension=dimension,
                group=str(value),
                n_children=int(sub["t"].nunique()),
                pairwise=PairwiseQuality(tp, predicted_links, true_links),
            )
        )
    return tuple(out)


def evaluate_against_truth(
    links_df: pd.DataFrame, truth_df: pd.DataFrame, groups_df: pd.DataFrame | None = None
) -> LinkageQuality:
    """Quality of ``links`` (source, record_id, person_id, family_id) against the truth
    (source, record_id, child_id, family_id). ``groups_df`` has child_id and one column per
    dimension to report by (e.g. origin, parent_sex, moved); family_id in it is ignored.

    Records in the truth but not in ``links`` are an error (linkage must cover every record).
    """
    merged = truth_df.merge(
        links_df,
        on=["source", "record_id"],
        how="left",
        suffixes=("_true", ""),
        validate="one_to_one",
    )
    missing = int(merged["person_id"].isna().sum())
    if missing:
        raise ValueError(f"{missing} records of the truth have no linked id")
    children = cluster_quality(merged["person_id"], merged["child_id"])
    families = None
    if "family_id" in links_df.columns and "family_id_true" in merged.columns:
        families = cluster_quality(merged["family_id"], merged["family_id_true"])
    by_group: list[GroupQuality] = []
    if groups_df is not None:
        dims = [c for c in groups_df.columns if c not in {"child_id", "family_id"}]
        g = merged[["child_id"]].merge(groups_df, on="child_id", how="left")
        for dim in dims:
            by_group.extend(
                group_quality(merged["person_id"], merged["child_id"], g[dim], dimension=dim)
            )
    return LinkageQuality(children=children, families=families, by_group=tuple(by_group))


def _cross_pairs(frame: pd.DataFrame, by: list[str]) -> pd.Series:
    """Per group of ``by``: pairs of rows whose ``source`` differs, (N^2 - sum n_s^2) / 2."""
    n_s = frame.groupby([*by, "source"]).size()
    total = n_s.groupby(level=list(range(len(by)))).sum()
    sq = (n_s**2).groupby(level=list(range(len(by)))).sum()
    return (total**2 - sq) // 2


@dataclass(frozen=True)
class CrossSourceQuality:
    """Recall and precision of cross-source links (issue 21), counted on *units*: one per
    (source, true child), so a child's forty attendance rows count once and the counts do not
    depend on the model. A unit's linked person is the one most of its records carry. A true
    link is two units of one child from different sources; it is found when both units have
    the same linked person; a predicted link is two units from different sources with the
    same linked person."""

    overall: PairwiseQuality
    #: (dimension, group) -> (children, found links, true links)
    by_group: dict[tuple[str, str], tuple[int, int, int]]

    def recall(self, dimension: str, group: str) -> float:
        _n, found, true = self.by_group[(dimension, group)]
        return found / true if true else 1.0


def cross_source_quality(
    links_df: pd.DataFrame, truth_df: pd.DataFrame, groups_df: pd.DataFrame | None = None
) -> CrossSourceQuality:
    """:class:`CrossSourceQuality` of ``links`` (source, record_id, person_id) against the
    truth (source, record_id, child_id); ``groups_df``: child_id and one column per
    dimension (e.g. origin, moved)."""
    rows = truth_df[["source", "record_id", "child_id"]].merge(
        links_df[["source", "record_id", "person_id"]], on=["source", "record_id"]
    )
    units = (
        rows.groupby(["source", "child_id", "person_id"])
        .size()
        .rename("n")
        .reset_index()
        .sort_values(["source", "child_id", "n", "person_id"], ascending=[True, True, False, True])
        .drop_duplicates(["source", "child_id"])
    )
    true_c = _cross_pairs(units, ["child_id"])
    found_c = _cross_pairs(units, ["child_id", "person_id"]).groupby(level=0).sum()
    found_c = found_c.reindex(true_c.index, fill_value=0)
    predicted = int(_cross_pairs(units, ["person_id"]).sum())
    overall = PairwiseQuality(int(found_c.sum()), predicted, int(true_c.sum()))
    by_group: dict[tuple[str, str], tuple[int, int, int]] = {}
    if groups_df is not None:
        g = groups_df.set_index("child_id")
        for dim in [c for c in groups_df.columns if c not in {"child_id", "family_id"}]:
            labels = g[dim].astype("string").fillna("unknown").reindex(true_c.index)
            for value, idx in labels.groupby(labels).groups.items():
                by_group[(dim, str(value))] = (
                    len(idx),
                    int(found_c.loc[idx].sum()),
                    int(true_c.loc[idx].sum()),
                )
    return CrossSourceQuality(overall, by_group)

"""What the link stage leaves for a reviewer of the model (OUT/linkage/diagnostics/):
Splink's parameters and charts, the unlinkables count and cluster sizes. Nothing here
changes a link; a chart Splink cannot draw is skipped, never fatal."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from everyfamily.spreadsheet_safe import neutralise_frame


def unlinkables(linker: Any, threshold: float, n_identities: int) -> int:
    """Distinct records that could not link even to an exact copy of themselves (Splink's
    unlinkables measure): too little information recorded to clear the threshold."""
    from splink.internals.unlinkables import unlinkables_data

    try:
        rows = unlinkables_data(linker)
    except Exception:  # diagnostics must not stop a run
        return -1
    prop = sum(float(r["prop"]) for r in rows if float(r["match_probability"]) < threshold)
    return round(prop * n_identities)


def write_diagnostics(linker: Any, diag_dir: Path) -> None:
    """Parameters and charts (Vega-Lite specs with their data, no HTML needing a CDN)."""
    model = linker.misc.save_model_to_json()
    rows: list[dict[str, Any]] = []
    for comp in model["comparisons"]:
        for i, level in enumerate(comp["comparison_levels"]):
            m, u = level.get("m_probability"), level.get("u_probability")
            weight = math.log2(m / u) if m and u else None
            rows.append(
                {
                    "comparison": comp.get("output_column_name"),
                    "level": i,
                    "label": level.get("label_for_charts") or level.get("sql_condition"),
                    "is_null_level": bool(level.get("is_null_level", False)),
                    "m_probability": m,
                    "u_probability": u,
                    "bayes_factor": (m / u) if m and u else None,
                    "match_weight": weight,
                    "tf_adjustment_column": level.get("tf_adjustment_column"),
                }
            )
    frame = pd.DataFrame(rows)
    neutralise_frame(frame).to_csv(diag_dir / "match_weights.csv", index=False)
    prior = model.get("probability_two_random_records_match")
    (diag_dir / "parameters.json").write_text(
        json.dumps(
            {
                "probability_two_random_records_match": prior,
                "prior_match_weight": math.log2(prior / (1 - prior)) if prior else None,
                "levels": rows,
            },
            indent=2,
            default=str,
        ),
        encoding="utf-8",
    )
    charts = {
        "match_weights_chart.json": linker.visualisations.match_weights_chart,
        "m_u_parameters_chart.json": linker.visualisations.m_u_parameters_chart,
    }
    for name, make in charts.items():
        try:
            spec = make().chart_dict
        except Exception:  # noqa: S112 - a chart Splink cannot draw is skipped, not fatal
            continue
        (diag_dir / name).write_text(json.dumps(spec, default=str), encoding="utf-8")


def cluster_sizes(links: pd.DataFrame) -> pd.DataFrame:
    """How many persons have 1, 2, ... records and how many families 1, 2, ... children."""
    out = []
    for entity, col in (("person", "person_id"), ("family", "family_id")):
        if entity == "person":
            size = links.groupby(col).size()
        else:
            size = links.groupby(col)["person_id"].nunique()
        counts = size.value_counts().sort_index()
        for s, n in zip(counts.index.to_numpy(), counts.to_numpy(), strict=True):
            out.append(
                {
                    "entity": entity,
                    "unit": "records" if entity == "person" else "children",
                    "size": int(s),
                    "clusters": int(n),
                }
            )
    return pd.DataFrame(out)

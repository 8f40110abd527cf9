"""The report's emerging-communities section: a map layer of the community areas and a table
of each community's births by year (from communities.json; every count already released)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from everyfamily.findings.text import WITHHELD_TEXT
from everyfamily.svgmap import choropleth_svg


def read_layer(out_dir: Path) -> dict[str, Any] | None:
    """communities.json of a run, or None when the stage did not run."""
    path = out_dir / "communities.json"
    if not path.is_file():
        return None
    doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return doc


def communities_section(
    layer: dict[str, Any] | None, small_areas: Any, *, projected_crs: str
) -> dict[str, Any] | None:
    """Template context: note, signals, the communities and an SVG map outlining them."""
    if layer is None:
        return None
    highlight = {a for c in layer.get("communities", []) for a in c.get("areas", [])}
    map_svg = ""
    if small_areas is not None and len(small_areas) and highlight:
        map_svg, _ = choropleth_svg(small_areas.to_crs(projected_crs), {}, {}, highlight=highlight)
    periods = [
        p["period"] for p in (layer.get("communities") or [{}])[0].get("births_by_period", [])
    ]

    def shown(v: Any) -> str:
        return WITHHELD_TEXT if v is None else f"{v:,}"

    return {
        "note": layer.get("note", ""),
        "baseline": layer.get("baseline", ""),
        "classifier": layer.get("classifier", {}),
        "signals": layer.get("signals", {}).get("under_fives_by_signal", {}),
        "periods": periods,
        "communities": [
            {
                "headline": c["headline"],
                "group": c["group_label"],
                "areas": ", ".join(c.get("area_names") or c.get("areas") or []),
                "births": [shown(p["births"]) for p in c.get("births_by_period", [])],
                "children": shown(c.get("children")),
                "registered": shown(c.get("registered")),
            }
            for c in layer.get("communities", [])
        ],
        "map_svg": map_svg,
    }

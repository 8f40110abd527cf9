"""An ILLUSTRATIVE benchmark file for the demo (trends.benchmark): made-up rates for England,
a region and three statistical neighbours, in the Fingertips export's shape. None of these
figures is published; the project file marks them ``illustrative`` and every page says so."""

from __future__ import annotations

from pathlib import Path
from typing import Any

FILE_NAME = "benchmark_illustrative.csv"
#: indicator, geography, period, value %, lower %, upper %, count, denominator
ROWS: tuple[tuple[str, str, str, float, float, float, int, int], ...] = (
    ("registered_rate", "England", "2025/26", 62.0, 61.9, 62.1, 1_674_000, 2_700_000),
    ("registered_rate", "North West", "2025/26", 66.0, 65.8, 66.2, 233_000, 353_000),
    ("registered_rate", "Neighbour A", "2025/26", 82.0, 80.6, 83.3, 8_200, 10_000),
    ("registered_rate", "Neighbour B", "2025/26", 48.0, 46.3, 49.7, 3_840, 8_000),
    ("registered_rate", "Neighbour C", "2025/26", 58.0, 56.5, 59.5, 5_800, 10_000),
    ("engaged_rate", "England", "2025/26", 31.0, 30.9, 31.1, 837_000, 2_700_000),
    ("engaged_rate", "North West", "2025/26", 33.0, 32.8, 33.2, 116_500, 353_000),
    ("engaged_rate", "Neighbour A", "2025/26", 40.0, 39.0, 41.0, 4_000, 10_000),
    ("engaged_rate", "Neighbour B", "2025/26", 22.0, 21.1, 22.9, 1_760, 8_000),
)


def write_benchmark(reference: Path) -> dict[str, Any]:
    """Write the file under ``reference`` and return the project's ``trends`` block."""
    reference.mkdir(parents=True, exist_ok=True)
    lines = ["indicator,geography,period,value,lower,upper,count,denominator"]
    lines += [",".join(str(v) for v in row) for row in ROWS]
    (reference / FILE_NAME).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {
        "benchmark": {
            "path": f"reference/{FILE_NAME}",
            "values": "percent",
            "illustrative": True,
        }
    }

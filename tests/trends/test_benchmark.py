"""The benchmark file (trends.benchmark): validation with one-line errors, and Fingertips'
better / similar / worse against the borough's own interval, on hand-typed rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from everyfamily.errors import InputError
from everyfamily.trends.benchmark import (
    BoroughValue,
    benchmark_table,
    compare_with_borough,
    read_benchmark,
)
from everyfamily.trends.compare import BETTER, NOT_COMPARED, SIMILAR, WORSE

HEADER = "indicator,geography,period,value,lower,upper,count,denominator\n"
GOOD = (
    "registered_rate,England,2025/26,62.0,61.9,62.1,1674000,2700000\n"
    "registered_rate,Neighbour A,2025/26,71,69.4,72.5,,\n"
    "registered_rate,Neighbour B,2025/26,48,,,,\n"
    "engaged_rate,England,2025/26,31,30.9,31.1,,\n"
)


def write(tmp_path: Path, text: str, name: str = "bench.csv") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_reads_percent_as_proportions(tmp_path: Path) -> None:
    b = read_benchmark(write(tmp_path, HEADER + GOOD))
    assert list(b["geography"]) == ["England", "Neighbour A", "Neighbour B", "England"]
    assert b.loc[0, "value"] == pytest.approx(0.62)
    assert b.loc[1, "upper"] == pytest.approx(0.725)
    assert np.isnan(b.loc[2, "lower"]) and np.isnan(b.loc[1, "count"])
    assert b.loc[0, "denominator"] == 2_700_000
    # the same rates as proportions, without the optional columns
    text = "indicator,geography,period,value,lower,upper\nengaged_rate,England,2025,0.31,0.3,0.32\n"
    p = read_benchmark(write(tmp_path, text, "p.csv"), "proportion")
    assert p.loc[0, "value"] == pytest.approx(0.31) and np.isnan(p.loc[0, "count"])


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("reach_rate,England,2025,60,59,61,,\n", "row 2, column 'indicator'"),
        ("registered_rate,England,2025,sixty,59,61,,\n", "row 2, column 'value'"),
        ("registered_rate,England,2025,160,59,61,,\n", "row 2, column 'value'"),
        ("registered_rate,England,2025,60,62,64,,\n", "row 2, columns 'lower', 'upper'"),
        ("registered_rate,,2025,60,59,61,,\n", "row 2, column 'geography'"),
        ("registered_rate,England,2025,60,59,61,12.5,\n", "row 2, column 'count'"),
        (GOOD + "registered_rate,England,2025/26,60,59,61,,\n", "row 6: the indicator"),
    ],
)
def test_one_line_errors_name_the_file_row_and_column(
    tmp_path: Path, text: str, where: str
) -> None:
    path = write(tmp_path, HEADER + text)
    with pytest.raises(InputError) as err:
        read_benchmark(path)
    message = str(err.value)
    assert "\n" not in message
    assert str(path) in message and where in message


def test_missing_column_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no column 'upper'"):
        read_benchmark(write(tmp_path, "indicator,geography,period,value,lower\n"))
    with pytest.raises(InputError, match=r"trends\.benchmark\.path"):
        read_benchmark(tmp_path / "absent.csv")


def test_fingertips_comparison_against_the_borough_interval() -> None:
    borough = BoroughValue(0.60, 0.58, 0.62)
    got = compare_with_borough(borough, np.array([0.50, 0.59, 0.58, 0.70, np.nan]))
    # 0.50 below the borough's lower limit: better; 0.58 on the limit: similar
    assert list(got) == [BETTER, SIMILAR, SIMILAR, WORSE, NOT_COMPARED]
    withheld = compare_with_borough(BoroughValue(None, None, None), np.array([0.5]))
    assert list(withheld) == [NOT_COMPARED]


def test_benchmark_table_labels_each_row(tmp_path: Path) -> None:
    b = read_benchmark(write(tmp_path, HEADER + GOOD))
    out = benchmark_table(b, {"registered_rate": BoroughValue(0.60, 0.58, 0.62)})
    reg = out[out["indicator"] == "registered_rate"].set_index("geography")
    # England 62% (inside 58-62%): similar; Neighbour A 71%: worse; Neighbour B 48%: better
    assert reg["compared"].to_dict() == {
        "England": SIMILAR,
        "Neighbour A": WORSE,
        "Neighbour B": BETTER,
    }
    # no borough engaged rate given: not compared
    assert list(out.loc[out["indicator"] == "engaged_rate", "compared"]) == [NOT_COMPARED]

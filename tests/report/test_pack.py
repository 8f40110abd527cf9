"""The insight pack (issue 16): withheld areas left out of the funnel (and counted), field
names and timestamps in words, sections under the four lenses, and the pack as PDF: it
renders (pdftoppm draws every page as PNG), and no map or chart is cut across pages."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from everyfamily.findings.stage import findings_stage
from everyfamily.pipeline import RunContext
from everyfamily.report.build import ReportInputs, _funnel, _sections, _table, funnel_withheld
from everyfamily.report.pdf import download_name, pdf_layout
from everyfamily.report.stage import report_stage
from everyfamily.report.words import field_words, value_words, when_words
from everyfamily.stage import ReportSection

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "pdf"


def _reach(registered: list[float | None]) -> pd.DataFrame:
    n = len(registered)
    return pd.DataFrame(
        {
            "level": ["lsoa"] * n + ["borough"],
            "area_code": [f"A{i}" for i in range(n)] + ["X"],
            "area_name": [f"Area {i}" for i in range(n)] + ["Borough"],
            "dimension": ["all"] * (n + 1),
            "group_value": ["all"] * (n + 1),
            "service": ["any"] * (n + 1),
            "known": [100] * n + [100 * n],
            "denominator": [100] * n + [100 * n],
            "registered": [*registered, 150],
        }
    )


def test_withheld_areas_are_left_out_of_the_funnel_and_counted() -> None:
    # three areas of 100 children: 50 and 40 registered, the third withheld (NaN). The old
    # code drew it as 0 of 100 (fillna(0)), the lowest dot of the plot.
    inputs = ReportInputs(
        reach=_reach([50, 40, None]), findings={}, title="T", reference_date="2024-03-31"
    )
    svg = _funnel(inputs)
    dots = re.findall(r"<circle [^>]*>", svg)
    assert len(dots) == 2
    assert "Area 2" not in svg and ": 0%" not in svg
    assert funnel_withheld(inputs) == 1
    none_withheld = ReportInputs(
        reach=_reach([50, 40, 30]), findings={}, title="T", reference_date="2024-03-31"
    )
    assert funnel_withheld(none_withheld) == 0


def test_field_names_booleans_and_timestamps_read_as_words() -> None:
    assert field_words("n_identities").startswith("Distinct identities")
    assert field_words("rows_quarantined") == "Rows set aside (quarantined)"
    assert field_words("some_new_field") == "Some new field"
    assert (value_words(True), value_words(False), value_words(None)) == (
        "yes",
        "no",
        "not recorded",
    )
    assert when_words("2026-12-04T11:46:26+00:00") == "4 December 2026 at 11:46 UTC"
    assert when_words("2026-12-04T12:46:26+01:00") == "4 December 2026 at 11:46 UTC"
    assert when_words("2026-03-31") == "31 March 2026"
    assert when_words("not a date") == "not a date"
    inputs = ReportInputs(reach=pd.DataFrame(), findings={}, title="T", reference_date="d")
    table = _table(
        {"births": {"rows_read": 120, "reconciles": True}, "health_visiting": {"rows_read": 80}},
        inputs,
    )
    assert table is not None
    assert table["columns"] == ["", "Rows read", "Rows add up"]
    # cell key: 120 -> released by the report's rule; True -> "yes"; source names in words
    assert [r[0] for r in table["rows"]] == ["Birth notifications", "Health visiting"]
    assert table["rows"][0][2] == "yes" and "True" not in str(table)


def test_sections_fall_under_the_four_lenses_with_a_place_for_the_plan() -> None:
    declared = (
        ReportSection("warnings", "Warnings", 0, "warnings"),
        ReportSection("figures", "Headline figures", 10, "figures"),
        ReportSection("findings", "What to raise", 40, "findings"),
        ReportSection("communities", "Emerging communities", 60, "communities"),
        ReportSection("quality", "Data quality", 70, "quality"),
        ReportSection("plan", "Plan", 75),  # another stage's section, generic template
        ReportSection("methods", "Methods", 80, "methods"),
    )
    inputs = ReportInputs(
        reach=pd.DataFrame(), findings={}, title="T", reference_date="d", sections=declared
    )
    out = _sections(inputs)
    assert [s["key"] for s in out] == [
        "warnings",
        "figures",
        "findings",
        "communities",
        "plan",
        "quality",
        "methods",
    ]
    headings = [(s["key"], s["lens_heading"]["title"]) for s in out if s["lens_heading"]]
    # a lens without a section (new suppliers) gets no heading
    assert headings == [
        ("figures", "New insight"),
        ("communities", "New customers"),
        ("plan", "New resources"),
    ]


def test_download_names_are_dated() -> None:
    assert (
        download_name("Knowsley", "insight pack", "2026-03-31")
        == "everyfamily-knowsley-insight-pack-2026-03-31.pdf"
    )
    assert (
        download_name("Knowsley", "centre Knowsley Lane CC", "2026-03-31")
        == "everyfamily-knowsley-centre-knowsley-lane-cc-2026-03-31.pdf"
    )


def pdf_pages_as_png(pdf: bytes, folder: Path, stem: str) -> list[Path]:
    """Every page of ``pdf`` drawn by poppler's pdftoppm (a second, independent renderer)."""
    if shutil.which("pdftoppm") is None:
        pytest.fail("pdftoppm is not installed: run scripts/services (it installs poppler-utils)")
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / f"{stem}.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "40", str(source), str(folder / stem)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return sorted(folder.glob(f"{stem}-*.png"))


def test_the_pack_renders_as_pdf_with_every_figure_whole_on_one_page(
    report_ctx: RunContext,
) -> None:
    findings_stage(report_ctx)
    report_stage(report_ctx)
    html = (report_ctx.out_dir / "report.html").read_text(encoding="utf-8")
    assert "New insight" in html and "Report generated " in html
    assert not re.search(r"Report generated \d{4}-\d\d-\d\dT", html)
    pdf, pages, figures = pdf_layout(html)
    assert pdf.startswith(b"%PDF-")
    # the map and the funnel plot at least, each on exactly one page and inside it
    assert len(figures) >= 2
    for on_pages, fits in figures:
        assert len(on_pages) == 1 and fits, figures
    pngs = pdf_pages_as_png(pdf, ARTIFACTS, "insight-pack")
    assert len(pngs) == pages
    assert all(p.stat().st_size > 1000 for p in pngs)

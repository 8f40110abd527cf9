"""The workshop report: one self-contained HTML file, aggregates only."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

from everyfamily.findings.stage import findings_stage
from everyfamily.pipeline import RunContext
from everyfamily.report.stage import report_stage
from report.conftest import (
    ATTRIBUTION,
    LOW_AREA,
    SENTINEL_DOB,
    SENTINEL_NAME,
    SENTINEL_NHS,
    SENTINEL_POSTCODE,
    lsoa_codes,
)

VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}


class Checker(HTMLParser):
    """Collects tags and checks that every non-void element is closed in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.in_svg = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "svg":
            self.in_svg += 1
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))  # self-closing (SVG shapes): nothing to close

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> (open: {self.stack[-3:]})")
            return
        self.stack.pop()
        if tag == "svg":
            self.in_svg -= 1


def _render(ctx: RunContext) -> str:
    findings_stage(ctx)
    report_stage(ctx)
    return (ctx.out_dir / "report.html").read_text(encoding="utf-8")


def test_report_parses_as_html_with_balanced_elements(report_ctx: RunContext) -> None:
    html = _render(report_ctx)
    checker = Checker()
    checker.feed(html)
    checker.close()
    assert checker.errors == []
    assert checker.stack == []
    assert html.startswith("<!DOCTYPE html>")
    assert report_ctx.metadata["report"]["file"] == "report.html"


def test_report_is_self_contained(report_ctx: RunContext) -> None:
    html = _render(report_ctx)
    checker = Checker()
    checker.feed(html)
    external = [
        (tag, attrs)
        for tag, attrs in checker.tags
        for key in ("src", "href", "xlink:href", "data")
        if re.match(r"\s*(https?:)?//", str(attrs.get(key) or ""))
    ]
    assert external == []
    assert not [t for t, _a in checker.tags if t in {"script", "link", "iframe", "img", "object"}]
    assert "@import" not in html and "url(" not in html
    # The only addresses allowed are the SVG namespace and any in the attribution text.
    addresses = set(re.findall(r"https?://[^\s\"'<>]+", html))
    allowed = {"http://www.w3.org/2000/svg"} | {
        a for line in ATTRIBUTION for a in re.findall(r"https?://[^\s\"'<>]+", line)
    }
    assert addresses <= allowed
    for line in ATTRIBUTION:
        assert line.replace("©", "&copy;") in html or line in html


def test_map_has_one_path_per_small_area_and_marks_sites(report_ctx: RunContext) -> None:
    html = _render(report_ctx)
    checker = Checker()
    checker.feed(html)
    drawn = [a["data-area"] for t, a in checker.tags if t == "path" and a.get("class") == "area"]
    codes = [c for c, _n in lsoa_codes()]
    assert sorted(drawn) == sorted(codes)
    assert len(drawn) == len(codes) == 98
    assert "Stockbridge Centre (illustrative)" in html
    assert "illustrative</strong>, not the real list" in html
    # The planted low area is dark (lowest class) and outlined as a striking finding.
    low = next(a for t, a in checker.tags if t == "path" and a.get("data-area") == LOW_AREA)
    assert low["fill"] == "#440154"
    assert low.get("stroke") == "#000"


def test_report_shows_findings_quality_and_methods(report_ctx: RunContext) -> None:
    html = _render(report_ctx)
    doc = json.loads((report_ctx.out_dir / "findings.json").read_text(encoding="utf-8"))
    top = doc["findings"][0]
    assert top["kind"] == "unreached_area" and LOW_AREA in top["areas"]
    assert top["headline"].replace("'", "&#39;") in html
    # quarantine reasons in words, not field names (issue 16)
    assert "Missing date of birth" in html and "Missing identity" in html
    assert "missing_date_of_birth" not in html
    assert "Funnel plot" in html and "Benjamini-Hochberg" in html
    assert "0.981" in html  # linkage quality from run metadata


def test_counts_shown_are_released_not_raw(report_ctx: RunContext) -> None:
    html = _render(report_ctx)
    # reconciliation: 120 rows read -> midpoint 6 gives 117 (block 115-120); 2 is suppressed
    assert ">117<" in html and ">120<" not in html
    assert "fewer than 8" in html


def test_no_person_level_value_reaches_the_report(report_ctx: RunContext) -> None:
    html = _render(report_ctx)
    findings = (report_ctx.out_dir / "findings.json").read_text(encoding="utf-8")
    run_messages = json.dumps(report_ctx.metadata, default=str)
    for text in (html, findings, run_messages):
        for value in (
            SENTINEL_NAME,
            SENTINEL_NHS,
            SENTINEL_POSTCODE,
            SENTINEL_DOB.isoformat(),
            SENTINEL_DOB.strftime("%d/%m/%Y"),
            "P-SENTINEL01",
        ):
            assert value not in text


def test_run_warnings_lead_the_report(report_ctx: RunContext) -> None:
    message = "population estimate dated 2020-06-30 is 5.7 years before the reference date"
    report_ctx.metadata["warnings"] = [
        {"stage": "measure", "code": "population_vintage", "message": message}
    ]
    html = _render(report_ctx)
    assert 'id="warnings"' in html and message in html
    assert html.index('id="warnings"') < html.index('id="figures"')
    report_ctx.metadata["warnings"] = []
    assert 'id="warnings"' not in _render(report_ctx)

"""Pages people can read (issue 16): every page of the real demo run at a desk (1440 px)
and on a phone (390 px) in Debian's Chromium.

Checked on every page: nothing is wider than the window (no horizontal scrolling), no
console error, axe-core finds no serious or critical violation; a full-page screenshot of
each goes to test-artifacts/screenshots/readable-<page>-<width>.png. Then: every finding card
leads with a sentence that holds a number and says what to do next, with its statistics
folded under "How we know"; a keyboard-only route from the overview reaches an area's
profile through the map (the areas are one tab stop, arrow keys move between them, Enter
opens one, the focus is visible).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .conftest import SCREENSHOTS
from .test_browser import _axe

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WIDTHS = (1440, 390)
#: Every page of the dashboard (the admin sees them all). Areas and centres are the first
#: the overview and centres pages link to, so nothing here knows the demo's codes.
PAGES = (
    "/",
    "/map",
    "/findings",
    "/glossary",
    "/centres",
    "/quality",
    "/outreach",
    "/api",
    "/admin",
    "/admin/audit",
)


def _new_page(browser: Any, width: int) -> Any:
    context = browser.new_context(viewport={"width": width, "height": 900})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    pg.errors = errors
    return pg


def _open(page: Any, url: str) -> None:
    page.goto(url, wait_until="networkidle")
    if "/map" in url or "/areas/" in url:
        page.wait_for_selector("#map[data-ready='true'], body:not(:has(#map))", timeout=30000)


def _overflow(page: Any) -> dict[str, Any]:
    """The page's scroll width against its client width, and the widest offenders."""
    return dict(
        page.evaluate(
            """() => {
          const se = document.scrollingElement, w = se.clientWidth;
          const wide = Array.from(document.querySelectorAll('body *'))
            .filter(e => e.getBoundingClientRect().right > w + 1)
            .slice(0, 5).map(e => e.tagName + '.' + e.className + '#' + e.id);
          return {scroll: se.scrollWidth, client: w, wide: wide};
        }"""
        )
    )


@pytest.fixture(scope="module")
def admin_demo(demo_outputs: Path, serve: Callable[[Path, str], str]) -> str:
    return serve(demo_outputs, "admin")


@pytest.fixture(scope="module")
def pages(admin_demo: str, browser: Any) -> list[str]:
    """Every page: PAGES, the first area profile, ward profile and centre the pages link to."""
    pg = _new_page(browser, 1440)
    _open(pg, admin_demo + "/map")
    area = pg.locator("#table-map a[href^='/areas/']").first.get_attribute("href")
    _open(pg, admin_demo + "/centres")
    centre = pg.locator("main a[href^='/centres/']").first.get_attribute("href")
    _open(pg, admin_demo + str(area))
    ward = pg.locator("a[data-ward]").first.get_attribute("href")
    pg.context.close()
    return [*PAGES, str(area), str(ward), str(centre)]


@pytest.mark.parametrize("width", WIDTHS)
def test_no_page_overflows_and_axe_is_clean(
    browser: Any, admin_demo: str, pages: list[str], width: int
) -> None:
    failures: dict[str, Any] = {}
    for path in pages:
        pg = _new_page(browser, width)
        _open(pg, admin_demo + path)
        name = path.strip("/").replace("/", "-") or "overview"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(SCREENSHOTS / f"readable-{name}-{width}.png"), full_page=True)
        o = _overflow(pg)
        if o["scroll"] > o["client"]:
            failures[f"{path} overflow"] = o
        if pg.errors:
            failures[f"{path} errors"] = pg.errors
        violations = _axe(pg)
        if violations:
            failures[f"{path} axe"] = violations
        pg.context.close()
    assert failures == {}, json.dumps(failures, indent=1)


NUMBER = re.compile(r"\d")


@pytest.mark.parametrize("width", WIDTHS)
def test_every_finding_leads_with_a_sentence_with_numbers(
    browser: Any, admin_demo: str, width: int
) -> None:
    pg = _new_page(browser, width)
    _open(pg, admin_demo + "/findings")
    cards = pg.locator("article.finding")
    assert cards.count() > 0
    for i in range(cards.count()):
        card = cards.nth(i)
        lead = card.locator("p.lead").inner_text()
        # one sentence, with a number in it, ending in a full stop
        assert NUMBER.search(lead), lead
        assert lead.rstrip().endswith("."), lead
        assert card.locator("p.next").inner_text().startswith("What to do next:")
        # the statistics are folded away until asked for
        how = card.locator("details.how")
        assert how.locator("summary").inner_text() == "How we know"
        assert how.get_attribute("open") is None
        assert not how.locator("dl").is_visible()
        # never a bare area code as the name of an area
        for link in card.locator("a[href^='/areas/']").all_inner_texts():
            assert not re.fullmatch(r"[A-Z]\d{8}", link.strip()), link
    pg.context.close()


def test_keyboard_only_route_from_the_overview_to_an_area_profile(
    browser: Any, admin_demo: str
) -> None:
    pg = _new_page(browser, 1440)
    _open(pg, admin_demo + "/")

    def tab_to(predicate: str, limit: int = 60) -> int:
        """Press Tab until ``predicate`` holds; returns how many presses it took."""
        for n in range(1, limit + 1):
            pg.keyboard.press("Tab")
            if pg.evaluate(predicate):
                return n
        raise AssertionError(f"Tab never reached {predicate}")

    tab_to("document.activeElement.getAttribute('href') === '/map'")
    pg.keyboard.press("Enter")
    pg.wait_for_url("**/map")
    pg.wait_for_selector("#map[data-ready='true']")
    stops = tab_to("document.activeElement.classList.contains('ef-area')", limit=40)
    areas = pg.locator("path.ef-area").count()
    assert areas > 20  # many areas, and yet
    # ... they are one tab stop (a roving tabindex): exactly one area is in the tab order
    assert pg.locator("path.ef-area[tabindex='0']").count() == 1
    assert stops <= 25, f"{stops} tab stops from the top of the map page to its areas"
    first = pg.evaluate("document.activeElement.dataset.code")
    pg.keyboard.press("Tab")
    assert not pg.evaluate("document.activeElement.classList.contains('ef-area')")
    pg.keyboard.press("Shift+Tab")
    assert pg.evaluate("document.activeElement.dataset.code") == first
    # the arrow keys move to a neighbouring area, which then holds the tab stop
    seen = {first}
    for key in ("ArrowRight", "ArrowDown", "ArrowLeft", "ArrowUp"):
        pg.keyboard.press(key)
        seen.add(pg.evaluate("document.activeElement.dataset.code"))
    assert len(seen) >= 3, "the arrow keys did not move between areas"
    assert pg.locator("path.ef-area[tabindex='0']").count() == 1
    assert pg.evaluate("document.activeElement.getAttribute('tabindex')") == "0"
    focused = pg.evaluate(
        "(() => { const e = document.activeElement; const s = getComputedStyle(e);"
        " return {code: e.dataset.code, label: e.getAttribute('aria-label'),"
        " stroke: s.stroke, width: parseFloat(s.strokeWidth)}; })()"
    )
    # the focus is visible: a thick yellow ring on the area
    assert focused["stroke"] == "rgb(255, 221, 0)" and focused["width"] >= 4, focused
    assert focused["label"] and NUMBER.search(focused["label"]), focused
    pg.keyboard.press("Enter")
    pg.wait_for_url(f"**/areas/{focused['code']}")
    assert pg.locator("h1").count() == 1
    assert pg.errors == []
    pg.context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_insight_pack_fits_a_phone_and_a_desk(
    browser: Any, demo_outputs: Path, width: int
) -> None:
    pg = _new_page(browser, width)
    pg.goto((demo_outputs / "report.html").as_uri(), wait_until="load")
    pg.screenshot(path=str(SCREENSHOTS / f"readable-report-{width}.png"), full_page=True)
    o = _overflow(pg)
    assert o["scroll"] <= o["client"], o
    assert pg.errors == []
    pg.context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_map_labels_wards_keeps_its_layer_order_and_folds_on_phones(
    browser: Any, admin_demo: str, width: int
) -> None:
    pg = _new_page(browser, width)
    _open(pg, admin_demo + "/map")
    state = pg.evaluate(
        """() => {
          const z = n => Number(
            getComputedStyle(document.querySelector('.leaflet-' + n + '-pane')).zIndex);
          return {
            labels: document.querySelectorAll('.ef-ward-label').length,
            wards: document.querySelectorAll('path.ef-outline').length,
            order: ['ef-bands', 'ef-areas', 'ef-outlines', 'ef-overlays', 'ef-sites'].map(z),
            expanded: document.querySelectorAll('.leaflet-control-layers-expanded').length,
            control: document.querySelectorAll('.leaflet-control-layers').length,
            legend: Array.from(document.querySelectorAll('#legend-classes li'))
              .map(li => li.textContent),
            height: document.getElementById('map').getBoundingClientRect().height,
          };
        }"""
    )
    # a label per ward (every outline but the borough's)
    assert state["labels"] == state["wards"] - 1 > 0, state
    # walking-time bands under the areas, under outlines, overlays and centres
    assert state["order"] == sorted(state["order"]), state
    if state["control"]:
        assert state["expanded"] == (1 if width > 700 else 0), state
    assert not any(" 0 areas" in t for t in state["legend"]), state
    assert state["height"] >= 420
    assert pg.errors == []
    pg.context.close()


def test_tables_sort_by_a_column_and_become_cards_on_phones(browser: Any, admin_demo: str) -> None:
    pg = _new_page(browser, 1440)
    _open(pg, admin_demo + "/centres")
    table = pg.locator("table.data").first
    counts = table.locator("th button.sort")
    # the third column of the centres table is a count (children registered)
    header = counts.nth(2)
    header.click()
    assert table.locator("th").nth(2).get_attribute("aria-sort") == "ascending"

    def column() -> list[float]:
        cells = table.locator("tbody tr td:nth-child(3)")
        return [
            float(cells.nth(i).get_attribute("data-sort") or "nan") for i in range(cells.count())
        ]

    first = column()
    assert first == sorted(first) and len(first) > 1
    header.click()
    assert column() == sorted(first, reverse=True)
    pg.context.close()

    phone = _new_page(browser, 390)
    _open(phone, admin_demo + "/centres")
    cell = phone.locator("table.data tbody tr").first.locator("td").nth(2)
    label = phone.evaluate(
        "(td) => getComputedStyle(td, '::before').content", cell.element_handle()
    )
    header_name = phone.locator("table.data thead th").nth(2).inner_text()
    assert label.strip('"') == header_name.strip()
    assert (
        phone.evaluate("document.querySelector('table.data thead').getBoundingClientRect().height")
        <= 1
    )
    phone.context.close()

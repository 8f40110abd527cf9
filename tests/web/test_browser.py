"""Browser tests: Debian's Chromium driven by Playwright against real servers.

Each page renders without console errors or failed requests, the map draws one shape per
small area, the filters recolour it, clicking an area opens its profile, and axe-core finds
no serious or critical accessibility violations. Screenshots go to
test-artifacts/screenshots/ (gitignored) for a person to look at.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .conftest import SCREENSHOTS
from .fixture_outputs import AREAS, SENTINEL_PERSON, Fixture

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
PAGES = [
    ("overview", "/"),
    ("map", "/map"),
    ("findings", "/findings"),
    ("area", "/areas/E01006506"),
    ("centres", "/centres"),
    ("centre", "/centres/S1"),
    ("quality", "/quality"),
    ("outreach", "/outreach"),
    ("plan", "/plan"),
    ("api", "/api"),
    ("admin", "/admin"),
]


def _open(page: Any, url: str) -> None:
    page.goto(url, wait_until="networkidle")
    if "/map" in url:
        page.wait_for_selector("#map[data-ready='true']", timeout=20000)


def _axe(page: Any) -> list[dict[str, Any]]:
    # Evaluated through the DevTools protocol, which the page's CSP does not block (an
    # injected <script> tag would be refused, as the CSP intends).
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;typeof axe")
    # resultTypes: only the violations are wanted, so axe keeps one node per passed,
    # incomplete or inapplicable rule instead of all of them (axe-core's API docs, "resultTypes";
    # the violations it returns are the same): measured on the demo's map page at 390 px,
    # 3.2-4.0 s of CPU per run without it, 1.0-1.6 s with it.
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}, "
        "resultTypes: ['violations']})"
    )
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"][:3]]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def _shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


@pytest.mark.parametrize(("name", "path"), PAGES)
def test_page_renders_cleanly_and_accessibly(
    page: Any, admin_url: str, name: str, path: str
) -> None:
    _open(page, admin_url + path)
    assert page.title().endswith("everyfamily")
    assert page.locator("h1").count() == 1
    # the open-data attribution lines are on every page
    assert "Open Government Licence" in page.locator("footer").inner_text()
    _shot(page, f"fixture-{name}")
    assert page.errors == [], page.errors
    assert _axe(page) == []


def test_map_draws_one_shape_per_area_and_the_centres(
    page: Any, viewer_url: str, fixture_outputs: Fixture
) -> None:
    _open(page, viewer_url + "/map")
    assert page.locator("path.ef-area").count() == fixture_outputs.n_small_areas
    assert page.locator("path.ef-site").count() == 2
    # ward and borough outlines are drawn too (2 wards + 1 borough)
    assert page.locator("path.ef-outline").count() == 3
    # the area whose rate is suppressed (47 of 50: only 3 not registered) is grey
    grey = page.locator("path.ef-area[data-code='E01006419']").get_attribute("data-colour")
    assert grey == "#d9d9d9"
    assert page.errors == []


def test_filters_change_the_map(page: Any, viewer_url: str) -> None:
    _open(page, viewer_url + "/map")

    def colours() -> dict[str, str]:
        return {
            el.get_attribute("data-code"): el.get_attribute("data-colour")
            for el in page.locator("path.ef-area").all()
        }

    before = colours()
    page.select_option("#f-measure", "engaged_rate")
    page.wait_for_selector("#map[data-state*='engaged_rate']")
    after = colours()
    # engaged: 019A becomes visible (30 of 50) and 004B is suppressed (5 engaged)
    assert before["E01006419"] == "#d9d9d9" and after["E01006419"] != "#d9d9d9"
    assert before["E01006506"] != "#d9d9d9" and after["E01006506"] == "#d9d9d9"
    assert "Sustained engagement" in page.locator("#legend-caption").inner_text()
    assert "measure=engaged_rate" in page.url
    # a group: the group list follows the dimension
    page.select_option("#f-dimension", "sex")
    page.wait_for_selector("#map[data-state*='dimension=sex']")
    assert page.locator("#f-group option").all_inner_texts() == ["Female", "Male"]
    assert page.errors == []


def _click_area(page: Any, code: str) -> None:
    """Click a visible point of the area's shape (its middle may be under a centre marker)."""
    point = page.evaluate(
        """(code) => {
          const p = document.querySelector(`path.ef-area[data-code='${code}']`);
          const b = p.getBoundingClientRect();
          for (let i = 1; i < 20; i++) for (let j = 1; j < 20; j++) {
            const x = b.left + b.width * i / 20, y = b.top + b.height * j / 20;
            if (document.elementFromPoint(x, y) === p) return [x, y];
          }
          return null;
        }""",
        code,
    )
    assert point is not None
    page.mouse.click(point[0], point[1])


def test_clicking_an_area_opens_its_profile(page: Any, viewer_url: str) -> None:
    _open(page, viewer_url + "/map")
    _click_area(page, "E01006508")
    page.wait_for_url("**/areas/E01006508")
    assert "Knowsley 004D" in page.locator("h1").inner_text()
    assert page.errors == []


def test_keyboard_reaches_the_main_content_and_profiles(page: Any, viewer_url: str) -> None:
    _open(page, viewer_url + "/map")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Skip to main content"
    # the table under the map links every area to its profile
    links = page.locator("#table-map a[href^='/areas/']")
    assert links.count() == len(AREAS)
    links.first.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/areas/*")
    assert page.errors == []


def test_viewer_never_sees_the_outreach_list(page: Any, viewer_url: str) -> None:
    _open(page, viewer_url + "/")
    assert page.locator("nav a[href='/outreach']").count() == 0
    response = page.goto(viewer_url + "/outreach")
    assert response is not None and response.status == 403
    assert SENTINEL_PERSON not in page.content()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("overview", "/"),
        ("map", "/map"),
        ("findings", "/findings"),
        ("area", "/areas/E01006508"),
        ("centres", "/centres"),
        ("centre", "/centres/KN01"),
        ("quality", "/quality"),
        ("outreach", "/outreach"),
    ],
)
def test_demo_pages(
    page: Any, demo_outputs: Path, serve: Callable[[Path, str], str], name: str, path: str
) -> None:
    url = serve(demo_outputs, "outreach_worker")
    _open(page, url + path)
    _shot(page, f"demo-{name}")
    assert page.errors == [], page.errors
    assert _axe(page) == []
    if name == "map":
        # the Knowsley demo is built on the 98 LSOAs of 2011
        assert page.locator("path.ef-area").count() == 98


@pytest.mark.slow
def test_demo_finding_links_to_its_areas_on_the_map(
    page: Any, demo_outputs: Path, serve: Callable[[Path, str], str]
) -> None:
    url = serve(demo_outputs, "viewer")
    _open(page, url + "/findings")
    # the first finding about areas (site and borough-wide findings highlight none)
    links = page.locator("a:has-text('Show on the map')")
    hrefs = [links.nth(i).get_attribute("href") or "" for i in range(links.count())]
    href = next((h for h in hrefs if "highlight=" in h), None)
    assert href is not None, hrefs
    link = links.nth(hrefs.index(href))
    wanted = href.split("highlight=")[1].split("&")[0].replace("%2C", ",").split(",")
    link.click()
    page.wait_for_selector("#map[data-ready='true']")
    outlined = page.evaluate(
        "Array.from(document.querySelectorAll('path.ef-area'))"
        ".filter(p => p.getAttribute('stroke') === '#000000').map(p => p.dataset.code)"
    )
    assert sorted(outlined) == sorted(wanted)
    assert page.errors == []

"""Tables people can read at a desk (issue 16 audit), in Debian's Chromium on the real demo.

At 1440 px no table of the pages below scrolls sideways inside its box, and no word of a
header or cell is broken across lines (the audit found the findings table squeezed to a
letter a line: ``overflow-wrap: anywhere`` let the browser shrink text columns below their
longest word). The outreach worker's list, with names and addresses, fits too: on the page
the name parts and a detail's source and date share a cell each, and the analysis columns
are in the downloads only (which keep every column).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from everyfamily.web import create_app
from everyfamily.web.auth import UserStore
from everyfamily.web.pages.outreach import OUTREACH_PAGE_SIZE
from security.conftest import PASSWORD

from . import loopback
from .conftest import SCREENSHOTS, running

pytestmark = [pytest.mark.browser, pytest.mark.slow]

#: Pages with tables (the admin sees them all); an area, a ward and a centre are added from
#: the pages' own links, so nothing here knows the demo's codes.
PAGES = (
    "/findings",
    "/centres",
    "/outreach",
    "/outreach?list=not_engaged",
    "/compare",
    "/plan",
    "/records",
)

#: Per table: does its box scroll sideways, and which words are split over two lines (a
#: Range over one word with more than one line box).
_MEASURE = """(sel) => [...document.querySelectorAll(sel || 'table.data')].map(t => {
  const box = t.parentElement, broken = [];
  for (const cell of t.querySelectorAll('th, td')) {
    const walk = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      const el = n.parentElement;  // folded away (in a closed details, not its summary)
      if (el.closest('details:not([open])') && !el.closest('summary')) continue;
      const re = /[^\\s\\u002d\\u2010\\u2013\\u2014/]+/g; let m;
      while ((m = re.exec(n.data)) !== null) {
        const r = document.createRange();
        r.setStart(n, m.index); r.setEnd(n, m.index + m[0].length);
        const tops = new Set([...r.getClientRects()].map(x => Math.round(x.top)));
        if (tops.size > 1) broken.push(m[0]);
      }
    }
  }
  return {id: t.id, scroll: box.scrollWidth - box.clientWidth, broken: broken.slice(0, 5)};
})"""


def _page(browser: Any, width: int = 1440) -> Any:
    return browser.new_context(viewport={"width": width, "height": 900}).new_page()


def _problems(pg: Any, path: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for t in pg.evaluate(_MEASURE):
        if t["scroll"] > 1 or t["broken"]:
            found[f"{path} {t['id']}"] = t
    return found


@pytest.fixture(scope="module")
def admin_demo(demo_outputs: Path, serve: Callable[[Path, str], str]) -> str:
    return serve(demo_outputs, "admin")


def test_no_table_scrolls_or_breaks_words_at_a_desk(browser: Any, admin_demo: str) -> None:
    pg = _page(browser)
    pg.goto(admin_demo + "/map", wait_until="networkidle")
    area = pg.locator("#table-map a[href^='/areas/']").first.get_attribute("href")
    pg.goto(admin_demo + str(area), wait_until="networkidle")
    ward = pg.locator("a[data-ward]").first.get_attribute("href")
    centre = loopback.get(admin_demo + "/api/centres").json()["rows"][0]["site_id"]
    problems: dict[str, Any] = {}
    for path in (*PAGES, str(area), str(ward), f"/centres/{centre}"):
        pg.goto(admin_demo + path, wait_until="networkidle")
        assert pg.locator("table.data").count() > 0, path
        problems.update(_problems(pg, path))
    pg.context.close()
    assert problems == {}, json.dumps(problems, indent=1)


@pytest.fixture(scope="module")
def worker_demo(
    demo_outputs: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, UserStore]]:
    """The demo served with logins: an analyst, and an outreach worker given areas later."""
    store = UserStore(tmp_path_factory.mktemp("tables-users") / "users.sqlite")
    store.add("ana", PASSWORD, "analyst")
    store.add("owen", PASSWORD, "outreach_worker", ())
    with running(create_app(demo_outputs, users=store)) as base:
        yield base, store


def _login(browser: Any, base: str, user: str) -> Any:
    pg = _page(browser)
    pg.goto(base + "/login")
    pg.fill("#f-user", user)
    pg.fill("#f-pass", PASSWORD)
    pg.click("form[action='/login'] button")
    pg.wait_for_load_state("networkidle")
    return pg


def _purpose(pg: Any, url: str) -> None:
    pg.goto(url, wait_until="networkidle")
    if pg.locator("#f-purpose").count():
        pg.fill("#f-purpose", "home visits this month (browser test)")
        pg.click("form[action='/outreach/purpose'] button")
        pg.wait_for_load_state("networkidle")
        pg.goto(url, wait_until="networkidle")


def test_the_outreach_workers_list_with_addresses_fits_a_desk(
    browser: Any, worker_demo: tuple[str, UserStore], demo_outputs: Path
) -> None:
    base, store = worker_demo
    ana = _login(browser, base, "ana")
    _purpose(ana, base + "/outreach")
    reach = pd.read_csv(demo_outputs / "reach.csv", usecols=["level", "area_code"], dtype=str)
    wards = sorted(set(reach.loc[reach["level"] == "ward", "area_code"]))
    totals = {w: ana.request.get(f"{base}/api/outreach?area={w}").json()["total"] for w in wards}
    busiest = max(totals, key=lambda w: (totals[w], w))
    ana.context.close()
    store.set_areas("owen", (busiest,))
    pg = _login(browser, base, "owen")
    _purpose(pg, f"{base}/outreach?area={busiest}")
    headers = pg.locator("#table-outreach thead th").all_inner_texts()
    assert headers[0].startswith("Child") and any(h.startswith("Address") for h in headers)
    rows = pg.locator("#table-outreach tbody tr").count()
    assert rows == min(totals[busiest], OUTREACH_PAGE_SIZE) > 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SCREENSHOTS / "tables-outreach-worker-1440.png"), full_page=True)
    problems = _problems(pg, "/outreach")
    pg.context.close()
    assert problems == {}, json.dumps(problems, indent=1)


def test_records_name_areas_and_groups_and_downloads_keep_the_codes(
    browser: Any, admin_demo: str, demo_outputs: Path
) -> None:
    """The records page showed the home area as a bare code and ethnicities as field values
    (white_british): the page names them; the API (as the downloads) keeps the codes."""
    reach = pd.read_csv(demo_outputs / "reach.csv", usecols=["area_code"], dtype=str)
    codes = set(reach["area_code"])
    pg = _page(browser)
    pg.goto(admin_demo + "/records", wait_until="networkidle")
    cells = pg.locator("#table-records tbody td").all_inner_texts()
    pg.context.close()
    assert cells
    assert not codes & {c.strip() for c in cells}  # no area by its bare code
    assert not [c for c in cells if "_" in c]  # no field values
    api = loopback.get(admin_demo + "/api/records").json()
    rows = (api.get("table") or api)["rows"] if isinstance(api, dict) else api
    assert rows and {str(r["area_code"]) for r in rows} <= codes
    assert "area" not in rows[0] and "ethnicity" in rows[0]


#: An A4 page's width at 96 dpi: the insight pack's tables as paper gives them room.
A4_PX = 794


@pytest.mark.parametrize("width", (1440, A4_PX))
def test_the_insight_packs_tables_break_no_word(
    browser: Any, demo_outputs: Path, width: int
) -> None:
    """The pack's PDF split words of its scenario table ('Kin d', '2,877 ,520'): its
    tables, on a desk and at an A4 page's width in print, break no word."""
    pg = _page(browser, width)
    pg.emulate_media(media="print" if width == A4_PX else "screen")
    pg.goto((demo_outputs / "report.html").as_uri(), wait_until="load")
    tables = pg.evaluate(_MEASURE, "table")
    pg.context.close()
    assert tables
    broken = {i: t["broken"] for i, t in enumerate(tables) if t["broken"]}
    assert broken == {}, json.dumps(broken, indent=1)

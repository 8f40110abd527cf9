"""The printable route sheet in Debian's Chromium (Playwright): accessible on screen, and in
print one household per block on A4, with the site's header and footer left out."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from . import loopback
from .conftest import SCREENSHOTS
from .test_browser import _axe, _open, _shot


@pytest.mark.slow
def test_route_sheet_prints_one_household_per_block_on_a4(
    page: Any, demo_outputs: Path, serve: Callable[[Path, str], str]
) -> None:
    url = serve(demo_outputs, "outreach_worker")  # local mode: pseudonymous, no names
    o = loopback.get(url + "/api/outreach").json()
    area = o["area_choices"][0]["code"]
    households = loopback.get(url + "/api/outreach", params={"area": area}).json()["households"]
    _open(page, f"{url}/outreach/route?area={area}")
    _shot(page, "demo-outreach-route")
    assert page.errors == [], page.errors
    assert _axe(page) == []
    blocks = page.locator("section.route-block")
    assert blocks.count() == households > 0
    page.emulate_media(media="print")
    assert not page.locator("header.top").is_visible()
    assert not page.locator("footer.foot").is_visible()
    styles = blocks.evaluate_all("bs => bs.map(b => getComputedStyle(b).breakInside)")
    assert set(styles) == {"avoid"}
    pdf = page.pdf(format="A4", prefer_css_page_size=True)
    assert pdf.startswith(b"%PDF")
    (SCREENSHOTS / "demo-outreach-route.pdf").write_bytes(pdf)

"""The insight pack's PDFs over real HTTP (issue 16): one page per centre and per area, the
whole pack of the demo run, each with a dated download name, each drawn to PNG by poppler's
pdftoppm (a second renderer), with no map cut across pages."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import httpx
import pypdf
import pytest

from report.test_pack import pdf_pages_as_png

from . import loopback
from .conftest import ROOT

ARTIFACTS = ROOT / "test-artifacts" / "pdf"


def _get_pdf(url: str) -> tuple[bytes, str]:
    r = httpx.get(url, timeout=120)
    assert r.status_code == 200, r.text[:200]
    assert r.headers["content-type"] == "application/pdf"
    return r.content, r.headers["content-disposition"]


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/pack/centres/S1.pdf", "everyfamily-knowsley-centre-"),
        ("/pack/areas/E01006506.pdf", "everyfamily-knowsley-knowsley-004b-2026-03-31.pdf"),
        ("/pack/areas/E05010935.pdf", "everyfamily-knowsley-"),
    ],
)
def test_one_page_per_centre_and_per_area(viewer_url: str, path: str, name: str) -> None:
    pdf, disposition = _get_pdf(viewer_url + path)
    assert f'filename="{name}' in disposition and "2026-03-31.pdf" in disposition
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert "What to raise" in text and "Open Government Licence" in text
    stem = path.strip("/").replace("/", "-").removesuffix(".pdf")
    assert len(pdf_pages_as_png(pdf, ARTIFACTS, stem)) == 1


def test_an_unknown_centre_has_no_page(viewer_url: str) -> None:
    assert httpx.get(viewer_url + "/pack/centres/NOPE.pdf", timeout=30).status_code == 404


@pytest.mark.slow
def test_the_demo_pack_and_a_ward_page_render(
    demo_outputs: Path, serve: Callable[[Path, str], str]
) -> None:
    url = serve(demo_outputs, "viewer")
    pdf, disposition = _get_pdf(url + "/pack/insight-pack.pdf")
    assert "insight-pack-" in disposition
    pages = pypdf.PdfReader(io.BytesIO(pdf)).pages
    text = " ".join(p.extract_text() for p in pages)
    for lens in ("New insight", "New customers"):
        assert lens in text
    assert len(pdf_pages_as_png(pdf, ARTIFACTS, "demo-insight-pack")) == len(pages)
    # the ward of the first small area the map lists: one page
    index = loopback.get(url + "/api/areas").json()
    ward = next(a["code"] for a in index["areas"] if a["level"] == "ward")
    pdf, _ = _get_pdf(url + f"/pack/areas/{ward}.pdf")
    assert len(pypdf.PdfReader(io.BytesIO(pdf)).pages) == 1

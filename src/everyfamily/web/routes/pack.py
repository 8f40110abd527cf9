"""The insight pack as PDF (issue 16): the run's report, and one page per centre and per
area (a ward, say), with dated download names. Built on request from released figures only:
the report the run wrote (report.html) and the dashboard's run view; each PDF is made once
per server and kept (the run's outputs do not change under a running server)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from everyfamily.report.pdf import download_name, html_to_pdf
from everyfamily.report.stage import REPORT_FILE
from everyfamily.report.words import when_words
from everyfamily.web.routes.common import TEMPLATES, DashDep
from everyfamily.web.service import Dashboard
from everyfamily.web.tables import NotFound

router = APIRouter()


def _pdf(body: bytes, name: str) -> Response:
    resp = Response(body, media_type="application/pdf")
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return resp


def _one_page(dash: Dashboard, **context: object) -> bytes:
    view = dash.view
    html = TEMPLATES.get_template("onepage.html").render(
        dash=view,
        reference=when_words(view.reference_date),
        **context,
    )
    return html_to_pdf(html)


@router.get("/pack/insight-pack.pdf", tags=["export"])
def pack_report(dash: DashDep) -> Response:
    """The run's insight pack (report.html) as PDF."""
    path = dash.outputs.out_dir / REPORT_FILE
    if not path.is_file():
        raise NotFound(REPORT_FILE)
    body = dash.memo(("pack", "report"), lambda: html_to_pdf(path.read_text(encoding="utf-8")))
    return _pdf(body, download_name(dash.view.title, "insight pack", dash.view.reference_date))


@router.get("/pack/centres/{site}.pdf", tags=["export"])
def pack_centre(dash: DashDep, site: str) -> Response:
    """One page about a centre: its figures, reach area and findings."""
    profile = dash.centres.profile(site)
    body = dash.memo(("pack", "centre", site), lambda: _one_page(dash, centre=profile))
    name = download_name(dash.view.title, f"centre {profile['name']}", dash.view.reference_date)
    return _pdf(body, name)


@router.get("/pack/areas/{code}.pdf", tags=["export"])
def pack_area(request: Request, dash: DashDep, code: str) -> Response:
    """One page about an area (a ward or a small area): its figures, place and findings."""
    profile = dash.areas.profile(code)
    body = dash.memo(("pack", "area", code), lambda: _one_page(dash, area=profile))
    name = download_name(dash.view.title, f"{profile['name']}", dash.view.reference_date)
    return _pdf(body, name)

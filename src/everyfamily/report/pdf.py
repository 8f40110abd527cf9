"""The insight pack as PDF: the report, and one page per centre and per ward.

WeasyPrint (https://doc.courtbouillon.org/weasyprint/) lays out HTML and CSS for print
(CSS Paged Media: ``@page``, ``break-inside``); it needs Pango, nothing else, and no
network. A URL fetcher that refuses everything keeps it offline: the pages are one
self-contained file, so anything it would fetch is a mistake. Pure apart from the PDF
bytes it returns; the callers write or serve them.
"""

from __future__ import annotations

import re
from typing import Any

from everyfamily.errors import DataError

#: How the downloads are named: everyfamily-<place>-<what>-<reference date>.pdf.
NAME_PATTERN = "everyfamily-{place}-{what}-{date}.pdf"


def _offline(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    """WeasyPrint URL fetcher that refuses every fetch (the pack is self-contained)."""
    raise DataError(f"the insight pack tried to fetch a resource ({url.split(':')[0]} URL)")


def html_to_pdf(html: str) -> bytes:
    """The PDF of one self-contained HTML document (print stylesheet applied)."""
    try:
        from weasyprint import HTML
    except ImportError as exc:  # pragma: no cover - a locked dependency
        raise DataError(
            "WeasyPrint is not installed", hint="install everyfamily with its dependencies"
        ) from exc
    pdf: bytes = HTML(string=html, url_fetcher=_offline).write_pdf()
    return pdf


def slug(text: str) -> str:
    """A file-name-safe lower-case slug: "Knowsley Lane CC" -> "knowsley-lane-cc"."""
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-") or "pack"


def download_name(place: str, what: str, date: str) -> str:
    """A dated download name, e.g. everyfamily-knowsley-insight-pack-2026-03-31.pdf."""
    return NAME_PATTERN.format(place=slug(place), what=slug(what), date=slug(date))


def pdf_layout(html: str) -> tuple[bytes, int, list[tuple[list[int], bool]]]:
    """Lay the document out once: (the PDF, its page count, and for each ``<svg>`` figure in
    document order the pages it is drawn on and whether it fits inside the page's content
    area). A map or chart cut across pages, or running off the bottom of one, fails either
    test; print stylesheets avoid it with ``break-inside: avoid`` and a height limit."""
    from weasyprint import HTML

    document = HTML(string=html, url_fetcher=_offline).render()
    where: dict[int, set[int]] = {}
    fits: dict[int, bool] = {}
    order: list[int] = []
    for number, page in enumerate(document.pages, start=1):
        page_box = page._page_box
        bottom = page_box.content_box_y() + page_box.height
        for box in page_box.descendants():
            if str(getattr(box, "element_tag", "")).endswith("svg"):
                key = id(box.element)
                if key not in where:
                    where[key], fits[key] = set(), True
                    order.append(key)
                where[key].add(number)
                inside = box.position_y + box.margin_height() <= bottom + 0.5
                fits[key] = fits[key] and inside
    pdf: bytes = document.write_pdf()
    return pdf, len(document.pages), [(sorted(where[k]), fits[k]) for k in order]

"""Person-level access for one request, audited: the purpose a user stated, the areas an
outreach worker may see, and re-identification (names and contact details) for a role that
holds ``reidentify``. The routes of person-level rows (outreach, records, their exports) call
these before they read a row."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from everyfamily.errors import AccessDenied
from everyfamily.web.access import Permission
from everyfamily.web.auth import Session, UserStore
from everyfamily.web.outputs import read_contact_details
from everyfamily.web.pages.outreach import ListRequest
from everyfamily.web.pages.person import ContactLookup
from everyfamily.web.routes.common import granted, session_of
from everyfamily.web.service import Dashboard


class PurposeNeeded(Exception):
    """Person-level data asked for before a purpose was stated in this session."""


#: Pages the purpose form may return to once a purpose is stated (never a free URL).
PURPOSE_PAGES = ("/outreach", "/records", "/outreach/route")
#: Roles that see the outreach lists of their assigned areas only.
SCOPED_ROLES = ("outreach_worker", "centre_manager")
#: Most area codes one audit entry of a re-identification names (then "and N more").
AUDIT_AREAS = 50


def stated_purpose(request: Request) -> tuple[UserStore, Session] | None:
    """The users store and session of a logged-in request that has stated a purpose; None
    in local single-user mode (no users store: no login, no audit)."""
    users: UserStore | None = request.app.state.users
    if users is None:
        return None
    session = session_of(request)
    if session is None:
        raise AccessDenied("log in first")
    if not session.purpose:
        raise PurposeNeeded
    return users, session


def contact_lookup(request: Request) -> ContactLookup | None:
    """Re-identification for this request, or None: only for a logged-in user whose role
    holds ``reidentify`` (never in local single-user mode, which keeps no audit log). The
    lookup writes the audit entry (who, how many children, which areas, the purpose; never
    a name) and only then opens the identifiable store, read-only, for this call alone."""
    stated = stated_purpose(request)
    if stated is None or Permission.REIDENTIFY not in granted(request):
        return None
    users, session = stated
    dash: Dashboard = request.app.state.dashboard
    path = request.url.path

    def look_up(person_ids: list[str], areas: list[str]) -> Any:
        shown = ",".join(areas[:AUDIT_AREAS])
        more = f" and {len(areas) - AUDIT_AREAS} more" if len(areas) > AUDIT_AREAS else ""
        users.audit(
            session.user.username,
            "reidentify",
            f"{path}: names and contact details of {len(person_ids)} children "
            f"in areas {shown}{more}",
            session.purpose,
        )
        return read_contact_details(dash.outputs, person_ids)

    return look_up


def records_audit(request: Request, area: str | None, page: int) -> None:
    """Audit an opening of the record-level view (who, which filter, the purpose)."""
    stated = stated_purpose(request)
    if stated is not None:
        users, session = stated
        users.audit(
            session.user.username,
            "records_view",
            f"{request.url.path} area={area or 'all'} page={page}",
            session.purpose,
        )


def outreach_scope(request: Request, dash: Dashboard, area: str | None) -> frozenset[str] | None:
    """Who may see which part of the outreach list, audited. None: every area (local
    single-user mode, analysts, admins); otherwise (outreach workers, centre managers) the
    small areas assigned to the user (a centre's code stands for its reach area).
    Asking for an area outside them is refused and audited (no IDOR)."""
    stated = stated_purpose(request)
    if stated is None:
        return None
    users, session = stated
    allowed = None
    if session.user.role in SCOPED_ROLES:
        allowed = dash.view.expand_areas(session.user.areas)
        if area and area not in allowed:
            users.audit(session.user.username, "outreach_denied", "an unassigned area",
                        session.purpose)  # fmt: skip
            raise AccessDenied("that area is not assigned to you")
    users.audit(
        session.user.username,
        "outreach_list",
        f"{request.url.path} area={area or 'all assigned'}",
        session.purpose,
    )
    return allowed


def list_request(
    request: Request, dash: Dashboard, area: str | None, site: str | None, kind: str
) -> ListRequest:
    """The outreach list a request asks for, as the page, the API, the route sheet and the
    export all take it: scoped to the user's areas and audited (:func:`outreach_scope`),
    with re-identification for a role allowed it (:func:`contact_lookup`) and the last
    outcome of each child from the users store (None in local mode)."""
    allowed = outreach_scope(request, dash, area or None)
    users: UserStore | None = request.app.state.users
    return ListRequest(
        kind=kind,
        area=area or None,
        site=site or None,
        allowed=allowed,
        contacts=contact_lookup(request),
        outcomes=users.last_outcomes() if users is not None else None,
    )

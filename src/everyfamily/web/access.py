"""Who may see what: permissions, roles, the route table and the one access check.

Deny by default. Every route the app serves is named in :data:`ROUTE_PERMISSIONS` with the
one permission it needs; :func:`check_access` (a dependency on the whole app) looks the
route up there and refuses a route that is missing from the table, so a new route stays
closed until someone declares it. A test checks that every route of the app is in the table.

The role comes from an :class:`AccessPolicy`. When the output folder has a users store
(``everyfamily users add``), ``everyfamily serve`` uses
:class:`everyfamily.web.auth.SessionPolicy`: login is required and a visitor who has not
logged in is ``anonymous`` (public routes only). Without a users store, ``serve`` runs in
an explicit local single-user mode with a :class:`StaticPolicy` whose role is ``viewer``
(aggregates only) unless ``--role`` says otherwise, and says so loudly.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from fastapi import Request

from everyfamily.errors import AccessDenied, ConfigError


class Permission(StrEnum):
    """What a route shows. Person-level rows need view_outreach_list or view_records; names
    need reidentify as well."""

    PUBLIC = "public"  # health check and static assets: nothing from the data
    VIEW_AGGREGATES = "view_aggregates"  # released (disclosure-controlled) aggregates
    VIEW_CENTRE_DETAIL = "view_centre_detail"  # a centre's figures area by area
    VIEW_OUTREACH_LIST = "view_outreach_list"  # person-level list of children not reached
    VIEW_RECORDS = "view_records"  # pseudonymised record-level rows of every child
    #: Names and contact details on the outreach list (re-identification). Granted to the
    #: outreach worker only, who contacts families in assigned areas; an analyst works on
    #: pseudonymised rows and an admin runs the service, so neither needs to know who a
    #: child is. Effective only with logins: every re-identification is audited first.
    REIDENTIFY = "reidentify"
    ADMIN = "admin"  # run metadata, settings and file locations
    #: The Plan page: costs of options (managers and analysts; not outreach workers)
    VIEW_PLAN = "view_plan"
    #: Run a plan from the Plan page into the user's own plan folder (background, audited)
    RUN_PLAN = "run_plan"


_AGG = frozenset({Permission.PUBLIC, Permission.VIEW_AGGREGATES})

#: Roles and their permissions. ``viewer`` is the default: aggregates only, no person rows.
ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    "viewer": _AGG,
    # a centre manager opens the outreach lists of their own centre's reach area (scoped and
    # pseudonymous: no re-identification) and the Plan page (costs)
    "centre_manager": _AGG
    | {
        Permission.VIEW_CENTRE_DETAIL,
        Permission.VIEW_OUTREACH_LIST,
        Permission.VIEW_PLAN,
        Permission.RUN_PLAN,
    },
    "outreach_worker": _AGG
    | {Permission.VIEW_CENTRE_DETAIL, Permission.VIEW_OUTREACH_LIST, Permission.REIDENTIFY},
    "analyst": _AGG
    | {
        Permission.VIEW_CENTRE_DETAIL,
        Permission.VIEW_OUTREACH_LIST,
        Permission.VIEW_RECORDS,
        Permission.VIEW_PLAN,
        Permission.RUN_PLAN,
    },
    # everything but re-identification (deny by default: running the service is no reason
    # to see who a child is)
    "admin": frozenset(Permission) - {Permission.REIDENTIFY},
}

DEFAULT_ROLE = "viewer"

#: THE table: route name -> the permission it needs. A route missing here is refused.
ROUTE_PERMISSIONS: dict[str, Permission] = {
    # infrastructure
    "health": Permission.PUBLIC,
    "static": Permission.PUBLIC,
    "openapi": Permission.PUBLIC,  # /openapi.json (Swagger UI is off: it loads from a CDN)
    # pages
    "page_overview": Permission.VIEW_AGGREGATES,
    "page_map": Permission.VIEW_AGGREGATES,
    "page_findings": Permission.VIEW_AGGREGATES,
    "page_area": Permission.VIEW_AGGREGATES,
    "page_centres": Permission.VIEW_AGGREGATES,
    "page_centre": Permission.VIEW_AGGREGATES,
    "page_quality": Permission.VIEW_AGGREGATES,
    "page_outreach": Permission.VIEW_OUTREACH_LIST,
    "page_outreach_route": Permission.VIEW_OUTREACH_LIST,
    "outreach_outcome": Permission.VIEW_OUTREACH_LIST,  # CSRF-checked, scoped, audited
    "page_plan": Permission.VIEW_PLAN,
    "page_plan_mine": Permission.RUN_PLAN,  # the user's own plan from the page
    "plan_run": Permission.RUN_PLAN,  # CSRF-checked, one at a time, audited
    "api_plan_run": Permission.RUN_PLAN,  # the user's plan job's state
    "page_compare": Permission.VIEW_AGGREGATES,
    "page_records": Permission.VIEW_RECORDS,
    "page_admin": Permission.ADMIN,
    "page_audit": Permission.ADMIN,
    "page_glossary": Permission.VIEW_AGGREGATES,
    "page_login": Permission.PUBLIC,
    "login_submit": Permission.PUBLIC,  # CSRF-checked (double submit) and rate limited
    "logout": Permission.PUBLIC,  # CSRF-checked against the session
    "outreach_purpose": Permission.VIEW_OUTREACH_LIST,  # CSRF-checked
    "page_api": Permission.VIEW_AGGREGATES,
    # JSON API
    "api_overview": Permission.VIEW_AGGREGATES,
    "api_reach": Permission.VIEW_AGGREGATES,
    "api_map_options": Permission.VIEW_AGGREGATES,
    "api_map_geometry": Permission.VIEW_AGGREGATES,
    "api_map_values": Permission.VIEW_AGGREGATES,
    "api_map_sites": Permission.VIEW_AGGREGATES,
    "api_map_overlay": Permission.VIEW_AGGREGATES,
    "basemap_tile": Permission.VIEW_AGGREGATES,  # the council's own map tiles, no data
    "api_findings": Permission.VIEW_AGGREGATES,
    "api_areas": Permission.VIEW_AGGREGATES,
    "api_area": Permission.VIEW_AGGREGATES,
    "api_centres": Permission.VIEW_AGGREGATES,
    "api_centre": Permission.VIEW_AGGREGATES,
    "api_centre_areas": Permission.VIEW_CENTRE_DETAIL,
    "api_quality": Permission.VIEW_AGGREGATES,
    "api_outreach": Permission.VIEW_OUTREACH_LIST,
    "api_records": Permission.VIEW_RECORDS,
    "api_admin_run": Permission.ADMIN,
    "api_admin_audit": Permission.ADMIN,
    # exports
    "export_table": Permission.VIEW_AGGREGATES,
    "export_centre_areas": Permission.VIEW_CENTRE_DETAIL,
    "export_map": Permission.VIEW_AGGREGATES,
    "export_outreach": Permission.VIEW_OUTREACH_LIST,
    "pack_report": Permission.VIEW_AGGREGATES,
    "pack_centre": Permission.VIEW_AGGREGATES,
    "pack_area": Permission.VIEW_AGGREGATES,
}


def permissions_for(role: str) -> frozenset[Permission]:
    """The permissions of a role; an unknown role has none (deny by default)."""
    return ROLE_PERMISSIONS.get(role, frozenset())


def check_role(role: str) -> str:
    """Validate a role name given on the command line."""
    if role not in ROLE_PERMISSIONS:
        raise ConfigError(
            f"--role: unknown role {role!r}",
            hint="use one of " + ", ".join(ROLE_PERMISSIONS),
        )
    return role


class AccessPolicy(Protocol):
    """Maps a request to a role. Issue 7 replaces the static policy with logins."""

    def role_for(self, request: Request) -> str: ...


@dataclass(frozen=True)
class StaticPolicy:
    """Every request has the same role (local use before logins exist)."""

    role: str = DEFAULT_ROLE

    def role_for(self, request: Request) -> str:
        return self.role


def required_permission(route_name: str | None) -> Permission | None:
    """The permission a route needs, or None when the route is not declared (refused)."""
    if route_name is None:
        return None
    return ROUTE_PERMISSIONS.get(route_name)


async def check_access(request: Request) -> None:
    """The single access dependency: the request's role must hold the route's permission.

    Sets ``request.state.role`` and ``request.state.permissions`` for the templates (which
    hide links the role cannot follow). Raises :class:`AccessDenied` otherwise.
    """
    policy: AccessPolicy = request.app.state.policy
    role = policy.role_for(request)
    granted = permissions_for(role)
    request.state.role = role
    request.state.permissions = granted
    route = request.scope.get("route")
    needed = required_permission(getattr(route, "name", None))
    if needed is None:
        raise AccessDenied(
            "this page is not open to any role", hint="it has no declared permission"
        )
    if needed is not Permission.PUBLIC and needed not in granted:
        raise AccessDenied(
            f"the role {role!r} may not see this", hint=f"it needs the permission {needed.value!r}"
        )

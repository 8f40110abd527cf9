"""The dashboard's routes: one FastAPI router per area of the dashboard.

Every route's name is its key in :data:`everyfamily.web.access.ROUTE_PERMISSIONS` (the one
place permissions are declared); the app-wide dependency
:func:`everyfamily.web.access.check_access` runs before each of them. :data:`ROUTERS` lists the
routers in the order the app includes them (a specific export before the generic one).
"""

from __future__ import annotations

from fastapi import APIRouter

from everyfamily.web.routes import (
    admin,
    api,
    areas,
    auth,
    compare,
    exports,
    findings,
    maps,
    outreach,
    pack,
    plan,
    quality,
    sites,
)

#: (area, router), in the order the app includes them.
ROUTERS: tuple[tuple[str, APIRouter], ...] = (
    ("api", api.router),
    ("auth", auth.router),
    ("admin", admin.router),
    ("overview and maps", maps.router),
    ("findings", findings.router),
    ("areas and groups", areas.router),
    ("sites", sites.router),
    ("data quality", quality.router),
    ("plan", plan.router),
    ("comparison", compare.router),
    ("outreach and records", outreach.router),
    ("insight pack", pack.router),
    ("exports", exports.router),
)

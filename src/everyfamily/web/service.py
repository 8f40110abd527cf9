"""The dashboard's service layer: one object holding the run view and the page services.

:class:`Dashboard` is built once per app from a run's outputs. Disclosure control happens at
the door: :class:`everyfamily.web.view.RunView` releases the reach table once and every page
service (:mod:`everyfamily.web.pages`) reads the released copy. Routes reach the page they
need through the attributes here (``dash.maps``, ``dash.areas`` ...); :meth:`Dashboard.table`
finds an aggregate table by id for the generic export, and :meth:`Dashboard.memo` remembers
serialised answers (a run's outputs never change under the app).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from everyfamily.web.basemap import open_basemap
from everyfamily.web.outputs import RunOutputs
from everyfamily.web.pages.areas import AreasPage
from everyfamily.web.pages.centres import CentresPage
from everyfamily.web.pages.compare import ComparePage
from everyfamily.web.pages.findings import FindingsPage
from everyfamily.web.pages.maps import MapPage
from everyfamily.web.pages.outreach import OutreachList
from everyfamily.web.pages.overview import OverviewPage
from everyfamily.web.pages.person import (
    RECORDS_PAGE_SIZE,
    ContactLookup,
    RecordsView,
)
from everyfamily.web.pages.plan import PlanPage
from everyfamily.web.pages.quality import QUALITY_TABLES, QualityPage
from everyfamily.web.release import public_rows
from everyfamily.web.tables import BadRequest, Column, NotFound, Table, format_value
from everyfamily.web.view import RunView

__all__ = [
    "RECORDS_PAGE_SIZE",
    "BadRequest",
    "Column",
    "ContactLookup",
    "Dashboard",
    "NotFound",
    "Table",
    "format_value",
    "public_rows",
]

#: Most results (e.g. serialised API answers) the dashboard remembers.
MEMO_SIZE = 2048


class Dashboard:
    """The run view and one service per page (see the module docstring)."""

    def __init__(self, outputs: RunOutputs) -> None:
        self.view = RunView.build(outputs)
        self.overview = OverviewPage(self.view)
        self.maps = MapPage(self.view)
        self.findings = FindingsPage(self.view)
        self.areas = AreasPage(self.view)
        self.centres = CentresPage(self.view)
        self.quality = QualityPage(self.view)
        self.outreach = OutreachList(self.view)
        self.records = RecordsView(self.view)
        self.plan = PlanPage(self.view)
        #: the optional offline basemap (outputs.basemap_path); a bad file stops the start
        self.basemap = open_basemap(outputs.settings)
        self.compare = ComparePage(self.view)
        self._memo: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._memo_lock = threading.Lock()

    @property
    def outputs(self) -> RunOutputs:
        return self.view.outputs

    def memo(self, key: tuple[Any, ...], produce: Callable[[], Any]) -> Any:
        """``produce()`` once per key (a run's outputs never change under the app), keeping
        the :data:`MEMO_SIZE` most recently used results. Errors are not remembered."""
        with self._memo_lock:
            if key in self._memo:
                self._memo.move_to_end(key)
                return self._memo[key]
        value = produce()
        with self._memo_lock:
            self._memo[key] = value
            while len(self._memo) > MEMO_SIZE:
                self._memo.popitem(last=False)
        return value

    def map_options(self) -> dict[str, Any]:
        """The map's options with the offline basemap, when the run names one."""
        return {
            **self.maps.options(),
            "basemap": self.basemap.info.to_dict() if self.basemap else None,
        }

    def quality_page(self) -> dict[str, Any]:
        return self.quality.quality(self.overview.completeness_table())

    def admin_run(self) -> dict[str, Any]:
        """The run's metadata (run.json)."""
        return dict(self.outputs.run)

    def table(self, table_id: str, params: Mapping[str, str]) -> Table:
        """An aggregate table by id, for export (the outreach and centre-detail tables have
        their own permission-gated routes)."""

        def need(name: str) -> str:
            value = params.get(name)
            if not value:
                raise BadRequest(f"{name}: required for this table")
            return value

        simple: dict[str, Callable[[], Table]] = {
            "findings": self.findings.table,
            "centres": self.centres.table,
            "completeness": self.overview.completeness_table,
        }
        if table_id in simple:
            return simple[table_id]()
        plan_tables = {
            "overlap": self.plan.overlap_table,
            "overlap_contacts": self.plan.contacts_table,
            "offer": self.plan.offer_table,
        }
        if table_id in plan_tables:
            found = plan_tables[table_id]()
            if found is None:
                raise NotFound(table_id)
            return found
        if table_id in QUALITY_TABLES:
            return self.quality.table(table_id)
        if table_id == "linkage_by_group":
            lt = self.quality.linkage_by_group_table()
            if lt is None:
                raise NotFound(table_id)
            return lt
        if table_id == "area_groups":
            return self.areas.groups_table(need("area"), params.get("service") or "any")
        if table_id == "centre_misses":
            return self.centres.misses_table(need("site"))
        if table_id == "map":
            return self.maps.table(*self.maps.params(params))
        raise NotFound(table_id)

"""The dashboard: ``everyfamily serve DIR`` over a run's output folder.

``create_app(out_dir, policy=...)`` builds the FastAPI app. Layers, each depending only on the
ones above it:

* :mod:`.outputs` reads the run's files (the one module that does) into ``RunOutputs``;
* :mod:`.release` is the dashboard's side of disclosure control (the rules and the release
  itself are :mod:`everyfamily.privacy.release`, the one release path);
* :mod:`.view` builds ``RunView``, the released, read-only view of the run;
* :mod:`.pages` holds one service per page (overview, maps, findings, areas, centres, quality,
  person-level outreach and records), each returning :mod:`.tables` and plain data;
  :mod:`.service` holds them together (``Dashboard``, a thin facade with the export lookup);
* :mod:`.routes` has one FastAPI router per area of the dashboard, :mod:`.access` the
  permission table and the single access check, :mod:`.auth` and :mod:`.audit` the users
  store, :mod:`.app` the app, its error pages and security headers.

The funnel plot is drawn by :mod:`everyfamily.report.funnel`, shared with the report.
"""

from everyfamily.web.app import create_app

__all__ = ["create_app"]

"""The dashboard: ``everyfamily serve DIR`` over a run's output folder.

``create_app(out_dir, policy=...)`` builds the FastAPI app. Layers: :mod:`.outputs` reads
the files (the one module that does), :mod:`.service` computes what each page shows with
disclosure control applied (:mod:`.release`), :mod:`.access` holds the permission table and
the single access check, :mod:`.app` has the routes, templates and static assets.
"""

from everyfamily.web.app import create_app

__all__ = ["create_app"]

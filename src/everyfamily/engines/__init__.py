"""Engines: where tables are stored and SQL runs, behind one small interface.

DuckDB (embedded, one file) is the default and the reference; a Spark engine can be added by
implementing :class:`~everyfamily.engines.base.Engine` without touching the core. Engine
libraries are imported only inside their own module.
"""

from everyfamily.engines.base import Engine, open_engine

__all__ = ["Engine", "open_engine"]

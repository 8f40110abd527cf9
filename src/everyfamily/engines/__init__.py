"""Engines: where tables are stored and SQL runs, behind one small interface.

DuckDB (embedded, one file per zone) is the default and the reference; PostgreSQL (zones as
schemas) implements the same interface and passes the same conformance suite
(``tests/engines``); a Spark engine can be added the same way without touching the core.
Each engine declares its :class:`Capabilities` and :class:`Dialect` as data. Engine libraries
are imported only inside their own module.
"""

from everyfamily.engines.base import Engine, open_engine
from everyfamily.engines.dialect import Capabilities, Dialect

__all__ = ["Capabilities", "Dialect", "Engine", "open_engine"]

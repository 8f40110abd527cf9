"""Page services: what each page and API endpoint shows, as plain data, one job each.

Each service reads the released run view (:class:`everyfamily.web.view.RunView`) and returns
:class:`everyfamily.web.tables.Table` objects and dicts that the routes render as HTML, JSON
or an export. Person-level rows are read on demand by :mod:`.person` only.
"""

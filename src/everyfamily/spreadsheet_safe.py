"""Values that are safe to open in a spreadsheet (CSV and formula injection).

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run as
a formula by Excel, LibreOffice and Google Sheets when a CSV is opened (OWASP, "CSV
Injection"): a child's name, an address or a site name typed as ``=HYPERLINK(...)`` into a
council system would otherwise reach an analyst's spreadsheet live. Every CSV and Excel file
everyfamily writes passes its text through here:

* CSV: such text is prefixed with a single quote, as OWASP recommends, so it shows as text;
* Excel: text is written as a string cell (never a formula), and prefixed the same way so a
  copy-paste into another sheet stays inert.

Only text is touched: numbers, dates and empty cells pass unchanged.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

#: First characters a spreadsheet reads as the start of a formula (OWASP CSV Injection).
FORMULA_STARTS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """``value`` with a leading single quote when it is text a spreadsheet would run."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def neutralise_table(table: pa.Table) -> pa.Table:
    """Every text column of ``table`` through :func:`neutralise` (vectorised)."""
    pattern = "^[" + "".join("\\" + c if c in "-+" else c for c in FORMULA_STARTS) + "]"
    for i, field in enumerate(table.schema):
        if pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
            col = table.column(i)
            risky = pc.fill_null(pc.match_substring_regex(col, pattern), False)
            fixed = pc.if_else(risky, pc.binary_join_element_wise("'", col, ""), col)
            table = table.set_column(i, field, fixed.cast(field.type))
    return table


def neutralise_frame(frame: Any) -> Any:
    """A copy of a pandas DataFrame with every text cell through :func:`neutralise`."""
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or str(out[col].dtype) in {"string", "str"}:
            out[col] = out[col].map(neutralise)
    return out

"""Every (key, value) pair of a JSON document: for tests that look for a number anywhere in
a released finding."""

from __future__ import annotations

from typing import Any


def json_pairs(value: Any) -> list[tuple[str, Any]]:
    """Every (key, value) pair anywhere in a JSON document."""
    out: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        for k, v in value.items():
            out.append((k, v))
            out += json_pairs(v)
    elif isinstance(value, list):
        for v in value:
            out += json_pairs(v)
    return out

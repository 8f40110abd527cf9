"""Render docs/settings.md from the settings models, so the reference cannot go stale."""

from __future__ import annotations

import re
import typing
from typing import Any

from pydantic import BaseModel

from everyfamily.config import Project

_HEADER = """# Project file settings

Generated from `src/everyfamily/config.py` by `everyfamily settings-doc`; a test checks it is
current. Every key below may appear in the project YAML; any other key is rejected with its
file and line. Relative paths are resolved against the project file's folder.

A list or a map given in the project file **replaces** its default; it is never merged with
it. To add one value to a default list (say `primary` to `access.barrier_classes`), write
the whole list, defaults included.

"""


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    found: list[type[BaseModel]] = []
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    for arg in typing.get_args(annotation):
        found.extend(_models_in(arg))
    return found


def _type_name(annotation: Any) -> str:
    text = repr(annotation) if not isinstance(annotation, type) else annotation.__name__
    text = (
        text.replace("typing.", "")
        .replace("pathlib.", "")
        .replace("datetime.", "")
        .replace("everyfamily.schema.", "")
    )
    # a settings model's module: everyfamily.config or one of its modules (config.access)
    return re.sub(r"everyfamily\.config\.(?:[a-z_]+\.)?", "", text)


def iter_settings(
    model: type[BaseModel] = Project, prefix: str = ""
) -> list[tuple[str, str, str, str]]:
    """(dotted key, type, default, description) for every setting, depth first."""
    rows: list[tuple[str, str, str, str]] = []
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        if field.is_required():
            default = "required"
        elif field.default_factory is not None:
            default = "(see below)" if _models_in(field.annotation) else "empty"
        else:
            default = repr(field.default)
        rows.append((key, _type_name(field.annotation), default, field.description or ""))
        for sub in _models_in(field.annotation):
            is_list = typing.get_origin(field.annotation) is list or "list[" in repr(
                field.annotation
            )
            rows.extend(
                iter_settings(sub, f"{key}[].") if is_list else iter_settings(sub, f"{key}.")
            )
    return rows


def render_settings_doc() -> str:
    lines = [_HEADER, "| setting | type | default | meaning |", "|---|---|---|---|"]
    for key, type_name, default, description in iter_settings():
        cell = description.replace("|", "\\|")
        type_cell = type_name.replace("|", "\\|")
        lines.append(f"| `{key}` | `{type_cell}` | {default} | {cell} |")
    return "\n".join(lines) + "\n"

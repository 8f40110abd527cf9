"""Reading the project file: bounded YAML with line numbers, paths resolved
against the file's folder, errors with the key, the file and the line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from everyfamily.config.base import _did_you_mean
from everyfamily.config.whole import Project
from everyfamily.errors import ConfigError


class _LineLoader(yaml.SafeLoader):
    """A safe loader that remembers the line of every mapping key and sequence item."""


#: Bounds on a project file's shape. A real project file has a few hundred values nested a
#: few levels deep; YAML aliases can make a few lines expand to billions of values ("billion
#: laughs") and deep nesting exhausts the parser's recursion, so both are refused, in one
#: line, before anything walks the expanded document.
MAX_YAML_NODES = 100_000
MAX_YAML_DEPTH = 40


def _load_with_lines(text: str) -> tuple[Any, dict[tuple[Any, ...], int]]:
    try:
        node = yaml.compose(text, Loader=_LineLoader)
    except RecursionError:
        raise ConfigError(
            f"the project file is nested too deeply (more than {MAX_YAML_DEPTH} levels)",
            hint="a project file needs only a few levels of settings",
        ) from None
    lines: dict[tuple[Any, ...], int] = {}
    visited = 0

    def walk(n: yaml.Node | None, path: tuple[Any, ...]) -> None:
        nonlocal visited
        if n is None:
            return
        visited += 1
        if visited > MAX_YAML_NODES:
            raise ConfigError(
                f"line {n.start_mark.line + 1}: the project file expands to more than "
                f"{MAX_YAML_NODES:,} values (YAML anchors and aliases repeated inside each "
                "other)",
                hint="write the settings out instead of nesting aliases",
            )
        if len(path) > MAX_YAML_DEPTH:
            raise ConfigError(
                f"line {n.start_mark.line + 1}: the project file is nested more than "
                f"{MAX_YAML_DEPTH} levels deep",
                hint="a project file needs only a few levels of settings",
            )
        lines.setdefault(path, n.start_mark.line + 1)
        if isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                key = (
                    yaml.safe_load(yaml.serialize(k))
                    if not isinstance(k, yaml.ScalarNode)
                    else k.value
                )
                lines[(*path, key)] = k.start_mark.line + 1
                walk(v, (*path, key))
        elif isinstance(n, yaml.SequenceNode):
            for i, item in enumerate(n.value):
                lines[(*path, i)] = item.start_mark.line + 1
                walk(item, (*path, i))

    walk(node, ())
    return yaml.load(text, Loader=_LineLoader), lines  # noqa: S506 - SafeLoader subclass


def read_project_yaml(text: str) -> Any:
    """A project file's YAML as plain data, read with :func:`load_project`'s bounds (depth,
    number of values: no alias bombs), for tools that rewrite a project file (``init``)."""
    return _load_with_lines(text)[0]


def _line_for(loc: tuple[Any, ...], lines: dict[tuple[Any, ...], int]) -> int | None:
    # pydantic reports int keys (age_columns) as ints; YAML keys may be strings or ints.
    for end in range(len(loc), -1, -1):
        prefix = loc[:end]
        for candidate in (prefix, tuple(str(p) for p in prefix)):
            if candidate in lines:
                return lines[candidate]
    return None


def _resolve_paths(obj: Any, base: Path) -> Any:
    """Make every relative ``path``/``*_path``/``key_file`` value absolute against ``base``."""
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if (
                isinstance(v, str)
                and isinstance(k, str)
                and (k in {"path", "key_file", "dir"} or k.endswith("_path"))
            ):
                p = Path(v).expanduser()
                out[k] = str(p if p.is_absolute() else (base / p))
            else:
                out[k] = _resolve_paths(v, base)
        return out
    if isinstance(obj, list):
        return [_resolve_paths(v, base) for v in obj]
    return obj


def parse_project(
    text: str, *, filename: str = "project.yaml", base_dir: Path | None = None
) -> Project:
    """Validate a project file's text. Raises :class:`ConfigError` naming file and line."""
    try:
        data, lines = _load_with_lines(text)
    except ConfigError as exc:
        raise ConfigError(f"{filename}, {exc.message}", hint=exc.hint) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise ConfigError(
            f"{filename}{where}: {problem}", hint="check indentation and quoting"
        ) from None
    if not isinstance(data, dict):
        raise ConfigError(f"{filename}: the project file must be a YAML mapping of settings")
    if base_dir is not None:
        data = _resolve_paths(data, base_dir)
    try:
        return Project.model_validate(data)
    except ValidationError as exc:
        # A misspelt key shows up twice: as unknown, and as the required key it was meant to be.
        # The unknown one is the useful message, so it goes first.
        errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
        err = errors[0]
        loc = tuple(err["loc"])
        detail = err["msg"].removeprefix("Value error, ")
        # A cross-field check says which key it is about ("columns: ..."): point at that key.
        head = detail.split(":", 1)[0]
        line = _line_for((*loc, head), lines) if head.isidentifier() else _line_for(loc, lines)
        where = f"{filename}, line {line}" if line else filename
        dotted = ".".join(str(p) for p in loc) or "(top level)"
        if err["type"] == "extra_forbidden":
            key = loc[-1]
            parent_model = _model_at(Project, loc[:-1])
            options = list(parent_model.model_fields) if parent_model else []
            msg = f"{where}: unknown setting {dotted!r}{_did_you_mean(str(key), options)}"
        elif err["type"] == "missing":
            msg = f"{where}: the setting {dotted!r} is required"
        else:
            msg = f"{where}: {dotted}: {detail}"
        more = len(exc.errors()) - 1
        raise ConfigError(
            msg,
            hint=(f"{more} more problem(s) after this one; " if more else "")
            + "see docs/settings.md",
        ) from None


def _model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The settings model that a pydantic error location points into (for suggestions)."""
    import typing

    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(str(part))
        if field is None:
            return None
        ann = field.annotation
        for _ in range(3):  # unwrap Optional[...] / list[...] / Annotated
            args = [a for a in typing.get_args(ann) if a is not type(None)]
            if isinstance(ann, type) and issubclass(ann, BaseModel):
                break
            ann = args[0] if args else ann
        current = ann
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def load_project(path: str | Path) -> Project:
    """Read and validate a project file; relative paths resolve against its folder."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{p}: project file not found", hint="give the path to your project YAML")
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{p}: the project file is not UTF-8 text") from None
    return parse_project(text, filename=str(p), base_dir=p.resolve().parent)

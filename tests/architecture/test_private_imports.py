"""No package imports another package's private names (issue 19).

A name starting with one underscore is private to its package: ``access`` may not import
``findings.detectors._fnum`` (it uses the public ``everyfamily.evidence.fnum``), and
``ingest`` may not reach into ``config._load_with_lines``. The package contracts themselves
(layers, no cycles, nothing imports web, cli or the demo) are import-linter's, in
pyproject.toml, run by ``lint-imports`` in scripts/test.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import everyfamily

SRC = Path(everyfamily.__file__).resolve().parent
PACKAGE = "everyfamily"


@dataclass(frozen=True)
class PrivateImport:
    file: str
    line: int
    importer: str
    name: str


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _top(module: str) -> str:
    """The top-level package (or module) of ``everyfamily.a.b``: ``a``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _module_name(root: Path, path: Path) -> str:
    rel = path.relative_to(root).with_suffix("")
    parts = [root.name, *rel.parts]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _absolute(module: str | None, level: int, importer: str, is_package: bool) -> str:
    """The absolute name of a (possibly relative) ``from`` import."""
    if level == 0:
        return module or ""
    base = importer.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, module] if module else base)


def private_imports(root: Path) -> list[PrivateImport]:
    """Every import, or attribute read through an imported module, of a private name of
    another top-level package under ``root`` (a package folder, e.g. src/everyfamily).

    Caught: ``from everyfamily.b.m import _x``, ``import everyfamily.b._m``, and
    ``from everyfamily.b import m`` followed by ``m._x``. Same-package use is allowed."""
    found: list[PrivateImport] = []
    package = root.name
    for path in sorted(root.rglob("*.py")):
        importer = _module_name(root, path)
        mine = _top(importer)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        foreign_modules: set[str] = set()  # local names bound to another package's module
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                source = _absolute(node.module, node.level, importer, path.name == "__init__.py")
                if source.split(".")[0] != package or _top(source) in ("", mine):
                    continue
                for alias in node.names:
                    if _is_private(alias.name) or any(_is_private(p) for p in source.split(".")):
                        found.append(
                            PrivateImport(
                                str(path), node.lineno, importer, f"{source}.{alias.name}"
                            )
                        )
                    else:
                        foreign_modules.add(alias.asname or alias.name)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    name = alias.name
                    if name.split(".")[0] != package or _top(name) in ("", mine):
                        continue
                    if any(_is_private(p) for p in name.split(".")):
                        found.append(PrivateImport(str(path), node.lineno, importer, name))
                    if alias.asname:
                        foreign_modules.add(alias.asname)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in foreign_modules
                and _is_private(node.attr)
            ):
                found.append(
                    PrivateImport(str(path), node.lineno, importer, f"{node.value.id}.{node.attr}")
                )
    return found


def test_no_package_imports_another_packages_private_names() -> None:
    found = private_imports(SRC)
    assert found == [], "\n".join(
        f"{f.file}:{f.line}: {f.importer} uses {f.name} (make it public in a shared module, "
        "e.g. everyfamily/evidence.py, or in its package)"
        for f in found
    )


def _write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_the_check_finds_each_kind_of_private_import(tmp_path: Path) -> None:
    """Planted: four crossings the check must report, and three uses it must allow."""
    root = tmp_path / "pkg"
    _write(root, "__init__.py", "")
    _write(root, "config.py", "def _load(): ...\ndef load(): ...\n")
    _write(root, "a/__init__.py", "")
    _write(root, "a/detectors.py", "def _fnum(x): ...\ndef fnum(x): ...\n")
    _write(root, "a/_hidden.py", "X = 1\n")
    _write(root, "a/engine.py", "from pkg.a import detectors\nY = detectors._fnum(1)\n")
    _write(root, "a/near.py", "from ._hidden import X\nfrom .detectors import _fnum\n")
    _write(
        root,
        "b/__init__.py",
        "from pkg.a.detectors import _fnum, fnum\n"  # 1: private name
        "from pkg.config import _load, load\n"  # 2: private name of a top-level module
        "from pkg.a import detectors as d\n"
        "Z = d._fnum(2)\n"  # 3: through the module
        "import pkg.a._hidden\n",  # 4: a private module
    )
    found = private_imports(root)
    assert sorted((f.importer, f.name, f.line) for f in found) == [
        ("pkg.b", "d._fnum", 4),
        ("pkg.b", "pkg.a._hidden", 5),
        ("pkg.b", "pkg.a.detectors._fnum", 1),
        ("pkg.b", "pkg.config._load", 2),
    ]

"""Guardrails: the package stays light to import, typed, and its settings are all documented."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import everyfamily
from everyfamily.settings_doc import iter_settings, render_settings_doc

ROOT = Path(__file__).resolve().parents[2]
HEAVY = (
    "splink",
    "geopandas",
    "pyspark",
    "fastapi",
    "duckdb",
    "pandas",
    "sklearn",
    "esda",
    "libpysal",
    "matplotlib",
    "sqlalchemy",
)


def test_importing_the_package_and_cli_pulls_in_no_heavy_dependency() -> None:
    code = (
        "import sys, everyfamily, everyfamily.cli, everyfamily.config, everyfamily.errors;"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_py_typed_marker_ships() -> None:
    assert (Path(everyfamily.__file__).parent / "py.typed").is_file()


def test_settings_reference_is_current() -> None:
    doc = ROOT / "docs" / "settings.md"
    assert doc.read_text(encoding="utf-8") == render_settings_doc(), (
        "docs/settings.md is stale: run `.venv/bin/everyfamily settings-doc --out docs/settings.md`"
    )


def test_every_setting_is_documented_with_a_description() -> None:
    rows = iter_settings()
    assert len(rows) > 60
    missing = [key for key, _t, _d, description in rows if not description.strip()]
    assert missing == []
    doc = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    for key, *_ in rows:
        assert f"`{key}`" in doc

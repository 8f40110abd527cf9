"""docs/code-lists.md is generated from the code lists the pipeline reads; it must be current,
and it must list every coded field and every value the built-in lists recognise."""

from __future__ import annotations

from pathlib import Path

from everyfamily.cli import main
from everyfamily.codes_doc import render_code_lists_doc
from everyfamily.ingest import codelists
from everyfamily.ingest.standardise import CODED_FIELDS
from everyfamily.schema import ETHNICITY_2021

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "code-lists.md"


def test_code_lists_reference_is_current() -> None:
    assert DOC.read_text(encoding="utf-8") == render_code_lists_doc(), (
        "docs/code-lists.md is stale: run `.venv/bin/everyfamily codes-doc --out "
        "docs/code-lists.md`"
    )


def test_every_coded_field_and_every_key_is_listed() -> None:
    doc = render_code_lists_doc()
    for field in CODED_FIELDS:
        assert f"| `{field}` |" in doc, field
    for key in ETHNICITY_2021:
        assert f"| `{key}` |" in doc, key
    for letter in codelists.NHS_ETHNIC_CATEGORY:
        assert f"| `{letter}` |" in doc, letter
    for value in (*codelists.MISSING_VALUES, *codelists.PLACEHOLDER_NAMES):
        assert f"`{value}`" in doc, value


def test_the_cli_writes_the_same_text(tmp_path: Path) -> None:
    out = tmp_path / "codes.md"
    assert main(["codes-doc", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == render_code_lists_doc()

"""Modules whose SQL is portable: every SQL string in them is either written once in a form
sqlglot transpiles (``engine.dialect.portable``) or spelled by the engine's dialect
(``quote_ident``, ``replace_table_as``, ``hash_expr``, ``round_expr``, ``in_list``,
``drop_table``, ``tables``). The check reads each module's string literals (not comments or
docstrings) and fails when DuckDB-only syntax comes back; the last tests prove it would."""

from __future__ import annotations

import ast
import itertools
import re
from pathlib import Path

import pytest

import everyfamily

SRC = Path(everyfamily.__file__).parent

#: Modules (relative to src/everyfamily) whose SQL runs on any engine.
PORTABLE_MODULES: tuple[str, ...] = (
    "access/engine_sums.py",
    "access/stage.py",
    "communities/engine_sums.py",
    "communities/stage.py",
    "ingest/store.py",
    "linkage/estimated_quality.py",
    "linkage/prepare.py",
    "linkage/stage.py",
    "privacy/reidentify.py",
    "reach/engine_sums.py",
    "reach/measure.py",
    "reach/stage.py",
    "report/stage.py",
    "services/stage.py",
    "since/stage.py",
    "stores.py",
    "web/outputs.py",
)

#: DuckDB-only spellings, each with what to use instead.
DUCKDB_ONLY: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (what, re.compile(pattern, re.I))
    for what, pattern in (
        ("CREATE OR REPLACE: use engine.replace_table_as", r"create\s+or\s+replace"),
        ("a :: cast: use CAST(x AS T)", r"::\s*[a-z]"),
        ("a DuckDB list type: use dialect.type_sql('string_list')", r"varchar\s*\[\]"),
        ("unnest of a bound list: use dialect.in_list", r"unnest\s*\(\s*\?"),
        ("DuckDB's hash(): use dialect.hash_expr", r"(?<![\w.])hash\s*\("),
        ("information_schema: use engine.tables / engine.columns", r"information_schema"),
        ("DROP TABLE: use engine.drop_table", r"\bdrop\s+table\b"),
        ("ATTACH: the engine opens stores", r"\battach\s+'"),
        ("INSERT ... BY NAME: use engine.write_table(mode='append')", r"\bby\s+name\b"),
        ("SELECT * EXCLUDE: name the columns", r"\*\s*exclude\b"),
        ("a .duckdb file: the engine owns the layout (engines/layout.py)", r"\.duckdb\b"),
    )
)

HAND_QUOTED = 'a hand-quoted identifier ("{name}"): use engine.dialect.quote_ident'


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the docstring nodes (module, classes, functions)."""
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                out.add(id(body[0].value))
    return out


def duckdb_only(source: str) -> list[str]:
    """Each DuckDB-only spelling in the string literals of ``source`` (a module's text), as
    'line N: what to use instead'."""
    tree = ast.parse(source)
    skip = _docstrings(tree)
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            parts = node.values
            for a, b in itertools.pairwise(parts):
                if (
                    isinstance(a, ast.Constant)
                    and isinstance(a.value, str)
                    and a.value.endswith('"')
                    and isinstance(b, ast.FormattedValue)
                ):
                    found.append(f"line {node.lineno}: {HAND_QUOTED}")
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            for what, pattern in DUCKDB_ONLY:
                if pattern.search(node.value):
                    found.append(f"line {node.lineno}: {what}")
    return found


@pytest.mark.parametrize("module", PORTABLE_MODULES)
def test_portable_modules_use_no_duckdb_only_sql(module: str) -> None:
    path = SRC / module
    assert duckdb_only(path.read_text(encoding="utf-8")) == [], module


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ('engine.execute(f"CREATE OR REPLACE TABLE {t} AS SELECT 1")', "CREATE OR REPLACE"),
        ('engine.query("SELECT x FROM t WHERE x IN (SELECT unnest(?::VARCHAR[]))")', "unnest"),
        ('sql = "ORDER BY hash(a, b, ?)"', "hash()"),
        ('sql = "SELECT table_name FROM information_schema.tables"', "information_schema"),
        ("engine.execute(f'DROP TABLE IF EXISTS {name}')", "DROP TABLE"),
        ("cols = f'\"{c}\"'", "hand-quoted"),
        ("sql = f'SELECT \"{c}\" AS v FROM t'", "hand-quoted"),
        ('sql = "SELECT * EXCLUDE (a) FROM t"', "EXCLUDE"),
        ('sql = "INSERT INTO t BY NAME SELECT * FROM s"', "BY NAME"),
        ('path = out / "restricted/identifiable.duckdb"', ".duckdb"),
        ('sql = "CREATE TABLE t (f VARCHAR[])"', "list type"),
    ],
)
def test_the_check_finds_duckdb_only_sql(snippet: str, expected: str) -> None:
    found = duckdb_only(snippet)
    assert any(expected in f for f in found), found


def test_the_check_leaves_portable_sql_comments_and_docstrings_alone() -> None:
    source = '''
"""Module docstring: CREATE OR REPLACE TABLE and hash() are named here only."""
# a comment: DROP TABLE, information_schema
def f(engine, name):
    """Docstring: VARCHAR[]."""
    q = engine.dialect.quote_ident
    engine.replace_table_as(name, f"SELECT {q('a')} FROM {q(name)} WHERE a = ?")
    key = hash(name)  # Python's builtin, not SQL
    return engine.query(engine.dialect.portable("SELECT CAST(a AS BIGINT) FROM t AS s"))
'''
    assert duckdb_only(source) == []

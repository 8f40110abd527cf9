"""scripts/audit never reads "skipped everything" as "no known vulnerabilities"."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "audit_report.py"
spec = importlib.util.spec_from_file_location("audit_report", SCRIPT)
assert spec is not None and spec.loader is not None
audit_report = importlib.util.module_from_spec(spec)
spec.loader.exec_module(audit_report)


def test_all_skipped_is_not_checked() -> None:
    # what pip-audit writes on these machines: every lookup failed, yet it says "no known
    # vulnerabilities found"
    report = {
        "dependencies": [
            {"name": "duckdb", "skip_reason": "Dependency not found on PyPI: duckdb (1.5.5)"},
            {"name": "splink", "skip_reason": "Dependency not found on PyPI: splink (5.0.0)"},
        ]
    }
    code, lines = audit_report.summarise(report)
    assert code == 3
    assert lines[0] == "scripts/audit: 2 locked packages; 0 checked, 2 not"
    assert "NOT CHECKED: 2 packages" in lines[1] and "not a clean result" in lines[1]


def test_vulnerable_and_clean_results() -> None:
    vulnerable = {
        "dependencies": [
            {"name": "jinja2", "version": "3.0.0", "vulns": [{"id": "GHSA-xxxx"}]},
            {"name": "duckdb", "version": "1.5.5", "vulns": []},
        ]
    }
    code, lines = audit_report.summarise(vulnerable)
    assert code == 1 and "VULNERABLE: jinja2 3.0.0: GHSA-xxxx" in lines[1]
    clean = {"dependencies": [{"name": "duckdb", "version": "1.5.5", "vulns": []}]}
    code, lines = audit_report.summarise(clean)
    assert code == 0 and lines[-1].endswith("no known vulnerabilities")

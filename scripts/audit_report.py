"""Summarise a pip-audit JSON report honestly (used by scripts/audit).

pip-audit reports "No known vulnerabilities found" when every package was skipped because
the vulnerability service could not be reached; here a skipped package counts as NOT
CHECKED, never as clean. Exit codes: 0 all checked and clean, 1 vulnerabilities, 3 some
packages not checked.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def summarise(report: dict[str, Any]) -> tuple[int, list[str]]:
    deps = report.get("dependencies", [])
    skipped = [d for d in deps if "skip_reason" in d]
    vulnerable = [d for d in deps if d.get("vulns")]
    checked = len(deps) - len(skipped)
    lines = [f"scripts/audit: {len(deps)} locked packages; {checked} checked, {len(skipped)} not"]
    for d in vulnerable:
        ids = ", ".join(v.get("id", "?") for v in d["vulns"])
        lines.append(f"  VULNERABLE: {d['name']} {d.get('version', '')}: {ids}")
    if skipped:
        lines.append(
            f"  NOT CHECKED: {len(skipped)} packages could not be audited (no vulnerability "
            "database answered); this is not a clean result. e.g. "
            + "; ".join(d["skip_reason"] for d in skipped[:2])
        )
    if vulnerable:
        return 1, lines
    if skipped:
        return 3, lines
    lines.append("  all checked: no known vulnerabilities")
    return 0, lines


def main(argv: list[str]) -> int:
    code, lines = summarise(json.loads(Path(argv[0]).read_text(encoding="utf-8")))
    print("\n".join(lines))
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

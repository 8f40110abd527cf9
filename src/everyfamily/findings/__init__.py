"""Findings: ranked, evidenced, plain-English things an analyst would raise from reach."""

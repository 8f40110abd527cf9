"""Test and evaluation helpers that need development dependencies (not used at run time).

``names``: names from a source the demo does not generate from (mimesis), and the ways real
systems mangle them, for evaluating the name-origin model and for linkage tests.
"""

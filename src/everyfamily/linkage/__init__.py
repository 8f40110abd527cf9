"""Record linkage: records -> children (person_id) -> families (family_id), with Splink.

Modules: ``prepare`` (collapse identical rows), ``model`` (Splink comparisons, blocking,
unsupervised training), ``families`` (the household rule), ``stable_ids`` (ids carried across
runs), ``quality`` (measures against a known truth, for tests and the demo),
``estimated_quality`` (the same measures estimated from the model, no truth), ``stage`` (the
pipeline stage and its outputs). This package touches person-level rows; it never logs them.
"""

from everyfamily.linkage.quality import LinkageQuality, evaluate_against_truth

__all__ = ["LinkageQuality", "evaluate_against_truth"]

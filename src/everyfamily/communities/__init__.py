"""Emerging communities: name origin (area level only), signals per child, detection over time.

Modules: ``groups`` (origin groups and lookups), ``nameorigin`` (the shipped classifier),
``training`` (rebuilds and evaluates it; never imported at run time), ``adjust``
(misclassification-adjusted area counts), ``signals`` (one group per linked child),
``detect`` (tests and findings), ``stage`` (the pipeline stage).
This package reads person-level rows inside the stage only; it never logs them.
"""

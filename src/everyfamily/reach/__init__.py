"""Reach: who the early-years services reach, by area, group and service.

``statistics`` holds the pure formulas (Wilson, funnel limits, empirical Bayes), ``children``
builds the person-level child table, ``measure`` the aggregate reach table, and ``stage`` is
the pipeline's measure stage (the only module here that reads or writes files).
"""

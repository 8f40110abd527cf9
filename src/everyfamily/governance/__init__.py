"""Governance artefacts generated from the project file: the data-flow register and a DPIA
draft for the council's data-protection officer (``everyfamily governance``)."""

from everyfamily.governance.register import dpia_draft, register_rows, write_governance

__all__ = ["dpia_draft", "register_rows", "write_governance"]

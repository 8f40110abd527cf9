"""Planning: better services at lower cost (issue 17). A pure core: a costed service model
(``costs``), what-if scenarios evaluated child by child on the walking-time matrix
(``scenarios``), site location with PySAL spopt and PuLP (``optimise``) and a ranked
outreach plan (``outreach``). Arrays and frames in, frozen dataclasses out; no store, no
files. The stage, CLI command and dashboard page that use it come next (docs/planning.md)."""

"""Access and barriers: travel times from families' homes to sites over a street network,
reach by travel-time band, capacity-aware access (two-step floating catchment area), a model
of expected reach, and roads or railways across which reach drops (``access_barrier``)."""

"""Use-cases: load inputs from the store, call the core, save results with their lineage."""

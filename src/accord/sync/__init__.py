"""The sync engine: plan, passes, per-record decisions, coupling, watermarks."""

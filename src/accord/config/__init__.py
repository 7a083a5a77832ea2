"""Settings and the typed integration spec (templates) with its loader."""

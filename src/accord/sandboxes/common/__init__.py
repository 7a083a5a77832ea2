"""Building blocks shared by every sandbox: store, OData query, identity, faults, server."""

"""The document engine: document mappings (kind: document) run as header-then-lines transfers
under one recorded intent (ADR 0021)."""

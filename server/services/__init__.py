"""Use cases: each owns its transaction, writes the audit trail and raises domain errors."""

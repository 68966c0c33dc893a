"""Database layer: engine/session helpers, ORM base and the embedded PostgreSQL cluster."""

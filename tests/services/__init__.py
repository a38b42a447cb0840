"""Service-level tests: every flow of the casusoverleg on SQLite and on PostgreSQL."""

"""Alembic migrations of the team workspace database (run by `riskapp.store.engine.migrate`)."""

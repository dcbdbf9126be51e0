"""Alembic migrations for `entitle.store` (configured in code by `entitle.store.db`)."""

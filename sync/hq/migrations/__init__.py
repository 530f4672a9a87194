"""Alembic migrations of HQ's schema (run by `HqDatabase.upgrade()`, on SQLite and PostgreSQL alike)."""

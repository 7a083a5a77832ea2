"""Accord's own state: SQLAlchemy tables, repositories and Alembic migrations."""

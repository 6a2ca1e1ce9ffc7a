"""Persistence: SQLAlchemy Core tables, Alembic migrations, repositories; SQLite or PostgreSQL."""

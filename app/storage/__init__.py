"""Storage: the SQLModel tables, the Alembic migrations and opening the database (no Qt)."""

"""Persistence: accounts, API keys and the catalog entries saved through the API (SQLAlchemy + Alembic)."""

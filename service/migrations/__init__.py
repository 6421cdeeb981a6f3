"""Alembic migrations of the service schema (packaged so installs can migrate)."""

"""Celery tasks: thin, idempotent interfaces that call the domain services (DESIGN.md §2)."""

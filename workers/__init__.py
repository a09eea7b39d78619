"""Celery tasks: thin, idempotent calls into the domain services (docs/architecture.md §3.8)."""

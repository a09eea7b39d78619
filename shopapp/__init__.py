"""The Django project: Slipstream's only HTTP boundary.

Importing the Celery app here makes `@shared_task` bind to it in every process
(Celery's Django recipe).
"""

from shopapp.celery import app as celery_app

__all__ = ["celery_app"]

"""The Celery app. Configuration lives in settings.py under the CELERY_ namespace."""

import os
from pathlib import Path
from typing import Any

from celery import Celery
from celery.beat import PersistentScheduler

from shopapp.redis import redis_url

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopapp.settings")

app = Celery("slipstream")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["workers"], related_name="tasks")
# Modules of workers/ besides tasks.py that define tasks.
app.conf.include = ["workers.webhooks"]


@app.on_after_configure.connect
def _broker(sender: Celery, source: Any, **kwargs: Any) -> None:
    """Without a REDIS_URL (development) the broker is the project's own Redis, resolved when
    Celery first reads its configuration (a worker starting, the first task sent), not when the
    settings load."""
    if not source.broker_url:
        source.broker_url = redis_url()


class VarDirScheduler(PersistentScheduler):
    """Celery beat's own scheduler, which first makes the folder of its schedule file (under var/,
    which the settings do not create)."""

    schedule_filename: str  # set by PersistentScheduler.__init__ (celery-types leaves it out)

    def setup_schedule(self) -> None:
        Path(self.schedule_filename).parent.mkdir(parents=True, exist_ok=True)
        super().setup_schedule()

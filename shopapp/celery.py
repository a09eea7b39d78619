"""The Celery app. Configuration lives in settings.py under the CELERY_ namespace."""

import os
from pathlib import Path
from typing import Any

from celery import Celery
from celery.beat import PersistentScheduler

from shopapp.redis import redis_url

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopapp.settings")
# A worker's prefork children each run one task at a time; torch's default of one intra-op thread
# per core would have every child contend for every core (measured: a recommend task for a
# SASRec shop took 0.1-0.5 s instead of milliseconds). Read by torch when a child first imports
# it, which is after this module has loaded; an operator's own setting wins.
os.environ.setdefault("OMP_NUM_THREADS", "1")

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

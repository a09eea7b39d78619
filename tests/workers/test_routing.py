from __future__ import annotations

from shopapp import celery_app
from workers.tasks import popular_refresh_all, recommendations_refresh, tracker_events_ingest


def _queue(task_name: str) -> str:
    route = celery_app.amqp.router.route({}, task_name)
    return str(route["queue"].name)


def test_each_stage_has_its_own_queue() -> None:
    assert _queue(tracker_events_ingest.name) == "ingest"
    assert _queue(recommendations_refresh.name) == "recommend"
    assert _queue(popular_refresh_all.name) == "recommend"


def test_tasks_survive_a_worker_crash() -> None:
    # acks_late + reject_on_worker_lost: a task whose worker dies is delivered again, not lost.
    assert (tracker_events_ingest.acks_late, tracker_events_ingest.reject_on_worker_lost) == (
        True,
        True,
    )
    assert (celery_app.conf.task_acks_late, celery_app.conf.task_reject_on_worker_lost) == (
        True,
        True,
    )


def test_every_beat_job_names_a_registered_task() -> None:
    from django.conf import settings

    celery_app.loader.import_default_modules()
    for job in settings.CELERY_BEAT_SCHEDULE.values():
        assert job["task"] in celery_app.tasks, job


def test_webhooks_and_token_refresh_have_their_queues() -> None:
    from workers.tasks import tokens_refresh
    from workers.webhooks import webhook_process

    assert _queue(webhook_process.name) == "ingest"
    assert _queue(tokens_refresh.name) == "publish"

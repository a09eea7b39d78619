from __future__ import annotations

from shopapp import celery_app
from workers.tasks import ingest_events, refresh_popular_lists, refresh_recommendations


def _queue(task_name: str) -> str:
    route = celery_app.amqp.router.route({}, task_name)
    return str(route["queue"].name)


def test_each_stage_has_its_own_queue() -> None:
    assert _queue(ingest_events.name) == "ingest"
    assert _queue(refresh_recommendations.name) == "recommend"
    assert _queue(refresh_popular_lists.name) == "recommend"


def test_tasks_survive_a_worker_crash() -> None:
    # acks_late + reject_on_worker_lost: a task whose worker dies is delivered again, not lost.
    assert (ingest_events.acks_late, ingest_events.reject_on_worker_lost) == (True, True)
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
    from workers.tasks import refresh_tokens
    from workers.webhooks import handle_webhook

    assert _queue(handle_webhook.name) == "ingest"
    assert _queue(refresh_tokens.name) == "publish"

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

"""Freshness: from the collector accepting a product view to that shopper's recommendations being
rewritten in Redis, at sustained rates, with web, consumer, worker and Redis on this one box.

    .venv/bin/python -m bench.freshness        (part of `make bench`)

gunicorn (2 sync workers), the event-log consumer and a Celery worker (2 processes) serve two
shops in the same run (bench/freshness_shops.py): the demo's synthetic store served by its
popularity model (the baseline), and a 25,000-product store served by a SASRec champion trained
for one short epoch (latency does not depend on what it learned). A load generator posts one
product view per request (as browsers do) at each target rate for STEP_S seconds, to each shop
in turn at every rate (the queues drained between steps), so drift in the machine's load falls on
both alike; every shopper views a product every few seconds, so each rewrite of their list is
attributable to one event. Rewrites are timed by Redis keyspace notifications (no change to the
code under test). Target: p99 <= 100 ms at 200 events/s with SASRec serving. Prints both shops
side by side and each one's knee; writes bench/results/freshness.json. BENCH_RATES
(comma-separated) limits the rates tried.
"""

from __future__ import annotations

import bisect
import contextlib
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

from bench.common import bench_env, cpu_seconds, scratch_var, web_start
from shopapp.demo.tp2 import product_event
from shopapp.events.keys import STREAM
from shopapp.processes import CELERY_WORKER_READY, CONSUMER_READY, Processes
from shopapp.recs.keys import RECS

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
PORT = int(os.environ.get("BENCH_PORT", "8918"))
RATES = [int(r) for r in os.environ.get("BENCH_RATES", "50,100,200,400,600").split(",")]
STEP_S, SENDERS, USER_PERIOD_S = 10.0, 6, 4.0
WARMUP_RATE, WARMUP_S = 20, 5.0
DRAIN_S = 30.0
READY_TIMEOUT_S = 120.0
TARGET_RATE, TARGET_P99_MS = 200, 100.0
MODELS = ("popularity", "sasrec")  # baseline first: the column order of the table


def _env(var: Path) -> dict[str, str]:
    return bench_env(var, PYTHONUNBUFFERED="1")


def _prepare(env: dict[str, str]) -> dict[str, Any]:
    """Migrate and prepare both shops; returns the Redis they use and, per model kind, the
    shop's domain, tracking key, product ids and what serves it."""
    code = (
        "import django, json; django.setup()\n"
        "from django.core.management import call_command; call_command('migrate', verbosity=0)\n"
        "from bench.freshness_shops import shops_prepare\n"
        "from shopapp.redis import redis_url\n"
        "print(json.dumps({'redis': redis_url(), 'shops': shops_prepare()}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=REPO, check=True, capture_output=True, text=True
    )
    prepared = dict(json.loads(out.stdout.strip().splitlines()[-1]))
    import redis  # a shared Redis may hold another run's backlog: it would be measured too

    redis.Redis.from_url(prepared["redis"]).delete(STREAM, "ingest", "recommend")
    return prepared


def _start(processes: Processes, env: dict[str, str], logs: Path) -> None:
    """Start web, consumer and worker together, and wait until each has said it is ready."""
    web_start(processes, port=PORT, env=env, log_dir=logs)
    processes.start(
        name="consumer",
        command=[sys.executable, "-m", "workers.consumer"],
        env=env,
        log_dir=logs,
        ready=CONSUMER_READY,
        cwd=REPO,
    )
    worker = [sys.executable, "-m", "celery", "-A", "shopapp", "worker", "-Q", "ingest,recommend"]
    # INFO: the level Celery logs its readiness line at.
    worker += ["-c", "2", "--without-gossip", "--without-mingle", "--loglevel", "INFO"]
    processes.start(
        name="worker", command=worker, env=env, log_dir=logs, ready=CELERY_WORKER_READY, cwd=REPO
    )
    processes.wait_ready(timeout=READY_TIMEOUT_S)


class Watcher(threading.Thread):
    """Times every rewrite of a shopper's list through Redis keyspace notifications."""

    def __init__(self, redis_url: str, shops: list[str]) -> None:
        super().__init__(daemon=True)
        import redis

        self.r = redis.Redis.from_url(redis_url, decode_responses=True)
        self.previous = str(self.r.config_get("notify-keyspace-events")["notify-keyspace-events"])
        self.r.config_set("notify-keyspace-events", "K$")
        self.db = self.r.connection_pool.connection_kwargs.get("db", 0)
        self.writes: dict[str, list[float]] = defaultdict(list)
        self.pubsub = self.r.pubsub()
        # Shoppers' ids are unique to a shop and a step (_send's tag): one table serves both.
        self.pubsub.psubscribe(
            *(f"__keyspace@{self.db}__:{RECS.pattern(shop=shop)}" for shop in shops)
        )

    def run(self) -> None:
        import redis

        with contextlib.suppress(redis.ConnectionError):  # the bench stopped Redis at the end
            self._listen()

    def _listen(self) -> None:
        for message in self.pubsub.listen():
            if message["type"] == "pmessage" and message["data"] == "set":
                user = str(message["channel"]).rsplit(":", 1)[1]
                self.writes[user].append(time.time())

    def close(self) -> None:
        self.r.config_set("notify-keyspace-events", self.previous)


def _send(
    shop: dict[str, Any],
    rate: float,
    tag: str,
    sent: list[tuple[str, float]],
    seconds: float = STEP_S,
) -> None:
    """Post one product view per request at `rate` events/s, spread over SENDERS threads."""
    n_users = max(SENDERS, int(rate * USER_PERIOD_S))
    # Visitor ids are UUIDs (the collector refuses anything else).
    users = [str(uuid.uuid5(uuid.NAMESPACE_URL, f"{tag}-{n}")) for n in range(n_users)]
    lock = threading.Lock()

    def sender(offset: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
        rng = random.Random(offset)
        interval = SENDERS / rate
        start = time.monotonic() + offset * interval / SENDERS
        for n in range(offset, int(rate * seconds), SENDERS):
            time.sleep(max(0.0, start + (n // SENDERS) * interval - time.monotonic()))
            user = users[n % n_users]
            body = json.dumps(
                {
                    "schema": "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4",
                    "data": [_view(shop["shop"], user, rng.choice(shop["items"]))],
                }
            )
            conn.request(
                "POST",
                f"/t/{shop['key']}/com.snowplowanalytics.snowplow/tp2",
                body,
                {"Content-Type": "application/json"},
            )
            response = conn.getresponse()
            response.read()
            if response.status == 200:
                with lock:
                    sent.append((user, time.time()))

    # Daemons: a Ctrl-C ends the run without waiting for the rest of the step's requests.
    threads = [threading.Thread(target=sender, args=(i,), daemon=True) for i in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _view(shop: str, user: str, item: str) -> dict[str, str]:
    return product_event(shop=shop, item=item, duid=user, dtm=int(time.time() * 1000))


def _freshness(
    sent: list[tuple[str, float]], writes: dict[str, list[float]]
) -> tuple[list[float], int]:
    """Per event: ms until the first rewrite of that shopper's list after it was accepted."""
    latencies, missing = [], 0
    for user, accepted in sent:
        times = writes.get(user, [])
        i = bisect.bisect_left(times, accepted)
        if i < len(times) and times[i] - accepted < USER_PERIOD_S:
            latencies.append((times[i] - accepted) * 1000)
        else:
            missing += 1
    return latencies, missing


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def main() -> None:
    rows: dict[str, list[dict[str, Any]]] = {kind: [] for kind in MODELS}
    # Leaving the blocks stops web, consumer and worker, then the Redis started under the
    # scratch var dir.
    with scratch_var(prefix="slipstream-fresh-") as var, Processes() as processes:
        env = _env(var)
        prepared = _prepare(env)
        shops = prepared["shops"]
        for kind in MODELS:
            print(
                f"{kind}: {shops[kind]['shop']}, {len(shops[kind]['items'])} products, "
                f"serving {shops[kind]['serving']}",
                flush=True,
            )
        training = shops["sasrec"]["training"]
        print(f"sasrec training (for latency, not quality): {training}", flush=True)
        env["REDIS_URL"] = prepared["redis"]  # the one _prepare used (maybe started under var/)
        _start(processes, env, var)
        watcher = Watcher(prepared["redis"], [shops[kind]["shop"] for kind in MODELS])
        watcher.start()
        try:
            # Unmeasured warm-up: each process's first request imports mlflow and loads a model.
            for kind in MODELS:
                _send(shops[kind], WARMUP_RATE, f"warm-{kind}", [], seconds=WARMUP_S)
            time.sleep(USER_PERIOD_S)
            _drain(watcher.r)
            for rate in RATES:
                for kind in MODELS:
                    before = cpu_seconds(processes)
                    row = _step(shops[kind], rate, f"{kind}-r{rate}", watcher)
                    after = cpu_seconds(processes)
                    # Where the machine's time went in the step (sending, waiting, draining).
                    row["cpu_s"] = {k: round(after[k] - before[k], 2) for k in after}
                    rows[kind].append(row)
                print(_line(rate, [rows[kind][-1] for kind in MODELS]), flush=True)
                for kind in MODELS:
                    print(f"{'':>8}   {kind} CPU s: {rows[kind][-1]['cpu_s']}", flush=True)
        finally:
            watcher.close()
    _report(rows, {kind: {k: v for k, v in shops[kind].items() if k != "items"} for kind in MODELS})


def _step(shop: dict[str, Any], rate: int, tag: str, watcher: Watcher) -> dict[str, Any]:
    """One shop at one rate for STEP_S seconds: what was sent, and how fresh it came back."""
    sent: list[tuple[str, float]] = []
    started = time.monotonic()
    _send(shop, rate, tag, sent)
    achieved = len(sent) / (time.monotonic() - started)
    time.sleep(USER_PERIOD_S)  # let the last events' rewrites land
    latencies, missing = _freshness(sent, watcher.writes)
    # The shops share the worker: a step that left a backlog would be charged to the next one.
    drain_s = _drain(watcher.r)
    return {
        "target_events_s": rate,
        "achieved_events_s": achieved,
        "events": len(sent),
        "missing": missing,
        "p50_ms": _pct(latencies, 0.50),
        "p95_ms": _pct(latencies, 0.95),
        "p99_ms": _pct(latencies, 0.99),
        "drain_s": drain_s,
    }


def _drain(r: Any) -> float:
    """Seconds until the ingest and recommend queues are empty and the worker holds no task it
    has taken from them (kombu's "unacked" hash), at most DRAIN_S."""
    started = time.monotonic()
    while time.monotonic() - started < DRAIN_S and (
        r.llen("ingest") or r.llen("recommend") or r.hlen("unacked")
    ):
        time.sleep(0.2)
    return round(time.monotonic() - started, 1)


def _fails(row: dict[str, Any]) -> bool:
    return bool(
        row["p99_ms"] > TARGET_P99_MS
        or row["achieved_events_s"] < 0.95 * row["target_events_s"]
        or row["missing"] > 0.01 * row["events"]
    )


def _line(rate: int, rows: list[dict[str, Any]]) -> str:
    cells = "".join(
        f" | {r['achieved_events_s']:>8.0f} {r['missing']:>7} {r['p50_ms']:>7.1f} "
        f"{r['p95_ms']:>7.1f} {r['p99_ms']:>7.1f}"
        for r in rows
    )
    return f"{rate:>8}{cells}"


def _report(rows: dict[str, list[dict[str, Any]]], shops: dict[str, dict[str, Any]]) -> None:
    columns = f" | {'achieved':>8} {'missing':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}"
    print(f"{'':>8}" + "".join(f" | {kind + ' serving':<41}" for kind in MODELS))
    print(f"{'target/s':>8}" + columns * len(MODELS))
    for n, rate in enumerate(RATES):
        print(_line(rate, [rows[kind][n] for kind in MODELS]))
    result: dict[str, Any] = {"target_p99_ms": TARGET_P99_MS, "target_rate": TARGET_RATE}
    for kind in MODELS:
        knee = next((r["target_events_s"] for r in rows[kind] if _fails(r)), None)
        held = [r["target_events_s"] for r in rows[kind] if not _fails(r)]
        result[kind] = {**shops[kind], "rows": rows[kind], "knee": knee}
        print(
            f"{kind} knee: {'beyond the rates tried' if knee is None else f'{knee} events/s'}"
            f" (highest rate within target: {max(held) if held else 'none'})"
        )
    print(
        f"knee: the first rate with p99 > {TARGET_P99_MS:.0f} ms, < 95% of the target sent, or "
        "> 1% never refreshed"
    )
    for kind in MODELS:
        at = next((r for r in rows[kind] if r["target_events_s"] == TARGET_RATE), None)
        if at is not None:
            verdict = "meets" if at["p99_ms"] <= TARGET_P99_MS else "MISSES"
            print(
                f"{kind}: p99 at {TARGET_RATE} events/s {at['p99_ms']:.0f} ms ({verdict} the "
                f"<= {TARGET_P99_MS:.0f} ms target{'' if kind == 'sasrec' else ', baseline'})"
            )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "freshness.json").write_text(json.dumps(result, indent=2))
    medians = {k: statistics.median(r["p50_ms"] for r in rows[k]) for k in MODELS}
    print("median of p50s: " + ", ".join(f"{k} {v:.1f} ms" for k, v in medians.items()))


if __name__ == "__main__":
    main()

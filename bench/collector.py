"""Collector throughput and latency under gunicorn, beside a bare baseline on the same server.

    .venv/bin/python -m bench.collector        (part of `make bench`, which installs wrk)

gunicorn (2 sync workers, as docs/operations.md deploys it) serves both the real collector
(`/t/<key>/com.snowplowanalytics.snowplow/tp2`: identify the shop, check the envelope, count the
rate limits and append to the event log in one Lua call) and a baseline view that only parses the
JSON and LPUSHes it to Redis. No consumer runs: the figure is the web tier's alone. wrk posts the
same 10-event tp2 body to each, alternating, 3 rounds of 10 s each. Target: the collector keeps
>= 60% of the baseline's throughput. Prints a table; writes bench/results/collector.json.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from bench.common import bench_env, scratch_var, web_start
from shopapp.demo.tp2 import payload, product_event
from shopapp.events.keys import STREAM
from shopapp.processes import Processes

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
SHOP = "bench.myshopify.com"
PORT = int(os.environ.get("BENCH_PORT", "8917"))
ROUNDS, SECONDS, CONNECTIONS = 3, 10, 8
READY_TIMEOUT_S = 120.0
WRK_LINE = re.compile(r"Requests/sec:\s+([\d.]+)")
LATENCY = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)


def _env(var: Path) -> dict[str, str]:
    return bench_env(var, DJANGO_ROOT_URLCONF="bench.urls")


def _prepare(env: dict[str, str]) -> str:
    """Migrate a scratch database and install the shop; returns its tracking key."""
    code = (
        "import django; django.setup()\n"
        "from django.core.management import call_command; call_command('migrate', verbosity=0)\n"
        "from shopapp.shops.services import shop_install\n"
        f"print(shop_install(domain={SHOP!r}).tracking_key)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=REPO, check=True, capture_output=True, text=True
    )
    return out.stdout.strip().splitlines()[-1]


def _body() -> str:
    events = [
        product_event(
            shop=SHOP,
            item=str(1000 + n),
            duid=str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench-{n % 3}")),
        )
        for n in range(10)
    ]
    return payload(*events).decode()


def _wrk(url: str, script: Path) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--latency", "-s", str(script), url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"non-2xx answers from {url}:\n{out}")
    unit = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    lat = {f"p{p}_ms": float(v) * unit[u] for p, v, u in LATENCY.findall(out)}
    match = WRK_LINE.search(out)
    assert match, out
    return {"req_s": float(match.group(1)), **lat}


def main() -> None:
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: `make bench` installs it (or apt-get install wrk)")
    # Leaving the blocks stops gunicorn, then the Redis started under the scratch var dir.
    with scratch_var() as var, Processes() as processes:
        env = _env(var)
        key = _prepare(env)
        script = var / "post.lua"
        script.write_text(
            'wrk.method = "POST"\n'
            f"wrk.body = {json.dumps(_body())}\n"
            'wrk.headers["Content-Type"] = "application/json"\n'
            f'wrk.headers["Origin"] = "https://{SHOP}"\n'
        )
        web_start(processes, port=PORT, env=env, log_dir=var)
        try:
            processes.wait_ready(timeout=READY_TIMEOUT_S)
            results = _rounds(key, script)
        finally:
            _clean(env)
    _report(results)


def _rounds(key: str, script: Path) -> dict[str, list[dict[str, float]]]:
    base = f"http://127.0.0.1:{PORT}"
    urls = {
        "collector": f"{base}/t/{key}/com.snowplowanalytics.snowplow/tp2",
        "baseline": f"{base}/bench/baseline",
    }
    # Warm-up: gunicorn's workers load the app while the first requests wait in the backlog.
    for url in urls.values():
        subprocess.run(
            ["wrk", "-t1", "-c2", "-d2s", "-s", str(script), url], check=True, capture_output=True
        )
    results: dict[str, list[dict[str, float]]] = {name: [] for name in urls}
    for _ in range(ROUNDS):
        for name, url in urls.items():
            results[name].append(_wrk(url, script))
    return results


def _clean(env: dict[str, str]) -> None:
    """Drop what the load left in Redis (it matters when REDIS_URL names a shared one): the
    unconsumed event log and the baseline's list."""
    code = (
        "import django; django.setup()\nfrom shopapp.redis import get_redis\n"
        f"get_redis().delete({STREAM!r}, 'bench:baseline')"
    )
    subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO, check=True)


def _report(results: dict[str, list[dict[str, float]]]) -> None:
    summary: dict[str, dict[str, Any]] = {}
    for name, runs in results.items():
        summary[name] = {
            "events_s_median": statistics.median(r["req_s"] * 10 for r in runs),
            "events_s_min": min(r["req_s"] * 10 for r in runs),
            "p50_ms_median": statistics.median(r["p50_ms"] for r in runs),
            "p99_ms_median": statistics.median(r["p99_ms"] for r in runs),
            "runs": runs,
        }
    ratio = summary["collector"]["events_s_median"] / summary["baseline"]["events_s_median"]
    print(f"{'endpoint':10} {'events/s (median)':>18} {'min':>8} {'p50 ms':>7} {'p99 ms':>7}")
    for name, s in summary.items():
        print(
            f"{name:10} {s['events_s_median']:18.0f} {s['events_s_min']:8.0f} "
            f"{s['p50_ms_median']:7.2f} {s['p99_ms_median']:7.2f}"
        )
    verdict = "meets" if ratio >= 0.6 else "MISSES"
    print(
        f"collector / baseline throughput: {ratio:.2f} ({verdict} the >= 0.60 target); "
        f"{ROUNDS} alternating rounds of {SECONDS} s, wrk -t1 -c{CONNECTIONS}, 10 events a request"
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "collector.json").write_text(json.dumps({**summary, "ratio": ratio}, indent=2))


if __name__ == "__main__":
    main()

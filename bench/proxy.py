"""App-proxy serving time at a steady request rate, beside a constant-JSON baseline in the same run.

    .venv/bin/python -m bench.proxy        (part of `make bench`)

gunicorn (2 sync workers, as docs/operations.md deploys it) serves the real endpoint
`/proxy/recommendations` (verify Shopify's signature and timestamp, read the shopper's list, the
co-visitation of the page's product, trending and popular from Redis in one round trip, join the
catalogue in one query, keep what can be shown) and a baseline view returning a constant JSON list.
An open-loop generator sends 200 requests/s to each in turn (3 rounds of 10 s), half from shoppers
with a list, half from newcomers, each on a product page. Server time is Django's own, read from the
`Server-Timing` header; the client-side figure is beside it. Target: p99 <= 15 ms.
Prints a table; writes bench/results/proxy.json.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bench.common import bench_env, scratch_var, web_start
from shopapp.processes import Processes

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
SHOP = "slipstream-demo.myshopify.com"
PORT = int(os.environ.get("BENCH_PORT", "8919"))
RATE = float(os.environ.get("BENCH_RATE", "200"))
ROUNDS, SECONDS, SENDERS, SHOPPERS = 3, 10.0, 8, 500
TARGET_P99_MS = 15.0
READY_TIMEOUT_S, WARMUP_S = 120.0, 2.0


def _env(var: Path) -> dict[str, str]:
    return bench_env(var, DJANGO_ROOT_URLCONF="bench.urls")


def _prepare(env: dict[str, str]) -> dict[str, Any]:
    """The demo store with its models, trending and co-visitation, and lists for SHOPPERS
    shoppers; returns signed query strings (valid 90 s, re-signed each round) and product ids."""
    code = (
        "import django, json, random, time, uuid; django.setup()\n"
        "from django.core.management import call_command; call_command('migrate', verbosity=0)\n"
        "from shopapp.demo.seed import demo_seed, demo_train\n"
        "from shopapp.recs.services import covisit_refresh, popular_refresh, trending_refresh\n"
        "from shopapp.recs.store import StoredRecs, recs_write_many\n"
        "from shopapp.redis import get_redis\n"
        f"products = demo_seed(shop={SHOP!r}, say=lambda m: None)\n"
        f"demo_train(shop={SHOP!r}, say=lambda m: None)\n"
        f"popular_refresh(shop={SHOP!r}); trending_refresh(shop={SHOP!r})\n"
        f"covisit_refresh(shop={SHOP!r}, now=time.time() + 365 * 86400)\n"
        "items = [p.item_id for p in products]\n"
        "rng = random.Random(7)\n"
        "recs_write_many(r=get_redis(), shop="
        f"{SHOP!r}, recs={{'v:' + str(uuid.uuid5(uuid.NAMESPACE_URL, f'shopper-{{n}}')):"
        " StoredRecs(items=rng.sample(items, 10),"
        " scores=[float(10 - i) for i in range(10)], model_version='bench/1', source='model',"
        f" computed_at=time.time()) for n in range({SHOPPERS})}})\n"
        "print(json.dumps({'items': items}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=REPO, check=True, capture_output=True, text=True
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _signed_paths(env: dict[str, str], items: list[str]) -> list[str]:
    """Signed app-proxy paths as Shopify forwards them: half for shoppers with a list."""
    code = (
        "import django, json, random, sys, uuid; django.setup()\n"
        "from django.conf import settings\n"
        "from shopapp.shopify.signatures import app_proxy_sign\n"
        "items = json.loads(sys.stdin.read())\n"
        "rng = random.Random(3)\n"
        "paths = []\n"
        f"for n in range({2 * SHOPPERS}):\n"
        "    name = f'shopper-{n}' if n % 2 == 0 else f'newcomer-{n}'\n"
        "    visitor = str(uuid.uuid5(uuid.NAMESPACE_URL, name))\n"
        f"    params = {{'shop': {SHOP!r}, 'logged_in_customer_id': '',"
        " 'path_prefix': '/apps/slipstream', 'visitor': visitor,"
        " 'product_id': rng.choice(items), 'limit': '10'}\n"
        "    paths.append('/proxy/recommendations?' + app_proxy_sign(params=params,"
        " secret=settings.SHOPIFY_API_SECRET))\n"
        "print(json.dumps(paths))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
        input=json.dumps(items),
    )
    return list(json.loads(out.stdout.strip().splitlines()[-1]))


def _load(paths: list[str], seconds: float = SECONDS) -> dict[str, list[float]]:
    """Open loop: request i goes out at i / RATE seconds whatever the answers; returns the
    server and client times (ms) of the 200 answers, and the count of others."""
    server: list[float] = []
    client: list[float] = []
    failed: list[float] = []
    lock = threading.Lock()
    total = int(RATE * seconds)
    start = time.monotonic() + 0.2

    def sender(offset: int) -> None:
        rng = random.Random(offset)
        for n in range(offset, total, SENDERS):
            time.sleep(max(0.0, start + n / RATE - time.monotonic()))
            conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
            sent = time.perf_counter()
            conn.request("GET", rng.choice(paths), headers={"Accept": "application/json"})
            response = conn.getresponse()
            body = response.read()
            took = (time.perf_counter() - sent) * 1000
            conn.close()
            timing = response.getheader("Server-Timing", "")
            with lock:
                if response.status == 200 and json.loads(body)["items"]:
                    server.append(float(timing.split("dur=")[1]) if "dur=" in timing else took)
                    client.append(took)
                else:
                    failed.append(float(response.status))

    # Daemons: a Ctrl-C ends the run without waiting for the rest of the round's requests.
    threads = [threading.Thread(target=sender, args=(i,), daemon=True) for i in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"server": server, "client": client, "failed": failed}


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def main() -> None:
    # Leaving the blocks stops gunicorn, then the Redis started under the scratch var dir.
    with scratch_var() as var, Processes() as processes:
        env = _env(var)
        env.pop("DATABASE_URL", None)  # a scratch SQLite database, like the demo's
        prepared = _prepare(env)
        web_start(processes, port=PORT, env=env, log_dir=var).wait_ready(READY_TIMEOUT_S)
        # Unmeasured: gunicorn's workers load the app, then mlflow and the model, on their first
        # requests.
        for paths in (["/bench/proxy-baseline"], _signed_paths(env, prepared["items"])):
            _load(paths, seconds=WARMUP_S)
        results: dict[str, dict[str, list[float]]] = {
            "proxy": {"server": [], "client": [], "failed": []},
            "baseline": {"server": [], "client": [], "failed": []},
        }
        for _ in range(ROUNDS):
            for name in ("baseline", "proxy"):
                paths = (
                    _signed_paths(env, prepared["items"])
                    if name == "proxy"
                    else ["/bench/proxy-baseline"]
                )
                got = _load(paths)
                for key in got:
                    results[name][key] += got[key]
    table: dict[str, dict[str, Any]] = {
        name: {
            "requests_ok": len(r["server"]),
            "failed": len(r["failed"]),
            "server_p50_ms": round(_pct(r["server"], 50), 2),
            "server_p99_ms": round(_pct(r["server"], 99), 2),
            "client_p50_ms": round(_pct(r["client"], 50), 2),
            "client_p99_ms": round(_pct(r["client"], 99), 2),
            "server_mean_ms": round(statistics.fmean(r["server"]), 2) if r["server"] else None,
        }
        for name, r in results.items()
    }
    print(f"app proxy at {RATE:.0f} requests/s, {ROUNDS} x {SECONDS:.0f} s each, gunicorn -w 2")
    print(
        f"{'view':<10}{'ok':>7}{'failed':>8}{'srv p50':>9}{'srv p99':>9}"
        f"{'cli p50':>9}{'cli p99':>9}"
    )
    for name, row in table.items():
        print(
            f"{name:<10}{row['requests_ok']:>7}{row['failed']:>8}{row['server_p50_ms']:>9}"
            f"{row['server_p99_ms']:>9}{row['client_p50_ms']:>9}{row['client_p99_ms']:>9}"
        )
    p99 = table["proxy"]["server_p99_ms"]
    verdict = "meets" if p99 <= TARGET_P99_MS else "misses"
    print(f"proxy server p99: {p99} ms ({verdict} the <= {TARGET_P99_MS:.0f} ms target)")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "proxy.json").write_text(
        json.dumps({"rate": RATE, "rounds": ROUNDS, "seconds": SECONDS, "results": table}, indent=2)
    )


if __name__ == "__main__":
    main()

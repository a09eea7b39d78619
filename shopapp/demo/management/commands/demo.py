"""`make demo`: the whole system on embedded defaults, from a fresh clone, until Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from shopapp.demo.processes import demo_processes_start
from shopapp.demo.proxy import DEMO_SHOP
from shopapp.demo.secret import demo_secret_get
from shopapp.demo.seed import demo_seed, demo_train
from shopapp.demo.shoppers import shoppers_run
from shopapp.devredis import local_redis_stop
from shopapp.processes import Processes
from shopapp.recs.services import popular_refresh
from shopapp.redis import redis_url
from shopapp.shops.models import Shop


def _port(preferred: int) -> int:
    with socket.socket() as s:
        if s.connect_ex(("127.0.0.1", preferred)) != 0:
            return preferred
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Command(BaseCommand):
    help = "Run Slipstream end to end on embedded defaults, with simulated shoppers."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--port",
            type=int,
            default=int(os.environ.get("DEMO_PORT", 8000)),
            help="port of the web server on 127.0.0.1; a free one is picked when it is taken "
            "(default: $DEMO_PORT, else 8000)",
        )
        parser.add_argument(
            "--shoppers",
            type=int,
            default=12,
            help="distinct simulated visitors; one of them views a product every 1 to 3 s "
            "(default: %(default)s)",
        )

    def handle(self, *args: Any, port: int, shoppers: int, **options: Any) -> None:
        started = time.monotonic()
        say = self._say(started)
        say("migrating the database")
        call_command("migrate", verbosity=0)
        say("generating the synthetic store")
        products = demo_seed(shop=DEMO_SHOP, say=say)
        say("training and registering the first models")
        demo_train(shop=DEMO_SHOP, say=say, only_missing=True)
        popular_refresh(shop=DEMO_SHOP)
        port = _port(port)
        children = self._start(port, say)
        stop = threading.Event()
        self._on_signals(stop)
        base = f"http://127.0.0.1:{port}"
        key = Shop.objects.values_list("tracking_key", flat=True).get(domain=DEMO_SHOP)
        threading.Thread(
            target=shoppers_run,
            daemon=True,
            kwargs={
                "endpoint": f"{base}/t/{key}",
                "shop": DEMO_SHOP,
                "products": products,
                "stop": stop,
                "n_shoppers": shoppers,
                "storefront": base,
            },
        ).start()
        self._banner(base, products[0].handle, children)
        try:
            self._supervise(children, stop)
        finally:
            say("stopping")
            stop.set()
            children.stop()
            if not os.environ.get("REDIS_URL"):
                local_redis_stop(settings.VAR_DIR)
            say("stopped; nothing left running")

    def child_env(self) -> dict[str, str]:
        """The environment of the demo's processes."""
        return {
            **os.environ,
            # The one this process uses: the project's own, started by now, when REDIS_URL is unset.
            "REDIS_URL": redis_url(),
            "PYTHONUNBUFFERED": "1",
            "DJANGO_SETTINGS_MODULE": "shopapp.settings",
            "SLIPSTREAM_ENV": "development",
            # The demo installed (its app, URLs and middleware), as in this process.
            "SLIPSTREAM_DEMO": "true",
            # The demo's storefront and its signing stand-in for the app proxy, which sign and
            # verify with the demo's own secret, never the published development default.
            "SLIPSTREAM_DEMO_APP_PROXY": "true",
            "SHOPIFY_API_SECRET": demo_secret_get(path=settings.DEMO_APP_PROXY_SECRET_FILE),
            "SHOPIFY_API_SECRET_OLD": "",
            # The demo has no Shopify (its shop's token is a placeholder: demo_shop_install): what
            # would call one goes to a closed local port, never to a real store.
            "SHOPIFY_ORIGIN_OVERRIDE": "http://127.0.0.1:9",
        }

    def _start(self, port: int, say: Any) -> Processes:
        logs = settings.VAR_DIR / "log"
        say(f"starting web, event-log consumer, worker and beat (logs in {logs})")
        return demo_processes_start(port=port, env=self.child_env(), log_dir=logs)

    def _supervise(self, children: Processes, stop: threading.Event) -> None:
        while not stop.wait(1.0):
            if (child := children.exited()) is not None:
                self.stderr.write(f"{child.name} exited unexpectedly; see {child.log}")
                return

    def _on_signals(self, stop: threading.Event) -> None:
        def handler(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGINT, handler)
        signal.signal(signal.SIGTERM, handler)

    def _banner(self, base: str, handle: str, children: Processes) -> None:
        self.stdout.write(
            self.style.SUCCESS(
                "\nSlipstream is running.\n"
                f"  Demo storefront:  {base}/demo/store/\n"
                f"  Merchant admin:   {base}/demo/admin/  (the app's dashboard, in a stand-in "
                "for Shopify's admin)\n"
                f"  A product page:   {base}/products/{handle}\n"
                f"  Collector:        {base}/t/<tracking key>/com.snowplowanalytics.snowplow/tp2\n"
                f"Simulated shoppers are browsing. Press Ctrl-C to stop everything.\n"
            )
        )

    def _say(self, started: float) -> Any:
        def say(message: str) -> None:
            self.stdout.write(f"[{time.monotonic() - started:5.1f}s] {message}")
            self.stdout.flush()

        return say

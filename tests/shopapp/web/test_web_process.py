"""The web process never loads a model: importing every view it routes to leaves torch unimported.

import-linter cannot say this (it counts the trainer's deferred torch import in `build` as an
import), so a fresh interpreter shows what a gunicorn worker actually loads.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

SCRIPT = """
import json, sys
import django
django.setup()
from django.urls import get_resolver

def walk(patterns):
    for p in patterns:
        if hasattr(p, "url_patterns"):
            walk(p.url_patterns)
        else:
            p.callback  # imports the view's module

walk(get_resolver().url_patterns)
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "shopapp"))))
"""


def test_routing_every_view_imports_no_torch(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "shopapp.settings",
        "SLIPSTREAM_ENV": "development",
        "SLIPSTREAM_VAR_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    modules = json.loads(done.stdout.strip().splitlines()[-1])
    assert "shopapp.web.proxy" in modules  # the walk did import the views
    assert [m for m in modules if m.split(".")[0] == "torch"] == []

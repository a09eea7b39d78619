"""Importing the settings only reads: no folder, no file, no process (the local Redis is started by
the first process that needs it, var/ by what first writes there); and .env.example lists every
variable Slipstream reads, and nothing else."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from tests.shopapp.settings_process import REPO, python_run

# Records what the process does to the file system and to processes while it runs `steps`.
AUDITED = r"""
import json, os, sys
WRITES = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
ACTS = {
    "os.mkdir", "os.rename", "os.remove", "os.rmdir", "os.symlink", "os.link", "os.truncate",
    "shutil.copyfile", "subprocess.Popen", "os.system", "os.fork", "os.forkpty", "os.posix_spawn",
    "os.spawn", "os.exec", "os.kill", "socket.connect",
}
done = []
def audit(event, args):
    if event in ACTS or (
        event == "open" and (any(c in str(args[1] or "") for c in "wax+") or args[2] & WRITES)
    ):
        done.append(f"{event} {args!r}"[:300])
sys.addaudithook(audit)
acts = {}
for step in sys.argv[1:]:
    exec(step)
    acts[step], done = done, []
print(json.dumps(acts))
"""
SETTINGS = "import shopapp.settings"
SETUP = "import django; django.setup()"
CONFIGURATIONS = {
    "development": {"SLIPSTREAM_ENV": "development"},
    "demo": {"SLIPSTREAM_ENV": "development", "SLIPSTREAM_DEMO": "true"},
    "production": {
        "SLIPSTREAM_ENV": "production",
        "DJANGO_SECRET_KEY": "k" * 50,
        "SHOPIFY_API_KEY": "id",
        "SHOPIFY_API_SECRET": "secret",
        "SHOPIFY_TOKEN_KEYS": "GRyDcWhJB4MwSOM6mbT7vFoljWvJ3kB8DPnoG2zHuVE=",
        "REDIS_URL": "redis://127.0.0.1:9/0",
        "SHOPIFY_APP_URL": "https://app.example",
    },
}


@pytest.mark.parametrize("env", CONFIGURATIONS.values(), ids=CONFIGURATIONS.keys())
def test_importing_the_settings_creates_nothing_and_starts_nothing(
    tmp_path: Path, env: dict[str, str]
) -> None:
    var = tmp_path / "var"  # empty and absent; no REDIS_URL in development
    # No bytecode: Python's own writes of __pycache__ would be all the audit saw.
    result = python_run(
        AUDITED, SETTINGS, SETUP, env={**env, "PYTHONDONTWRITEBYTECODE": "1"}, var_dir=var
    )
    assert (result.returncode, result.stderr) == (0, ""), result.stderr
    assert json.loads(result.stdout) == {SETTINGS: [], SETUP: []}
    assert not var.exists()


def test_the_audit_sees_a_folder_made_and_a_process_started(tmp_path: Path) -> None:
    """The test above would pass with a blind audit: here it must see both."""
    made, run = (
        f"import os; os.mkdir({str(tmp_path / 'made')!r})",
        "import subprocess; subprocess.run(['true'])",
    )
    result = python_run(AUDITED, made, run, env={}, var_dir=tmp_path)
    acts = json.loads(result.stdout)
    assert [a.split()[0] for a in acts[made]] == ["os.mkdir"]
    assert [a.split()[0] for a in acts[run]][:1] == ["subprocess.Popen"]


def _read_variables(path: Path) -> set[str]:
    """The environment variables `path` reads by name: in the settings env.<cast>("X"),
    _secret("X") and _tls("X"); anywhere os.environ.get("X"), os.getenv("X") and os.environ["X"]."""
    readers = {"os.environ.get", "os.getenv", "os.environ"}
    settings = path == REPO / "shopapp" / "settings.py"
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Subscript):
            reader, key = ast.unparse(node.value), node.slice
        elif isinstance(node, ast.Call) and node.args:
            reader, key = ast.unparse(node.func), node.args[0]
        else:
            continue
        by_settings = settings and (reader in ("_secret", "_tls") or reader.startswith("env."))
        if (reader in readers or by_settings) and isinstance(key, ast.Constant):
            names.add(str(key.value))
    return names


def test_env_example_lists_every_variable_slipstream_reads() -> None:
    read = set().union(
        *(_read_variables(p) for pkg in ("shopapp", "workers") for p in (REPO / pkg).rglob("*.py"))
    )
    listed = re.findall(r"^([A-Z][A-Z0-9_]*)=", (REPO / ".env.example").read_text(), re.MULTILINE)
    assert len(listed) == len(set(listed)), "a variable is listed twice"
    assert set(listed) == read
    # The scan finds each way a variable is read (else the equality above could hold by luck).
    assert {"DJANGO_SECRET_KEY", "DJANGO_SECURE_HSTS_SECONDS", "REDIS_URL", "DEMO_PORT"} <= read
    assert "SLIPSTREAM_CONSUMER_STALE_MS" in read

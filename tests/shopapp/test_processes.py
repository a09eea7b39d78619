"""Process supervision (shopapp/processes.py): readiness lines, early exits, timeouts, and stopping
a process with everything it forked."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shopapp.processes import (
    CELERY_BEAT_READY,
    CELERY_WORKER_READY,
    CONSUMER_READY,
    GUNICORN_READY,
    RUNSERVER_READY,
    Processes,
    ProcessNotReady,
    pid_stop,
    process_running,
    sigterm_raises,
    wait_until,
)

ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def _alive(pid: int) -> bool:
    # A killed child of a reparented process can linger as a zombie until it is reaped: dead.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def test_a_process_is_ready_once_it_prints_its_readiness_line(tmp_path: Path) -> None:
    code = "import time; print('booting'); time.sleep(0.5); print('all set: ready'); time.sleep(60)"
    started = time.monotonic()
    with process_running(
        name="slow", command=_python(code), env=ENV, log_dir=tmp_path, ready=r"ready$"
    ) as process:
        assert time.monotonic() - started >= 0.5
        assert process.returncode is None
        assert process.output().splitlines() == ["booting", "all set: ready"]
    assert process.returncode == -signal.SIGTERM


def test_a_process_that_exits_before_it_is_ready_raises_with_its_last_lines(
    tmp_path: Path,
) -> None:
    code = "import sys\nfor n in range(100): print(f'line {n}')\nsys.exit(3)"
    with (
        pytest.raises(ProcessNotReady) as raised,
        process_running(
            name="doomed", command=_python(code), env=ENV, log_dir=tmp_path, ready="ready"
        ),
    ):
        pytest.fail("never ready, never yielded")
    message = str(raised.value)
    assert message.startswith(
        f"doomed exited with status 3 before it was ready; the end of {tmp_path / 'doomed.log'}:\n"
    )
    # The last 40 lines, and only those.
    assert message.endswith("\n".join(f"line {n}" for n in range(60, 100)))
    assert "line 59\n" not in message


def test_a_process_that_never_gets_ready_times_out_and_is_stopped(tmp_path: Path) -> None:
    code = "import time; print('still thinking'); time.sleep(60)"
    processes = Processes()
    with processes:
        processes.start(
            name="stuck", command=_python(code), env=ENV, log_dir=tmp_path, ready="ready"
        )
        with pytest.raises(ProcessNotReady) as raised:
            processes.wait_ready(timeout=1.0)
    assert str(raised.value) == (
        f"stuck printed no line matching 'ready' within 1s; the end of {tmp_path / 'stuck.log'}:\n"
        "still thinking"
    )
    assert processes.started[0].returncode == -signal.SIGTERM


def test_an_earlier_runs_readiness_line_in_the_log_does_not_count(tmp_path: Path) -> None:
    (tmp_path / "again.log").write_text("ready\n")
    with (
        pytest.raises(ProcessNotReady, match="exited with status 0 before it was ready"),
        process_running(
            name="again", command=_python("print('no')"), env=ENV, log_dir=tmp_path, ready="ready"
        ),
    ):
        pytest.fail("never ready, never yielded")
    assert (tmp_path / "again.log").read_text() == "ready\nno\n"


def test_stopping_kills_the_whole_group_even_what_ignores_sigterm(tmp_path: Path) -> None:
    # The leader starts a child that ignores SIGTERM, then prints the child's pid.
    code = (
        "import signal, subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', "
        "'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)'])\n"
        "time.sleep(0.3)  # let the child install its handler\n"
        "print(f'child {child.pid} ready'); time.sleep(60)"
    )
    processes = Processes(grace=1.0)
    with processes:
        leader = processes.start(
            name="group", command=_python(code), env=ENV, log_dir=tmp_path, ready="ready$"
        )
        processes.wait_ready(timeout=30)
        child = int(leader.output().split()[1])
        assert _alive(child)
        assert os.getpgid(child) == leader.pid
    assert leader.returncode == -signal.SIGTERM
    wait_until(lambda: not _alive(child), what="the child to be gone", timeout=5)


def test_a_killed_process_takes_its_children_with_it(tmp_path: Path) -> None:
    code = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "print(f'child {child.pid} ready'); time.sleep(60)"
    )
    with process_running(
        name="killed", command=_python(code), env=ENV, log_dir=tmp_path, ready="ready$"
    ) as process:
        child = int(process.output().split()[1])
        process.kill()
        assert process.returncode == -signal.SIGKILL
        wait_until(lambda: not _alive(child), what="the child to be gone", timeout=5)


def test_wait_until_returns_once_the_condition_holds() -> None:
    calls = []

    def third_time() -> bool:
        calls.append(1)
        return len(calls) == 3

    wait_until(third_time, what="the third call", timeout=5, interval=0.01)
    assert len(calls) == 3


def test_wait_until_names_what_it_waited_for_when_it_times_out() -> None:
    with pytest.raises(TimeoutError, match=r"^timed out after 0.1s waiting for Godot$"):
        wait_until(lambda: False, what="Godot", timeout=0.1, interval=0.01)


def test_pid_stop_kills_a_daemon_that_ignores_sigterm() -> None:
    code = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(60)"
    daemon = subprocess.Popen([*_python(code), "stubborn-daemon"])
    try:
        time.sleep(0.3)  # let it install its handler
        pid_stop(daemon.pid, name="not-this-one", grace=0.2)
        assert daemon.poll() is None  # another program's pid is left alone
        pid_stop(daemon.pid, name="stubborn-daemon", grace=0.2)
        assert daemon.wait(timeout=5) == -signal.SIGKILL
    finally:
        daemon.kill()
        daemon.wait()


def test_sigterm_raises_system_exit_inside_the_block_only() -> None:
    before = signal.getsignal(signal.SIGTERM)
    # The handler raises at the next instruction after the signal lands, within the sleep.
    with pytest.raises(SystemExit) as raised, sigterm_raises():  # noqa: PT012
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)
    assert raised.value.code == 128 + signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) is before


@pytest.mark.parametrize(
    ("pattern", "line"),
    [
        # What each program prints once it serves (as their sources in the venv word it).
        (CELERY_WORKER_READY, "[2026-01-01 00:00:00,000: INFO/MainProcess] worker-1@box ready."),
        (CELERY_BEAT_READY, "[2026-01-01 00:00:00,000: INFO/MainProcess] beat: Starting..."),
        (CONSUMER_READY, "event-log consumer box-123 ready"),
        (GUNICORN_READY, "[2026-01-01 00:00:00 +0000] [7] [INFO] Listening at: http://[::1]:8 (7)"),
        (RUNSERVER_READY, "Starting development server at http://127.0.0.1:8000/"),
    ],
)
def test_readiness_lines_match_what_the_programs_print(
    tmp_path: Path, pattern: str, line: str
) -> None:
    code = f"import time; print('starting'); print({line!r}); time.sleep(60)"
    with process_running(
        name="program", command=_python(code), env=ENV, log_dir=tmp_path, ready=pattern
    ) as process:
        assert process.output() == f"starting\n{line}\n"

"""Starting the project's processes, waiting until each says it is ready, and stopping them with
everything they forked: for the demo, the tests and the benchmarks (the app itself never starts a
process).

A process is ready when it prints its readiness line, never after a guessed sleep: the line comes
once it serves (a bound socket, a consumer attached to its broker), so a slow machine only waits
longer. Each process runs in its own process group and its output goes to a log file, which the
error shows the end of when it exits early or never gets ready.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, TracebackType

# What each process prints once it serves.
# Celery's worker logs "<name>@<host> ready." at INFO once its consumer is attached to the broker
# and its pool is up (celery.apps.worker.on_consumer_ready): run it at --loglevel INFO.
CELERY_WORKER_READY = r"@\S+ ready\.$"
# Celery beat logs "beat: Starting..." at INFO once its scheduler runs.
CELERY_BEAT_READY = r"beat: Starting\.\.\."
# workers.consumer logs it at WARNING, so it shows at any LOG_LEVEL, once its group exists.
CONSUMER_READY = r"event-log consumer \S+ ready"
# gunicorn's arbiter logs it at INFO (its default level) once the socket is bound: connections
# wait in the backlog until a worker has loaded the app, so early requests are slow, not refused.
GUNICORN_READY = r"Listening at: "
# runserver prints it once its socket is bound (Command.on_bind), after loading the app.
RUNSERVER_READY = r"^Starting development server at "

TAIL_LINES = 40
STOP_GRACE_S = 15.0


class ProcessNotReady(RuntimeError):
    """A process exited before its readiness line, or did not print it in time."""


def wait_until(
    condition: Callable[[], bool],
    *,
    what: str,
    timeout: float,
    interval: float = 0.2,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Return once ``condition()`` holds; TimeoutError naming ``what`` after ``timeout`` seconds.
    ``sleep`` waits between tries (Playwright's sync API must deliver page events meanwhile)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout:g}s waiting for {what}")
        sleep(interval)


@dataclass
class Process:
    """A started process, its log, and the readiness line it prints once it serves (if any)."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    ready: str | None
    # Where this run's output starts in the log: a log appended to across runs holds an earlier
    # run's readiness line, which must not count.
    offset: int = 0
    _seen_ready: bool = field(default=False, init=False, repr=False)
    _killed: bool = field(default=False, init=False, repr=False)

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def returncode(self) -> int | None:
        """None while it runs; its exit status once it has exited."""
        return self.popen.poll()

    def output(self) -> str:
        """What this run has written so far."""
        with self.log.open("rb") as f:
            f.seek(self.offset)
            return f.read().decode(errors="replace")

    def tail(self, lines: int = TAIL_LINES) -> str:
        return "\n".join(self.output().splitlines()[-lines:])

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Return once the readiness line is in the output; ProcessNotReady, with the output's
        last lines, if the process exits first or ``timeout`` seconds pass."""
        ready = self.ready
        if ready is None or self._seen_ready:
            return

        def printed() -> bool:
            exited = self.returncode is not None
            # Read after polling: a process that printed its line and then exited was ready.
            if re.search(ready, self.output(), re.M):
                return True
            if exited:
                raise self._not_ready(f"exited with status {self.returncode} before it was ready")
            return False

        try:
            wait_until(printed, what=f"{self.name} to be ready", timeout=timeout)
        except TimeoutError:
            raise self._not_ready(
                f"printed no line matching {ready!r} within {timeout:.3g}s"
            ) from None
        self._seen_ready = True

    def _not_ready(self, why: str) -> ProcessNotReady:
        return ProcessNotReady(f"{self.name} {why}; the end of {self.log}:\n{self.tail()}")

    def kill(self) -> None:
        """SIGKILL the whole group now: the process and its children die mid-work."""
        self.signal_group(signal.SIGKILL)
        self.popen.wait(timeout=10)

    def signal_group(self, signum: int) -> None:
        # A group keeps its leader's id while any member lives (the id is not handed out again
        # until the group is gone), and every member is ours: the process's children stay in its
        # group. Once SIGKILLed the group is gone for good, and its id may be reused: leave it.
        if self._killed:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signum)
        self._killed = signum == signal.SIGKILL


def process_start(
    *,
    name: str,
    command: Sequence[str],
    env: Mapping[str, str],
    log_dir: Path,
    ready: str | None,
    cwd: Path | None = None,
) -> Process:
    """Start ``command`` with exactly ``env`` in its own process group, its output appended to
    ``log_dir/<name>.log``; it is not waited for (``wait_ready``), so several start at once."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"{name}.log"
    with log.open("ab") as out:
        offset = out.tell()
        popen = subprocess.Popen(
            list(command),
            cwd=cwd,
            env=dict(env),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so its children die with it
        )
    return Process(name=name, popen=popen, log=log, ready=ready, offset=offset)


def processes_stop(processes: Sequence[Process], *, grace: float = STOP_GRACE_S) -> None:
    """SIGTERM every group at once, then SIGKILL what is left of each after ``grace`` seconds.
    A group is signalled even when its leader has exited: pool children outlive a leader that
    died first."""
    for process in processes:
        process.signal_group(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for process in processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
        process.kill()


@contextlib.contextmanager
def process_running(
    *,
    name: str,
    command: Sequence[str],
    env: Mapping[str, str],
    log_dir: Path,
    ready: str | None,
    cwd: Path | None = None,
    timeout: float = 60.0,
) -> Iterator[Process]:
    """One process, once it is ready; stopped on the way out, however the block ends."""
    with Processes() as processes:
        process = processes.start(
            name=name, command=command, env=env, log_dir=log_dir, ready=ready, cwd=cwd
        )
        process.wait_ready(timeout=timeout)
        yield process


class Processes:
    """The processes a block starts; leaving the block stops every one, however it ends."""

    def __init__(self, *, grace: float = STOP_GRACE_S) -> None:
        self.grace = grace
        self.started: list[Process] = []

    def start(
        self,
        *,
        name: str,
        command: Sequence[str],
        env: Mapping[str, str],
        log_dir: Path,
        ready: str | None,
        cwd: Path | None = None,
    ) -> Process:
        process = process_start(
            name=name, command=command, env=env, log_dir=log_dir, ready=ready, cwd=cwd
        )
        self.started.append(process)
        return process

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Wait for every process started so far; they started together, so the slowest sets
        the time, and ``timeout`` bounds the whole wait."""
        deadline = time.monotonic() + timeout
        for process in self.started:
            process.wait_ready(timeout=max(0.1, deadline - time.monotonic()))

    def exited(self) -> Process | None:
        """A process that has exited, if any has."""
        return next((p for p in self.started if p.returncode is not None), None)

    def stop(self) -> None:
        processes_stop(self.started, grace=self.grace)

    def __enter__(self) -> Processes:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def pid_stop(pid: int, *, name: str, grace: float = 5.0) -> None:
    """SIGTERM ``pid`` (not a child of ours: a daemon known by its pid file) if it is still a
    ``name``; SIGKILL it if it outlives ``grace`` seconds."""
    if not _is(pid, name):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    try:
        wait_until(lambda: not _is(pid, name), what=f"{name} to exit", timeout=grace, interval=0.05)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _is(pid: int, name: str) -> bool:
    # A pid is reused once its process has gone: check it is still the program we mean.
    try:
        return name.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


@contextlib.contextmanager
def sigterm_raises() -> Iterator[None]:
    """Within the block, SIGTERM raises SystemExit, so ``finally`` and ``with`` exits still stop
    what was started (SIGTERM's default ends Python without running them)."""
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)

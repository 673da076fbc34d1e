"""Running the app processes: a small pool, their output pumped line by line to the caller's
thread, a deadline, and killing a run's whole process group when it ends or times out."""

import os
import queue
import re
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .errors import SynthError
from .isolation import Isolated

LINE_TAIL = 12
# How long output may stay open after the app exited (a child it left behind holds it).
LINGER = 2.0
# Lines that start an error report: `Error: …`, `TSError: …`, `error TS2322: …`, `npm error …`,
# a CDK annotation `[Error at /Stack/Thing] …`, a cdk-assets event `[50%] fail: …`.
ERROR_LINE = re.compile(
    r"^\s*(?:[\w.$]*(?:Error|Exception)\b[^:]*:|\[Error at |npm (?:ERR!|error)\b|panic:|fatal:)"
    r"|\berror [A-Z]{2,}\d+:|\] fail: "
)
TRACEBACK = "Traceback (most recent call last):"


@dataclass(eq=False)
class Run:
    label: str  # the region this run was started for
    argv: list[str]
    cwd: Path
    env: dict
    outdir: Path
    proc: subprocess.Popen | None = None
    open_streams: int = 2
    exited_at: float | None = None
    # How the messages name the process and what it was doing (a synth by default).
    what: str = ""
    doing: str = ""
    program: str = "app command"
    # An own app's command runs isolated from the control plane (deployer.synth.isolation).
    isolated: bool = False
    isolation: Isolated | None = None
    stderr_tail: deque = field(default_factory=lambda: deque(maxlen=LINE_TAIL))
    stdout_tail: deque = field(default_factory=lambda: deque(maxlen=LINE_TAIL))
    first_error: list[str] = field(default_factory=list)
    # The stream an error report started on: the other stream's lines, read by another
    # thread and interleaved in any order, never continue it.
    _error_open: str = ""
    _in_traceback: str = ""

    def describe(self, slug: str) -> tuple[str, str]:
        return (self.what or f"The CDK app of {slug}",
                self.doing or f"synthesizing region {self.label}")

    def notice(self, line: str, stream: str = "stderr") -> None:
        """Keep the first line that reads like an error (and the line a heading announces)."""
        if self.first_error and not self._error_open:
            return
        if self._error_open:
            if stream == self._error_open and line.strip():
                self.first_error.append(line)
                self._error_open = ""
            return
        if self._in_traceback:
            # A traceback's last unindented line names the exception.
            if stream == self._in_traceback and line[:1].strip():
                self.first_error.append(line)
            return
        if line.startswith(TRACEBACK):
            self._in_traceback = stream
        elif ERROR_LINE.search(line):
            self.first_error.append(line)
            self._error_open = stream if line.rstrip().endswith(":") else ""


def _pump(run: Run, stream: str, pipe, events: queue.Queue) -> None:
    try:
        for raw in iter(pipe.readline, b""):
            events.put((run, stream, raw.decode("utf-8", "replace").rstrip("\r\n")))
    finally:
        pipe.close()
        events.put((run, stream, None))


def _start(run: Run, events: queue.Queue, error_type) -> None:
    run.outdir.mkdir(parents=True, exist_ok=True)
    argv, env = run.argv, run.env
    if run.isolated:
        run.isolation = Isolated(run.argv, run.env, run.outdir, run.cwd)
        argv, env = run.isolation.argv, run.isolation.env
    try:
        run.proc = subprocess.Popen(
            argv,
            cwd=run.cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group, so a timeout kills all of it
        )
    except OSError as exc:
        if run.isolation is not None:
            run.isolation.discard()
        if isinstance(exc, FileNotFoundError | PermissionError):
            raise error_type(
                "input", f"The {run.program} {run.argv[0]!r} cannot be started in {run.cwd}: "
                f"{exc.strerror}.",
            ) from None
        raise error_type("internal", f"The {run.program} could not be started: {exc}.") from None
    for stream, pipe in (("stdout", run.proc.stdout), ("stderr", run.proc.stderr)):
        threading.Thread(target=_pump, args=(run, stream, pipe, events), daemon=True).start()


def _kill(run: Run) -> None:
    if run.proc is None:
        return
    for sig, grace in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(run.proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            run.proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            continue


def _sweep_lingering(running: list[Run]) -> None:
    """Kill what an exited app left running in its group, so its output reaches end of file."""
    now = time.monotonic()
    for run in running:
        if run.exited_at is None:
            if run.proc.poll() is not None:
                run.exited_at = now
        elif now - run.exited_at > LINGER:
            try:
                os.killpg(run.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def failure_message(slug: str, run: Run, code: int) -> str:
    what, doing = run.describe(slug)
    how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
    tail = list(run.stderr_tail) or list(run.stdout_tail)
    quoted = "\n".join(f"  {line}" for line in tail) or "  (no output)"
    first = run.first_error
    if first and not all(line in tail for line in first):
        # The tail of a long stack trace hides the line that says what went wrong.
        shown = "\n".join(f"  {line}" for line in first)
        return f"{what} {how} while {doing}. First error:\n{shown}\nLast lines:\n{quoted}"
    return f"{what} {how} while {doing}:\n{quoted}"


def run_all(
    runs: list[Run],
    *,
    slug: str,
    deadline: float,
    timeout: float,
    parallel: int,
    on_line: Callable[[str, str], None] | None,
    lines: list[tuple[str, str]],
    prefix: bool,
    limit_name: str = "SYNTH_TIMEOUT",
    error_type=SynthError,
) -> None:
    """Run the app processes, at most `parallel` at a time, calling on_line in this thread.

    Failures raise `error_type(kind, message, lines=…)`: SynthError unless the caller runs
    another tool through the same runner."""
    events: queue.Queue = queue.Queue()
    pending = list(runs)
    running: list[Run] = []

    def timed_out(run: Run) -> Exception:
        what, doing = run.describe(slug)
        return error_type(
            "timeout",
            f"{what} did not finish {doing} within {timeout:g} s and was stopped "
            f"({limit_name} sets the limit).",
            lines=lines,
        )

    try:
        while pending or running:
            while pending and len(running) < parallel:
                run = pending.pop(0)
                _start(run, events, error_type)
                running.append(run)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise timed_out(running[0])
            _sweep_lingering(running)
            try:
                run, stream, line = events.get(timeout=min(remaining, 0.5))
            except queue.Empty:
                continue
            if line is None:
                run.open_streams -= 1
                if run.open_streams:
                    continue
                try:
                    code = run.proc.wait(timeout=max(deadline - time.monotonic(), 0.01))
                except subprocess.TimeoutExpired:
                    raise timed_out(run) from None
                running.remove(run)
                if run.isolation is not None:
                    run.isolation.collect()
                if code != 0:
                    raise error_type(
                        "app_failed", failure_message(slug, run, code), lines=lines
                    )
                continue
            (run.stderr_tail if stream == "stderr" else run.stdout_tail).append(line)
            run.notice(line, stream)
            shown = f"[{run.label}] {line}" if prefix else line
            lines.append((stream, shown))
            if on_line is not None:
                on_line(stream, shown)
    finally:
        for run in running:
            _kill(run)
            if run.isolation is not None:
                run.isolation.discard()

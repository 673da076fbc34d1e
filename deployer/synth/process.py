"""Running the app processes: a small pool, their output pumped line by line to the caller's
thread, a deadline, and killing a run's whole process group when it ends or times out."""

import os
import queue
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .errors import SynthError

LINE_TAIL = 12
# How long output may stay open after the app exited (a child it left behind holds it).
LINGER = 2.0


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
    stderr_tail: deque = field(default_factory=lambda: deque(maxlen=LINE_TAIL))
    stdout_tail: deque = field(default_factory=lambda: deque(maxlen=LINE_TAIL))


def _pump(run: Run, stream: str, pipe, events: queue.Queue) -> None:
    try:
        for raw in iter(pipe.readline, b""):
            events.put((run, stream, raw.decode("utf-8", "replace").rstrip("\r\n")))
    finally:
        pipe.close()
        events.put((run, stream, None))


def _start(run: Run, events: queue.Queue) -> None:
    run.outdir.mkdir(parents=True, exist_ok=True)
    try:
        run.proc = subprocess.Popen(
            run.argv,
            cwd=run.cwd,
            env=run.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group, so a timeout kills all of it
        )
    except (FileNotFoundError, PermissionError) as exc:
        raise SynthError(
            "input", f"The app command {run.argv[0]!r} cannot be started in {run.cwd}: "
            f"{exc.strerror}.",
        ) from None
    except OSError as exc:
        raise SynthError("internal", f"The app could not be started: {exc}.") from None
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


def _failure_message(slug: str, run: Run, code: int) -> str:
    how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
    tail = list(run.stderr_tail) or list(run.stdout_tail)
    quoted = "\n".join(f"  {line}" for line in tail) or "  (no output)"
    return f"The CDK app of {slug} {how} while synthesizing region {run.label}:\n{quoted}"


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
) -> None:
    """Run the app processes, at most `parallel` at a time, calling on_line in this thread."""
    events: queue.Queue = queue.Queue()
    pending = list(runs)
    running: list[Run] = []

    def timed_out(run: Run) -> SynthError:
        return SynthError(
            "timeout",
            f"The CDK app of {slug} did not finish synthesizing region {run.label} within "
            f"{timeout:g} s and was stopped (SYNTH_TIMEOUT sets the limit).",
            lines=lines,
        )

    try:
        while pending or running:
            while pending and len(running) < parallel:
                run = pending.pop(0)
                _start(run, events)
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
                if code != 0:
                    raise SynthError(
                        "app_failed", _failure_message(slug, run, code), lines=lines
                    )
                continue
            (run.stderr_tail if stream == "stderr" else run.stdout_tail).append(line)
            shown = f"[{run.label}] {line}" if prefix else line
            lines.append((stream, shown))
            if on_line is not None:
                on_line(stream, shown)
    finally:
        for run in running:
            _kill(run)

"""The warm synth of the built-in apps: one long-lived app process per worker process and app
(deployer.cdkapp.server) keeps the jsii kernel and the loaded library, and builds a fresh App
for each synth. It is recycled after SYNTH_WARM_MAX_SYNTHS synths or past SYNTH_WARM_MAX_MB of
memory, and started again when it died; a synth it cannot answer runs cold instead."""

import atexit
import json
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
from django.conf import settings

from .inputs import warm_env

SERVER = "deployer.cdkapp.server"


class Unavailable(Exception):
    """The warm process could not answer: the caller runs the app cold."""


class WarmApp:
    def __init__(self, module: str, cwd: Path):
        self.module, self.cwd = module, cwd
        self.synths = 0
        self.proc = subprocess.Popen(
            [sys.executable, "-m", SERVER, module], cwd=cwd, env=warm_env(),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, so stopping it stops Node too
        )

    def synth(self, env: dict, deadline: float) -> tuple[int, list[tuple[str, str]]]:
        """Exit code and output lines of one synth; raises Unavailable or TimeoutError."""
        self.synths += 1
        try:
            self.proc.stdin.write(json.dumps(env).encode() + b"\n")
            self.proc.stdin.flush()
        except OSError:
            raise Unavailable from None
        with selectors.DefaultSelector() as selector:
            selector.register(self.proc.stdout, selectors.EVENT_READ)
            if not selector.select(max(deadline - time.monotonic(), 0)):
                raise TimeoutError
        line = self.proc.stdout.readline()
        if not line:
            raise Unavailable
        answer = json.loads(line)
        return int(answer["code"]), [(stream, text) for stream, text in answer["lines"]]

    def worn(self) -> bool:
        if self.synths >= settings.SYNTH_WARM_MAX_SYNTHS or self.proc.poll() is not None:
            return True
        try:
            me = psutil.Process(self.proc.pid)
            rss = sum(p.memory_info().rss for p in [me, *me.children(recursive=True)])
        except psutil.Error:
            return True
        return rss > settings.SYNTH_WARM_MAX_MB * 2**20

    def stop(self) -> None:
        for sig, grace in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(self.proc.pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                self.proc.wait(timeout=grace)
                break
            except subprocess.TimeoutExpired:
                continue
        for pipe in (self.proc.stdin, self.proc.stdout):
            try:
                pipe.close()
            except OSError:
                pass


_warm: dict[str, WarmApp] = {}
# One request at a time per process: the warm process answers them in turn.
_lock = threading.Lock()


def synth(module: str, cwd: Path, env: dict, deadline: float
          ) -> tuple[int, list[tuple[str, str]], bool]:
    """One synth by the module's warm process: exit code, output lines, and whether the
    process had to be started for it."""
    with _lock:
        started = False
        warm = _warm.get(module)
        if warm is None or warm.proc.poll() is not None:
            if warm is not None:
                warm.stop()
            warm = _warm[module] = WarmApp(module, cwd)
            started = True
        try:
            code, lines = warm.synth(env, deadline)
        except (Unavailable, TimeoutError, ValueError, KeyError, TypeError):
            _warm.pop(module, None)
            warm.stop()
            raise
        if warm.worn():
            _warm.pop(module, None)
            warm.stop()
        return code, lines, started


def stop_all() -> None:
    while _warm:
        _warm.popitem()[1].stop()


atexit.register(stop_all)

"""The product started as `make run` starts it (on free ports), and Chromium to drive it."""

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fixtures.moto import free_port

ROOT = Path(__file__).resolve().parents[2]
# A system browser first: Debian's and Ubuntu's packages, then Chrome.
SYSTEM_BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
# Screenshots land here (git-ignored) so a failing run can be looked at.
SHOTS = ROOT / "var" / "screenshots"


class Product:
    def __init__(self, url: str, password: str, log: Path, proc: subprocess.Popen):
        self.url = url
        self.password = password
        self.log = log
        self.proc = proc


def _wait_for(log: Path, pattern: str, proc: subprocess.Popen, timeout: float) -> re.Match:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        match = re.search(pattern, log.read_text(errors="replace"))
        if match:
            return match
        if proc.poll() is not None:
            break
        time.sleep(0.5)
    raise RuntimeError(f"the product did not start:\n{log.read_text(errors='replace')[-4000:]}")


def _playwright_chromium() -> str | None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        path = playwright.chromium.executable_path
    return path if Path(path).exists() else None


def find_chromium() -> tuple[str | None, str]:
    """(path, why not): CHROMIUM, a system Chromium or Chrome, Playwright's own Chromium, or
    Playwright's own installed now by its installer (when this machine can download it)."""
    named = os.environ.get("CHROMIUM")
    if named:
        return (named, "") if Path(named).exists() else (None, f"CHROMIUM={named} does not exist")
    for name in SYSTEM_BROWSERS:
        found = shutil.which(name)
        if found:
            return found, ""
    if own := _playwright_chromium():
        return own, ""
    try:
        install = subprocess.run([sys.executable, "-m", "playwright", "install", "chromium"],
                                 capture_output=True, text=True, timeout=900)
        lines = (install.stdout + install.stderr).strip().splitlines() or ["no output"]
        why = next((line for line in lines if line.startswith("Error:")), lines[-1])
    except (OSError, subprocess.TimeoutExpired) as exc:
        why = str(exc)
    if own := _playwright_chromium():
        return own, ""
    return None, f"Playwright's installer could not fetch one ({why[:200]})"


@pytest.fixture(scope="session")
def chromium() -> str:
    path, why = find_chromium()
    if path is None:
        message = ("The browser tests need Chromium and found none: install your system's "
                   "chromium package (apt-get install chromium), or set CHROMIUM to a Chromium "
                   f"or Chrome binary. {why}.")
        # CI must run them; a laptop without a browser still runs everything else.
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def product(tmp_path_factory, chromium):
    var = tmp_path_factory.mktemp("product-var")
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in ("REDIS_URL", "DATABASE_URL", "AWS_ENDPOINT_URL", "DJANGO_SETTINGS_MODULE",
                        "SECRET_KEY", "TEST_REDIS_URL", "TEST_KEY_PREFIX")}
    env.update({"POLL_INTERVAL": "5", "SANDBOX": "1"})
    log = var / "product.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "controlplane.run", "--port", str(port), "--var-dir", str(var)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        password = _wait_for(log, r"with password '([^']+)'", proc, 180).group(1)
        _wait_for(log, r"ready: open", proc, 180)
        yield Product(f"http://127.0.0.1:{port}", password, log, proc)
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(log, SHOTS / "product.log")


@pytest.fixture(scope="session")
def browser(chromium):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    SHOTS.mkdir(parents=True, exist_ok=True)
    if request.node.rep_call.failed if hasattr(request.node, "rep_call") else False:
        page.screenshot(path=str(SHOTS / f"{request.node.name}-failed.png"), full_page=True)
    context.close()


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)

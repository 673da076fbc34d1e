"""manage.py in a checkout where `make run` ran needs no exports; elsewhere a missing setting
is one line that says what to set, not a traceback."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRINT = ("from django.conf import settings; "
         "print(settings.SECRET_KEY, settings.SANDBOX, settings.SECURE_SSL_REDIRECT)")


def manage(var: Path, *argv: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items()
               if k not in ("DJANGO_SETTINGS_MODULE", "SECRET_KEY", "SANDBOX", "DEBUG",
                            "SECURE_SSL_REDIRECT")}
    environ.update(MERIDIAN_VAR_DIR=str(var), **env)
    return subprocess.run([sys.executable, "manage.py", *argv], cwd=ROOT, env=environ,
                          capture_output=True, text=True, timeout=120)


def test_it_uses_the_secret_key_and_sandbox_that_make_run_left_in_var(tmp_path):
    (tmp_path / "secret_key").write_text("key-kept-by-make-run-0123456789-abcdefghijklmnopqrstu\n")
    proc = manage(tmp_path, "shell", "-v", "0", "-c", PRINT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["key-kept-by-make-run-0123456789-abcdefghijklmnopqrstu",
                                   "True", "False"]


def test_what_is_exported_still_wins(tmp_path):
    (tmp_path / "secret_key").write_text("key-kept-by-make-run")
    proc = manage(tmp_path, "shell", "-v", "0", "-c", PRINT, SECRET_KEY="exported-key-0123456789",
                  SANDBOX="false")
    assert proc.stdout.split()[:2] == ["exported-key-0123456789", "False"]


def test_without_a_key_it_says_in_one_line_what_to_do(tmp_path):
    proc = manage(tmp_path, "check")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    [line] = proc.stderr.strip().splitlines()
    assert line.startswith("manage.py: SECRET_KEY must be set when DEBUG is off.")
    assert "make run" in line


def test_a_malformed_setting_is_one_line_too(tmp_path):
    proc = manage(tmp_path, "check", SECRET_KEY="k" * 50, POLL_INTERVAL="soon")
    assert proc.returncode == 1
    assert proc.stderr.strip() == "manage.py: POLL_INTERVAL must be a whole number, not 'soon'"

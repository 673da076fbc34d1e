import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(env_changes: dict, *argv: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DJANGO_SETTINGS_MODULE", "DEBUG", "SECRET_KEY", "SANDBOX")}
    env.update(env_changes)
    return subprocess.run([sys.executable, "manage.py", *argv], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    proc = _run({"SECRET_KEY": "k" * 20 + "a-long-random-production-key-0123456789",
                 "ALLOWED_HOSTS": "meridian.example.com", "MERIDIAN_VAR_DIR": str(tmp_path)},
                "check", "--deploy", "--fail-level", "WARNING")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no issues" in proc.stdout


def test_production_settings_refuse_to_start_without_a_secret_key(tmp_path):
    proc = _run({"MERIDIAN_VAR_DIR": str(tmp_path)}, "check")
    assert proc.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off." in proc.stderr


def test_a_malformed_boolean_is_a_clear_configuration_error(tmp_path):
    proc = _run({"DEBUG": "maybe", "MERIDIAN_VAR_DIR": str(tmp_path)}, "check")
    assert proc.returncode != 0
    assert "DEBUG must be true or false, not 'maybe'" in proc.stderr

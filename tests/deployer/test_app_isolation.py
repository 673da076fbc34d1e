"""An own app's command cannot read the control plane's secrets: not from its environment, not
from its parent's /proc, not from the files in var/ (docs/app-contract.md, "Trust")."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from accounts.audit import Actor
from deployer.synth import isolation
from regions.services import update_application
from tests.fixtures.celery import child_env

ROOT = Path(__file__).resolve().parents[2]
APPS = Path(__file__).resolve().parent / "apps"
SYSTEM_PYTHON = "/usr/bin/python3"

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def probe_app(application, admin_user):
    return update_application(application, {
        "source": "command", "workdir": str(APPS),
        # The system Python: any user can run it (a virtualenv may live in a private home).
        "command": f"{SYSTEM_PYTHON} probe_secrets.py",
    }, Actor(admin_user, "cli"))


def synth(slug: str, **env) -> subprocess.CompletedProcess:
    # Verbosity 2 prints every line the app writes, not just the tail of a failure.
    return subprocess.run([sys.executable, "manage.py", "synth", slug, "-v", "2", "--no-cache", "--out",
                           str(Path(settings.VAR_DIR) / f"probe-out-{os.getpid()}")],
                          cwd=ROOT, env=child_env(**env), capture_output=True, text=True,
                          timeout=300)


def test_a_probe_app_finds_no_secret_of_the_control_plane(probe_app, tmp_path):
    if isolation.unshare_works():
        pytest.skip(f"no namespaces here: {isolation.unshare_works()}")
    key_file = Path(settings.VAR_DIR) / "secret_key"
    made = not key_file.exists()
    if made:
        key_file.write_text(secrets.token_urlsafe(40))
    file_key = key_file.read_text().strip()
    secret_key, aws_secret = secrets.token_urlsafe(40), secrets.token_urlsafe(30)
    probe_app.command += f" {key_file} {settings.DATABASES['default']['NAME']}"
    probe_app.save(update_fields=["command"])
    try:
        done = synth(probe_app.slug, SECRET_KEY=secret_key, AWS_SECRET_ACCESS_KEY=aws_secret,
                     AWS_ACCESS_KEY_ID="AKIAPROBEPROBEPROBE", APP_ISOLATION="true")
    finally:
        if made:
            key_file.unlink()
    output = done.stdout + done.stderr
    assert done.returncode != 0  # the probe always fails, so its output is shown
    assert "processes" in output, output
    for secret in (secret_key, aws_secret, file_key, "AKIAPROBEPROBEPROBE"):
        assert secret not in output
    assert f"denied {key_file}" in output
    if os.geteuid() == 0:
        # As root the worker runs the app as APP_UID: the database file is out of its reach.
        assert f"uid {settings.APP_UID}" in output
        assert f"denied {settings.DATABASES['default']['NAME']}" in output


def test_without_isolation_the_same_probe_does_read_the_parents_environment(probe_app):
    """The check above can fail: with isolation off the probe finds the secret."""
    secret_key = secrets.token_urlsafe(40)
    done = synth(probe_app.slug, SECRET_KEY=secret_key, APP_ISOLATION="false")
    assert secret_key in done.stdout + done.stderr


def test_an_app_outside_the_allowed_folders_is_refused(probe_app, settings, tmp_path):
    from deployer.synth import SynthError, synth_application

    settings.APP_ROOTS = [str(tmp_path)]
    with pytest.raises(SynthError) as refused:
        synth_application(probe_app, use_cache=False)
    assert "outside the folders own apps may run from" in str(refused.value)


def test_a_folder_the_app_user_cannot_read_is_named_in_a_clear_message():
    import shutil
    import tempfile

    private = Path(tempfile.mkdtemp())  # /tmp itself is open to everyone
    try:
        (private / "app").mkdir()
        private.chmod(0o700)
        (private / "app").chmod(0o755)
        uid = os.geteuid() + 1  # someone else
        assert isolation.unreadable_for(uid, uid, private / "app") == private
        private.chmod(0o755)
        assert isolation.unreadable_for(uid, uid, private / "app") is None
    finally:
        shutil.rmtree(private)

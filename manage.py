#!/usr/bin/env python
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def checkout_defaults() -> None:
    """In a checkout where `make run` ran, commands use what it used: the secret key it keeps
    in var/, sandbox mode and plain HTTP on loopback, and while it runs its broker and local
    AWS (anything exported still wins)."""
    if os.environ.get("SECRET_KEY") or "DJANGO_SETTINGS_MODULE" in os.environ:
        return
    var = Path(os.environ.get("MERIDIAN_VAR_DIR") or ROOT / "var")
    key = var / "secret_key"
    if not key.is_file():
        return
    os.environ["SECRET_KEY"] = key.read_text().strip()
    # While `make run` runs, it says where its broker and local AWS are.
    running = var / "running.env"
    if running.is_file():
        for line in running.read_text().splitlines():
            name, _, value = line.partition("=")
            if name in ("REDIS_URL", "AWS_ENDPOINT_URL") and value:
                os.environ.setdefault(name, value)
    for name, value in (("SANDBOX", "1"), ("STATIC_ROOT", str(var / "static")),
                        ("SECURE_SSL_REDIRECT", "0"), ("SESSION_COOKIE_SECURE", "0"),
                        ("CSRF_COOKIE_SECURE", "0"), ("SECURE_HSTS_SECONDS", "0")):
        os.environ.setdefault(name, value)


def main():
    checkout_defaults()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "controlplane.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        # A configuration mistake is one line that says what to set, not a traceback.
        sys.exit(f"manage.py: {exc}")


if __name__ == "__main__":
    main()

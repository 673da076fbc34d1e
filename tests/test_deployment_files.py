"""There is no Docker engine here, so the compose file is checked by reading it."""

import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PRODUCT_PACKAGES = ("controlplane", "lib", "accounts", "regions", "watch", "sandbox", "deployer",
                    "alerts", "front")


def documented_variables() -> set[str]:
    text = (ROOT / ".env.example").read_text()
    return set(re.findall(r"^([A-Z][A-Z0-9_]*)=", text, flags=re.M))


def variables_read_by_the_project() -> set[str]:
    found = set()
    paths = [path for app in PRODUCT_PACKAGES for path in ROOT.glob(f"{app}/**/*.py")]
    # The CDK apps are programs of their own; what they read is the app contract's business.
    for path in [p for p in paths if "cdkapp" not in p.parts and "sandboxapp" not in p.parts]:
        text = path.read_text()
        found |= set(re.findall(r'env(?:str|bool|int|float|list)\(\s*"([A-Z][A-Z0-9_]*)"', text))
        found |= set(re.findall(r'os\.environ\.get\(\s*"([A-Z][A-Z0-9_]*)"', text))
        found |= set(re.findall(r'env\.get\(\s*"([A-Z][A-Z0-9_]*)"', text))
    return found


@pytest.fixture(scope="module")
def compose():
    import yaml

    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_every_variable_the_project_reads_is_documented_in_env_example():
    missing = variables_read_by_the_project() - documented_variables() - {"PATH", "HOME"}
    assert not missing, f"undocumented: {sorted(missing)}"


def test_the_compose_file_has_the_production_services(compose):
    assert {"postgres", "redis", "web", "worker", "beat", "migrate"} <= set(compose["services"])
    web = compose["services"]["web"]
    assert web["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_every_service_command_exists_in_the_project(compose):
    import django.core.management as management

    from controlplane.celery import app

    commands = management.get_commands()
    for name, service in compose["services"].items():
        argv = service.get("command")
        if not argv or name in ("postgres", "redis"):
            continue
        argv = shlex.split(argv) if isinstance(argv, str) else argv
        if argv[:2] == ["python", "manage.py"]:
            assert argv[2] in commands, (name, argv)
        elif argv[0] == "gunicorn":
            module, attr = argv[1].split(":")
            imported = __import__(module, fromlist=[attr])
            assert callable(getattr(imported, attr)), (name, argv)
        elif argv[0] == "celery":
            assert argv[1:3] == ["-A", "controlplane"] and app.main == "controlplane"
            assert argv[3] in ("worker", "beat"), (name, argv)
            if "-Q" in argv:
                queues = set(argv[argv.index("-Q") + 1].split(","))
                assert queues <= {"deploys", "polling", "default"}, (name, queues)
        else:
            raise AssertionError(f"{name}: unknown command {argv}")


def test_every_queue_the_tasks_use_has_a_consumer_in_the_compose_file(compose, settings):
    consumed = set()
    for service in compose["services"].values():
        argv = service.get("command") or []
        if "-Q" in argv:
            consumed |= set(argv[argv.index("-Q") + 1].split(","))
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    assert routed | {settings.CELERY_TASK_DEFAULT_QUEUE} <= consumed


def test_every_variable_the_compose_file_uses_is_documented(compose):
    text = (ROOT / "docker-compose.yml").read_text()
    used = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", text))
    for service in compose["services"].values():
        used |= set((service.get("environment") or {}).keys())
    internal = {"POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD"}
    assert used - internal <= documented_variables()


def test_the_dockerfile_runs_what_the_compose_file_expects():
    text = (ROOT / "Dockerfile").read_text()
    assert "collectstatic" in text and "gunicorn" in text
    assert re.search(r"^FROM python:3\.1[2-9]", text, flags=re.M)


def test_gunicorn_is_reached_only_through_the_proxy(compose):
    services = compose["services"]
    assert "ports" not in services["web"]
    assert services["web"]["expose"] == ["8000"]
    proxy = services["proxy"]
    assert {"80:80", "443:443"} <= set(proxy["ports"])
    assert proxy["depends_on"]["web"]["condition"] == "service_healthy"
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    published = [name for name, service in services.items() if service.get("ports")]
    assert published == ["proxy"]


def test_the_web_service_trusts_proxy_headers_and_nothing_else_does_by_default(compose):
    assert compose["x-app"]["environment"]["TRUST_PROXY_HEADERS"] == "true"
    assert re.search(r"^TRUST_PROXY_HEADERS=false$", (ROOT / ".env.example").read_text(), re.M)


def test_the_proxy_serves_tls_and_buffers_for_gunicorn():
    text = (ROOT / "deploy" / "Caddyfile").read_text()
    assert "{$MERIDIAN_DOMAIN:localhost} {" in text
    assert "reverse_proxy {$MERIDIAN_UPSTREAM:web:8000}" in text
    for directive in ("request_buffers", "response_buffers", "read_header", "max_size"):
        assert directive in text, directive

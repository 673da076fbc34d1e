"""The layout holds: one app per concern, the inventory imports none of the others, settings
are read one way, and no product module grows past what one person reads in one sitting."""

import ast
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[1]
APPS = ["accounts", "regions", "watch", "sandbox", "deployer", "traffic", "alerts", "front"]
# Code that runs as separate programs (the CDK apps never import Django).
CHILD_PROGRAMS = ("deployer/cdkapp/", "deployer/sandboxapp/")


def product_modules():
    for package in ["controlplane", "lib", *APPS]:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            # Installed npm packages (the toolkit's) ship Python files of their own.
            if "/migrations/" not in relative and "/node_modules/" not in relative:
                yield relative, path


def imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_installed_apps_show_the_architecture():
    third_party = ("django", "ninja", "axes")
    ours = [app for app in settings.INSTALLED_APPS if not app.startswith(third_party)]
    assert ours == [*APPS[:7], "front"]


@pytest.mark.parametrize(("relative", "path"), list(product_modules()))
def test_no_product_module_is_over_450_lines(relative, path):
    assert len(path.read_text().splitlines()) <= 450, relative


def test_the_inventory_imports_none_of_watch_deployer_sandbox_or_front():
    for relative, path in product_modules():
        if relative.startswith("regions/"):
            bad = {m for m in imported_modules(path)
                   if m.split(".")[0] in ("watch", "deployer", "sandbox", "front")}
            assert not bad, f"{relative} imports {sorted(bad)}"


def test_the_region_switch_sits_below_the_deployer_and_above_the_watch():
    for relative, path in product_modules():
        below = {"traffic/": ("deployer", "sandbox", "alerts", "front"),
                 "watch/": ("traffic", "deployer", "sandbox", "alerts", "front")}
        for package, forbidden in below.items():
            if relative.startswith(package):
                bad = {m for m in imported_modules(path) if m.split(".")[0] in forbidden}
                assert not bad, f"{relative} imports {sorted(bad)}"


def test_only_front_and_the_wiring_import_front():
    for relative, path in product_modules():
        if not relative.startswith(("front/", "controlplane/")):
            assert not {m for m in imported_modules(path) if m.split(".")[0] == "front"}, relative


def test_lib_imports_no_app():
    for relative, path in product_modules():
        if relative.startswith("lib/"):
            assert not {m for m in imported_modules(path) if m.split(".")[0] in APPS}, relative


def test_settings_are_read_one_way():
    for relative, path in product_modules():
        text = path.read_text()
        assert "getattr(settings" not in text, relative
        if relative.startswith(("controlplane/", *CHILD_PROGRAMS)):
            continue
        # Only the builders of a child process's environment may look at os.environ.
        if "os.environ" in text:
            assert relative == "deployer/synth/inputs.py", relative

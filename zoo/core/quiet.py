"""Keep TensorFlow's logs off the console unless asked: ``DLZOO_VERBOSE=1`` or a command's ``--verbose``.

TensorFlow 2.21 writes its start-up lines (oneDNN, "Could not find cuda drivers",
"All log messages before absl::InitializeLog()") from C++ straight to file
descriptor 2 while ``import tensorflow`` runs, before ``TF_CPP_MIN_LOG_LEVEL`` is
read, so no setting hides them. :func:`install` (called by ``import zoo``,
``import agents`` and ``import nlp``) therefore

- sets ``TF_CPP_MIN_LOG_LEVEL=3`` (unless the user set it): no C++ INFO, WARNING
  or ERROR lines after start-up (a failing op still raises its Python error);
- imports TensorFlow, whenever something first imports it, with descriptor 2
  pointed at ``/dev/null`` (an import error is still raised, and printed after);
- turns the ``tensorflow`` and ``absl`` Python loggers down to errors.

:func:`silenced` does the same around the LiteRT converter and interpreter, whose
C++ chatter ("Ignored output_format", "Created TensorFlow Lite XNNPACK delegate")
no log level reaches. Nothing here changes what TensorFlow computes.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import logging
import os
import sys

__all__ = ["verbose", "set_verbose", "install", "silenced"]

_VERBOSE_ENV = "DLZOO_VERBOSE"


def verbose() -> bool:
    """True when the logs were asked for (``DLZOO_VERBOSE`` set to anything but ``0`` or empty)."""
    return os.environ.get(_VERBOSE_ENV, "") not in ("", "0")


def set_verbose(on: bool = True) -> None:
    """Ask for TensorFlow's logs (``--verbose``); before TensorFlow is imported it brings its C++ logs back too."""
    os.environ[_VERBOSE_ENV] = "1" if on else "0"
    if on:
        if os.environ.get("TF_CPP_MIN_LOG_LEVEL") == "3" and "tensorflow" not in sys.modules:
            os.environ["TF_CPP_MIN_LOG_LEVEL"] = "0"
        for finder in [f for f in sys.meta_path if isinstance(f, _QuietImport)]:
            sys.meta_path.remove(finder)
    _set_python_log_levels(logging.INFO if on else logging.ERROR)


@contextlib.contextmanager
def silenced():
    """Point file descriptor 2 (C++ ``stderr``) at ``/dev/null`` for the block, unless :func:`verbose`."""
    if verbose():
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no real descriptor 2 (an embedded interpreter)
        yield
        return
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    os.close(null)
    try:
        yield
    finally:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)


def _set_python_log_levels(level):
    for name in ("tensorflow", "absl"):
        logging.getLogger(name).setLevel(level)
    if "tensorflow" in sys.modules:
        with contextlib.suppress(Exception):
            sys.modules["tensorflow"].get_logger().setLevel(level)
            sys.modules["tensorflow"].autograph.set_verbosity(0 if level >= logging.ERROR else 1)


class _SilencedLoader(importlib.abc.Loader):
    """Runs the real loader of ``tensorflow`` with descriptor 2 silenced."""

    def __init__(self, loader):
        self._loader = loader

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        with silenced():
            self._loader.exec_module(module)
        _set_python_log_levels(logging.ERROR)


class _QuietImport(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` once, through the other finders, and hands it to :class:`_SilencedLoader`."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None and not verbose():
            spec.loader = _SilencedLoader(spec.loader)
        return spec


def install() -> None:
    """Quiet TensorFlow for this process (idempotent; a no-op when :func:`verbose`)."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    if verbose():
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" in sys.modules:
        _set_python_log_levels(logging.ERROR)
    elif not any(isinstance(f, _QuietImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietImport())

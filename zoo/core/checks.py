"""Argument validation with one message format, raised before any work starts.

Every message names the argument, the bad value and what is accepted, optionally
prefixed by who asked: ``resnet50: invalid num_classes=0; expected an integer >= 1``.
A value of the wrong kind of object (an int for a name, a list for a dict, an int for
a model) is a ``TypeError`` (:func:`check_type`, :func:`check_str`, :func:`check_path`,
:func:`check_model`, :func:`check_array`), checked at the public boundary so that it never reaches deep code
as ``object of type 'int' has no len()``; numbers keep :func:`check_int` /
:func:`check_number`, whose ``ValueError`` covers the wrong type and the wrong range.
"""

from __future__ import annotations

import numbers
import os
from typing import NoReturn

__all__ = ["fail", "is_int", "check_int", "check_number", "check_choice", "check_bool", "check_type", "check_str",
           "check_path", "check_model", "check_array", "PATH"]

#: What a path argument accepts.
PATH = "a path (a str or os.PathLike)"


def fail(arg: str, value, accepted: str, owner: str | None = None, error: type = ValueError) -> NoReturn:
    """Raise ``error`` saying ``[owner: ]invalid arg=value; expected accepted``."""
    prefix = f"{owner}: " if owner else ""
    raise error(f"{prefix}invalid {arg}={value!r}; expected {accepted}")


def is_int(value) -> bool:
    """An integer (Python or NumPy), not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_int(arg, value, minimum=None, maximum=None, owner=None, allow_none=False):
    """``value`` if it is an integer within ``[minimum, maximum]`` (or None when allowed)."""
    if value is None and allow_none:
        return value
    ok = is_int(value) and (minimum is None or value >= minimum) and (maximum is None or value <= maximum)
    if not ok:
        accepted = "an integer"
        if minimum is not None and maximum is not None:
            accepted += f" in [{minimum}, {maximum}]"
        elif minimum is not None:
            accepted += f" >= {minimum}"
        elif maximum is not None:
            accepted += f" <= {maximum}"
        fail(arg, value, accepted + (" or None" if allow_none else ""), owner)
    return value


def check_number(arg, value, low=None, high=None, low_open=False, high_open=False, owner=None, allow_none=False):
    """``value`` if it is a real number within the bounds (``low_open``: strictly above ``low``)."""
    if value is None and allow_none:
        return value
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and value == value
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        if low is not None and high is not None:
            accepted = f"a number in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
        elif low is not None:
            accepted = f"a number {'>' if low_open else '>='} {low}"
        elif high is not None:
            accepted = f"a number {'<' if high_open else '<='} {high}"
        else:
            accepted = "a number"
        fail(arg, value, accepted + (" or None" if allow_none else ""), owner)
    return value


def check_choice(arg, value, choices, owner=None):
    """``value`` if it is one of ``choices``."""
    choices = tuple(choices)
    try:
        ok = value in choices
    except TypeError:  # unhashable or incomparable values are not choices
        ok = False
    if not ok:
        fail(arg, value, "one of " + ", ".join(repr(c) for c in choices), owner)
    return value


def check_bool(arg, value, owner=None):
    """``value`` if it is True or False."""
    if not isinstance(value, bool):
        fail(arg, value, "True or False", owner)
    return value


def check_type(arg, value, types, accepted, owner=None, allow_none=False):
    """``value`` if it is an instance of ``types`` (or None when allowed), else a ``TypeError``."""
    if (value is None and allow_none) or isinstance(value, types):
        return value
    fail(arg, value, accepted + (" or None" if allow_none else ""), owner, error=TypeError)


def check_str(arg, value, owner=None, allow_none=False, accepted="a string"):
    """``value`` if it is a ``str`` (or None when allowed), else a ``TypeError`` naming ``arg``."""
    return check_type(arg, value, str, accepted, owner, allow_none)


def check_path(arg, value, owner=None, allow_none=False, accepted=PATH):
    """``value`` if it is a ``str`` or ``os.PathLike`` (an int is not: ``open(42)`` would read file descriptor 42)."""
    return check_type(arg, value, (str, os.PathLike), accepted, owner, allow_none)


def check_model(arg, value, owner=None, accepted="a Keras model"):
    """``value`` if it is a Keras model (Keras 3 or tf-keras: it has ``layers`` and ``get_weights``), else a TypeError."""
    if not (hasattr(value, "layers") and hasattr(value, "get_weights")) or isinstance(value, type):
        fail(arg, value, accepted, owner, error=TypeError)
    return value


def check_array(arg, value, accepted, owner=None, dtype="float32", min_ndim=1):
    """``value`` as a NumPy array of ``dtype``; a ``TypeError`` when it holds no numbers (text, None, ragged lists)
    or has fewer than ``min_ndim`` axes (a lone number where an array is expected)."""
    import numpy as np

    try:
        array = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError):
        array = None
    if array is None or array.ndim < min_ndim:
        fail(arg, value, accepted, owner, error=TypeError)
    return array

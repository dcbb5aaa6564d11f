"""``compiled(fn)``: a ``tf.function`` called through its concrete functions, one per argument shapes.

A small agent calls its update thousands of times; ``tf.function``'s argument matching costs ~0.3-0.5
ms of each call, so the concrete function for each set of shapes is kept and called directly.
"""

from __future__ import annotations

import tensorflow as tf

__all__ = ["Compiled"]


class Compiled:
    """``tf.function(fn, **kwargs)`` whose calls (tensors or dicts of tensors) skip argument matching."""

    def __init__(self, fn, **kwargs):
        self.function = tf.function(fn, **kwargs)
        self._concrete = {}

    def __call__(self, *args):
        key = repr(tf.nest.map_structure(lambda t: tuple(t.shape), args))  # shapes and dict keys
        fn = self._concrete.get(key)
        if fn is None:
            fn = self._concrete[key] = self.function.get_concrete_function(*args)
        return fn(*args)

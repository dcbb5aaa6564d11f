"""``Compiled(fn)``: a ``tf.function`` called through its concrete functions, one per argument shapes; and
``pack_batch``/``unpack_batch``, which hand a dict of small arrays to it as one tensor.

A small agent calls its update thousands of times; ``tf.function``'s argument matching costs ~0.3-0.5
ms of each call, so the concrete function for each set of shapes is kept and called directly, found by
a key of the arguments' shapes built in plain Python (``tf.nest`` took ~40 us of each call). Each
tensor argument costs a conversion and a binding (~30 us together, several times that inside a busy env
loop), so a rollout's or a replay sample's float32 arrays travel side by side in one array.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

__all__ = ["Compiled", "pack_batch", "unpack_batch", "PACKED"]

PACKED = "_float32_columns"
"""The key under which ``pack_batch`` puts the float32 arrays side by side."""


def _shapes(x):
    """The shapes (and dict keys) of a structure of tensors, as a hashable key."""
    if isinstance(x, dict):
        return tuple((k, _shapes(v)) for k, v in x.items())
    if isinstance(x, (tuple, list)):
        return tuple(_shapes(v) for v in x)
    return tuple(x.shape)


class Compiled:
    """``tf.function(fn, **kwargs)`` whose calls (tensors, or dicts and tuples of them) skip argument matching."""

    def __init__(self, fn, **kwargs):
        self.function = tf.function(fn, **kwargs)
        self._concrete = {}

    def __call__(self, *args):
        key = _shapes(args)
        fn = self._concrete.get(key)
        if fn is None:
            fn = self._concrete[key] = self.function.get_concrete_function(*args)
        return fn(*args)


def pack_batch(batch: dict, max_width: int = 256, leading: int = 1):
    """``(batch with its float32 arrays of up to max_width values a row side by side under PACKED, layout)``.

    Rows are what follows the first ``leading`` axes (1: a rollout's steps; 2: the replay's gradient steps
    and minibatch rows); the layout (``(key, row shape)`` pairs) is what ``unpack_batch`` needs, ``()``
    when nothing was packed."""
    keys = [k for k, v in batch.items()
            if v.dtype == np.float32 and v.ndim >= leading and int(np.prod(v.shape[leading:])) <= max_width]
    if len(keys) < 2:
        return batch, ()
    lead = batch[keys[0]].shape[:leading]
    packed = {k: v for k, v in batch.items() if k not in keys}
    packed[PACKED] = np.concatenate([batch[k].reshape(*lead, -1) for k in keys], axis=-1)
    return packed, tuple((k, batch[k].shape[leading:]) for k in keys)


def unpack_batch(batch: dict, layout) -> dict:
    """In the graph: ``pack_batch``'s arrays back under their keys (exact slices)."""
    if not layout:
        return batch
    batch, start = dict(batch), 0
    columns = batch.pop(PACKED)
    lead = tf.shape(columns)[:-1]
    for key, shape in layout:
        width = int(np.prod(shape))
        batch[key] = tf.reshape(columns[..., start:start + width], tf.concat([lead, list(shape)], 0))
        start += width
    return batch

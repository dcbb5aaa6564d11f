"""The 1,000 ImageNet classes, offline: ``decode_predictions(probs, top=5)``.

``imagenet_class_index.json`` (shipped with dlzoo) is keras.applications' class
index, ``{"0": ["n01440764", "tench"], ...}``: the WordNet id and the short name of
every class, in the order of the models' 1,000 outputs. It was taken from
keras-hub 0.32.0's ``keras_hub.src.utils.imagenet.imagenet_utils.IMAGENET_NAMES``
(Apache-2.0), which holds the same table that keras.applications downloads.
"""

from __future__ import annotations

import functools
import json
import os

import numpy as np

from zoo.core.checks import check_int, fail

__all__ = ["class_index", "class_names", "decode_predictions"]

_INDEX = os.path.join(os.path.dirname(__file__), "imagenet_class_index.json")


@functools.cache
def class_index() -> tuple[tuple[str, str], ...]:
    """``((wordnet_id, name), ...)`` for the 1,000 classes, in output order."""
    with open(_INDEX, encoding="utf-8") as f:
        table = json.load(f)
    return tuple(tuple(table[str(i)]) for i in range(len(table)))


def class_names() -> list[str]:
    """The short names of the 1,000 classes, in output order (``"tench"``, ``"goldfish"``, ...)."""
    return [name for _, name in class_index()]


def decode_predictions(probs, top: int = 5) -> list[list[tuple[str, str, float]]]:
    """The ``top`` classes of each row of ``probs`` as ``(wordnet_id, name, score)``, best first.

    ``probs`` is an ImageNet model's output, shape ``(batch, 1000)`` (probabilities
    or logits; the order is what counts), as keras.applications'
    ``decode_predictions`` takes it.
    """
    probs = np.asarray(probs)
    if probs.ndim == 1:
        probs = probs[None]
    if probs.ndim != 2 or probs.shape[1] != len(class_index()):
        fail("probs", f"<array of shape {probs.shape}>", f"an array of shape (batch, {len(class_index())})",
             owner="decode_predictions")
    check_int("top", top, minimum=1, maximum=probs.shape[1], owner="decode_predictions")
    index = class_index()
    out = []
    for row in probs:
        best = np.argsort(-row, kind="stable")[:top]
        out.append([(*index[i], float(row[i])) for i in best])
    return out

"""Pieces shared by the image-model families (cnn, vgg, resnet, mobilenet, inception).

Every image builder ends in :func:`finish`, which gives all of them the same
interface: ``include_top`` / ``pooling`` / ``dropout`` / ``classifier_activation``
/ ``num_classes`` for a classifier, or ``features=True`` for a multi-output
backbone whose outputs are a dict keyed ``"stride_4"``, ``"stride_8"``, ...

Layer-naming convention (used by transfer learning to unfreeze "the top N
blocks"): every layer of a backbone block is named ``<block>_<layer>``, where
``<block>`` matches :data:`BLOCK_RE` (``conv3_block2``, ``block5``, ``mixed7``,
``inception4e``). Layers before the first block are the stem (``stem_*``,
``conv1_*``, ``pool1_*``), layers after the last block are the top (``top_*``,
``avg_pool``, ``fc1``, ``predictions``). ``zoo.weights.block_names`` lists a
model's blocks in order; ``zoo.weights.block_layers`` returns the layers of one block.
"""

from __future__ import annotations

from zoo.data.preprocessing import layer_class
from zoo.core.naming import BLOCK_RE, block_layers, block_names  # noqa: F401  (the naming convention)

__all__ = ["BLOCK_RE", "block_names", "block_layers", "finish", "finish_from", "image_input"]

layer_class()  # registers zoo>ImagePreprocessing, so .keras files that hold it load


def image_input(keras, input_shape):
    return keras.Input(shape=tuple(input_shape), name="input")


def finish_from(keras, inputs, x, taps, config, top=None):
    """:func:`finish` with the head arguments read from ``config``, a builder's ``locals()``.

    ``config`` holds ``name``, ``features``, ``include_top``, ``pooling``,
    ``num_classes``, ``classifier_activation`` and ``dropout``.
    """
    keys = ("name", "features", "include_top", "pooling", "num_classes", "classifier_activation", "dropout")
    return finish(keras, inputs, x, taps=taps, top=top, **{k: config[k] for k in keys})


def finish(
    keras,
    inputs,
    x,
    *,
    name,
    taps,
    features,
    include_top,
    pooling,
    num_classes,
    classifier_activation,
    dropout,
    top=None,
):
    """Close a backbone: a classifier, a pooled feature vector, a feature map, or a feature dict.

    ``taps`` maps a stride to the last tensor at that stride (``features=True``
    returns them keyed ``"stride_<s>"``). ``top(x)`` replaces the default top
    (global average pooling) before the ``predictions`` layer, as VGG's dense layers do.
    """
    if features:
        outputs = {f"stride_{s}": t for s, t in sorted(taps.items())}
        return keras.Model(inputs, outputs, name=f"{name}_features")
    if include_top:
        x = top(x) if top is not None else keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name="top_dropout")(x)
        x = keras.layers.Dense(num_classes, activation=classifier_activation, name="predictions")(x)
    elif pooling == "avg":
        x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    elif pooling == "max":
        x = keras.layers.GlobalMaxPooling2D(name="max_pool")(x)
    return keras.Model(inputs, x, name=name)

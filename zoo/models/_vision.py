"""Pieces shared by the image-model families (cnn, vgg, resnet, mobilenet, inception, conv_family).

Every image builder ends in :func:`finish`, which gives all of them the same
interface: ``include_top`` / ``pooling`` / ``dropout`` / ``classifier_activation``
/ ``num_classes`` for a classifier, or ``features=True`` for a multi-output
backbone whose outputs are a dict keyed ``"stride_4"``, ``"stride_8"``, ...; the
global pooling follows the rank of the backbone's output (1-D, 2-D or 3-D).
:func:`conv_bn` is the convolution -> batch norm -> activation unit they share.

Layer-naming convention (used by transfer learning to unfreeze "the top N
blocks"): every layer of a backbone block is named ``<block>_<layer>``, where
``<block>`` matches :data:`BLOCK_RE` (``conv3_block2``, ``block5``, ``mixed7``,
``inception4e``). Layers before the first block are the stem (``stem_*``,
``conv1_*``, ``pool1_*``), layers after the last block are the top (``top_*``,
``avg_pool``, ``fc1``, ``predictions``). ``zoo.weights.block_names`` lists a
model's blocks in order; ``zoo.weights.block_layers`` returns the layers of one block.
"""

from __future__ import annotations

import collections

from zoo.core.naming import BLOCK_RE, HEAD, block_layers, block_names  # noqa: F401  (the naming convention)
from zoo.models._lazy import on_keras

__all__ = ["BLOCK_RE", "block_names", "block_layers", "conv_bn", "relu", "finish", "finish_from", "image_input"]

#: The head arguments every image builder takes (and :func:`finish_from` reads).
HEAD_ARGS = ("name", "features", "include_top", "pooling", "num_classes", "classifier_activation", "dropout")


@on_keras
def _register_preprocessing():
    from zoo.data.preprocessing import layer_class

    layer_class()  # registers zoo>ImagePreprocessing, so .keras files that hold it load


def image_input(keras, input_shape):
    return keras.Input(shape=tuple(input_shape), name="input")


def relu(layers, max_value=None):
    """An ``act=`` for :func:`conv_bn`: a ``ReLU`` layer (``max_value=6.0``: ReLU6) rather than an ``Activation``."""

    def act(x, name):
        return layers.ReLU(max_value, name=name)(x)

    return act


def conv_bn(layers, x, filters, kernel, name=None, *, names=None, strides=1, padding="same", use_bias=False,
            bn=None, act="relu", conv="Conv2D", **conv_kwargs):
    """Convolution -> batch normalization -> activation, the unit every conv family repeats.

    Layers are named ``<name>_conv``, ``<name>_bn``, ``<name>_relu``, or ``names``
    (conv, bn, activation) where a family has its own scheme. ``act`` is None (no
    activation), an activation name (an ``Activation`` layer) or ``act(x, name)``
    (e.g. :func:`relu`). ``conv`` is the layer class's name (``"Conv3D"``,
    ``"DepthwiseConv2D"``, which takes no ``filters``: pass None); ``bn`` the batch
    norm's arguments.
    """
    conv_name, bn_name, act_name = names or (f"{name}_conv", f"{name}_bn", f"{name}_relu")
    sizes = (kernel,) if filters is None else (filters, kernel)
    x = getattr(layers, conv)(*sizes, strides=strides, padding=padding, use_bias=use_bias, name=conv_name,
                              **conv_kwargs)(x)
    x = layers.BatchNormalization(**(bn or {}), name=bn_name)(x)
    if act is None:
        return x
    if isinstance(act, str):
        return layers.Activation(act, name=act_name)(x)
    return act(x, act_name)


def finish_from(keras, inputs, x, taps, config, top=None):
    """:func:`finish` with the head arguments (:data:`HEAD_ARGS`) read from ``config``, a builder's ``locals()``."""
    return finish(keras, inputs, x, taps=taps, top=top, **{k: config[k] for k in HEAD_ARGS})


def _global_pool(layers, x, kind, name):
    rank = len(x.shape) - 2  # spatial axes: (batch, *spatial, channels)
    if rank not in (1, 2, 3):
        raise ValueError(f"invalid backbone output of shape {tuple(x.shape)}; expected 1, 2 or 3 spatial axes")
    return getattr(layers, f"Global{kind}Pooling{rank}D")(name=name)(x)


def finish(keras, inputs, x, *, name, taps, features, include_top, pooling, num_classes, classifier_activation,
           dropout, top=None):
    """Close a backbone: a classifier, a pooled feature vector, a feature map, or a feature dict.

    ``taps`` maps a stride to the last tensor at that stride. ``features=True``
    returns them keyed ``"stride_<s>"`` in stride order (an ordered dict, as timm's
    ``features_only`` lists them). Every model gets ``model.feature_info``: per tap,
    its key, ``reduction`` (the stride), ``channels`` and ``layer`` (the layer that
    makes it). ``top(x)`` replaces the default top (global average pooling) before
    the ``predictions`` layer, as VGG's dense layers do.
    """
    layers = keras.layers
    ordered = collections.OrderedDict((f"stride_{s}", t) for s, t in sorted(taps.items()))
    if features:
        return _with_feature_info(keras, keras.Model(inputs, ordered, name=f"{name}_features"), ordered)
    if include_top:
        x = top(x) if top is not None else _global_pool(layers, x, "Average", "avg_pool")
        if dropout:
            x = layers.Dropout(dropout, name="top_dropout")(x)
        x = layers.Dense(num_classes, activation=classifier_activation, name=HEAD)(x)
    elif pooling == "avg":
        x = _global_pool(layers, x, "Average", "avg_pool")
    elif pooling == "max":
        x = _global_pool(layers, x, "Max", "max_pool")
    return _with_feature_info(keras, keras.Model(inputs, x, name=name), ordered)


def _with_feature_info(keras, model, ordered):
    """Attach ``feature_info`` (timm's: channels, reduction, layer per feature map) to ``model``."""
    info = []
    for key, tensor in ordered.items():
        history = getattr(tensor, "_keras_history", None)
        made_by = history[0] if history else None
        layer = made_by.name if isinstance(made_by, keras.layers.Layer) else None  # None: an op such as x + y
        info.append({"key": key, "reduction": int(key.split("_")[1]), "channels": int(tensor.shape[-1]), "layer": layer})
    object.__setattr__(model, "feature_info", info)  # plain data: not tracked (nor saved) by Keras
    return model

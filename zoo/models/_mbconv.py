"""Blocks shared by EfficientNet (v1) and EfficientNetV2, layer for layer as keras.applications builds them.

A plan is a tuple of stages ``(repeats, filters_in, filters_out, expand_ratio,
kernel, strides, se_ratio, fused)``: the first block of a stage strides and
changes width, the others repeat it. Blocks are named ``block<stage><letter>_``
(``block2a_expand_conv``), so their block pattern is :data:`BLOCK_PATTERN`.
"""

from __future__ import annotations

import math

from zoo.core.checks import check_number
from zoo.models._vision import conv_bn
from zoo.weights.pretrained import imagenet

__all__ = ["BLOCK_PATTERN", "REGISTRY_DATA", "TEST", "imagenet_tags", "CONV_INIT", "check_scaling", "round_repeats", "unit",
           "mbconv", "fused_mbconv", "stack", "top"]

#: ``block1a``, ``block6d``: keras.applications' EfficientNet block names (group 1).
BLOCK_PATTERN = r"^(block\d+[a-z])_"

#: Registry data of both families: pixels in [0, 255] go in (the network rescales and normalises them, as
#: keras.applications' does); keras accepts 32x32 and more, with any number of channels without weights.
REGISTRY_DATA = dict(task="classification", min_input_shape=(32, 32, 1), input_range="[0, 255]",
                     block_pattern=BLOCK_PATTERN)

#: The registry tests' input: 32 px, 3 classes.
TEST = dict(input_shape=(32, 32, 3), num_classes=3)


def imagenet_tags(base_url, files, top_hash, notop_hash, input_size, top1, top5):
    """``pretrained=``: the imagenet tag of keras.applications' ``<files>.h5`` / ``<files>_notop.h5`` pair."""
    return (imagenet(base_url, f"{files}.h5", top_hash, f"{files}_notop.h5", notop_hash, input_size=input_size,
                     top1=top1, top5=top5),)


#: keras.applications' convolution initializer for EfficientNets (a config, so every layer gets its own).
CONV_INIT = {"class_name": "VarianceScaling",
             "config": {"scale": 2.0, "mode": "fan_out", "distribution": "truncated_normal"}}


def check_scaling(name, width_coefficient, depth_coefficient, drop_connect_rate):
    """The compound-scaling arguments: positive width and depth coefficients, a drop rate in [0, 1)."""
    check_number("width_coefficient", width_coefficient, low=0, low_open=True, owner=name)
    check_number("depth_coefficient", depth_coefficient, low=0, low_open=True, owner=name)
    check_number("drop_connect_rate", drop_connect_rate, low=0, high=1, high_open=True, owner=name)


def round_repeats(repeats, depth_coefficient):
    return int(math.ceil(depth_coefficient * repeats))


def unit(layers, x, filters, kernel, name, parts, bn, act="swish", strides=1, conv="Conv2D", padding="same"):
    """Conv -> BN -> activation named ``<name><conv part>``, ``<name><bn part>``, ``<name><act part>``."""
    init = "depthwise_initializer" if conv == "DepthwiseConv2D" else "kernel_initializer"
    names = tuple(f"{name}{part}" if part else None for part in parts)
    return conv_bn(layers, x, filters, kernel, names=names, strides=strides, padding=padding, bn=bn, act=act,
                   conv=conv, **{init: CONV_INIT})


def _squeeze_excite(layers, x, filters_in, se_ratio, name):
    filters = x.shape[-1]
    se = layers.GlobalAveragePooling2D(name=f"{name}se_squeeze")(x)
    se = layers.Reshape((1, 1, filters), name=f"{name}se_reshape")(se)
    se = layers.Conv2D(max(1, int(filters_in * se_ratio)), 1, padding="same", activation="swish",
                       kernel_initializer=CONV_INIT, name=f"{name}se_reduce")(se)
    se = layers.Conv2D(filters, 1, padding="same", activation="sigmoid", kernel_initializer=CONV_INIT,
                       name=f"{name}se_expand")(se)
    return layers.Multiply(name=f"{name}se_excite")([x, se])


def _residual(layers, x, inputs, filters_in, filters_out, strides, drop_rate, name):
    """Identity shortcut where shape allows, behind keras' per-sample dropout (none at rate 0)."""
    if strides != 1 or filters_in != filters_out:
        return x
    if drop_rate > 0:
        x = layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=f"{name}drop")(x)
    return layers.Add(name=f"{name}add")([x, inputs])


def mbconv(layers, inputs, filters_in, filters_out, expand_ratio, kernel, strides, se_ratio, drop_rate, name,
           bn, pad=None, dw_name="dwconv"):
    """Inverted residual: 1x1 expansion, depthwise conv, squeeze-excite, linear 1x1 projection.

    ``pad(x, kernel)`` (EfficientNet v1): explicit padding and a 'valid' stride-2
    depthwise conv; otherwise 'same' padding (v2).
    """
    x = inputs
    if expand_ratio != 1:
        x = unit(layers, x, filters_in * expand_ratio, 1, name, ("expand_conv", "expand_bn", "expand_activation"), bn)
    padding = "same"
    if strides == 2 and pad is not None:
        x = layers.ZeroPadding2D(pad(x, kernel), name=f"{name}dwconv_pad")(x)
        padding = "valid"
    x = unit(layers, x, None, kernel, name, (dw_name, "bn", "activation"), bn, strides=strides,
              conv="DepthwiseConv2D", padding=padding)
    if 0 < se_ratio <= 1:
        x = _squeeze_excite(layers, x, filters_in, se_ratio, name)
    x = unit(layers, x, filters_out, 1, name, ("project_conv", "project_bn", None), bn, act=None)
    return _residual(layers, x, inputs, filters_in, filters_out, strides, drop_rate, name)


def fused_mbconv(layers, inputs, filters_in, filters_out, expand_ratio, kernel, strides, se_ratio, drop_rate, name,
                 bn):
    """EfficientNetV2's fused block: one full conv replaces expansion and depthwise conv."""
    x = inputs
    if expand_ratio != 1:
        x = unit(layers, x, filters_in * expand_ratio, kernel, name, ("expand_conv", "expand_bn", "expand_activation"),
                  bn, strides=strides)
    if 0 < se_ratio <= 1:
        x = _squeeze_excite(layers, x, filters_in, se_ratio, name)
    expanded = expand_ratio != 1
    x = unit(layers, x, filters_out, 1 if expanded else kernel, name,
              ("project_conv", "project_bn", None if expanded else "project_activation"), bn,
              strides=1 if expanded else strides, act=None if expanded else "swish")
    return _residual(layers, x, inputs, filters_in, filters_out, strides, drop_rate, name)


def stack(layers, x, plan, round_filters, depth_coefficient, drop_connect_rate, total, taps, stride, bn,
          **mbconv_kwargs):
    """All stages of ``plan``; block ``b`` of ``total`` drops its residual branch at ``drop_connect_rate * b / total``.

    ``taps`` gets the last tensor at every stride; returns ``(x, stride)``. ``mbconv_kwargs``: :func:`mbconv`'s
    ``pad`` and ``dw_name``.
    """
    b = 0
    for i, (repeats, filters_in, filters_out, expand_ratio, kernel, strides, se_ratio, fused) in enumerate(plan):
        filters_in, filters_out = round_filters(filters_in), round_filters(filters_out)
        block, kwargs = (fused_mbconv, {}) if fused else (mbconv, mbconv_kwargs)
        for j in range(round_repeats(repeats, depth_coefficient)):
            s = strides if j == 0 else 1
            x = block(layers, x, filters_in if j == 0 else filters_out, filters_out, expand_ratio, kernel, s, se_ratio,
                      drop_connect_rate * b / total, f"block{i + 1}{chr(j + 97)}_", bn, **kwargs)
            b += 1
            stride *= s
            taps[stride] = x
    return x, stride


def top(layers, x, filters, bn):
    """The 1x1 ``top_conv`` -> ``top_bn`` -> ``top_activation`` before the head."""
    return unit(layers, x, filters, 1, "top_", ("conv", "bn", "activation"), bn)

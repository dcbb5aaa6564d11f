"""NASNet-A (Zoph et al. 2018): cells found by neural architecture search, Mobile and Large.

keras.applications' NASNet layer for layer (batch norm ``momentum=0.9997``,
``epsilon=1e-3``, the same asymmetric paddings and the "adjust" path that matches
the previous cell's output to the current one), so ``zoo.weights.from_keras_applications``
and the published ``imagenet`` files load into it. Layer names are keras.applications',
which end in the cell's id (``normal_conv_1_3``, ``separable_conv_1_normal_left1_3``,
``reduction_bn_1_reduce_4``); the layers it leaves anonymous are named in that scheme
(``normal_relu_1_3``, ``separable_relu_1_normal_left1_3``, ``adjust_concat_3`` ...). The
cells are the blocks: ``stem_1``, ``stem_2``, ``0`` ... ``reduce_<n>`` ... (:data:`BLOCK_PATTERN`).

Every configuration of keras' ``NASNet`` is reachable: ``penultimate_filters`` (a
multiple of ``24 * filter_multiplier**2``), ``num_blocks`` normal cells per stack,
``stem_block_filters``, ``skip_reduction``, ``filter_multiplier``.

The published files are ``NASNet-mobile.h5`` ... on the server; keras.applications
caches them as ``nasnet_mobile.h5`` ..., the names the ``imagenet`` tags look for.
"""

from __future__ import annotations

import dataclasses

from zoo.core.checks import check_bool, check_int, fail, is_int
from zoo.models._lazy import keras
from zoo.models._vision import finish_from, image_input
from zoo.registry import register
from zoo.weights.pretrained import imagenet

#: Transfer learning's block names: a layer's cell id is the end of its name.
BLOCK_PATTERN = r"^.*?_(stem_\d+|reduce_\d+|\d+)$"

_BN = dict(momentum=0.9997, epsilon=1e-3)


def _correct_pad(x, kernel):
    """keras.applications' ``imagenet_utils.correct_pad``: the zero padding of a stride-2 convolution."""
    kernel = (kernel, kernel) if isinstance(kernel, int) else kernel
    size = x.shape[1:3]
    adjust = (1, 1) if size[0] is None else (1 - size[0] % 2, 1 - size[1] % 2)
    return tuple((k // 2 - a, k // 2) for k, a in zip(kernel, adjust))


def _nasnet(
    penultimate_filters=4032,
    num_blocks=6,
    stem_block_filters=96,
    skip_reduction=True,
    filter_multiplier=2,
    input_shape=(331, 331, 3),
    num_classes=1000,
    include_top=True,
    pooling=None,
    dropout=0.0,
    classifier_activation="softmax",
    features=False,
    name="nasnet_large",
    keras=keras,
):
    """Stem conv, two reduction cells, then three stacks of ``num_blocks`` normal cells with reductions between."""
    check_int("filter_multiplier", filter_multiplier, minimum=1, owner=name)
    check_int("num_blocks", num_blocks, minimum=1, owner=name)
    check_int("stem_block_filters", stem_block_filters, minimum=1, owner=name)
    check_bool("skip_reduction", skip_reduction, owner=name)
    unit = 24 * filter_multiplier**2
    if not (is_int(penultimate_filters) and penultimate_filters > 0 and penultimate_filters % unit == 0):
        fail("penultimate_filters", penultimate_filters,
             f"a positive multiple of 24 * filter_multiplier**2 = {unit} (filter_multiplier={filter_multiplier})",
             owner=name)
    layers = keras.layers

    def bn(x, name):
        return layers.BatchNormalization(**_BN, name=name)(x)

    def relu(x, name):
        return layers.Activation("relu", name=name)(x)

    def conv1x1(x, filters, name):
        return layers.Conv2D(filters, 1, padding="same", use_bias=False, kernel_initializer="he_normal", name=name)(x)

    def separable(x, filters, kernel, block_id, strides=1):
        """Twice ReLU -> separable conv -> batch norm; the first strided (zero-padded) in reduction cells."""
        for j in (1, 2):
            x = relu(x, f"separable_relu_{j}_{block_id}")
            padding = "same"
            if j == 1 and strides == 2:
                x = layers.ZeroPadding2D(_correct_pad(x, kernel), name=f"separable_conv_1_pad_{block_id}")(x)
                padding = "valid"
            x = layers.SeparableConv2D(filters, kernel, strides=strides if j == 1 else 1, padding=padding,
                                       use_bias=False, name=f"separable_conv_{j}_{block_id}")(x)
            x = bn(x, f"separable_conv_{j}_bn_{block_id}")
        return x

    def adjust(p, ip, filters, block_id):
        """The previous cell's output ``p`` brought to the resolution and width of ``ip``."""
        if p is None:
            return ip
        if p.shape[-2] != ip.shape[-2]:  # halve the resolution: two offset 1x1/2 paths, concatenated
            p = relu(p, f"adjust_relu_1_{block_id}")
            p1 = layers.AveragePooling2D(1, strides=2, name=f"adjust_avg_pool_1_{block_id}")(p)
            p1 = conv1x1(p1, filters // 2, f"adjust_conv_1_{block_id}")
            p2 = layers.ZeroPadding2D(((0, 1), (0, 1)), name=f"adjust_pad_2_{block_id}")(p)
            p2 = layers.Cropping2D(((1, 0), (1, 0)), name=f"adjust_crop_2_{block_id}")(p2)
            p2 = layers.AveragePooling2D(1, strides=2, name=f"adjust_avg_pool_2_{block_id}")(p2)
            p2 = conv1x1(p2, filters // 2, f"adjust_conv_2_{block_id}")
            p = layers.Concatenate(name=f"adjust_concat_{block_id}")([p1, p2])
            return bn(p, f"adjust_bn_{block_id}")
        if p.shape[-1] != filters:
            p = relu(p, f"adjust_relu_projection_{block_id}")
            return bn(conv1x1(p, filters, f"adjust_conv_projection_{block_id}"), f"adjust_bn_{block_id}")
        return p

    def add(a, b, name):
        return layers.Add(name=name)([a, b])

    def pool(kind, x, strides, name):
        padding = "same" if strides == 1 else "valid"
        return getattr(layers, f"{kind}Pooling2D")(3, strides=strides, padding=padding, name=name)(x)

    def normal_cell(ip, p, filters, i):
        p = adjust(p, ip, filters, i)
        h = bn(conv1x1(relu(ip, f"normal_relu_1_{i}"), filters, f"normal_conv_1_{i}"), f"normal_bn_1_{i}")
        x1 = add(separable(h, filters, 5, f"normal_left1_{i}"), separable(p, filters, 3, f"normal_right1_{i}"),
                 f"normal_add_1_{i}")
        x2 = add(separable(p, filters, 5, f"normal_left2_{i}"), separable(p, filters, 3, f"normal_right2_{i}"),
                 f"normal_add_2_{i}")
        x3 = add(pool("Average", h, 1, f"normal_left3_{i}"), p, f"normal_add_3_{i}")
        x4 = add(pool("Average", p, 1, f"normal_left4_{i}"), pool("Average", p, 1, f"normal_right4_{i}"),
                 f"normal_add_4_{i}")
        x5 = add(separable(h, filters, 3, f"normal_left5_{i}"), h, f"normal_add_5_{i}")
        return layers.Concatenate(name=f"normal_concat_{i}")([p, x1, x2, x3, x4, x5]), ip

    def reduction_cell(ip, p, filters, i):
        p = adjust(p, ip, filters, i)
        h = bn(conv1x1(relu(ip, f"reduction_relu_1_{i}"), filters, f"reduction_conv_1_{i}"), f"reduction_bn_1_{i}")
        h3 = layers.ZeroPadding2D(_correct_pad(h, 3), name=f"reduction_pad_1_{i}")(h)
        x1 = add(separable(h, filters, 5, f"reduction_left1_{i}", 2), separable(p, filters, 7, f"reduction_right1_{i}", 2),
                 f"reduction_add_1_{i}")
        x2 = add(pool("Max", h3, 2, f"reduction_left2_{i}"), separable(p, filters, 7, f"reduction_right2_{i}", 2),
                 f"reduction_add_2_{i}")
        x3 = add(pool("Average", h3, 2, f"reduction_left3_{i}"), separable(p, filters, 5, f"reduction_right3_{i}", 2),
                 f"reduction_add3_{i}")
        x4 = add(x2, pool("Average", x1, 1, f"reduction_left4_{i}"), f"reduction_add_4_{i}")  # anonymous in keras
        # keras.applications reuses the id "reduction_left4" for this separable block, and names its add "add4"
        x5 = add(separable(x1, filters, 3, f"reduction_left4_{i}"), pool("Max", h3, 2, f"reduction_right5_{i}"),
                 f"reduction_add4_{i}")
        return layers.Concatenate(name=f"reduction_concat_{i}")([x2, x3, x4, x5]), ip

    filters = penultimate_filters // 24
    inputs = image_input(keras, input_shape)
    x = layers.Conv2D(stem_block_filters, 3, strides=2, padding="valid", use_bias=False, kernel_initializer="he_normal",
                      name="stem_conv1")(inputs)
    x = bn(x, "stem_bn1")
    taps = {2: x}
    x, p = reduction_cell(x, None, filters // filter_multiplier**2, "stem_1")
    taps[4] = x
    x, p = reduction_cell(x, p, filters // filter_multiplier, "stem_2")
    for stack in range(3):
        if stack:
            x, p0 = reduction_cell(x, p, filters * filter_multiplier**stack, f"reduce_{stack * num_blocks}")
            p = p if skip_reduction else p0
        for i in range(num_blocks):
            x, p = normal_cell(x, p, filters * filter_multiplier**stack, str(stack * num_blocks + i + (stack > 0)))
        taps[8 * 2**stack] = x
    x = relu(x, "final_relu")
    taps[32] = x
    return finish_from(keras, inputs, x, taps, locals())


_URL = "https://storage.googleapis.com/tensorflow/keras-applications/nasnet/"


def _published(tag, top, notop):
    """``tag`` with the server's file names in its URLs (the cached names stay keras.applications')."""
    return dataclasses.replace(tag, top=dataclasses.replace(tag.top, url=_URL + top),
                               notop=dataclasses.replace(tag.notop, url=_URL + notop))


_COMMON = dict(
    family="nasnet",
    task="classification",
    builder=_nasnet,
    paper="Zoph et al. 2018, Learning transferable architectures for scalable image recognition",
    min_input_shape=(32, 32, 1),
    input_range="[-1, 1]",  # keras.applications.nasnet.preprocess_input (mode "tf")
    block_pattern=BLOCK_PATTERN,
)
#: One normal cell per stack and narrow cells: the registry-driven tests run the whole cell structure quickly.
_TEST = dict(input_shape=(32, 32, 3), num_classes=3, num_blocks=1, penultimate_filters=192, stem_block_filters=16)


@register(
    "nasnet_mobile", **_COMMON, params=5_326_716, keras_app="NASNetMobile",
    test_config=_TEST,
    pretrained=(_published(imagenet(_URL, "nasnet_mobile.h5", "020fb642bf7360b370c678b08e0adf61",
                                    "nasnet_mobile_no_top.h5", "1ed92395b5b598bdda52abe5c0dbfd63",
                                    input_size=224, top1=0.744, top5=0.919),
                           "NASNet-mobile.h5", "NASNet-mobile-no-top.h5"),),
)
def nasnet_mobile():
    """NASNet-A Mobile (4 @ 1056): 4 normal cells per stack; keras.applications.NASNetMobile's architecture."""
    return dict(penultimate_filters=1056, num_blocks=4, stem_block_filters=32, skip_reduction=False,
                input_shape=(224, 224, 3), name="nasnet_mobile")


@register(
    "nasnet_large", **_COMMON, params=88_949_818, keras_app="NASNetLarge",
    test_config=_TEST,
    pretrained=(_published(imagenet(_URL, "nasnet_large.h5", "11577c9a518f0070763c2b964a382f17",
                                    "nasnet_large_no_top.h5", "d81d89dc07e6e56530c4e77faddd61b5",
                                    input_size=331, top1=0.825, top5=0.96),
                           "NASNet-large.h5", "NASNet-large-no-top.h5"),),
)
def nasnet_large():
    """NASNet-A Large (6 @ 4032): 6 normal cells per stack; keras.applications.NASNetLarge's architecture."""
    return dict(penultimate_filters=4032, num_blocks=6, stem_block_filters=96, skip_reduction=True,
                input_shape=(331, 331, 3), name="nasnet_large")

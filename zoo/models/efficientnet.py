"""EfficientNet B0-B7 (Tan & Le 2019): MBConv blocks with squeeze-excite, scaled in width, depth and resolution.

keras.applications' EfficientNetB0-B7 layer for layer (names, order, initializers,
batch norm defaults, the explicit padding of stride-2 depthwise convs), so
``zoo.weights.from_keras_applications`` and the published ``.h5`` files pair with
it. Like keras, the network takes pixels in [0, 255]: it starts with
``Rescaling(1/255)`` and an ImageNet ``Normalization`` layer whose mean and
variance are weights (loaded with the ImageNet file).

The published weights hold the ImageNet standard deviation, not its square, as
that layer's variance; keras.applications compensates with one more
``Rescaling(1/sqrt(std))`` (``rescaling_1``), but only when it is built with
``weights="imagenet"``. The zoo cannot know at build time which weights will
come, so it builds that layer by default (``imagenet_rescaling=True``, for RGB
inputs): the model is then keras' ``weights="imagenet"`` one and the published
weights give keras' outputs. ``imagenet_rescaling=False`` gives the model
keras builds with ``weights=None`` (the weight layout is the same either way).
Blocks are named ``block<stage><letter>_*`` (``block6d_project_conv``).
"""

from __future__ import annotations

import math

from zoo.core.checks import check_bool
from zoo.models._lazy import keras
from zoo.models._mbconv import REGISTRY_DATA, TEST, check_scaling, imagenet_tags, round_repeats, stack, top, unit
from zoo.models._vision import finish_from, image_input
from zoo.models.mobilenet import _correct_pad
from zoo.registry import register

# (repeats, filters_in, filters_out, expand_ratio, kernel, strides, se_ratio, fused) of the seven B0 stages
_PLAN = (
    (1, 32, 16, 1, 3, 1, 0.25, False),
    (2, 16, 24, 6, 3, 2, 0.25, False),
    (2, 24, 40, 6, 5, 2, 0.25, False),
    (3, 40, 80, 6, 3, 2, 0.25, False),
    (3, 80, 112, 6, 5, 1, 0.25, False),
    (4, 112, 192, 6, 5, 2, 0.25, False),
    (1, 192, 320, 6, 3, 1, 0.25, False),
)
_IMAGENET_STD = (0.229, 0.224, 0.225)


def _round_filters(width_coefficient, divisor=8):
    """keras' width rounding: a multiple of ``divisor``, never more than 10% below the scaled width."""

    def round_filters(filters):
        filters *= width_coefficient
        new = max(divisor, int(filters + divisor / 2) // divisor * divisor)
        return int(new + divisor if new < 0.9 * filters else new)

    return round_filters


def _efficientnet(
    width_coefficient=1.0,
    depth_coefficient=1.0,
    drop_connect_rate=0.2,
    imagenet_rescaling=True,
    input_shape=(224, 224, 3),
    num_classes=1000,
    include_top=True,
    pooling=None,
    dropout=0.2,
    classifier_activation="softmax",
    features=False,
    name="efficientnet",
    keras=keras,
):
    """Rescaling and normalization, a 3x3/2 stem, seven stages of MBConv blocks, a 1x1 top conv, head.

    ``dropout`` is keras' ``top_dropout`` before the classifier; ``drop_connect_rate``
    the largest per-sample drop rate of the residual branches (it grows block by block).
    """
    check_scaling(name, width_coefficient, depth_coefficient, drop_connect_rate)
    check_bool("imagenet_rescaling", imagenet_rescaling, owner=name)
    layers = keras.layers
    round_filters = _round_filters(width_coefficient)
    inputs = image_input(keras, input_shape)
    x = layers.Rescaling(1.0 / 255.0, name="rescaling")(inputs)
    x = layers.Normalization(axis=-1, name="normalization")(x)
    if imagenet_rescaling and x.shape[-1] == 3:
        x = layers.Rescaling([1.0 / math.sqrt(std) for std in _IMAGENET_STD], name="rescaling_1")(x)
    x = layers.ZeroPadding2D(_correct_pad(x, 3), name="stem_conv_pad")(x)
    x = unit(layers, x, round_filters(32), 3, "stem_", ("conv", "bn", "activation"), None, strides=2, padding="valid")
    taps = {2: x}
    total = float(sum(round_repeats(stage[0], depth_coefficient) for stage in _PLAN))
    x, stride = stack(layers, x, _PLAN, round_filters, depth_coefficient, drop_connect_rate, total, taps, 2, None,
                      pad=_correct_pad, dw_name="dwconv")
    x = taps[stride] = top(layers, x, round_filters(1280), None)
    return finish_from(keras, inputs, x, taps, locals())


_URL = "https://storage.googleapis.com/keras-applications/"
_COMMON = dict(
    family="efficientnet",
    builder=_efficientnet,
    paper="Tan & Le 2019, EfficientNet: rethinking model scaling for convolutional neural networks",
    **REGISTRY_DATA,
)
# The registry tests (a first training step costs seconds per block): a quarter of B0's width, eight blocks
# (tests/zoo/test_family_efficientnet.py checks the full architectures against keras.applications).
_TEST_SMALL = dict(TEST, width_coefficient=0.25, depth_coefficient=0.3)


@register("efficientnet_b0", **_COMMON, keras_app="EfficientNetB0", params=5_330_571, test_config=_TEST_SMALL,
          pretrained=imagenet_tags(_URL, "efficientnetb0", "902e53a9f72be733fc0bcb005b3ebbac",
                                   "50bc09e76180e00e4465e1a485ddc09d", 224, 0.771, 0.933))
def efficientnet_b0():
    """EfficientNet-B0 (224 px): the searched baseline; keras.applications.EfficientNetB0's architecture."""
    return dict(width_coefficient=1.0, depth_coefficient=1.0, input_shape=(224, 224, 3), dropout=0.2,
                name="efficientnet_b0")


@register("efficientnet_b1", **_COMMON, keras_app="EfficientNetB1", params=7_856_239, test_config=_TEST_SMALL,
          pretrained=imagenet_tags(_URL, "efficientnetb1", "1d254153d4ab51201f1646940f018540",
                                   "74c4e6b3e1f6a1eea24c589628592432", 240, 0.791, 0.944))
def efficientnet_b1():
    """EfficientNet-B1 (240 px, depth x1.1); keras.applications.EfficientNetB1's architecture."""
    return dict(width_coefficient=1.0, depth_coefficient=1.1, input_shape=(240, 240, 3), dropout=0.2,
                name="efficientnet_b1")


@register("efficientnet_b2", **_COMMON, keras_app="EfficientNetB2", params=9_177_569, test_config=_TEST_SMALL,
          pretrained=imagenet_tags(_URL, "efficientnetb2", "b15cce36ff4dcbd00b6dd88e7857a6ad",
                                   "111f8e2ac8aa800a7a99e3239f7bfb39", 260, 0.801, 0.949))
def efficientnet_b2():
    """EfficientNet-B2 (260 px, width x1.1, depth x1.2); keras.applications.EfficientNetB2's architecture."""
    return dict(width_coefficient=1.1, depth_coefficient=1.2, input_shape=(260, 260, 3), dropout=0.3,
                name="efficientnet_b2")


@register("efficientnet_b3", **_COMMON, keras_app="EfficientNetB3", params=12_320_535, test_config=_TEST_SMALL,
          pretrained=imagenet_tags(_URL, "efficientnetb3", "ffd1fdc53d0ce67064dc6a9c7960ede0",
                                   "af6d107764bb5b1abb91932881670226", 300, 0.816, 0.957))
def efficientnet_b3():
    """EfficientNet-B3 (300 px, width x1.2, depth x1.4); keras.applications.EfficientNetB3's architecture."""
    return dict(width_coefficient=1.2, depth_coefficient=1.4, input_shape=(300, 300, 3), dropout=0.3,
                name="efficientnet_b3")


@register("efficientnet_b4", **_COMMON, keras_app="EfficientNetB4", params=19_466_823, test_config=_TEST_SMALL,
          pretrained=imagenet_tags(_URL, "efficientnetb4", "18c95ad55216b8f92d7e70b3a046e2fc",
                                   "ebc24e6d6c33eaebbd558eafbeedf1ba", 380, 0.829, 0.964))
def efficientnet_b4():
    """EfficientNet-B4 (380 px, width x1.4, depth x1.8); keras.applications.EfficientNetB4's architecture."""
    return dict(width_coefficient=1.4, depth_coefficient=1.8, input_shape=(380, 380, 3), dropout=0.4,
                name="efficientnet_b4")


@register("efficientnet_b5", **_COMMON, keras_app="EfficientNetB5", params=30_562_527, test_config=_TEST_SMALL,
          pretrained=imagenet_tags(_URL, "efficientnetb5", "ace28f2a6363774853a83a0b21b9421a",
                                   "38879255a25d3c92d5e44e04ae6cec6f", 456, 0.836, 0.967))
def efficientnet_b5():
    """EfficientNet-B5 (456 px, width x1.6, depth x2.2); keras.applications.EfficientNetB5's architecture."""
    return dict(width_coefficient=1.6, depth_coefficient=2.2, input_shape=(456, 456, 3), dropout=0.4,
                name="efficientnet_b5")


@register("efficientnet_b6", **_COMMON, keras_app="EfficientNetB6", params=43_265_143, test_config=_TEST_SMALL,
          pretrained=imagenet_tags(_URL, "efficientnetb6", "165f6e37dce68623721b423839de8be5",
                                   "9ecce42647a20130c1f39a5d4cb75743", 528, 0.84, 0.968))
def efficientnet_b6():
    """EfficientNet-B6 (528 px, width x1.8, depth x2.6); keras.applications.EfficientNetB6's architecture."""
    return dict(width_coefficient=1.8, depth_coefficient=2.6, input_shape=(528, 528, 3), dropout=0.5,
                name="efficientnet_b6")


@register("efficientnet_b7", **_COMMON, keras_app="EfficientNetB7", params=66_658_687, test_config=_TEST_SMALL,
          pretrained=imagenet_tags(_URL, "efficientnetb7", "8c03f828fec3ef71311cd463b6759d99",
                                   "cbcfe4450ddf6f3ad90b1b398090fe4a", 600, 0.843, 0.97))
def efficientnet_b7():
    """EfficientNet-B7 (600 px, width x2.0, depth x3.1); keras.applications.EfficientNetB7's architecture."""
    return dict(width_coefficient=2.0, depth_coefficient=3.1, input_shape=(600, 600, 3), dropout=0.5,
                name="efficientnet_b7")

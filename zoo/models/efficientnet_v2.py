"""EfficientNetV2 B0-B3, S, M and L (Tan & Le 2021): fused-MBConv early stages, MBConv with squeeze-excite later.

keras.applications' EfficientNetV2B0-B3/S/M/L layer for layer (names, order,
initializers, batch norm momentum 0.9, 'same' padding everywhere), so
``zoo.weights.from_keras_applications`` and the published ``.h5`` files pair
with it. The input preprocessing is in the network, as keras.applications
builds it by default (``include_preprocessing=True``, the published weights'
input), so images go in as values in [0, 255]: the B models rescale to [0, 1]
and normalise with ImageNet's mean and standard deviation (3-channel inputs;
otherwise, and for S/M/L, ``x / 128 - 1``). Neither preprocessing layer holds
weights. Blocks are named ``block<stage><letter>_*`` (``block4b_se_excite``).
"""

from __future__ import annotations

from zoo.core.checks import check_bool, check_choice
from zoo.models._lazy import keras
from zoo.models._mbconv import REGISTRY_DATA, TEST, check_scaling, imagenet_tags, stack, top, unit
from zoo.models._vision import finish_from, image_input
from zoo.registry import register

# (repeats, filters_in, filters_out, expand_ratio, kernel, strides, se_ratio, fused) per stage, as keras' blocks_args
_PLANS = {
    "b": (
        (1, 32, 16, 1, 3, 1, 0, True),
        (2, 16, 32, 4, 3, 2, 0, True),
        (2, 32, 48, 4, 3, 2, 0, True),
        (3, 48, 96, 4, 3, 2, 0.25, False),
        (5, 96, 112, 6, 3, 1, 0.25, False),
        (8, 112, 192, 6, 3, 2, 0.25, False),
    ),
    "s": (
        (2, 24, 24, 1, 3, 1, 0, True),
        (4, 24, 48, 4, 3, 2, 0, True),
        (4, 48, 64, 4, 3, 2, 0, True),
        (6, 64, 128, 4, 3, 2, 0.25, False),
        (9, 128, 160, 6, 3, 1, 0.25, False),
        (15, 160, 256, 6, 3, 2, 0.25, False),
    ),
    "m": (
        (3, 24, 24, 1, 3, 1, 0, True),
        (5, 24, 48, 4, 3, 2, 0, True),
        (5, 48, 80, 4, 3, 2, 0, True),
        (7, 80, 160, 4, 3, 2, 0.25, False),
        (14, 160, 176, 6, 3, 1, 0.25, False),
        (18, 176, 304, 6, 3, 2, 0.25, False),
        (5, 304, 512, 6, 3, 1, 0.25, False),
    ),
    "l": (
        (4, 32, 32, 1, 3, 1, 0, True),
        (7, 32, 64, 4, 3, 2, 0, True),
        (7, 64, 96, 4, 3, 2, 0, True),
        (10, 96, 192, 4, 3, 2, 0.25, False),
        (19, 192, 224, 6, 3, 1, 0.25, False),
        (25, 224, 384, 6, 3, 2, 0.25, False),
        (7, 384, 640, 6, 3, 1, 0.25, False),
    ),
}
_MEAN = (0.485, 0.456, 0.406)
_VARIANCE = (0.229**2, 0.224**2, 0.225**2)


def _round_filters(width_coefficient, divisor=8, min_depth=8):
    """keras' V2 width rounding: the nearest multiple of ``divisor``, at least ``min_depth``."""
    return lambda filters: int(max(min_depth, int(filters * width_coefficient + divisor / 2) // divisor * divisor))


def _efficientnet_v2(
    blocks="b",
    width_coefficient=1.0,
    depth_coefficient=1.0,
    drop_connect_rate=0.2,
    include_preprocessing=True,
    input_shape=(224, 224, 3),
    num_classes=1000,
    include_top=True,
    pooling=None,
    dropout=0.2,
    classifier_activation="softmax",
    features=False,
    name="efficientnet_v2",
    keras=keras,
):
    """Preprocessing, a 3x3/2 stem, six or seven stages of (fused-)MBConv blocks, a 1x1 top conv, head.

    ``blocks`` is the stage plan: "b" (B0-B3, scaled by the coefficients), "s", "m"
    or "l". ``dropout`` is keras' ``top_dropout``; ``drop_connect_rate`` the largest
    per-sample drop rate of the residual branches (it grows block by block).
    """
    check_choice("blocks", blocks, sorted(_PLANS), owner=name)
    check_scaling(name, width_coefficient, depth_coefficient, drop_connect_rate)
    check_bool("include_preprocessing", include_preprocessing, owner=name)
    layers = keras.layers
    plan, round_filters, bn = _PLANS[blocks], _round_filters(width_coefficient), dict(momentum=0.9)
    inputs = x = image_input(keras, input_shape)
    if include_preprocessing and blocks == "b" and x.shape[-1] == 3:  # the B models keep v1's preprocessing
        x = layers.Rescaling(1.0 / 255, name="rescaling")(x)
        x = layers.Normalization(mean=list(_MEAN), variance=list(_VARIANCE), axis=-1, name="normalization")(x)
    elif include_preprocessing:
        x = layers.Rescaling(1.0 / 128.0, offset=-1, name="rescaling")(x)
    x = unit(layers, x, round_filters(plan[0][1]), 3, "stem_", ("conv", "bn", "activation"), bn, strides=2)
    taps = {2: x}
    total = float(sum(stage[0] for stage in plan))  # keras counts the unscaled repeats here
    x, stride = stack(layers, x, plan, round_filters, depth_coefficient, drop_connect_rate, total, taps, 2, bn,
                      dw_name="dwconv2")
    x = taps[stride] = top(layers, x, round_filters(1280), bn)
    return finish_from(keras, inputs, x, taps, locals())


_URL = "https://storage.googleapis.com/tensorflow/keras-applications/efficientnet_v2/"
_COMMON = dict(
    family="efficientnet_v2",
    builder=_efficientnet_v2,
    paper="Tan & Le 2021, EfficientNetV2: smaller models and faster training",
    **REGISTRY_DATA,
)
# The registry tests (a first training step costs seconds per block): a quarter of the width, 7-10 blocks
# (tests/zoo/test_family_efficientnet_v2.py checks the full architectures against keras.applications).
_TEST_B = dict(TEST, width_coefficient=0.25, depth_coefficient=0.2)
_TEST_SML = dict(TEST, width_coefficient=0.25, depth_coefficient=0.1)


@register("efficientnet_v2_b0", **_COMMON, keras_app="EfficientNetV2B0", params=7_200_312, test_config=_TEST_B,
          pretrained=imagenet_tags(_URL, "efficientnetv2-b0", "21ecbf6da12460d5c40bb2f29ceb2188",
                                   "893217f2bb855e2983157299931e43ff", 224, 0.787, 0.943))
def efficientnet_v2_b0():
    """EfficientNetV2-B0 (224 px); keras.applications.EfficientNetV2B0's architecture."""
    return dict(blocks="b", width_coefficient=1.0, depth_coefficient=1.0, input_shape=(224, 224, 3),
                name="efficientnet_v2_b0")


@register("efficientnet_v2_b1", **_COMMON, keras_app="EfficientNetV2B1", params=8_212_124, test_config=_TEST_B,
          pretrained=imagenet_tags(_URL, "efficientnetv2-b1", "069f0534ff22adf035c89e2d9547a9dc",
                                   "0e80663031ca32d657f9caa404b6ec37", 240, 0.798, 0.95))
def efficientnet_v2_b1():
    """EfficientNetV2-B1 (240 px, depth x1.1); keras.applications.EfficientNetV2B1's architecture."""
    return dict(blocks="b", width_coefficient=1.0, depth_coefficient=1.1, input_shape=(240, 240, 3),
                name="efficientnet_v2_b1")


@register("efficientnet_v2_b2", **_COMMON, keras_app="EfficientNetV2B2", params=10_178_374, test_config=_TEST_B,
          pretrained=imagenet_tags(_URL, "efficientnetv2-b2", "424e49f28180edbde1e94797771950a7",
                                   "1dfe2e7a5d45b6632553a8961ea609eb", 260, 0.805, 0.951))
def efficientnet_v2_b2():
    """EfficientNetV2-B2 (260 px, width x1.1, depth x1.2); keras.applications.EfficientNetV2B2's architecture."""
    return dict(blocks="b", width_coefficient=1.1, depth_coefficient=1.2, input_shape=(260, 260, 3),
                name="efficientnet_v2_b2")


@register("efficientnet_v2_b3", **_COMMON, keras_app="EfficientNetV2B3", params=14_467_622, test_config=_TEST_B,
          pretrained=imagenet_tags(_URL, "efficientnetv2-b3", "1f1fc43bd98a6e4fd8fdfd551e02c7a0",
                                   "f6abf7b5849ac99a89b50dd3fd532856", 300, 0.82, 0.958))
def efficientnet_v2_b3():
    """EfficientNetV2-B3 (300 px, width x1.2, depth x1.4); keras.applications.EfficientNetV2B3's architecture."""
    return dict(blocks="b", width_coefficient=1.2, depth_coefficient=1.4, input_shape=(300, 300, 3),
                name="efficientnet_v2_b3")


@register("efficientnet_v2_s", **_COMMON, keras_app="EfficientNetV2S", params=21_612_360, test_config=_TEST_SML,
          pretrained=imagenet_tags(_URL, "efficientnetv2-s", "e1d88a8495beba45748fedd0cecbe016",
                                   "af0682fb74e8c54910f2d4393339c070", 384, 0.839, 0.967))
def efficientnet_v2_s():
    """EfficientNetV2-S (384 px); keras.applications.EfficientNetV2S's architecture."""
    return dict(blocks="s", input_shape=(384, 384, 3), name="efficientnet_v2_s")


@register("efficientnet_v2_m", **_COMMON, keras_app="EfficientNetV2M", params=54_431_388, test_config=_TEST_SML,
          pretrained=imagenet_tags(_URL, "efficientnetv2-m", "a3bf6aa3276309f4fc6a34aa114c95cd",
                                   "1b8dc055df72dde80d614482840fe342", 480, 0.853, 0.974))
def efficientnet_v2_m():
    """EfficientNetV2-M (480 px, seven stages); keras.applications.EfficientNetV2M's architecture."""
    return dict(blocks="m", input_shape=(480, 480, 3), name="efficientnet_v2_m")


@register("efficientnet_v2_l", **_COMMON, keras_app="EfficientNetV2L", params=119_027_848, test_config=_TEST_SML,
          pretrained=imagenet_tags(_URL, "efficientnetv2-l", "27e6d408b53c7ebc868fefa357689935",
                                   "b0b66b5c863aef5b46e8608fe1711615", 480, 0.857, 0.975))
def efficientnet_v2_l():
    """EfficientNetV2-L (480 px, seven stages); keras.applications.EfficientNetV2L's architecture."""
    return dict(blocks="l", input_shape=(480, 480, 3), name="efficientnet_v2_l")

"""MobileNet v1 (Howard et al. 2017), v2 (Sandler et al. 2018) and v3 small/large (Howard et al. 2019).

Built layer for layer like keras.applications' MobileNet, MobileNetV2 and
MobileNetV3Small/Large (``alpha`` width multiplier included), so
``zoo.weights.from_keras_applications`` copies their weights. Differences that
change no weight: the classifier is a Dense named ``predictions`` (keras uses a
1x1 convolution on a 1x1 map), v3's hard-sigmoid/hard-swish are built from
``Rescaling``, ``ReLU`` and ``Multiply`` layers so that the same builder also makes
a tf-keras twin, and v3 has no built-in ``Rescaling`` of [0, 255] inputs: use
``zoo.preprocessing("mobilenet_v3_small")``. Blocks are named ``block<i>_*``.
"""

from __future__ import annotations

from zoo.core.checks import check_choice, fail
from zoo.models._lazy import keras
from zoo.models._vision import conv_bn, finish_from, image_input, relu
from zoo.models.cnn import DIGITS32_RECIPE
from zoo.registry import register
from zoo.weights.pretrained import Pretrained, WeightsFile


def _make_divisible(v, divisor=8):
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


def _correct_pad(x, kernel_size):
    """keras.applications' padding before a stride-2 'valid' depthwise conv."""
    rows, cols = x.shape[1], x.shape[2]
    adjust = (1, 1) if rows is None or cols is None else (1 - rows % 2, 1 - cols % 2)
    half = kernel_size // 2
    return ((half - adjust[0], half), (half - adjust[1], half))


def _check_alpha(name, alpha):
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or alpha <= 0:
        fail("alpha", alpha, "a positive number (width multiplier, 1.0 = paper)", owner=name)


# --------------------------------------------------------------------------- v1


def _mobilenet(
    alpha=1.0,
    depth_multiplier=1,
    input_shape=(224, 224, 3),
    num_classes=1000,
    include_top=True,
    pooling=None,
    dropout=1e-3,
    classifier_activation="softmax",
    features=False,
    name="mobilenet",
    keras=keras,
):
    """MobileNet v1: a 3x3 conv, then 13 depthwise-separable blocks (3x3 depthwise + 1x1 pointwise)."""
    _check_alpha(name, alpha)
    if not isinstance(depth_multiplier, int) or depth_multiplier < 1:
        fail("depth_multiplier", depth_multiplier, "a positive integer", owner=name)
    layers = keras.layers
    relu6 = relu(layers, 6.0)
    inputs = image_input(keras, input_shape)
    x = conv_bn(layers, inputs, int(32 * alpha), 3, "stem", strides=2, act=relu6)
    stride, taps = 2, {2: x}
    plan = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + [(1024, 2), (1024, 1)]
    for i, (filters, s) in enumerate(plan, 1):
        p = f"block{i}"
        if s == 2:
            x = layers.ZeroPadding2D(((0, 1), (0, 1)), name=f"{p}_pad")(x)
        x = conv_bn(layers, x, None, 3, names=(f"{p}_dw", f"{p}_dw_bn", f"{p}_dw_relu"), conv="DepthwiseConv2D",
                    strides=s, padding="same" if s == 1 else "valid", depth_multiplier=depth_multiplier, act=relu6)
        x = conv_bn(layers, x, int(filters * alpha), 1, names=(f"{p}_pw", f"{p}_pw_bn", f"{p}_pw_relu"),
                    padding="valid", act=relu6)
        stride *= s
        taps[stride] = x
    return finish_from(keras, inputs, x, taps, locals())


# --------------------------------------------------------------------------- v2

_V2_PLAN = (  # (filters, stride, expansion) of blocks 0..16
    (16, 1, 1), (24, 2, 6), (24, 1, 6), (32, 2, 6), (32, 1, 6), (32, 1, 6), (64, 2, 6), (64, 1, 6),
    (64, 1, 6), (64, 1, 6), (96, 1, 6), (96, 1, 6), (96, 1, 6), (160, 2, 6), (160, 1, 6), (160, 1, 6),
    (320, 1, 6),
)


def _mobilenet_v2(
    alpha=1.0,
    input_shape=(224, 224, 3),
    num_classes=1000,
    include_top=True,
    pooling=None,
    dropout=0.0,
    classifier_activation="softmax",
    features=False,
    name="mobilenet_v2",
    keras=keras,
):
    """MobileNetV2: inverted residual blocks (1x1 expand, 3x3 depthwise, linear 1x1 project)."""
    _check_alpha(name, alpha)
    layers = keras.layers
    bn, relu6 = dict(epsilon=1e-3, momentum=0.999), relu(layers, 6.0)
    inputs = image_input(keras, input_shape)
    x = conv_bn(layers, inputs, _make_divisible(32 * alpha), 3, "stem", strides=2, bn=bn, act=relu6)
    stride, taps = 2, {2: x}
    for i, (filters, s, expansion) in enumerate(_V2_PLAN):
        p, shortcut, in_channels = f"block{i}", x, x.shape[-1]
        out_channels = _make_divisible(int(filters * alpha))
        if i:
            x = conv_bn(layers, x, expansion * in_channels, 1, names=(f"{p}_expand", f"{p}_expand_bn",
                        f"{p}_expand_relu"), padding="valid", bn=bn, act=relu6)
        if s == 2:
            x = layers.ZeroPadding2D(_correct_pad(x, 3), name=f"{p}_pad")(x)
        x = conv_bn(layers, x, None, 3, names=(f"{p}_depthwise", f"{p}_depthwise_bn", f"{p}_depthwise_relu"),
                    conv="DepthwiseConv2D", strides=s, padding="same" if s == 1 else "valid", bn=bn, act=relu6)
        x = conv_bn(layers, x, out_channels, 1, names=(f"{p}_project", f"{p}_project_bn", None), padding="valid",
                    bn=bn, act=None)
        if s == 1 and in_channels == out_channels:
            x = layers.Add(name=f"{p}_add")([shortcut, x])
        stride *= s
        taps[stride] = x
    last = _make_divisible(1280 * alpha) if alpha > 1.0 else 1280
    x = conv_bn(layers, x, last, 1, "top", padding="valid", bn=bn, act=relu6)
    taps[stride] = x
    return finish_from(keras, inputs, x, taps, locals())


# --------------------------------------------------------------------------- v3

# (expansion, filters, kernel, stride, squeeze-excite, hard-swish) per block
_V3_SMALL = (
    (1, 16, 3, 2, True, False), (72 / 16, 24, 3, 2, False, False), (88 / 24, 24, 3, 1, False, False),
    (4, 40, 5, 2, True, True), (6, 40, 5, 1, True, True), (6, 40, 5, 1, True, True),
    (3, 48, 5, 1, True, True), (3, 48, 5, 1, True, True), (6, 96, 5, 2, True, True),
    (6, 96, 5, 1, True, True), (6, 96, 5, 1, True, True),
)
_V3_LARGE = (
    (1, 16, 3, 1, False, False), (4, 24, 3, 2, False, False), (3, 24, 3, 1, False, False),
    (3, 40, 5, 2, True, False), (3, 40, 5, 1, True, False), (3, 40, 5, 1, True, False),
    (6, 80, 3, 2, False, True), (2.5, 80, 3, 1, False, True), (2.3, 80, 3, 1, False, True),
    (2.3, 80, 3, 1, False, True), (6, 112, 3, 1, True, True), (6, 112, 3, 1, True, True),
    (6, 160, 5, 2, True, True), (6, 160, 5, 1, True, True), (6, 160, 5, 1, True, True),
)
_V3_PLANS = {"small": (_V3_SMALL, 1024), "large": (_V3_LARGE, 1280)}


def _hard_sigmoid(layers, x, name):
    """relu6(x + 3) / 6 as clip(x / 6 + 0.5, 0, 1), from layers tf-keras has too."""
    x = layers.Rescaling(1.0 / 6.0, offset=0.5, name=f"{name}_scale")(x)
    return layers.ReLU(1.0, name=f"{name}_clip")(x)


def _activation(layers, x, hard_swish, name):
    if not hard_swish:
        return layers.ReLU(name=f"{name}_relu")(x)
    return layers.Multiply(name=f"{name}_hswish")([x, _hard_sigmoid(layers, x, f"{name}_hsigmoid")])


def _mobilenet_v3(
    size="large",
    alpha=1.0,
    minimalistic=False,
    input_shape=(224, 224, 3),
    num_classes=1000,
    include_top=True,
    pooling=None,
    dropout=0.2,
    classifier_activation="softmax",
    features=False,
    name="mobilenet_v3",
    keras=keras,
):
    """MobileNetV3: inverted residuals with squeeze-and-excitation and hard-swish.

    ``minimalistic=True`` drops squeeze-excite and hard-swish and uses 3x3 kernels.
    """
    check_choice("size", size, sorted(_V3_PLANS), owner=name)
    _check_alpha(name, alpha)
    plan, last_point = _V3_PLANS[size]
    layers = keras.layers
    bn = dict(epsilon=1e-3, momentum=0.999)

    def act(hard_swish):  # conv_bn's act=: ReLU, or hard-swish
        return lambda x, name: _activation(layers, x, hard_swish, name)

    inputs = image_input(keras, input_shape)
    x = conv_bn(layers, inputs, 16, 3, names=("stem_conv", "stem_bn", "stem"), strides=2, bn=bn,
                act=act(not minimalistic))
    stride, taps = 2, {2: x}
    for i, (expansion, filters, kernel, s, se, hswish) in enumerate(plan):
        if minimalistic:
            kernel, se, hswish = 3, False, False
        p, shortcut, in_channels = f"block{i}", x, x.shape[-1]
        filters = _make_divisible(filters * alpha)
        expanded = _make_divisible(in_channels * expansion)
        if i:
            x = conv_bn(layers, x, expanded, 1, names=(f"{p}_expand", f"{p}_expand_bn", f"{p}_expand"),
                        padding="valid", bn=bn, act=act(hswish))
        if s == 2:
            x = layers.ZeroPadding2D(_correct_pad(x, kernel), name=f"{p}_depthwise_pad")(x)
        x = conv_bn(layers, x, None, kernel, names=(f"{p}_depthwise", f"{p}_depthwise_bn", f"{p}_depthwise"),
                    conv="DepthwiseConv2D", strides=s, padding="same" if s == 1 else "valid", bn=bn, act=act(hswish))
        if se:
            y = layers.GlobalAveragePooling2D(keepdims=True, name=f"{p}_se_pool")(x)
            y = layers.Conv2D(_make_divisible(expanded * 0.25), 1, name=f"{p}_se_reduce")(y)
            y = layers.ReLU(name=f"{p}_se_relu")(y)
            y = layers.Conv2D(expanded, 1, name=f"{p}_se_expand")(y)
            y = _hard_sigmoid(layers, y, f"{p}_se_hsigmoid")
            x = layers.Multiply(name=f"{p}_se_mul")([x, y])
        x = conv_bn(layers, x, filters, 1, names=(f"{p}_project", f"{p}_project_bn", None), padding="valid",
                    bn=bn, act=None)
        if s == 1 and in_channels == filters:
            x = layers.Add(name=f"{p}_add")([shortcut, x])
        stride *= s
        taps[stride] = x
    x = conv_bn(layers, x, _make_divisible(x.shape[-1] * 6), 1, names=("top_conv", "top_bn", "top_conv"),
                padding="valid", bn=bn, act=act(not minimalistic))
    taps[stride] = x
    if alpha > 1.0:
        last_point = _make_divisible(last_point * alpha)

    def top(x):
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dense(last_point, name="top_fc")(x)
        return _activation(layers, x, not minimalistic, "top_fc")

    return finish_from(keras, inputs, x, taps, locals(), top=top)


# --------------------------------------------------------------------------- entries

_COMMON = dict(
    family="mobilenet",
    task="classification",
    min_input_shape=(32, 32, 1),
    input_range="[-1, 1]",
    test_config=dict(input_shape=(32, 32, 3), num_classes=3),
)


# --------------------------------------------------------------------------- ImageNet weights
# keras.applications publishes one file per width (alpha) and, for v1/v2, per input size: the
# file is chosen from the model's configuration, as keras.applications chooses it.

_MOBILENET_URL = "https://storage.googleapis.com/tensorflow/keras-applications/"
_V1_ALPHAS = {1.0: "1_0", 0.75: "7_5", 0.5: "5_0", 0.25: "2_5"}
_V2_ALPHAS = (0.35, 0.5, 0.75, 1.0, 1.3, 1.4)
_V3_HASHES = {  # model name -> (top md5, notop md5), keras.applications.mobilenet_v3.WEIGHTS_HASHES
    "large_224_0.75_float": ("765b44a33ad4005b3ac83185abf1d0eb", "40af19a13ebea4e2ee0c676887f69a2e"),
    "large_224_1.0_float": ("59e551e166be033d707958cf9e29a6a7", "07fb09a5933dd0c8eaafa16978110389"),
    "large_minimalistic_224_1.0_float": ("675e7b876c45c57e9e63e6d90a36599c", "ec5221f64a2f6d1ef965a614bdae7973"),
    "small_224_0.75_float": ("cb65d4e5be93758266aa0a7f2c6708b7", "ebdb5cc8e0b497cd13a7c275d475c819"),
    "small_224_1.0_float": ("8768d4c2e7dee89b9d02b2d03d65d862", "d3e8ec802a04aa4fc771ee12a9a9b836"),
    "small_minimalistic_224_1.0_float": ("99cd97fb2fcdad2bf028eb838de69e37", "cde8136e733e811080d9fcd8a252f7e4"),
}


def _rows(config, include_top, sizes, owner):
    """The input size whose file applies: the model's own, else (without the top) 224, as keras does."""
    shape = tuple(config["input_shape"])
    if shape[0] == shape[1] and shape[0] in sizes:
        return shape[0]
    if include_top:
        fail("input_shape", shape, f"a square size in {sizes} with include_top=True and the imagenet weights "
             "(or include_top=False for any size)", owner=owner)
    return 224


def _alpha(config, alphas, owner):
    alpha = float(config["alpha"])
    if alpha not in alphas:
        fail("alpha", config["alpha"], f"one of {tuple(alphas)} with the imagenet weights", owner=owner)
    return alpha


def _v1_file(config, include_top):
    alpha, rows = _alpha(config, _V1_ALPHAS, "mobilenet"), _rows(config, include_top, (128, 160, 192, 224), "mobilenet")
    name = f"mobilenet_{_V1_ALPHAS[alpha]}_{rows}_tf{'' if include_top else '_no_top'}.h5"
    return WeightsFile(name, f"{_MOBILENET_URL}mobilenet/{name}")


def _v2_file(config, include_top):
    alpha = _alpha(config, _V2_ALPHAS, "mobilenet_v2")
    rows = _rows(config, include_top, (96, 128, 160, 192, 224), "mobilenet_v2")
    name = f"mobilenet_v2_weights_tf_dim_ordering_tf_kernels_{alpha}_{rows}{'' if include_top else '_no_top'}.h5"
    return WeightsFile(name, f"{_MOBILENET_URL}mobilenet_v2/{name}")


def _v3_file(config, include_top):
    alpha = float(config["alpha"])
    model = f"{config['size']}{'_minimalistic' if config['minimalistic'] else ''}_224_{alpha}_float"
    if model not in _V3_HASHES:
        fail("alpha", config["alpha"], "0.75 or 1.0 (1.0 only when minimalistic=True) with the imagenet weights",
             owner=f"mobilenet_v3_{config['size']}")
    name = f"weights_mobilenet_v3_{model}{'' if include_top else '_no_top_v2'}.h5"
    return WeightsFile(name, f"{_MOBILENET_URL}mobilenet_v3/{name}", _V3_HASHES[model][0 if include_top else 1])


def _imagenet(files, top1, top5=None, size=None):
    """The ``imagenet`` tag; its ``top``/``notop`` files are those of the default configuration (alpha 1.0, 224)."""
    default = dict(alpha=1.0, input_shape=(224, 224, 3), size=size, minimalistic=False)
    return (Pretrained("imagenet", files(default, True), files(default, False), input_size=224, top1=top1, top5=top5,
                       files=files),)


@register(builder=_mobilenet, paper="Howard et al. 2017, MobileNets: efficient convolutional neural networks "
          "for mobile vision applications", params=4_253_864, keras_app="MobileNet",
          pretrained=_imagenet(_v1_file, 0.704, 0.895), **_COMMON)
def mobilenet():
    """MobileNet v1 (alpha=1.0): depthwise-separable convolutions; keras.applications.MobileNet's architecture."""
    return dict(name="mobilenet")


@register(builder=_mobilenet_v2, paper="Sandler et al. 2018, MobileNetV2: inverted residuals and linear "
          "bottlenecks", params=3_538_984,
          # learning_rate 1e-2: with the cosine schedule 2e-3 left it under-trained (0.79-0.84 on seeds 0-2);
          # 1e-2 gives 0.944, 0.939, 0.950 (2026-12-01, this machine)
          recipe=dict(DIGITS32_RECIPE, bn_momentum=0.9, learning_rate=1e-2, model_kwargs=dict(alpha=0.35)),
          reference=dict(data="digits", metric="accuracy", value=0.85), keras_app="MobileNetV2",
          pretrained=_imagenet(_v2_file, 0.713, 0.901), **_COMMON)
def mobilenet_v2():
    """MobileNetV2 (alpha=1.0): inverted residuals, linear bottlenecks; keras.applications.MobileNetV2's architecture."""
    return dict(name="mobilenet_v2")


@register(builder=_mobilenet_v3, paper="Howard et al. 2019, Searching for MobileNetV3", params=2_554_968,
          keras_app="MobileNetV3Small", pretrained=_imagenet(_v3_file, 0.681, size="small"), **_COMMON)
def mobilenet_v3_small():
    """MobileNetV3-Small: squeeze-excite, hard-swish; keras.applications.MobileNetV3Small's architecture."""
    return dict(size="small", name="mobilenet_v3_small")


@register(builder=_mobilenet_v3, paper="Howard et al. 2019, Searching for MobileNetV3", params=5_507_432,
          keras_app="MobileNetV3Large", pretrained=_imagenet(_v3_file, 0.756, size="large"), **_COMMON)
def mobilenet_v3_large():
    """MobileNetV3-Large: squeeze-excite, hard-swish; keras.applications.MobileNetV3Large's architecture."""
    return dict(size="large", name="mobilenet_v3_large")

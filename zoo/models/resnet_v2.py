"""ResNet v2 (He et al. 2016, identity mappings): pre-activation ResNet-50/101/152.

keras.applications' ResNet50V2/101V2/152V2 layer for layer, so
``zoo.weights.from_keras_applications`` and the published weights pair with it:
a biased 7x7 stem convolution without batch norm, blocks that start with batch
norm and ReLU (``<block>_preact_*``), the stride on the 3x3 convolution of each
stage's *last* block (a 1x1 max pool on its identity shortcut), and batch norm
and ReLU after the last stage (``post_bn``, ``post_relu``). Layer names are
keras.applications'; the layers keras leaves unnamed are named here
(``<block>_0_pool`` for the shortcut pool). Features: the stem convolution at
stride 2, then each stage's pre-activated output (the last block's
``preact_relu``, at the stride before it downsamples) and ``post_relu`` at 32.
"""

from __future__ import annotations

from zoo.core.checks import fail, is_int
from zoo.models._lazy import keras
from zoo.models._vision import conv_bn, finish_from, image_input
from zoo.registry import register
from zoo.weights.pretrained import keras_h5_tags

_WIDTHS = (64, 128, 256, 512)


def _resnet_v2(
    depths=(3, 4, 6, 3),
    input_shape=(224, 224, 3),
    num_classes=1000,
    include_top=True,
    pooling=None,
    dropout=0.0,
    classifier_activation="softmax",
    features=False,
    name="resnet_v2",
    keras=keras,
):
    """Stem (biased 7x7/2 conv, 3x3/2 max pool), four stages of pre-activation bottlenecks, post-norm, head."""
    if len(depths) != 4 or not all(is_int(d) and d >= 2 for d in depths):
        fail("depths", depths, "four integers >= 2 (a stage's first block projects, its last downsamples)",
             owner=name)
    layers = keras.layers
    bn = dict(axis=-1, epsilon=1.001e-5)

    def bn_relu(x, prefix):
        x = layers.BatchNormalization(**bn, name=f"{prefix}_bn")(x)
        return layers.Activation("relu", name=f"{prefix}_relu")(x)

    inputs = image_input(keras, input_shape)
    x = layers.ZeroPadding2D(3, name="conv1_pad")(inputs)
    x = layers.Conv2D(64, 7, strides=2, name="conv1_conv")(x)
    taps = {2: x}
    x = layers.ZeroPadding2D(1, name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    stride = 4
    for stage, (filters, depth) in enumerate(zip(_WIDTHS, depths)):
        for i in range(depth):
            prefix = f"conv{stage + 2}_block{i + 1}"
            strides = 2 if i == depth - 1 and stage < 3 else 1  # keras: stride on the last block
            preact = bn_relu(x, f"{prefix}_preact")
            if strides > 1:
                taps[stride] = preact
                stride *= 2
            if i == 0:
                shortcut = layers.Conv2D(4 * filters, 1, name=f"{prefix}_0_conv")(preact)
            elif strides > 1:
                shortcut = layers.MaxPooling2D(1, strides=strides, name=f"{prefix}_0_pool")(x)
            else:
                shortcut = x
            y = conv_bn(layers, preact, filters, 1, f"{prefix}_1", padding="valid", bn=bn)
            y = layers.ZeroPadding2D(1, name=f"{prefix}_2_pad")(y)
            y = conv_bn(layers, y, filters, 3, f"{prefix}_2", strides=strides, padding="valid", bn=bn)
            y = layers.Conv2D(4 * filters, 1, name=f"{prefix}_3_conv")(y)
            x = layers.Add(name=f"{prefix}_out")([shortcut, y])
    x = bn_relu(x, "post")
    taps[stride] = x
    return finish_from(keras, inputs, x, taps, locals())


_URL = "https://storage.googleapis.com/tensorflow/keras-applications/resnet/"


_COMMON = dict(
    family="resnet_v2",
    task="classification",
    builder=_resnet_v2,
    paper="He et al. 2016, Identity mappings in deep residual networks",
    min_input_shape=(32, 32, 1),
    input_range="[-1, 1]",  # keras.applications.resnet_v2.preprocess_input (mode "tf")
)
_TEST = dict(input_shape=(32, 32, 3), num_classes=3)
# Full depth for 50 layers; the deeper two repeat its blocks (their full depth is built for the count check).
_TEST_SHALLOW = dict(_TEST, depths=(2, 2, 2, 2))


@register(
    "resnet50_v2", **_COMMON, keras_app="ResNet50V2", params=25_613_800, test_config=_TEST,
    pretrained=keras_h5_tags(_URL, "resnet50v2", '3ef43a0b657b3be2300d5770ece849e0', 'fac2f116257151a9d068a22e544a4917',
                             top1=0.76, top5=0.93),
)
def resnet50_v2():
    """ResNet-50 v2: pre-activation bottlenecks (3, 4, 6, 3); keras.applications.ResNet50V2's architecture."""
    return dict(depths=(3, 4, 6, 3), name="resnet50_v2")


@register(
    "resnet101_v2", **_COMMON, keras_app="ResNet101V2", params=44_675_560, test_config=_TEST_SHALLOW,
    pretrained=keras_h5_tags(_URL, "resnet101v2", '6343647c601c52e1368623803854d971', 'c0ed64b8031c3730f411d2eb4eea35b5',
                             top1=0.772, top5=0.938),
)
def resnet101_v2():
    """ResNet-101 v2: pre-activation bottlenecks (3, 4, 23, 3); keras.applications.ResNet101V2's architecture."""
    return dict(depths=(3, 4, 23, 3), name="resnet101_v2")


@register(
    "resnet152_v2", **_COMMON, keras_app="ResNet152V2", params=60_380_648, test_config=_TEST_SHALLOW,
    pretrained=keras_h5_tags(_URL, "resnet152v2", 'a49b44d1979771252814e80f8ec446f9', 'ed17cf2e0169df9d443503ef94b23b33',
                             top1=0.78, top5=0.942),
)
def resnet152_v2():
    """ResNet-152 v2: pre-activation bottlenecks (3, 8, 36, 3); keras.applications.ResNet152V2's architecture."""
    return dict(depths=(3, 8, 36, 3), name="resnet152_v2")

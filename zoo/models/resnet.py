"""ResNet (He et al. 2015): basic-block ResNet-18/34 and bottleneck ResNet-50/101/152.

The bottleneck models are keras.applications' ResNet exactly (layer for layer,
conv biases and ``epsilon=1.001e-5`` included, stride on the first 1x1 conv), so
``zoo.weights.from_keras_applications`` can copy its weights. The basic-block
models follow the paper (and torchvision): no conv bias in front of batch norm.
Layer names are keras.applications': ``conv1_*`` (stem), ``conv<stage>_block<i>_*``.
"""

from __future__ import annotations

from zoo.core.checks import check_choice, fail
from zoo.models._lazy import keras
from zoo.models._vision import conv_bn, finish_from, image_input
from zoo.models.cnn import DIGITS32_RECIPE
from zoo.registry import register
from zoo.weights.pretrained import keras_h5_tags

_BLOCKS = ("basic", "bottleneck")


def _resnet(
    block="bottleneck",
    depths=(3, 4, 6, 3),
    conv_bias=True,
    input_shape=(224, 224, 3),
    num_classes=1000,
    include_top=True,
    pooling=None,
    dropout=0.0,
    classifier_activation="softmax",
    features=False,
    name="resnet",
    keras=keras,
):
    """Stem (7x7/2 conv, 3x3/2 max pool), four stages of ``depths`` residual blocks, head."""
    check_choice("block", block, _BLOCKS, owner=name)
    if len(depths) != 4 or not all(isinstance(d, int) and d > 0 for d in depths):
        fail("depths", depths, "four positive integers", owner=name)
    layers = keras.layers
    # keras.applications' batch norm for the bottleneck models; torchvision's momentum (0.1, i.e.
    # Keras 0.9) for the basic-block ones, whose moving statistics then settle on small datasets.
    bn = dict(axis=-1, epsilon=1.001e-5, momentum=0.99 if block == "bottleneck" else 0.9)
    inputs = image_input(keras, input_shape)
    x = layers.ZeroPadding2D(3, name="conv1_pad")(inputs)
    x = conv_bn(layers, x, 64, 7, "conv1", strides=2, padding="valid", use_bias=conv_bias, bn=bn)
    taps = {2: x}
    x = layers.ZeroPadding2D(1, name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)

    def unit(x, filters, kernel, prefix, strides=1, padding="valid", relu=True):
        return conv_bn(layers, x, filters, kernel, prefix, strides=strides, padding=padding, use_bias=conv_bias,
                       bn=bn, act="relu" if relu else None)

    expansion = 4 if block == "bottleneck" else 1
    for stage, (filters, depth) in enumerate(zip((64, 128, 256, 512), depths)):
        for i in range(depth):
            prefix = f"conv{stage + 2}_block{i + 1}"
            stride = 2 if stage > 0 and i == 0 else 1
            if i == 0 and (stride != 1 or x.shape[-1] != filters * expansion):
                shortcut = unit(x, filters * expansion, 1, f"{prefix}_0", strides=stride, relu=False)
            else:
                shortcut = x
            if block == "bottleneck":  # keras.applications ResNet v1: stride on the first 1x1
                y = unit(x, filters, 1, f"{prefix}_1", strides=stride)
                y = unit(y, filters, 3, f"{prefix}_2", padding="same")
                y = unit(y, filters * 4, 1, f"{prefix}_3", relu=False)
            else:
                y = unit(x, filters, 3, f"{prefix}_1", strides=stride, padding="same")
                y = unit(y, filters, 3, f"{prefix}_2", padding="same", relu=False)
            x = layers.Add(name=f"{prefix}_add")([shortcut, y])
            x = layers.Activation("relu", name=f"{prefix}_out")(x)
        taps[4 * 2**stage] = x
    return finish_from(keras, inputs, x, taps, locals())


# 5 epochs (cosine, best validation epoch): resnet18 0.972, 0.978, 0.981 on seeds 0-2; 8 epochs gave 0.964-0.99
_RECIPE = dict(DIGITS32_RECIPE, learning_rate=1e-3, epochs=5)
_COMMON = dict(
    family="resnet",
    task="classification",
    builder=_resnet,
    paper="He et al. 2015, Deep residual learning for image recognition",
    min_input_shape=(32, 32, 1),
    input_range="caffe",  # BGR, ImageNet mean subtracted: keras.applications.resnet.preprocess_input
)
_BASIC = dict(_COMMON, input_range="[0, 1]")
_TEST = dict(input_shape=(32, 32, 3), num_classes=3)
# The registry's training-step test on 101/152 layers takes minutes on a CPU; the bottleneck
# path is tested at full depth by resnet50, and the full depths are built for the count check.
_TEST_SHALLOW = dict(_TEST, depths=(1, 1, 2, 1))


@register(
    "resnet18", **_BASIC, params=11_699_112, test_config=_TEST,
    recipe=_RECIPE, reference=dict(data="digits", metric="accuracy", value=0.9),
)
def resnet18():
    """ResNet-18: basic blocks (2, 2, 2, 2)."""
    return dict(block="basic", depths=(2, 2, 2, 2), conv_bias=False, name="resnet18")


@register("resnet34", **_BASIC, params=21_814_696, test_config=_TEST)
def resnet34():
    """ResNet-34: basic blocks (3, 4, 6, 3)."""
    return dict(block="basic", depths=(3, 4, 6, 3), conv_bias=False, name="resnet34")


_URL = "https://storage.googleapis.com/tensorflow/keras-applications/resnet/"


@register("resnet50", **_COMMON, keras_app="ResNet50", params=25_636_712, test_config=_TEST,
          pretrained=keras_h5_tags(_URL, "resnet50", "2cb95161c43110f7111970584f804107",
                                   "4d473c1dd8becc155b73f8504c6f6626", top1=0.749, top5=0.921))
def resnet50():
    """ResNet-50: bottleneck blocks (3, 4, 6, 3); keras.applications.ResNet50's architecture."""
    return dict(block="bottleneck", depths=(3, 4, 6, 3), name="resnet50")


@register("resnet101", **_COMMON, keras_app="ResNet101", params=44_707_176, test_config=_TEST_SHALLOW,
          pretrained=keras_h5_tags(_URL, "resnet101", "f1aeb4b969a6efcfb50fad2f0c20cfc5",
                                   "88cf7a10940856eca736dc7b7e228a21", top1=0.764, top5=0.928))
def resnet101():
    """ResNet-101: bottleneck blocks (3, 4, 23, 3); keras.applications.ResNet101's architecture."""
    return dict(block="bottleneck", depths=(3, 4, 23, 3), name="resnet101")


@register("resnet152", **_COMMON, keras_app="ResNet152", params=60_419_944, test_config=_TEST_SHALLOW,
          pretrained=keras_h5_tags(_URL, "resnet152", "100835be76be38e30d865e96f2aaae62",
                                   "ee4c566cf9a93f14d82f913c2dc6dd0c", top1=0.766, top5=0.931))
def resnet152():
    """ResNet-152: bottleneck blocks (3, 8, 36, 3); keras.applications.ResNet152's architecture."""
    return dict(block="bottleneck", depths=(3, 8, 36, 3), name="resnet152")

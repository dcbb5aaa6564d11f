"""DenseNet (Huang et al. 2017, densely connected convolutional networks): DenseNet-121/169/201.

keras.applications' DenseNet121/169/201 layer for layer (DenseNet-BC: a 1x1
bottleneck of ``4 * growth_rate`` before each 3x3 convolution, transitions that
halve the channels), so ``zoo.weights.from_keras_applications`` and the
published weights pair with it. Layer names are keras.applications'
(``conv<stage>_block<i>_*`` dense layers, ``pool<stage>_*`` transitions, ``bn``
and ``relu`` at the end); the two stem paddings keras leaves unnamed are
``conv1_pad`` and ``pool1_pad``. ``growth_rate`` (32 in the paper's ImageNet
models) is an argument so small test models stay small. Features: ``conv1_relu``
at stride 2, each transition's batch norm and ReLU (the dense block's
normalised output, before its 1x1 convolution and pooling), ``relu`` at 32.
"""

from __future__ import annotations

from zoo.core.checks import check_int, fail, is_int
from zoo.models._lazy import keras
from zoo.models._vision import conv_bn, finish_from, image_input
from zoo.registry import register
from zoo.weights.pretrained import keras_h5_tags


def _densenet(
    blocks=(6, 12, 24, 16),
    growth_rate=32,
    input_shape=(224, 224, 3),
    num_classes=1000,
    include_top=True,
    pooling=None,
    dropout=0.0,
    classifier_activation="softmax",
    features=False,
    name="densenet",
    keras=keras,
):
    """Stem (7x7/2 conv, 3x3/2 max pool), four dense blocks joined by transitions, batch norm and ReLU, head."""
    if len(blocks) != 4 or not all(is_int(b) and b > 0 for b in blocks):
        fail("blocks", blocks, "four positive integers (dense layers per block)", owner=name)
    check_int("growth_rate", growth_rate, minimum=1, owner=name)
    layers = keras.layers
    bn = dict(axis=-1, epsilon=1.001e-5)

    def bn_relu(x, bn_name, relu_name):
        x = layers.BatchNormalization(**bn, name=bn_name)(x)
        return layers.Activation("relu", name=relu_name)(x)

    inputs = image_input(keras, input_shape)
    x = layers.ZeroPadding2D(3, name="conv1_pad")(inputs)
    x = conv_bn(layers, x, 64, 7, "conv1", strides=2, padding="valid", bn=bn)
    taps = {2: x}
    x = layers.ZeroPadding2D(1, name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    for stage, depth in enumerate(blocks):
        for i in range(depth):  # a dense layer: BN-ReLU-1x1 conv, BN-ReLU-3x3 conv, concatenated to its input
            prefix = f"conv{stage + 2}_block{i + 1}"
            y = bn_relu(x, f"{prefix}_0_bn", f"{prefix}_0_relu")
            y = conv_bn(layers, y, 4 * growth_rate, 1, f"{prefix}_1", padding="valid", bn=bn)
            y = layers.Conv2D(growth_rate, 3, padding="same", use_bias=False, name=f"{prefix}_2_conv")(y)
            x = layers.Concatenate(axis=-1, name=f"{prefix}_concat")([x, y])
        if stage < 3:  # transition: BN-ReLU, 1x1 conv to half the channels, 2x2/2 average pool
            prefix = f"pool{stage + 2}"
            x = bn_relu(x, f"{prefix}_bn", f"{prefix}_relu")
            taps[4 * 2**stage] = x
            x = layers.Conv2D(int(x.shape[-1] * 0.5), 1, use_bias=False, name=f"{prefix}_conv")(x)
            x = layers.AveragePooling2D(2, strides=2, name=f"{prefix}_pool")(x)
    x = bn_relu(x, "bn", "relu")
    taps[32] = x
    return finish_from(keras, inputs, x, taps, locals())


_URL = "https://storage.googleapis.com/tensorflow/keras-applications/densenet/"


_COMMON = dict(
    family="densenet",
    task="classification",
    builder=_densenet,
    paper="Huang et al. 2017, Densely connected convolutional networks",
    min_input_shape=(32, 32, 1),
    input_range="torch",  # keras.applications.densenet.preprocess_input: [0, 1], ImageNet mean and std
    # Dense layers (conv<s>_block<i>) and the transitions between blocks (pool<s>), which carry weights too.
    block_pattern=r"^(conv\d+_block\d+|pool[2-4])_",
)
# Two dense layers per block and a growth of 8: the registry's training and save/load test stays quick; every
# full configuration is built for the count check.
_TEST = dict(input_shape=(32, 32, 3), num_classes=3, blocks=(2, 2, 2, 2), growth_rate=8)


@register(
    "densenet121", **_COMMON, keras_app="DenseNet121", params=8_062_504, test_config=_TEST,
    pretrained=keras_h5_tags(_URL, "densenet121", '9d60b8095a5708f2dcce2bca79d332c7', '30ee3e1110167f948a6b9946edeeb738',
                             top1=0.75, top5=0.923),
)
def densenet121():
    """DenseNet-121: dense blocks (6, 12, 24, 16), growth 32; keras.applications.DenseNet121's architecture."""
    return dict(blocks=(6, 12, 24, 16), name="densenet121")


@register(
    "densenet169", **_COMMON, keras_app="DenseNet169", params=14_307_880, test_config=_TEST,
    pretrained=keras_h5_tags(_URL, "densenet169", 'd699b8f76981ab1b30698df4c175e90b', 'b8c4d4c20dd625c148057b9ff1c1176b',
                             top1=0.762, top5=0.932),
)
def densenet169():
    """DenseNet-169: dense blocks (6, 12, 32, 32), growth 32; keras.applications.DenseNet169's architecture."""
    return dict(blocks=(6, 12, 32, 32), name="densenet169")


@register(
    "densenet201", **_COMMON, keras_app="DenseNet201", params=20_242_984, test_config=_TEST,
    pretrained=keras_h5_tags(_URL, "densenet201", '1ceb130c1ea1b78c3bf6114dbdfd8807', 'c13680b51ded0fb44dff2d8f86ac8bb1',
                             top1=0.773, top5=0.936),
)
def densenet201():
    """DenseNet-201: dense blocks (6, 12, 48, 32), growth 32; keras.applications.DenseNet201's architecture."""
    return dict(blocks=(6, 12, 48, 32), name="densenet201")

"""Small convolutional networks for tiny images: LeNet-5 and a simple VGG-style CNN."""

from __future__ import annotations

from zoo.core.checks import fail
from zoo.models._lazy import keras
from zoo.models._vision import conv_bn, finish_from, image_input, relu
from zoo.registry import register
from zoo.weights.pretrained import packaged

#: Digits upsampled to 32x32 RGB: the tiny-image recipe of the quick reproduce suite.
DIGITS32_RECIPE = dict(
    data="digits",
    data_kwargs=dict(image_size=32, channels=3),
    optimizer="adam",
    learning_rate=2e-3,
    loss="sparse_categorical_crossentropy",
    metrics=["accuracy"],
    epochs=8,
    batch_size=32,
    schedule="cosine",  # short runs end on small steps: googlenet went from 0.82-0.88 by seed to 0.975-0.992
    restore_best=True,  # and on their best validation epoch (zoo.train.recipe_callbacks)
)


#: ``simple_cnn.fonts``: pretrained on the built-in fonts set at 8x8 (``scripts/pretrain_fonts.py``).
FONTS = packaged(
    "fonts", "simple_cnn_fonts8.h5",
    "4642e108186d7748bbc24fd0f1043a5d5389b66689bc7a0c86eb34f4d38b8d27",
    input_size=8, num_classes=62, config=dict(input_shape=(8, 8, 1), num_classes=62, filters=(32, 64, 128)),
    class_names="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", top1=0.92,
    training={
        "command": "python scripts/pretrain_fonts.py",
        "data": "zoo.data.load('fonts', image_size=8, samples_per_class=1000, seed=0): 40300 training images "
                "of 62 characters in 21 faces",
        "seed": 0, "epochs": 12, "fonts_test_accuracy": 0.92, "digits_zero_shot_accuracy": 0.6416, "seconds": 174,
    },
)


def _simple_cnn(
    input_shape=(32, 32, 3),
    num_classes=10,
    filters=(32, 64, 128),
    convs_per_block=2,
    include_top=True,
    pooling=None,
    dropout=0.0,
    classifier_activation="softmax",
    features=False,
    keras=keras,
):
    """[Conv3x3 -> BN -> ReLU] x ``convs_per_block`` -> MaxPool, per entry of ``filters``; GAP head.

    Batch norm uses ``momentum=0.9`` (torchvision's 0.1): its moving statistics settle within
    the few hundred steps a tiny dataset gives.
    """
    if not filters or not all(isinstance(f, int) and f > 0 for f in filters):
        fail("filters", filters, "a tuple of positive integers", owner="simple_cnn")
    if not isinstance(convs_per_block, int) or convs_per_block < 1:
        fail("convs_per_block", convs_per_block, "a positive integer", owner="simple_cnn")
    layers = keras.layers
    inputs = image_input(keras, input_shape)
    x, taps = inputs, {}
    for b, width in enumerate(filters, 1):
        for c in range(1, convs_per_block + 1):
            x = conv_bn(layers, x, width, 3, names=(f"block{b}_conv{c}", f"block{b}_bn{c}", f"block{b}_relu{c}"),
                        bn=dict(momentum=0.9), act=relu(layers))
        x = layers.MaxPooling2D(2, name=f"block{b}_pool")(x)
        taps[2**b] = x
    return finish_from(keras, inputs, x, taps, dict(locals(), name="simple_cnn"))


def _lenet5(
    input_shape=(32, 32, 1),
    num_classes=10,
    activation="tanh",
    include_top=True,
    pooling=None,
    dropout=0.0,
    classifier_activation="softmax",
    features=False,
    keras=keras,
):
    """LeNet-5: C1 conv 6@5x5, S2 avg-pool, C3 conv 16@5x5, S4 avg-pool, C5 120, F6 84, output."""
    layers = keras.layers
    inputs = image_input(keras, input_shape)
    x = layers.Conv2D(6, 5, activation=activation, name="block1_conv")(inputs)
    x = s2 = layers.AveragePooling2D(2, name="block1_pool")(x)
    x = layers.Conv2D(16, 5, activation=activation, name="block2_conv")(x)
    x = s4 = layers.AveragePooling2D(2, name="block2_pool")(x)

    def top(x):
        x = layers.Flatten(name="top_flatten")(x)
        x = layers.Dense(120, activation=activation, name="top_c5")(x)
        return layers.Dense(84, activation=activation, name="top_f6")(x)

    return finish_from(keras, inputs, x, {2: s2, 4: s4}, dict(locals(), name="lenet5"), top=top)


@register(
    family="cnn",
    task="classification",
    builder=_simple_cnn,
    paper="a VGG-style baseline (Simonyan & Zisserman 2014) with batch norm (Ioffe & Szegedy 2015)",
    params=289_642,
    min_input_shape=(8, 8, 1),
    input_range="[0, 1]",
    recipe=DIGITS32_RECIPE,
    reference=dict(data="digits", metric="accuracy", value=0.95),
    test_config=dict(input_shape=(16, 16, 3), num_classes=3, filters=(8, 16)),
    pretrained=(FONTS,),
)
def simple_cnn():
    """Simple CNN for tiny images: conv-BN-ReLU blocks, max pooling, global average pooling."""
    return {}


@register(
    family="cnn",
    task="classification",
    builder=_lenet5,
    paper="LeCun et al. 1998, Gradient-based learning applied to document recognition",
    params=61_706,
    min_input_shape=(16, 16, 1),
    input_range="[0, 1]",
    recipe=dict(DIGITS32_RECIPE, data_kwargs=dict(image_size=32, channels=1), epochs=15, learning_rate=3e-3),
    reference=dict(data="digits", metric="accuracy", value=0.93),
    test_config=dict(input_shape=(16, 16, 1), num_classes=3),
)
def lenet5():
    """LeNet-5 (tanh, average pooling) for 32x32 grayscale digits."""
    return {}

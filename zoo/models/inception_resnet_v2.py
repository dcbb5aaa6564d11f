"""Inception-ResNet-v2 (Szegedy et al. 2016): inception modules with scaled residual connections.

keras.applications' InceptionResNetV2 layer for layer (convolutions without bias
and batch norm without scale, a biased 1x1 "up" convolution per block), so
``zoo.weights.from_keras_applications`` and the published ``imagenet`` files load
into it. keras' ``CustomScaleLayer`` (``x + scale * up``) is a ``Rescaling`` of the
up branch and an ``Add``, layers that tf-keras has too (the TF-MOT twin) and that
compute the same numbers. Names are keras.applications' where it names layers
(``mixed_5b``, ``block35_<i>_mixed``, ``block35_<i>_conv``, ``conv_7b``); its anonymous
convolutions are named ``<block>_b<branch>_<j>`` (``_bn``, ``_ac``) in its scheme,
the stem's ``stem_<j>``. The blocks are ``mixed_5b``, ``block35_1`` ... ``block35_10``,
``mixed_6a``, ``block17_1`` ... ``block17_20``, ``mixed_7a``, ``block8_1`` ... ``block8_10``
(:data:`BLOCK_PATTERN`). ``block_repeats`` (default keras' ``(10, 20, 10)``) sets how many
blocks of each kind there are, for small test configurations; the last block8 is always
keras' unscaled one without activation.
"""

from __future__ import annotations

from zoo.core.checks import fail, is_int
from zoo.models._lazy import keras
from zoo.models._vision import conv_bn, finish_from, image_input
from zoo.registry import register
from zoo.weights.pretrained import imagenet

#: Transfer learning's block names (``zoo.core.naming.BLOCK_RE`` would read ``block35_1_*`` as ``block35``).
BLOCK_PATTERN = r"^(mixed_\d[a-z]|block(?:35|17|8)_\d+)(?:_|$)"

# block type: (residual scale, branches as ((filters, kernel), ...))
_BLOCKS = {
    "block35": (0.17, (((32, 1),), ((32, 1), (32, 3)), ((32, 1), (48, 3), (64, 3)))),
    "block17": (0.1, (((192, 1),), ((128, 1), (160, (1, 7)), (192, (7, 1))))),
    "block8": (0.2, (((192, 1),), ((192, 1), (224, (1, 3)), (256, (3, 1))))),
}


def _inception_resnet_v2(
    block_repeats=(10, 20, 10),
    input_shape=(299, 299, 3),
    num_classes=1000,
    include_top=True,
    pooling=None,
    dropout=0.0,
    classifier_activation="softmax",
    features=False,
    name="inception_resnet_v2",
    keras=keras,
):
    """Stem, mixed_5b, 10 x block35, mixed_6a, 20 x block17, mixed_7a, 10 x block8, conv_7b, head."""
    if not (isinstance(block_repeats, (tuple, list)) and len(block_repeats) == 3
            and all(is_int(n) and n > 0 for n in block_repeats)):
        fail("block_repeats", block_repeats, "three positive integers (block35, block17 and block8 repeats)", owner=name)
    repeats35, repeats17, repeats8 = block_repeats
    layers = keras.layers

    def conv(x, filters, kernel, prefix, strides=1, padding="same"):
        return conv_bn(layers, x, filters, kernel, names=(prefix, f"{prefix}_bn", f"{prefix}_ac"), strides=strides,
                       padding=padding, bn=dict(scale=False))

    def branch(x, plan, prefix, last_strides=1):
        """Convolutions in sequence; the last one strided (and unpadded) in a reduction block."""
        for j, (filters, kernel) in enumerate(plan, 1):
            strided = j == len(plan) and last_strides != 1
            x = conv(x, filters, kernel, f"{prefix}_{j}", strides=last_strides if strided else 1,
                     padding="valid" if strided else "same")
        return x

    def max_pool(x, block):
        return layers.MaxPooling2D(3, strides=2, padding="valid", name=f"{block}_pool")(x)

    def residual(x, kind, index, activation=True):
        block = f"{kind}_{index}"
        scale, plan = _BLOCKS[kind]
        mixed = layers.Concatenate(name=f"{block}_mixed")([branch(x, p, f"{block}_b{i}") for i, p in enumerate(plan)])
        up = layers.Conv2D(x.shape[-1], 1, use_bias=True, name=f"{block}_conv")(mixed)
        up = layers.Rescaling(scale if activation else 1.0, name=f"{block}_scale")(up)
        x = layers.Add(name=f"{block}_add")([x, up])
        return layers.Activation("relu", name=f"{block}_ac")(x) if activation else x

    inputs = image_input(keras, input_shape)
    x = conv(inputs, 32, 3, "stem_1", strides=2, padding="valid")
    x = conv(x, 32, 3, "stem_2", padding="valid")
    x = conv(x, 64, 3, "stem_3")
    taps = {2: x}
    x = layers.MaxPooling2D(3, strides=2, name="stem_pool1")(x)
    x = conv(x, 80, 1, "stem_4", padding="valid")
    x = conv(x, 192, 3, "stem_5", padding="valid")
    taps[4] = x
    x = layers.MaxPooling2D(3, strides=2, name="stem_pool2")(x)

    pool = layers.AveragePooling2D(3, strides=1, padding="same", name="mixed_5b_pool")(x)
    x = layers.Concatenate(name="mixed_5b")([
        branch(x, ((96, 1),), "mixed_5b_b0"), branch(x, ((48, 1), (64, 5)), "mixed_5b_b1"),
        branch(x, ((64, 1), (96, 3), (96, 3)), "mixed_5b_b2"), conv(pool, 64, 1, "mixed_5b_b3_1"),
    ])
    for i in range(1, repeats35 + 1):
        x = residual(x, "block35", i)
    taps[8] = x
    x = layers.Concatenate(name="mixed_6a")([
        branch(x, ((384, 3),), "mixed_6a_b0", 2), branch(x, ((256, 1), (256, 3), (384, 3)), "mixed_6a_b1", 2),
        max_pool(x, "mixed_6a"),
    ])
    for i in range(1, repeats17 + 1):
        x = residual(x, "block17", i)
    taps[16] = x
    x = layers.Concatenate(name="mixed_7a")([
        branch(x, ((256, 1), (384, 3)), "mixed_7a_b0", 2), branch(x, ((256, 1), (288, 3)), "mixed_7a_b1", 2),
        branch(x, ((256, 1), (288, 3), (320, 3)), "mixed_7a_b2", 2), max_pool(x, "mixed_7a"),
    ])
    for i in range(1, repeats8 + 1):
        x = residual(x, "block8", i, activation=i < repeats8)  # the last block8: scale 1, no activation
    x = conv(x, 1536, 1, "conv_7b")
    taps[32] = x
    return finish_from(keras, inputs, x, taps, locals())


_URL = "https://storage.googleapis.com/tensorflow/keras-applications/inception_resnet_v2/"


@register(
    family="inception_resnet_v2",
    task="classification",
    builder=_inception_resnet_v2,
    paper="Szegedy et al. 2016, Inception-v4, Inception-ResNet and the impact of residual connections on learning",
    params=55_873_736,
    min_input_shape=(75, 75, 1),
    input_range="[-1, 1]",  # keras.applications.inception_resnet_v2.preprocess_input (mode "tf")
    keras_app="InceptionResNetV2",
    block_pattern=BLOCK_PATTERN,
    test_config=dict(input_shape=(75, 75, 3), num_classes=3, block_repeats=(1, 1, 2)),
    pretrained=(imagenet(_URL, "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels.h5",
                         "e693bd0210a403b3192acc6073ad2e96",
                         "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels_notop.h5",
                         "d19885ff4a710c122648d3b5c3b684e4", input_size=299, top1=0.803, top5=0.953),),
)
def inception_resnet_v2():
    """Inception-ResNet-v2: 40 residual inception blocks; keras.applications.InceptionResNetV2's architecture."""
    return dict(name="inception_resnet_v2")

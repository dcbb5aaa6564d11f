"""Xception (Chollet 2017): depthwise separable convolutions with residual connections.

keras.applications' Xception layer for layer (convolutions without bias, batch norm
with Keras' defaults, the same paddings), so ``zoo.weights.from_keras_applications``
and the published ``imagenet`` files load into it. Layer names are keras.applications'
(``block<i>_sepconv<j>``, ``_bn``, ``_act``); the layers it leaves anonymous are named
in the same scheme: each block's shortcut ``block<i>_res_conv`` / ``block<i>_res_bn``
and its merge ``block<i>_add``. Blocks 1-4 and 13 halve the resolution (entry and exit
flow), blocks 5-12 keep it (middle flow). ``features=True`` taps the blocks' outputs
(the ``block<i>_add`` merges) and the last activation.
"""

from __future__ import annotations

from zoo.models._lazy import keras
from zoo.models._vision import conv_bn, finish_from, image_input
from zoo.registry import register
from zoo.weights.pretrained import imagenet


def _xception(
    input_shape=(299, 299, 3),
    num_classes=1000,
    include_top=True,
    pooling=None,
    dropout=0.0,
    classifier_activation="softmax",
    features=False,
    name="xception",
    keras=keras,
):
    """Entry flow (blocks 1-4), middle flow (blocks 5-12), exit flow (blocks 13-14), head."""
    layers = keras.layers

    def sep(x, filters, prefix, act_first=True, act_name=None):
        """(ReLU ->) separable 3x3 conv -> batch norm; keras.applications' unit."""
        if act_first:
            x = layers.Activation("relu", name=act_name or f"{prefix}_act")(x)
        x = layers.SeparableConv2D(filters, 3, padding="same", use_bias=False, name=prefix)(x)
        return layers.BatchNormalization(name=f"{prefix}_bn")(x)

    def down(x, filters, block, first_act=True):
        """Two separable convs and a 3x3/2 max pool, plus a strided 1x1 conv shortcut."""
        p = f"block{block}"
        shortcut = conv_bn(layers, x, filters[1], 1, names=(f"{p}_res_conv", f"{p}_res_bn", None), strides=2,
                           act=None)
        # keras.applications names block 2's only activation (between its convs) "sepconv2_act"
        y = sep(x, filters[0], f"{p}_sepconv1", act_first=first_act)
        y = sep(y, filters[1], f"{p}_sepconv2")
        y = layers.MaxPooling2D(3, strides=2, padding="same", name=f"{p}_pool")(y)
        return layers.Add(name=f"{p}_add")([y, shortcut])

    inputs = image_input(keras, input_shape)
    x = conv_bn(layers, inputs, 32, 3, names=("block1_conv1", "block1_conv1_bn", "block1_conv1_act"), strides=2,
                padding="valid")
    x = conv_bn(layers, x, 64, 3, names=("block1_conv2", "block1_conv2_bn", "block1_conv2_act"), padding="valid")
    taps = {2: x}
    x = down(x, (128, 128), 2, first_act=False)
    taps[4] = x
    x = down(x, (256, 256), 3)
    taps[8] = x
    x = down(x, (728, 728), 4)
    for block in range(5, 13):
        p = f"block{block}"
        y = sep(x, 728, f"{p}_sepconv1")
        y = sep(y, 728, f"{p}_sepconv2")
        y = sep(y, 728, f"{p}_sepconv3")
        x = layers.Add(name=f"{p}_add")([y, x])
    taps[16] = x
    x = down(x, (728, 1024), 13)
    x = sep(x, 1536, "block14_sepconv1", act_first=False)
    x = layers.Activation("relu", name="block14_sepconv1_act")(x)
    x = sep(x, 2048, "block14_sepconv2", act_first=False)
    x = layers.Activation("relu", name="block14_sepconv2_act")(x)
    taps[32] = x
    return finish_from(keras, inputs, x, taps, locals())


_URL = "https://storage.googleapis.com/tensorflow/keras-applications/xception/"


@register(
    family="xception",
    task="classification",
    builder=_xception,
    paper="Chollet 2017, Xception: deep learning with depthwise separable convolutions",
    params=22_910_480,
    min_input_shape=(71, 71, 1),
    input_range="[-1, 1]",  # keras.applications.xception.preprocess_input (mode "tf")
    keras_app="Xception",
    test_config=dict(input_shape=(71, 71, 3), num_classes=3),
    pretrained=(imagenet(_URL, "xception_weights_tf_dim_ordering_tf_kernels.h5", "0a58e3b7378bc2990ea3b43d5981f1f6",
                         "xception_weights_tf_dim_ordering_tf_kernels_notop.h5", "b0042744bf5b25fce3cb969f33bebb97",
                         input_size=299, top1=0.79, top5=0.945),),
)
def xception():
    """Xception: 36 convolutions, mostly depthwise separable, in 14 residual blocks; keras.applications.Xception."""
    return dict(name="xception")

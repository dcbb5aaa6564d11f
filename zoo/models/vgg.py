"""VGG (Simonyan & Zisserman 2014): 11, 13, 16 and 19 weight layers, with and without batch norm.

``vgg16`` and ``vgg19`` are keras.applications' VGG16/VGG19 exactly (same layers,
same names: ``block<i>_conv<j>``, ``block<i>_pool``, ``flatten``, ``fc1``, ``fc2``,
``predictions``). The ``_bn`` variants put batch norm between each convolution
(without bias) and its ReLU, as torchvision's ``vgg*_bn`` do.
"""

from __future__ import annotations

import keras

from zoo.models._vision import finish_from, image_input
from zoo.registry import register

_WIDTHS = (64, 128, 256, 512, 512)


def _vgg(
    depths=(2, 2, 3, 3, 3),
    batch_norm=False,
    fc_units=4096,
    input_shape=(224, 224, 3),
    num_classes=1000,
    include_top=True,
    pooling=None,
    dropout=0.0,
    classifier_activation="softmax",
    features=False,
    name="vgg",
    keras=keras,
):
    """Five blocks of ``depths`` 3x3 convolutions and a 2x2 max pool; top: flatten, two dense ``fc_units``.

    ``dropout`` applies after each of the two dense layers (the paper uses 0.5).
    """
    if len(depths) != 5 or not all(isinstance(d, int) and d > 0 for d in depths):
        raise ValueError(f"{name}: invalid depths={depths!r}; expected five positive integers")
    if not isinstance(fc_units, int) or fc_units < 1:
        raise ValueError(f"{name}: invalid fc_units={fc_units!r}; expected a positive integer")
    layers = keras.layers
    inputs = image_input(keras, input_shape)
    x, taps = inputs, {}
    for b, (width, depth) in enumerate(zip(_WIDTHS, depths), 1):
        for c in range(1, depth + 1):
            if batch_norm:
                x = layers.Conv2D(width, 3, padding="same", use_bias=False, name=f"block{b}_conv{c}")(x)
                x = layers.BatchNormalization(name=f"block{b}_bn{c}")(x)
                x = layers.ReLU(name=f"block{b}_relu{c}")(x)
            else:
                x = layers.Conv2D(width, 3, padding="same", activation="relu", name=f"block{b}_conv{c}")(x)
        x = layers.MaxPooling2D(2, strides=2, name=f"block{b}_pool")(x)
        taps[2**b] = x

    def top(x):
        x = layers.Flatten(name="flatten")(x)
        for i in (1, 2):
            x = layers.Dense(fc_units, activation="relu", name=f"fc{i}")(x)
            if dropout:
                x = layers.Dropout(dropout, name=f"fc{i}_dropout")(x)
        return x

    return finish_from(keras, inputs, x, taps, dict(locals(), dropout=0.0), top=top)


_DEPTHS = {"vgg11": (1, 1, 2, 2, 2), "vgg13": (2, 2, 2, 2, 2), "vgg16": (2, 2, 3, 3, 3), "vgg19": (2, 2, 4, 4, 4)}
_PARAMS = {
    "vgg11": 132_863_336, "vgg13": 133_047_848, "vgg16": 138_357_544, "vgg19": 143_667_240,
    "vgg11_bn": 132_871_592, "vgg13_bn": 133_056_680, "vgg16_bn": 138_370_216, "vgg19_bn": 143_683_752,
}


def _register_vgg(name, depths, batch_norm):
    def entry():
        return dict(depths=depths, batch_norm=batch_norm, name=name)

    entry.__doc__ = (
        f"VGG-{name[3:5]}{' with batch norm' if batch_norm else ''}: {sum(depths)} conv layers {depths} + 3 dense"
        + ("; keras.applications' " + name.upper() + " exactly" if name in ("vgg16", "vgg19") else "")
        + "."
    )
    register(
        name,
        family="vgg",
        task="classification",
        builder=_vgg,
        paper="Simonyan & Zisserman 2014, Very deep convolutional networks for large-scale image recognition",
        params=_PARAMS[name],
        min_input_shape=(32, 32, 1),
        input_range="caffe" if name in ("vgg16", "vgg19") else "[0, 1]",
        test_config=dict(input_shape=(32, 32, 3), num_classes=3, fc_units=32),
    )(entry)
    return entry


for _name, _depths in _DEPTHS.items():
    _register_vgg(_name, _depths, batch_norm=False)
    _register_vgg(_name + "_bn", _depths, batch_norm=True)

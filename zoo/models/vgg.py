"""VGG (Simonyan & Zisserman 2014): 11, 13, 16 and 19 weight layers, with and without batch norm.

``vgg16`` and ``vgg19`` are keras.applications' VGG16/VGG19 exactly (same layers,
same names: ``block<i>_conv<j>``, ``block<i>_pool``, ``flatten``, ``fc1``, ``fc2``,
``predictions``). The ``_bn`` variants put batch norm between each convolution
(without bias) and its ReLU, as torchvision's ``vgg*_bn`` do.
"""

from __future__ import annotations

from zoo.core.checks import fail
from zoo.models._lazy import keras
from zoo.models._vision import conv_bn, finish_from, image_input, relu
from zoo.registry import register
from zoo.weights.pretrained import keras_h5_tags

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
        fail("depths", depths, "five positive integers", owner=name)
    if not isinstance(fc_units, int) or fc_units < 1:
        fail("fc_units", fc_units, "a positive integer", owner=name)
    layers = keras.layers
    inputs = image_input(keras, input_shape)
    x, taps = inputs, {}
    for b, (width, depth) in enumerate(zip(_WIDTHS, depths), 1):
        for c in range(1, depth + 1):
            if batch_norm:
                x = conv_bn(layers, x, width, 3, names=(f"block{b}_conv{c}", f"block{b}_bn{c}", f"block{b}_relu{c}"),
                            act=relu(layers))
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
#: The models keras.applications has too (layer for layer): zoo name -> keras.applications constructor.
_KERAS_APPS = {"vgg16": "VGG16", "vgg19": "VGG19"}
#: keras.applications' ImageNet weights (files, md5 hashes, documented top-1/top-5).
_URL = "https://storage.googleapis.com/tensorflow/keras-applications/"
_IMAGENET = {
    "vgg16": keras_h5_tags(_URL + "vgg16/", "vgg16", "64373286793e3c8b2b4e3219cbf3544b",
                           "6d6bbae143d832006294945121d1f1fc", top1=0.713, top5=0.901),
    "vgg19": keras_h5_tags(_URL + "vgg19/", "vgg19", "cbe5617147190e668d6c5d5026f83318",
                           "253f8cb515780f3b799900260a226db6", top1=0.713, top5=0.900),
}
_PARAMS = {
    "vgg11": 132_863_336, "vgg13": 133_047_848, "vgg16": 138_357_544, "vgg19": 143_667_240,
    "vgg11_bn": 132_871_592, "vgg13_bn": 133_056_680, "vgg16_bn": 138_370_216, "vgg19_bn": 143_683_752,
}


def _register_vgg(name, depths, batch_norm):
    def entry():
        return dict(depths=depths, batch_norm=batch_norm, name=name)

    entry.__doc__ = (
        f"VGG-{name[3:5]}{' with batch norm' if batch_norm else ''}: {sum(depths)} conv layers {depths} + 3 dense"
        + ("; keras.applications' " + _KERAS_APPS[name] + " exactly" if name in _KERAS_APPS else "")
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
        input_range="caffe" if name in _KERAS_APPS else "[0, 1]",
        keras_app=_KERAS_APPS.get(name),
        pretrained=_IMAGENET.get(name, ()),
        test_config=dict(input_shape=(32, 32, 3), num_classes=3, fc_units=32),
    )(entry)
    return entry


for _name, _depths in _DEPTHS.items():
    _register_vgg(_name, _depths, batch_norm=False)
    _register_vgg(_name + "_bn", _depths, batch_norm=True)

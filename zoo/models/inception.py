"""GoogLeNet (Inception v1, Szegedy et al. 2014) and Inception v3 (Szegedy et al. 2015).

``inception_v3`` is keras.applications' InceptionV3 layer for layer (convolutions
without bias, batch norm without scale), so ``zoo.weights.from_keras_applications``
copies its weights; its modules are named ``mixed<i>_*`` (keras names the
concatenations ``mixed<i>`` and leaves the rest anonymous). ``googlenet`` follows
the paper with batch norm after every convolution (as torchvision does) and 5x5
branches; ``aux_logits=True`` adds the two auxiliary classifiers used in training
(after ``inception4a`` and ``inception4d``) and makes the model return
``[predictions, aux1_predictions, aux2_predictions]``.
"""

from __future__ import annotations

from zoo.core.checks import check_bool
from zoo.models._lazy import keras
from zoo.models._vision import conv_bn, finish_from, image_input
from zoo.models.cnn import DIGITS32_RECIPE
from zoo.registry import register
from zoo.weights.pretrained import keras_h5_tags


def _conv_bn(layers, x, filters, kernel, prefix, strides=1, padding="same", scale=True):
    return conv_bn(layers, x, filters, kernel, prefix, strides=strides, padding=padding,
                   bn=dict(scale=scale, epsilon=1e-3))


# --------------------------------------------------------------------------- GoogLeNet

# name: (1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool projection); "pool" = 3x3/2 max pool
_GOOGLENET_PLAN = (
    ("inception3a", (64, 96, 128, 16, 32, 32)),
    ("inception3b", (128, 128, 192, 32, 96, 64)),
    ("pool3", None),
    ("inception4a", (192, 96, 208, 16, 48, 64)),
    ("inception4b", (160, 112, 224, 24, 64, 64)),
    ("inception4c", (128, 128, 256, 24, 64, 64)),
    ("inception4d", (112, 144, 288, 32, 64, 64)),
    ("inception4e", (256, 160, 320, 32, 128, 128)),
    ("pool4", None),
    ("inception5a", (256, 160, 320, 32, 128, 128)),
    ("inception5b", (384, 192, 384, 48, 128, 128)),
)


def _googlenet(
    aux_logits=False,
    input_shape=(224, 224, 3),
    num_classes=1000,
    include_top=True,
    pooling=None,
    dropout=0.4,
    classifier_activation="softmax",
    features=False,
    name="googlenet",
    keras=keras,
):
    """GoogLeNet: a conv stem and nine inception modules (1x1, 3x3, 5x5 and pooled branches)."""
    check_bool("aux_logits", aux_logits, owner=name)
    layers = keras.layers
    conv = lambda x, f, k, p, **kw: _conv_bn(layers, x, f, k, p, **kw)  # noqa: E731
    inputs = image_input(keras, input_shape)
    x = conv(inputs, 64, 7, "stem_conv1", strides=2)
    taps = {2: x}
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="stem_pool1")(x)
    x = conv(x, 64, 1, "stem_conv2")
    x = conv(x, 192, 3, "stem_conv3")
    taps[4] = x
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="stem_pool2")(x)
    stride, aux = 8, []
    for block, widths in _GOOGLENET_PLAN:
        if widths is None:
            taps[stride] = x
            stride *= 2
            x = layers.MaxPooling2D(3, strides=2, padding="same", name=f"{block}_pool")(x)
            continue
        b1, b3r, b3, b5r, b5, bp = widths
        branches = [
            conv(x, b1, 1, f"{block}_1x1"),
            conv(conv(x, b3r, 1, f"{block}_3x3_reduce"), b3, 3, f"{block}_3x3"),
            conv(conv(x, b5r, 1, f"{block}_5x5_reduce"), b5, 5, f"{block}_5x5"),
            conv(layers.MaxPooling2D(3, strides=1, padding="same", name=f"{block}_pool")(x), bp, 1, f"{block}_pool_proj"),
        ]
        x = layers.Concatenate(name=f"{block}_concat")(branches)
        if aux_logits and include_top and not features and block in ("inception4a", "inception4d"):
            aux.append(_aux_classifier(layers, x, f"aux{len(aux) + 1}", num_classes, classifier_activation))
    taps[stride] = x
    model = finish_from(keras, inputs, x, taps, locals())
    if aux:
        model = keras.Model(inputs, [model.output, *aux], name=name)
    return model


def _aux_classifier(layers, x, prefix, num_classes, classifier_activation):
    """5x5/3 average pool, 1x1 conv 128, dense 1024, dropout 0.7, classifier (the paper's auxiliary head)."""
    if x.shape[1] is not None and x.shape[1] >= 5 and x.shape[2] >= 5:
        x = layers.AveragePooling2D(5, strides=3, name=f"{prefix}_pool")(x)
    else:  # small inputs: the feature map is already smaller than the pooling window
        x = layers.GlobalAveragePooling2D(keepdims=True, name=f"{prefix}_pool")(x)
    x = _conv_bn(layers, x, 128, 1, f"{prefix}_proj")
    x = layers.Flatten(name=f"{prefix}_flatten")(x)
    x = layers.Dense(1024, activation="relu", name=f"{prefix}_fc")(x)
    x = layers.Dropout(0.7, name=f"{prefix}_dropout")(x)
    return layers.Dense(num_classes, activation=classifier_activation, name=f"{prefix}_predictions")(x)


# --------------------------------------------------------------------------- Inception v3


def _inception_v3(
    input_shape=(299, 299, 3),
    num_classes=1000,
    include_top=True,
    pooling=None,
    dropout=0.0,
    classifier_activation="softmax",
    features=False,
    name="inception_v3",
    keras=keras,
):
    """Inception v3: factorised convolutions (1xn, nx1), grid reductions, eleven mixed modules."""
    layers = keras.layers

    def conv(x, filters, rows, cols, prefix, strides=1, padding="same"):
        return _conv_bn(layers, x, filters, (rows, cols), prefix, strides=strides, padding=padding, scale=False)

    def avg_pool(x, prefix):
        return layers.AveragePooling2D(3, strides=1, padding="same", name=f"{prefix}_pool")(x)

    def concat(branches, name):
        return layers.Concatenate(name=name)(branches)

    inputs = image_input(keras, input_shape)
    x = conv(inputs, 32, 3, 3, "stem_1", strides=2, padding="valid")
    x = conv(x, 32, 3, 3, "stem_2", padding="valid")
    x = conv(x, 64, 3, 3, "stem_3")
    taps = {2: x}
    x = layers.MaxPooling2D(3, strides=2, name="stem_pool1")(x)
    x = conv(x, 80, 1, 1, "stem_4", padding="valid")
    x = conv(x, 192, 3, 3, "stem_5", padding="valid")
    taps[4] = x
    x = layers.MaxPooling2D(3, strides=2, name="stem_pool2")(x)

    for i, pool_width in enumerate((32, 64, 64)):  # mixed0-2: 35x35 modules
        p = f"mixed{i}"
        b1 = conv(x, 64, 1, 1, f"{p}_1x1")
        b5 = conv(conv(x, 48, 1, 1, f"{p}_5x5_1"), 64, 5, 5, f"{p}_5x5_2")
        b3 = conv(x, 64, 1, 1, f"{p}_3x3dbl_1")
        b3 = conv(conv(b3, 96, 3, 3, f"{p}_3x3dbl_2"), 96, 3, 3, f"{p}_3x3dbl_3")
        bp = conv(avg_pool(x, p), pool_width, 1, 1, f"{p}_pool_proj")
        x = concat([b1, b5, b3, bp], f"{p}_out")
    taps[8] = x

    p = "mixed3"  # grid reduction to 17x17
    b3 = conv(x, 384, 3, 3, f"{p}_3x3", strides=2, padding="valid")
    bd = conv(x, 64, 1, 1, f"{p}_3x3dbl_1")
    bd = conv(conv(bd, 96, 3, 3, f"{p}_3x3dbl_2"), 96, 3, 3, f"{p}_3x3dbl_3", strides=2, padding="valid")
    bp = layers.MaxPooling2D(3, strides=2, name=f"{p}_pool")(x)
    x = concat([b3, bd, bp], f"{p}_out")

    for i, width in zip(range(4, 8), (128, 160, 160, 192)):  # mixed4-7: 17x17 modules with 1x7/7x1
        p = f"mixed{i}"
        b1 = conv(x, 192, 1, 1, f"{p}_1x1")
        b7 = conv(x, width, 1, 1, f"{p}_7x7_1")
        b7 = conv(conv(b7, width, 1, 7, f"{p}_7x7_2"), 192, 7, 1, f"{p}_7x7_3")
        bd = conv(x, width, 1, 1, f"{p}_7x7dbl_1")
        bd = conv(conv(bd, width, 7, 1, f"{p}_7x7dbl_2"), width, 1, 7, f"{p}_7x7dbl_3")
        bd = conv(conv(bd, width, 7, 1, f"{p}_7x7dbl_4"), 192, 1, 7, f"{p}_7x7dbl_5")
        bp = conv(avg_pool(x, p), 192, 1, 1, f"{p}_pool_proj")
        x = concat([b1, b7, bd, bp], f"{p}_out")
    taps[16] = x

    p = "mixed8"  # grid reduction to 8x8
    b3 = conv(conv(x, 192, 1, 1, f"{p}_3x3_1"), 320, 3, 3, f"{p}_3x3_2", strides=2, padding="valid")
    b7 = conv(x, 192, 1, 1, f"{p}_7x7x3_1")
    b7 = conv(conv(b7, 192, 1, 7, f"{p}_7x7x3_2"), 192, 7, 1, f"{p}_7x7x3_3")
    b7 = conv(b7, 192, 3, 3, f"{p}_7x7x3_4", strides=2, padding="valid")
    bp = layers.MaxPooling2D(3, strides=2, name=f"{p}_pool")(x)
    x = concat([b3, b7, bp], f"{p}_out")

    for i in (9, 10):  # mixed9-10: 8x8 modules with expanded filter banks
        p = f"mixed{i}"
        b1 = conv(x, 320, 1, 1, f"{p}_1x1")
        b3 = conv(x, 384, 1, 1, f"{p}_3x3_1")
        b3 = concat([conv(b3, 384, 1, 3, f"{p}_3x3_2a"), conv(b3, 384, 3, 1, f"{p}_3x3_2b")], f"{p}_3x3_concat")
        bd = conv(conv(x, 448, 1, 1, f"{p}_3x3dbl_1"), 384, 3, 3, f"{p}_3x3dbl_2")
        bd = concat([conv(bd, 384, 1, 3, f"{p}_3x3dbl_3a"), conv(bd, 384, 3, 1, f"{p}_3x3dbl_3b")], f"{p}_3x3dbl_concat")
        bp = conv(avg_pool(x, p), 192, 1, 1, f"{p}_pool_proj")
        x = concat([b1, b3, bd, bp], f"{p}_out")
    taps[32] = x
    return finish_from(keras, inputs, x, taps, locals())


@register(
    family="inception",
    task="classification",
    builder=_googlenet,
    paper="Szegedy et al. 2014, Going deeper with convolutions",
    params=7_020_392,
    min_input_shape=(32, 32, 1),
    input_range="[0, 1]",
    # 5 epochs (cosine, best validation epoch): 0.978, 0.989, 0.989 on seeds 0-2; 8 epochs gave 0.975, 0.992, 0.992
    recipe=dict(DIGITS32_RECIPE, bn_momentum=0.9, epochs=5),
    reference=dict(data="digits", metric="accuracy", value=0.85),
    test_config=dict(input_shape=(32, 32, 3), num_classes=3),
)
def googlenet():
    """GoogLeNet (Inception v1) with batch norm; optional auxiliary classifiers (aux_logits=True)."""
    return dict(name="googlenet")


@register(
    family="inception",
    task="classification",
    builder=_inception_v3,
    paper="Szegedy et al. 2015, Rethinking the Inception architecture for computer vision",
    params=23_851_784,
    min_input_shape=(75, 75, 1),
    input_range="[-1, 1]",
    keras_app="InceptionV3",
    test_config=dict(input_shape=(75, 75, 3), num_classes=3),
    pretrained=keras_h5_tags(
        "https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/", "inception_v3",
        "9a0d58056eeedaa3f26cb7ebd46da564", "bcbd6486424b2319ff4ef7d526e38f63", top1=0.779, top5=0.937, input_size=299,
    ),
)
def inception_v3():
    """Inception v3: factorised 1xn/nx1 convolutions; keras.applications.InceptionV3's architecture."""
    return dict(name="inception_v3")

"""ConvNeXt (Liu et al. 2022): keras.applications' ConvNeXtTiny, Small, Base, Large and XLarge.

Built layer for layer like keras.applications.convnext: same layer names
(``convnext_tiny_stage_2_block_5_pointwise_conv_1``), order, epsilons (1e-6) and
weights; the stem and the three downsampling layers are nested ``Sequential``
models named ``<name>_stem`` and ``<name>_downsampling_block_<i>``, because the
published ``.h5`` files hold each as one layer, so ``zoo.weights.from_keras_applications``
and the ``imagenet`` tag pair their weights in order. A block is a 7x7 depthwise
conv (``Conv2D(groups=C)``), layer norm, two pointwise ``Dense`` layers around a
GELU, ``LayerScale`` and stochastic depth (a ``Dropout`` per sample), plus the
residual.

The input normalisation is in the network, as keras.applications builds it by
default (``include_preprocessing=True``, the published weights' input): a
``Normalization`` layer with ImageNet's mean and variance, for 3-channel inputs
only, so images go in as values in [0, 255]. Differences that change no weight:
the classifier is a Dense named ``predictions``; without the top the output is
still layer-normalised (keras' unnamed final ``LayerNormalization``), here named
``<name>_head_layernorm`` after the pooling layer ``avg_pool`` / ``max_pool``.
"""

from __future__ import annotations

from zoo.core.checks import check_bool, check_number, fail, is_int
from zoo.models._lazy import keras, on_keras
from zoo.models._vision import finish_from, image_input
from zoo.registry import register
from zoo.weights.pretrained import imagenet

_EPS = 1e-6
_MEAN = (0.485 * 255, 0.456 * 255, 0.406 * 255)  # keras.applications' PreStem
_VARIANCE = ((0.229 * 255) ** 2, (0.224 * 255) ** 2, (0.225 * 255) ** 2)


@on_keras
def _register_layers():
    import zoo.layers.convnext  # noqa: F401  (registers zoo>LayerScale, so .keras files that hold it load)


def _check(name, depths, projection_dims, drop_path_rate, layer_scale_init_value, include_preprocessing):
    for arg, value in (("depths", depths), ("projection_dims", projection_dims)):
        if not isinstance(value, (tuple, list)) or len(value) != 4 or not all(is_int(v) and v > 0 for v in value):
            fail(arg, value, "four positive integers (one per stage)", owner=name)
    check_number("drop_path_rate", drop_path_rate, 0.0, 1.0, high_open=True, owner=name)
    check_number("layer_scale_init_value", layer_scale_init_value, 0.0, owner=name, allow_none=True)
    check_bool("include_preprocessing", include_preprocessing, owner=name)


def _block(keras, layer_scale, x, dim, drop_rate, init_value, p):
    """ConvNeXt block: depthwise 7x7, layer norm, Dense 4C, GELU, Dense C, layer scale, drop path, residual."""
    layers = keras.layers
    y = layers.Conv2D(dim, 7, padding="same", groups=dim, name=f"{p}_depthwise_conv")(x)
    y = layers.LayerNormalization(epsilon=_EPS, name=f"{p}_layernorm")(y)
    y = layers.Dense(4 * dim, name=f"{p}_pointwise_conv_1")(y)
    y = layers.Activation("gelu", name=f"{p}_gelu")(y)
    y = layers.Dense(dim, name=f"{p}_pointwise_conv_2")(y)
    if init_value is not None:
        y = layer_scale(init_value, dim, name=f"{p}_layer_scale")(y)
    if drop_rate:
        y = layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=f"{p}_stochastic_depth")(y)
    else:
        y = layers.Activation("linear", name=f"{p}_identity")(y)
    return x + y  # an op, not a layer, as in keras.applications


def _downsample(keras, i, dim, name):
    """Stage ``i``'s entry: the 4x4/4 stem (conv, norm) or a 2x2/2 downsampling (norm, conv), as one Sequential."""
    layers = keras.layers
    if i == 0:
        return keras.Sequential([layers.Conv2D(dim, 4, strides=4, name=f"{name}_stem_conv"),
                                 layers.LayerNormalization(epsilon=_EPS, name=f"{name}_stem_layernorm")],
                                name=f"{name}_stem")
    return keras.Sequential([layers.LayerNormalization(epsilon=_EPS, name=f"{name}_downsampling_layernorm_{i - 1}"),
                             layers.Conv2D(dim, 2, strides=2, name=f"{name}_downsampling_conv_{i - 1}")],
                            name=f"{name}_downsampling_block_{i - 1}")


def _convnext(
    depths=(3, 3, 9, 3),
    projection_dims=(96, 192, 384, 768),
    drop_path_rate=0.0,
    layer_scale_init_value=1e-6,
    include_preprocessing=True,
    input_shape=(224, 224, 3),
    num_classes=1000,
    include_top=True,
    pooling=None,
    dropout=0.0,
    classifier_activation="softmax",
    features=False,
    name="convnext",
    keras=keras,
):
    """Normalization, a 4x4/4 stem, four stages of ConvNeXt blocks with 2x2/2 downsampling between, head."""
    _check(name, depths, projection_dims, drop_path_rate, layer_scale_init_value, include_preprocessing)
    from zoo.layers.convnext import layer_scale_class

    layers, layer_scale = keras.layers, layer_scale_class(keras)
    inputs = image_input(keras, input_shape)
    x = inputs
    if include_preprocessing and input_shape[-1] == 3:  # keras.applications' PreStem (3 channels only)
        x = layers.Normalization(mean=list(_MEAN), variance=list(_VARIANCE), name=f"{name}_prestem_normalization")(x)
    total, done, taps = sum(depths) - 1, 0, {}
    for i, (depth, dim) in enumerate(zip(depths, projection_dims)):
        x = _downsample(keras, i, dim, name)(x)
        for j in range(depth):  # drop rates rise linearly over all blocks: np.linspace(0, rate, sum(depths))
            rate = float(drop_path_rate * done / total) if total else 0.0
            x = _block(keras, layer_scale, x, dim, rate, layer_scale_init_value, f"{name}_stage_{i}_block_{j}")
            done += 1
        taps[4 * 2**i] = x

    def top(x):  # keras.applications' Head, up to its classifier
        x = layers.GlobalAveragePooling2D(name=f"{name}_head_gap")(x)
        return layers.LayerNormalization(epsilon=_EPS, name=f"{name}_head_layernorm")(x)

    model = finish_from(keras, inputs, x, taps, locals(), top=top)
    if include_top or features:
        return model
    x = layers.LayerNormalization(epsilon=_EPS, name=f"{name}_head_layernorm")(model.output)
    return keras.Model(inputs, x, name=name)


_URL = "https://storage.googleapis.com/tensorflow/keras-applications/convnext/"
_COMMON = dict(
    family="convnext",
    task="classification",
    builder=_convnext,
    paper="Liu et al. 2022, A ConvNet for the 2020s",
    min_input_shape=(32, 32, 1),
    input_range="[0, 255]",  # normalised inside the network (keras.applications' include_preprocessing)
    block_pattern=r"^(.+_stage_\d+_block_\d+)_",
    test_config=dict(input_shape=(32, 32, 3), num_classes=3, depths=(1, 1, 1, 1), projection_dims=(8, 16, 24, 32)),
)
_DEEP = (3, 3, 27, 3)


def _imagenet(variant, top_hash, notop_hash, top1):
    """The ``imagenet`` tag: keras.applications' ``<variant>.h5`` and ``<variant>_notop.h5`` (224x224, top-5 unpublished)."""
    return (imagenet(_URL, f"{variant}.h5", top_hash, f"{variant}_notop.h5", notop_hash, input_size=224, top1=top1,
                     top5=None),)


@register(
    "convnext_tiny", **_COMMON, params=28_589_128, keras_app="ConvNeXtTiny",
    pretrained=_imagenet("convnext_tiny", "8ae6e78ce2933352b1ef4008e6dd2f17bc40771563877d156bc6426c7cf503ff",
                         "d547c096cabd03329d7be5562c5e14798aa39ed24b474157cef5e85ab9e49ef1", top1=0.813),
)
def convnext_tiny():
    """ConvNeXt-T: depths (3, 3, 9, 3), widths 96-768; keras.applications.ConvNeXtTiny's architecture."""
    return dict(depths=(3, 3, 9, 3), projection_dims=(96, 192, 384, 768), name="convnext_tiny")


@register(
    "convnext_small", **_COMMON, params=50_223_688, keras_app="ConvNeXtSmall",
    pretrained=_imagenet("convnext_small", "ce1277d8f1ee5a0ef0e171469089c18f5233860ceaf9b168049cb9263fd7483c",
                         "6fc8009faa2f00c1c1dfce59feea9b0745eb260a7dd11bee65c8e20843da6eab", top1=0.823),
)
def convnext_small():
    """ConvNeXt-S: depths (3, 3, 27, 3), widths 96-768; keras.applications.ConvNeXtSmall's architecture."""
    return dict(depths=_DEEP, projection_dims=(96, 192, 384, 768), name="convnext_small")


@register(
    "convnext_base", **_COMMON, params=88_591_464, keras_app="ConvNeXtBase",
    pretrained=_imagenet("convnext_base", "52cbb006d3dadd03f6e095a8ca1aca47aecdd75acb4bc74bce1f5c695d0086e6",
                         "40a20c5548a5e9202f69735ecc06c990e6b7c9d2de39f0361e27baeb24cb7c45", top1=0.853),
)
def convnext_base():
    """ConvNeXt-B: depths (3, 3, 27, 3), widths 128-1024; keras.applications.ConvNeXtBase's architecture."""
    return dict(depths=_DEEP, projection_dims=(128, 256, 512, 1024), name="convnext_base")


@register(
    "convnext_large", **_COMMON, params=197_767_336, keras_app="ConvNeXtLarge",
    pretrained=_imagenet("convnext_large", "070c5ed9ed289581e477741d3b34beffa920db8cf590899d6d2c67fba2a198a6",
                         "96f02b6f0753d4f543261bc9d09bed650f24dd6bc02ddde3066135b63d23a1cd", top1=0.863),
)
def convnext_large():
    """ConvNeXt-L: depths (3, 3, 27, 3), widths 192-1536; keras.applications.ConvNeXtLarge's architecture."""
    return dict(depths=_DEEP, projection_dims=(192, 384, 768, 1536), name="convnext_large")


@register(
    "convnext_xlarge", **_COMMON, params=350_196_968, keras_app="ConvNeXtXLarge",
    pretrained=_imagenet("convnext_xlarge", "c1f5ccab661354fc3a79a10fa99af82f0fbf10ec65cb894a3ae0815f17a889ee",
                         "de3f8a54174130e0cecdc71583354753d557fcf1f4487331558e2a16ba0cfe05", top1=0.867),
)
def convnext_xlarge():
    """ConvNeXt-XL: depths (3, 3, 27, 3), widths 256-2048; keras.applications.ConvNeXtXLarge's architecture."""
    return dict(depths=_DEEP, projection_dims=(256, 512, 1024, 2048), name="convnext_xlarge")

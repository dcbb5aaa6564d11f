"""EfficientNet B0-B7: keras.applications parity (parameter counts and weight layout of every variant, weight
transfer with and without the top, keras' weights="imagenet" model through the imagenet tag), the stride-keyed
feature backbone, block names, argument errors, the registered weights files, the tf-keras twin. The checks are
functions of the model name, shared with test_family_efficientnet_v2.py."""

import re

import keras
import numpy as np
import pytest
from test_family_convnext import shapes_only
from test_family_resnet_v2 import assert_tf_keras_twin

import zoo
from zoo.models._mbconv import BLOCK_PATTERN
from zoo.weights import block_names, from_keras_applications
from zoo.weights.keras_applications import keras_app_model
from zoo.weights.pretrained import finalize_state

VARIANTS = {f"efficientnet_b{i}": f"EfficientNetB{i}" for i in range(8)}
SMALL = (32, 32, 3)
WIDTHS = {2: 16, 4: 24, 8: 40, 16: 112, 32: 1280}  # B0's channels at each stride
_AUTO_NAMED = re.compile(r"^(rescaling|normalization)(_\d+)?(?=/|$)")  # keras numbers these per session


def layer_names(model):
    return [_AUTO_NAMED.sub(r"\1", layer.name) for layer in model.layers[1:]]  # the input layers' names differ


def weight_paths(model):
    return [_AUTO_NAMED.sub(r"\1", w.path) for w in model.weights]


def randomize(model, rng):
    """Random biases, batch norm and normalization values; kernels keep keras' random initial values."""
    for w in model.weights:
        leaf = w.path.rsplit("/", 1)[-1]
        if leaf in ("kernel", "depthwise_kernel", "count"):
            continue
        value = rng.normal(0, 0.1, w.shape)
        if leaf in ("gamma", "moving_variance", "variance"):
            value = 1.0 + (value if leaf == "gamma" else np.abs(value))
        w.assign(value.astype("float32"))
    finalize_state(model.layers)  # as keras' loaders do: Normalization's mean and variance tensors follow its weights


def calibrate(model, x):
    """Set every batch norm's moving statistics to those of ``x`` (no dropout), so that activations stay
    normalised through the network: with arbitrary statistics the squeeze-excite gates and swishes shrink
    the signal block by block, and the outputs no longer depend on the input (a comparison that shows nothing)."""
    bns = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    drops = [layer for layer in model.layers if isinstance(layer, keras.layers.Dropout)]
    saved = [layer.momentum for layer in bns], [layer.rate for layer in drops]
    for layer in bns:
        layer.momentum = 0.0
    for layer in drops:
        layer.rate = 0.0
    model(x, training=True)
    for layer, momentum in zip(bns, saved[0]):
        layer.momentum = momentum
    for layer, rate in zip(drops, saved[1]):
        layer.rate = rate


def predict(model, x):
    return keras.ops.convert_to_numpy(model(x, training=False))


def random_source(name, rng, x, **app_kwargs):
    """keras.applications' twin of ``name`` with random, calibrated weights."""
    source = keras_app_model(name, input_shape=x.shape[1:], **app_kwargs)
    randomize(source, rng)
    calibrate(source, x)
    return source


def assert_registered(family, variants, weights_module, weights_name):
    """Registered names, twins, input range and block pattern; the imagenet files are keras.applications' own."""
    assert zoo.list_models(family=family) == sorted(variants)
    for name, app in variants.items():
        meta = zoo.info(name)
        assert meta["keras_app"] == app and meta["input_range"] == "[0, 255]" and meta["min_input_shape"] == (32, 32, 1)
        assert meta["block_pattern"] == BLOCK_PATTERN
        tag, key = meta["pretrained"]["imagenet"], weights_name(app)
        assert tag["input_size"] == meta["defaults"]["input_shape"][0]
        for which, file_hash in zip(("top", "notop"), weights_module.WEIGHTS_HASHES[key]):
            assert tag[f"{which}_url"] == weights_module.BASE_WEIGHTS_PATH + tag[f"{which}_file"]
            assert tag[f"{which}_hash"] == file_hash


def assert_layout_equals_keras_applications(name):
    """Parameter count and the same weights (names, shapes, order) as keras.applications at its default size.

    Built, never run nor initialised. The same weights in the same order is what weight transfer relies on.
    """
    with shapes_only():
        model, twin = zoo.get(name), keras_app_model(name)
        assert model.count_params() == twin.count_params() == zoo.info(name)["params"]
        assert weight_paths(model) == weight_paths(twin)
        assert [w.shape for w in model.weights] == [w.shape for w in twin.weights]


def parity(name, rng, top, app_kwargs=None, zoo_kwargs=None, shape=SMALL):
    """Max |zoo - keras| after copying a random keras.applications model's weights into the zoo's."""
    head = dict(classifier_activation=None) if top else dict(include_top=False, pooling="avg")
    x = rng.uniform(0, 255, size=(4, *shape)).astype("float32")
    source = random_source(name, rng, x, **head, **({"classes": 10} if top else {}), **(app_kwargs or {}))
    model = zoo.get(name, input_shape=shape, **head, **({"num_classes": 10} if top else {}), **(zoo_kwargs or {}))
    assert layer_names(model) == layer_names(source)
    from_keras_applications(model, source)
    expected, got = predict(source, x), predict(model, x)
    assert np.ptp(expected, axis=0).max() > 0.1  # the outputs depend on the input: not a degenerate comparison
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=1e-5)
    return float(np.abs(got - expected).max())


def assert_features(name, widths, rng, side=64, app_kwargs=None, zoo_kwargs=None):
    """One map per stride, stride-ordered, of the expected sizes; the last is keras.applications' no-top output."""
    x = rng.uniform(0, 255, size=(2, side, side, 3)).astype("float32")
    source = random_source(name, rng, x, include_top=False, **(app_kwargs or {}))
    model = zoo.get(name, input_shape=(side, side, 3), features=True, **(zoo_kwargs or {}))
    from_keras_applications(model, source)
    out = model(x, training=False)
    assert list(out) == [f"stride_{s}" for s in sorted(widths)]
    for s, width in widths.items():
        assert tuple(out[f"stride_{s}"].shape) == (2, side // s, side // s, width)
    np.testing.assert_allclose(np.asarray(out[f"stride_{max(widths)}"]), predict(source, x), atol=1e-5, rtol=1e-5)
    return model


def assert_bad_argument(name, arg, value, expected):
    with pytest.raises(ValueError, match=rf"{name}: invalid {arg}={re.escape(repr(value))}; expected {expected}"):
        zoo.get(name, **{arg: value})


# --------------------------------------------------------------------------- EfficientNet B0-B7


def test_the_family_is_registered_with_keras_applications_files():
    from keras.src.applications import efficientnet

    assert_registered("efficientnet", VARIANTS, efficientnet, lambda app: app[-2:].lower())


@pytest.mark.parametrize("name", VARIANTS)
def test_layout_equals_keras_applications(name):
    assert_layout_equals_keras_applications(name)


# B0 with and without the top; B3 (width 1.2, depth 1.4) checks the scaled widths and repeats.
@pytest.mark.parametrize("name, top", [("efficientnet_b0", True), ("efficientnet_b0", False), ("efficientnet_b3", False)])
def test_weights_from_keras_applications_reproduce_its_outputs(name, top, rng):
    # keras.applications with weights=None has no rescaling_1: the zoo model without it is that model.
    parity(name, rng, top, zoo_kwargs=dict(imagenet_rescaling=False))


def test_the_imagenet_tag_gives_keras_applications_imagenet_model(tmp_path, rng, monkeypatch):
    """The default model is keras' weights="imagenet" one (rescaling_1 included): a file in keras.applications'
    layout, found offline in the Keras cache under its published name, gives keras' outputs."""
    import h5py
    from keras.src.applications import efficientnet
    from keras.src.legacy.saving import legacy_h5_format

    x = rng.uniform(0, 255, size=(4, *SMALL)).astype("float32")
    source = random_source("efficientnet_b0", rng, x, include_top=False, pooling="avg")
    path = tmp_path / "models" / "efficientnetb0_notop.h5"
    path.parent.mkdir()
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, source)
    monkeypatch.setattr(efficientnet.file_utils, "get_file", lambda *args, **kwargs: str(path))  # no download
    reference = keras.applications.EfficientNetB0(weights="imagenet", include_top=False, input_shape=SMALL, pooling="avg")
    assert layer_names(reference)[:3] == ["rescaling", "normalization", "rescaling"]  # rescaling_1 comes with "imagenet"
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setenv("DLZOO_OFFLINE", "1")
    with pytest.warns(RuntimeWarning, match="published hash"):  # a test file, not the published one
        model = zoo.get("efficientnet_b0", weights="imagenet", include_top=False, input_shape=SMALL, pooling="avg")
    assert layer_names(model) == layer_names(reference)
    expected = predict(reference, x)
    np.testing.assert_allclose(predict(model, x), expected, atol=1e-5, rtol=1e-5)
    assert np.abs(expected - predict(source, x)).max() > 0.1  # the layer matters


def test_weight_transfer_reaches_the_normalization_layer(rng):
    """Normalization computes its mean and variance tensors from its weights once: the transfer must refresh them."""
    x = rng.uniform(0, 255, size=(4, *SMALL)).astype("float32")
    source = random_source("efficientnet_b0", rng, x, include_top=False, pooling="avg")
    model = zoo.get("efficientnet_b0", input_shape=SMALL, include_top=False, pooling="avg", imagenet_rescaling=False)
    from_keras_applications(model, source)
    np.testing.assert_allclose(predict(model, x), predict(source, x), atol=1e-5, rtol=1e-5)


def test_a_weights_file_reaches_the_normalization_layer(tmp_path, rng):
    config = dict(input_shape=SMALL, include_top=False, pooling="avg", width_coefficient=0.25, depth_coefficient=0.3)
    model = zoo.get("efficientnet_b0", **config)
    randomize(model, rng)
    path = str(tmp_path / "efficientnet_b0.weights.h5")
    model.save_weights(path)
    x = rng.uniform(0, 255, size=(2, *SMALL)).astype("float32")
    np.testing.assert_allclose(predict(zoo.get("efficientnet_b0", **config, weights=path), x), predict(model, x),
                               atol=1e-5, rtol=1e-5)


def test_features_are_one_map_per_stride_and_blocks_are_named(rng):
    model = assert_features("efficientnet_b0", WIDTHS, rng, zoo_kwargs=dict(imagenet_rescaling=False))
    stages = (1, 2, 2, 3, 3, 4, 1)
    assert block_names(model, BLOCK_PATTERN) == [f"block{i}{chr(97 + j)}" for i, n in enumerate(stages, 1) for j in range(n)]


@pytest.mark.parametrize("arg, value, expected", [
    ("width_coefficient", 0, "a number > 0"),
    ("depth_coefficient", "2", "a number > 0"),
    ("drop_connect_rate", 1.0, r"a number in \[0, 1\)"),
    ("imagenet_rescaling", "yes", "True or False"),
    ("input_shape", (31, 64, 3), r"every dimension at least \(32, 32, 1\)"),
])
def test_bad_arguments_say_what_is_accepted(arg, value, expected):
    assert_bad_argument("efficientnet_b0", arg, value, expected)


def test_tf_keras_twin(rng):
    assert_tf_keras_twin("efficientnet_b0", rng, width_coefficient=0.5, depth_coefficient=0.5)

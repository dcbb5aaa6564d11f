"""ResNet v2 family: keras.applications parity (parameter counts and weight layout of every variant,
weight transfer with and without the top), the stride-keyed feature backbone, argument errors, the
tf-keras twin. The checks are functions of the model name, shared with test_family_densenet.py."""

import numpy as np
import pytest
from test_family_convnext import shapes_only
from test_vision import predict, randomize

import zoo
from zoo.weights import from_keras_applications
from zoo.weights.keras_applications import keras_app_model

VARIANTS = {"resnet50_v2": "ResNet50V2", "resnet101_v2": "ResNet101V2", "resnet152_v2": "ResNet152V2"}
SMALL = (32, 32, 3)
WIDTHS = {2: 64, 4: 256, 8: 512, 16: 1024, 32: 2048}  # channels of each stride's feature map


def assert_registered(family, variants, input_range, notop_file):
    assert zoo.list_models(family=family) == sorted(variants)
    for name, app in variants.items():
        meta = zoo.info(name)
        assert meta["keras_app"] == app and meta["input_range"] == input_range
        assert meta["min_input_shape"] == (32, 32, 1)
        assert meta["pretrained"]["imagenet"]["notop_file"] == notop_file(name, app)


def assert_layout_equals_keras_applications(name):
    """Parameter count, and the same weights (names, shapes, order), as keras.applications at 224x224, 1000 classes.

    Built, never run nor initialised. The same weights in the same order is what weight transfer relies on.
    """
    with shapes_only():
        model, twin = zoo.get(name), keras_app_model(name)
        assert model.count_params() == twin.count_params() == zoo.info(name)["params"]
        assert [w.path.split("/", 1)[1] for w in model.weights] == [w.path.split("/", 1)[1] for w in twin.weights]
        assert [w.shape for w in model.weights] == [w.shape for w in twin.weights]


def parity(name, rng, app_kwargs, zoo_kwargs):
    """Max |zoo - keras| after copying a randomised keras.applications model's weights into the zoo's."""
    source = keras_app_model(name, input_shape=SMALL, **app_kwargs)
    randomize(source, rng)
    model = zoo.get(name, input_shape=SMALL, **zoo_kwargs)
    assert model.count_params() == source.count_params()
    from_keras_applications(model, source)
    x = rng.uniform(-1, 1, size=(2, *SMALL)).astype("float32")
    expected, got = predict(source, x), predict(model, x)
    assert np.abs(expected).max() > 1e-3  # not a degenerate comparison
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=1e-5)
    return float(np.abs(got - expected).max())


def assert_parity_with_and_without_top(name, rng):
    parity(name, rng, dict(classes=10, classifier_activation=None), dict(num_classes=10, classifier_activation=None))
    parity(name, rng, dict(include_top=False, pooling="avg"), dict(include_top=False, pooling="avg"))


def assert_features(name, widths, rng, side=64):
    """One map per stride, stride-ordered, of the expected sizes; the last is keras.applications' no-top output."""
    source = keras_app_model(name, input_shape=(side, side, 3), include_top=False)
    randomize(source, rng)
    model = from_keras_applications(zoo.get(name, input_shape=(side, side, 3), features=True), source)
    x = rng.uniform(-1, 1, size=(1, side, side, 3)).astype("float32")
    out = model(x, training=False)
    assert list(out) == [f"stride_{s}" for s in sorted(widths)]
    for s, width in widths.items():
        assert tuple(out[f"stride_{s}"].shape) == (1, side // s, side // s, width)
    np.testing.assert_allclose(np.asarray(out[f"stride_{max(widths)}"]), predict(source, x), atol=1e-5, rtol=1e-5)


def assert_tf_keras_twin(name, rng, **config):
    """The builder with keras=tf_keras (TF-MOT's twin) makes the same weighted layers and outputs."""
    tf_keras = pytest.importorskip("tf_keras")
    config = dict(config, input_shape=SMALL, num_classes=3, name=name)
    builder = zoo.registry._lookup(name).builder
    ours, twin = builder(**config), builder(**config, keras=tf_keras)
    assert [la.name for la in twin.layers if la.weights] == [la.name for la in ours.layers if la.weights]
    twin.set_weights(ours.get_weights())
    x = rng.uniform(-1, 1, size=(2, *SMALL)).astype("float32")
    np.testing.assert_allclose(twin(x, training=False).numpy(), predict(ours, x), atol=1e-4, rtol=1e-4)


def test_the_family_is_registered_with_its_twins():
    assert_registered("resnet_v2", VARIANTS, "[-1, 1]",
                      lambda name, app: f"{app.lower()}_weights_tf_dim_ordering_tf_kernels_notop.h5")


@pytest.mark.parametrize("name", VARIANTS)
def test_parameter_count_and_weight_layout_equal_keras_applications(name):
    assert_layout_equals_keras_applications(name)


# The deeper variants repeat resnet50_v2's blocks; their layouts are checked against keras.applications above.
def test_weights_from_keras_applications_reproduce_its_outputs(rng):
    assert_parity_with_and_without_top("resnet50_v2", rng)


def test_features_give_one_map_per_stride_and_take_the_backbones_weights(rng):
    assert_features("resnet50_v2", WIDTHS, rng)


@pytest.mark.parametrize("overrides, match", [
    (dict(depths=(3, 4, 6)), r"resnet50_v2: invalid depths=\(3, 4, 6\); expected four integers >= 2"),
    (dict(depths=(1, 4, 6, 3)), r"invalid depths=\(1, 4, 6, 3\); expected four integers >= 2"),
    (dict(input_shape=(31, 31, 3)), r"resnet50_v2: invalid input_shape=\(31, 31, 3\); expected every dimension "
                                    r"at least \(32, 32, 1\)"),
])
def test_bad_arguments_name_the_argument_the_value_and_what_is_accepted(overrides, match):
    with pytest.raises(ValueError, match=match):
        zoo.get("resnet50_v2", **overrides)


def test_tf_keras_twin_has_the_same_layers_and_outputs(rng):
    assert_tf_keras_twin("resnet50_v2", rng, depths=(2, 2, 2, 2))

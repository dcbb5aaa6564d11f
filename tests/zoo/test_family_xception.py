"""Xception: keras.applications parity (parameter count, layer names, weight transfer with and without
the top), the stride-keyed feature backbone, input errors, the tf-keras twin.

``parity`` is shared by the other keras.applications families' tests (InceptionResNetV2, NASNet)."""

import re

import keras
import numpy as np
import pytest
from test_family_convnext import shapes_only
from test_vision import predict, randomize

import zoo
from zoo.core.naming import HEAD
from zoo.weights import from_keras_applications
from zoo.weights.keras_applications import keras_app_model

SMALL = (71, 71, 3)  # keras.applications' minimum
# Names keras gives the layers it leaves anonymous: those are ours to name.
ANONYMOUS = re.compile(r"^(input_layer|conv2d|batch_normalization|activation|add|concatenate|custom_scale_layer|"
                       r"(max|average)_pooling2d|zero_padding2d|cropping2d|global_(average|max)_pooling2d)(_\d+)?$")


def parity(name, shape, rng, app=None, **config):
    """Max |zoo - keras| with the top (10 logits) and without it (avg-pooled), keras' random weights copied in.

    ``app(input_shape=, classes=, classifier_activation=)`` builds the keras model (default: the
    registered twin); ``config`` goes to ``zoo.get``. Without the top, the reference is the keras
    model's pooled features (what its ``include_top=False, pooling="avg"`` computes), which saves a build.
    """
    source = (app or (lambda **kw: keras_app_model(name, **kw)))(input_shape=shape, classes=10,
                                                                  classifier_activation=None)
    randomize(source, rng)
    pooled = keras.Model(source.input, source.layers[-1].input)
    x = rng.uniform(-1, 1, size=(2, *shape)).astype("float32")
    diffs = []
    for head, reference in ((dict(num_classes=10, classifier_activation=None), source),
                            (dict(include_top=False, pooling="avg"), pooled)):
        model = zoo.get(name, input_shape=shape, **head, **config)
        assert [w.shape for w in model.weights] == [w.shape for w in reference.weights]
        theirs = [layer.name for layer in reference.layers if not ANONYMOUS.match(layer.name)]
        names = [layer.name for layer in model.layers]
        assert [n for n in names if n in theirs] == theirs  # every layer keras names, in its order
        pairs = zip([la for la in reference.layers if la.weights], [la for la in model.layers if la.weights])
        assert all(a.name == b.name for a, b in pairs if not ANONYMOUS.match(a.name))
        assert from_keras_applications(model, source) is model
        expected = predict(reference, x)
        assert np.abs(expected).max() > 1e-3  # not a degenerate comparison
        got = predict(model, x)
        np.testing.assert_allclose(got, expected, atol=1e-5, rtol=1e-5)
        diffs.append(float(np.abs(got - expected).max()))
    return diffs


def check_features(name, shape, rng, **config):
    """``features=True``: one map per stride 2 ... 32, in stride order, each smaller than the one before, no head."""
    model = zoo.get(name, input_shape=shape, features=True, **config)
    out = model(rng.uniform(-1, 1, size=(1, *shape)).astype("float32"), training=False)
    assert list(out) == ["stride_2", "stride_4", "stride_8", "stride_16", "stride_32"]
    sides = [value.shape[1] for value in out.values()]
    assert sides == sorted(sides, reverse=True) and len(set(sides)) == len(sides), sides
    assert not any(layer.name == HEAD for layer in model.layers)
    return sides


def check_twin(name, shape, rng, **config):
    """The same builder with ``keras=tf_keras`` (the TF-MOT twin): same weights, same outputs."""
    tf_keras = pytest.importorskip("tf_keras")
    model = zoo.get(name, input_shape=shape, num_classes=3, **config)
    twin = zoo.get(name, input_shape=shape, num_classes=3, keras=tf_keras, **config)
    assert [tuple(w.shape) for w in twin.weights] == [tuple(w.shape) for w in model.weights]
    twin.set_weights(model.get_weights())
    x = rng.uniform(-1, 1, size=(2, *shape)).astype("float32")
    np.testing.assert_allclose(twin(x, training=False).numpy(), predict(model, x), atol=1e-5)


def test_registered_with_its_twin_and_weights():
    meta = zoo.info("xception")
    assert meta["family"] == "xception" and meta["keras_app"] == "Xception" and meta["input_range"] == "[-1, 1]"
    assert meta["min_input_shape"] == (71, 71, 1) and meta["defaults"]["input_shape"] == (299, 299, 3)
    tag = meta["pretrained"]["imagenet"]
    assert tag["notop_file"] == "xception_weights_tf_dim_ordering_tf_kernels_notop.h5" and tag["input_size"] == 299


def test_parameter_count_equals_keras_applications():
    with shapes_only():  # built, never run nor initialised: the 1000-class default configuration
        ours = zoo.get("xception").count_params()
        theirs = keras.applications.Xception(weights=None).count_params()
    assert ours == theirs == zoo.info("xception")["params"] == 22_910_480


def test_weights_from_keras_applications_reproduce_its_outputs(rng):
    top, notop = parity("xception", SMALL, rng)
    assert top <= 1e-5 and notop <= 1e-5


def test_features_give_one_map_per_stride(rng):
    assert check_features("xception", SMALL, rng) == [33, 17, 9, 5, 3]


@pytest.mark.parametrize("shape, expected", [
    ((70, 70, 3), "input_shape=(70, 70, 3); expected every dimension at least (71, 71, 1)"),
    ((71, 71), "input_shape=(71, 71); expected a shape of rank 3"),
])
def test_bad_inputs_are_named(shape, expected):
    with pytest.raises(ValueError, match=re.escape(f"xception: invalid {expected}")):
        zoo.get("xception", input_shape=shape)


def test_tf_keras_twin(rng):
    check_twin("xception", SMALL, rng)

"""ConvNeXt family: keras.applications parity (parameter counts of every variant, layer names, weight
transfer with and without the top), the stride-keyed feature backbone, argument errors, the built-in
normalisation, stochastic depth, the tf-keras twin."""

import re

import keras
import numpy as np
import pytest
from _shapes import shapes_only  # noqa: F401  (imported from here by other family tests)
from test_vision import predict

import zoo
from zoo.core.naming import HEAD
from zoo.weights import block_names, from_keras_applications

VARIANTS = {"convnext_tiny": "ConvNeXtTiny", "convnext_small": "ConvNeXtSmall", "convnext_base": "ConvNeXtBase",
            "convnext_large": "ConvNeXtLarge", "convnext_xlarge": "ConvNeXtXLarge"}
TOP1 = {"convnext_tiny": 0.813, "convnext_small": 0.823, "convnext_base": 0.853, "convnext_large": 0.863,
        "convnext_xlarge": 0.867}  # ImageNet top-1 as keras.applications documents it
URL = "https://storage.googleapis.com/tensorflow/keras-applications/convnext/"
SMALL = (32, 32, 3)
TINY = dict(depths=(1, 1, 2, 1), projection_dims=(8, 16, 24, 32))  # a reduced configuration


def randomize(model, rng):
    """Random weights around keras' initial values (scales around 1), so that a wrong pairing shows."""
    for w in model.weights:
        value = rng.normal(0, 0.05, w.shape)
        if w.path.endswith(("gamma", "moving_variance")) or "layer_scale" in w.path:
            value = 1.0 + value
        w.assign(value.astype("float32"))


def test_the_family_is_registered_with_its_twins():
    from keras.src.applications.convnext import BASE_WEIGHTS_PATH, WEIGHTS_HASHES

    assert zoo.list_models(family="convnext") == sorted(VARIANTS)
    for name, app in VARIANTS.items():
        meta = zoo.info(name)
        assert meta["keras_app"] == app and meta["input_range"] == "[0, 255]" and meta["min_input_shape"] == (32, 32, 1)
        tag = meta["pretrained"]["imagenet"]
        assert (tag["top_file"], tag["notop_file"]) == (f"{name}.h5", f"{name}_notop.h5")
        assert (tag["top_url"], tag["notop_url"]) == (BASE_WEIGHTS_PATH + tag["top_file"], URL + tag["notop_file"])
        assert (tag["top_hash"], tag["notop_hash"]) == WEIGHTS_HASHES[name]
        assert (tag["input_size"], tag["top1"], tag["top5"]) == (224, TOP1[name], None)


@pytest.mark.parametrize("name", VARIANTS)
def test_parameter_count_equals_keras_applications(name):
    # Built, never run (nor initialised): the 1000-class default configuration (224x224).
    with shapes_only():
        ours = zoo.get(name).count_params()
        theirs = getattr(keras.applications, VARIANTS[name])(weights=None).count_params()
    assert ours == theirs == zoo.info(name)["params"]


def parity(rng, app_kwargs, zoo_kwargs):
    """Max |zoo - keras| after copying a randomised ConvNeXtTiny's weights into convnext_tiny (both normalising)."""
    source = keras.applications.ConvNeXtTiny(weights=None, input_shape=SMALL, **app_kwargs)
    randomize(source, rng)
    model = zoo.get("convnext_tiny", input_shape=SMALL, **zoo_kwargs)
    names = [layer.name for layer in source.layers[1:]]  # the input layers' names differ
    # The same layers in the same order; renamed: the classifier, and keras' unnamed pooling and norm without top.
    ours = [layer.name for layer in model.layers[1:]]
    top = [HEAD] if zoo_kwargs.get("include_top", True) else ["avg_pool", "convnext_tiny_head_layernorm"]
    assert ours == names[: -len(top)] + top
    assert [w.shape for w in model.weights] == [w.shape for w in source.weights]
    from_keras_applications(model, source)
    x = rng.uniform(0, 255, size=(2, *SMALL)).astype("float32")
    expected = predict(source, x)
    assert np.abs(expected).max() > 1e-3  # not a degenerate comparison
    np.testing.assert_allclose(predict(model, x), expected, atol=1e-5, rtol=1e-5)
    return float(np.abs(predict(model, x) - expected).max())


def test_weights_from_keras_applications_reproduce_its_outputs(rng):
    parity(rng, dict(classes=10, classifier_activation=None), dict(num_classes=10, classifier_activation=None))
    parity(rng, dict(include_top=False, pooling="avg"), dict(include_top=False, pooling="avg"))


def test_features_give_one_map_per_stride(rng):
    model = zoo.get("convnext_tiny", input_shape=(64, 64, 3), features=True, **TINY)
    out = model(rng.uniform(0, 255, size=(1, 64, 64, 3)).astype("float32"), training=False)
    assert list(out) == ["stride_4", "stride_8", "stride_16", "stride_32"]
    for (key, value), width in zip(out.items(), TINY["projection_dims"]):
        s = int(key.split("_")[1])
        assert tuple(value.shape) == (1, 64 // s, 64 // s, width)
    assert not any(layer.name == HEAD for layer in model.layers)


@pytest.mark.parametrize("arg, value, expected", [
    ("projection_dims", (8, 16, 32), "projection_dims=(8, 16, 32); expected four positive integers (one per stage)"),
    ("depths", (1, 0, 1, 1), "depths=(1, 0, 1, 1); expected four positive integers (one per stage)"),
    ("drop_path_rate", 1.0, "drop_path_rate=1.0; expected a number in [0.0, 1.0)"),
    ("layer_scale_init_value", -1.0, "layer_scale_init_value=-1.0; expected a number >= 0.0 or None"),
    ("include_preprocessing", "yes", "include_preprocessing='yes'; expected True or False"),
    ("input_shape", (16, 16, 3), "input_shape=(16, 16, 3); expected every dimension at least (32, 32, 1)"),
])
def test_bad_arguments_are_named(arg, value, expected):
    with pytest.raises(ValueError, match=re.escape(f"convnext_tiny: invalid {expected}")):
        zoo.get("convnext_tiny", **{**TINY, arg: value})


def test_normalisation_is_built_in_for_rgb_only(rng):
    model = zoo.get("convnext_tiny", input_shape=SMALL, include_top=False, **TINY)
    bare = zoo.get("convnext_tiny", input_shape=SMALL, include_top=False, include_preprocessing=False, **TINY)
    bare.set_weights(model.get_weights())
    x = rng.uniform(0, 255, size=(2, *SMALL)).astype("float32")
    normalised = (x / 255 - np.array([0.485, 0.456, 0.406])) / np.array([0.229, 0.224, 0.225])
    np.testing.assert_allclose(predict(bare, normalised.astype("float32")), predict(model, x), atol=1e-4)
    gray = zoo.get("convnext_tiny", input_shape=(32, 32, 1), **TINY)
    assert not any(isinstance(layer, keras.layers.Normalization) for layer in gray.layers)


def test_stochastic_depth_drops_whole_residual_branches_in_training_only(rng):
    model = zoo.get("convnext_tiny", input_shape=SMALL, drop_path_rate=0.5, layer_scale_init_value=1.0, num_classes=3,
                    classifier_activation=None, **TINY)
    drops = [layer for layer in model.layers if layer.name.endswith("_stochastic_depth")]
    assert [layer.rate for layer in drops] == pytest.approx([0.125, 0.25, 0.375, 0.5])  # linear in depth, 0 first
    x = rng.uniform(0, 255, size=(8, *SMALL)).astype("float32")
    np.testing.assert_array_equal(predict(model, x), predict(model, x))
    assert not np.allclose(keras.ops.convert_to_numpy(model(x, training=True)), predict(model, x))
    pattern = zoo.info("convnext_tiny")["block_pattern"]
    assert block_names(model, pattern)[-2:] == ["convnext_tiny_stage_2_block_1", "convnext_tiny_stage_3_block_0"]


def test_tf_keras_twin_has_the_same_weights_and_outputs(rng):
    tf_keras = pytest.importorskip("tf_keras")
    model = zoo.get("convnext_tiny", input_shape=SMALL, num_classes=3, **TINY)
    twin = zoo.get("convnext_tiny", input_shape=SMALL, num_classes=3, keras=tf_keras, **TINY)
    assert [tuple(w.shape) for w in twin.weights] == [tuple(w.shape) for w in model.weights]
    twin.set_weights(model.get_weights())
    x = rng.uniform(0, 255, size=(2, *SMALL)).astype("float32")
    np.testing.assert_allclose(twin(x, training=False).numpy(), predict(model, x), atol=1e-5)

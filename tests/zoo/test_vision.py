"""Vision zoo: keras.applications parity (parameter counts and weight transfer), head swap,
feature backbones, input-size errors, preprocessing, block names, tf-keras twins."""

import logging

import keras
import numpy as np
import pytest

import zoo
from zoo.core.naming import HEAD
from zoo.weights import BLOCK_RE, KERAS_APPLICATIONS, block_layers, block_names, from_keras_applications
from zoo.weights.keras_applications import keras_app_model
from zoo.weights.pretrained import finalize_state

# Which models have a keras.applications twin, and which constructor, is the registry's
# (``@register(..., keras_app="ResNet50")`` in each family file, ``zoo.info(name)["keras_app"]``).
# The families this file covers; the later ones have their own tests/zoo/test_family_<name>.py.
FAMILIES = ("vgg", "resnet", "mobilenet", "inception")
PARITY = sorted(name for name in KERAS_APPLICATIONS if zoo.info(name)["family"] in FAMILIES)
SIDES = {"mobilenet_v2": 33}  # test data: odd size, exercises the asymmetric stride-2 padding
ISSUE_COUNTS = {  # the 1000-class parameter counts of keras.applications, as the issue states them
    "resnet50": 25_636_712, "resnet101": 44_707_176, "resnet152": 60_419_944, "vgg16": 138_357_544,
    "vgg19": 143_667_240, "mobilenet": 4_253_864, "mobilenet_v2": 3_538_984,
    "mobilenet_v3_small": 2_554_968, "mobilenet_v3_large": 5_507_432, "inception_v3": 23_851_784,
}


def side(name):
    """The small input side of the transfer test: the model's minimum, at least 32."""
    return SIDES.get(name, max(32, zoo.info(name)["min_input_shape"][0]))


def keras_app(name, **kwargs):
    return keras_app_model(name, **kwargs)  # the registered constructor, without built-in preprocessing


def test_registered_twins_are_the_issues_models():
    assert set(PARITY) == set(ISSUE_COUNTS)
    assert all(zoo.info(name)["keras_app"] == KERAS_APPLICATIONS[name] for name in PARITY)
    assert KERAS_APPLICATIONS["resnet50"] == "ResNet50" and "resnet18" not in KERAS_APPLICATIONS


def randomize(model, rng):
    """Random weights, with positive variances (batch norm's and input normalisation's), so that a wrong
    pairing shows; layers with derived state then recompute it, as after Keras's own loading."""
    for w in model.weights:
        value = rng.normal(0, 0.05, w.shape)
        if "variance" in w.path:
            value = 0.5 + np.abs(value)
        w.assign(value.astype("float32"))
    finalize_state(model.layers)


def predict(model, x):
    return keras.ops.convert_to_numpy(model(x, training=False))


@pytest.mark.parametrize("name", PARITY)
def test_parameter_counts_equal_keras_applications(name):
    # Only built, never run: the 1000-class default configuration.
    assert zoo.info(name)["params"] == ISSUE_COUNTS[name]
    assert keras_app(name).count_params() == ISSUE_COUNTS[name]


# resnet101/152 repeat resnet50's blocks (their counts are checked above); the transfer runs on the rest.
@pytest.mark.parametrize("name", [n for n in PARITY if n not in ("resnet101", "resnet152")])
def test_weights_from_keras_applications_reproduce_its_outputs(name, rng):
    shape = (side(name), side(name), 3)
    source = keras_app(name, input_shape=shape, classes=5, classifier_activation=None)
    randomize(source, rng)
    model = zoo.get(name, input_shape=shape, num_classes=5, classifier_activation=None)
    assert model.count_params() == source.count_params()
    assert from_keras_applications(model, source) is model
    x = rng.uniform(-1, 1, size=(2, *shape)).astype("float32")
    expected = predict(source, x)
    assert np.abs(expected).max() > 1e-3  # not a degenerate comparison
    np.testing.assert_allclose(predict(model, x), expected, atol=1e-5, rtol=1e-5)


def test_backbone_without_top_takes_weights_of_a_model_with_top(rng):
    source = keras_app("resnet50", input_shape=(32, 32, 3), classes=4)
    randomize(source, rng)
    model = zoo.get("resnet50", input_shape=(32, 32, 3), include_top=False, pooling="avg")
    from_keras_applications(model, source)
    trunk = keras.Model(source.input, source.get_layer("avg_pool").output)
    x = rng.uniform(-1, 1, size=(2, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(predict(model, x), predict(trunk, x), atol=1e-5, rtol=1e-5)


def test_weights_from_a_keras_applications_h5_file(tmp_path, rng):
    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    source = keras_app("mobilenet_v2", input_shape=(32, 32, 3), include_top=False, alpha=0.5)
    randomize(source, rng)
    path = str(tmp_path / "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.5_224_no_top.h5")
    with h5py.File(path, "w") as f:  # the legacy layout keras.applications' files use
        legacy_h5_format.save_weights_to_hdf5_group(f, source)
    model = zoo.get("mobilenet_v2", input_shape=(32, 32, 3), include_top=False, alpha=0.5)
    from_keras_applications(model, path, alpha=0.5)
    x = rng.uniform(-1, 1, size=(2, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(predict(model, x), predict(source, x), atol=1e-5, rtol=1e-5)


def test_weight_transfer_rejects_another_architecture_and_leaves_model_unchanged(tmp_path):
    model = zoo.get("mobilenet", input_shape=(32, 32, 3), num_classes=3)
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(ValueError, match="not the same architecture"):
        from_keras_applications(model, keras_app("mobilenet_v2", input_shape=(32, 32, 3), classes=3))
    with pytest.raises(ValueError, match="not the same architecture or configuration"):
        from_keras_applications(model, keras_app("mobilenet", input_shape=(32, 32, 3), classes=3, alpha=0.5))
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        from_keras_applications(model, str(tmp_path / "missing.h5"))
    with pytest.raises(ValueError, match="no keras.applications counterpart"):
        from_keras_applications(zoo.get("resnet18", input_shape=(32, 32, 3)), str(tmp_path / "x.h5"))


def test_head_swap_loads_the_backbone_and_builds_a_fresh_head(tmp_path, caplog):
    config = dict(input_shape=(32, 32, 3))
    ten = zoo.get("resnet18", num_classes=10, **config)
    path = str(tmp_path / "resnet18_10.weights.h5")
    ten.save_weights(path)
    with caplog.at_level(logging.WARNING, logger="zoo"):
        three = zoo.get("resnet18", num_classes=3, weights=path, **config)
    assert HEAD in caplog.text
    for layer in ten.layers:
        if layer.name != HEAD:
            for a, b in zip(layer.get_weights(), three.get_layer(layer.name).get_weights()):
                np.testing.assert_array_equal(a, b)
    assert three.output.shape[-1] == 3
    assert three.get_layer(HEAD).kernel.shape == (512, 3)


@pytest.mark.parametrize("name, side", [
    ("simple_cnn", 32), ("vgg11", 32), ("resnet18", 64), ("mobilenet", 64),
    ("mobilenet_v2", 64), ("mobilenet_v3_small", 64), ("googlenet", 64), ("inception_v3", 139),
])
def test_features_returns_a_backbone_keyed_by_stride(name, side, rng):
    model = zoo.get(name, input_shape=(side, side, 3), features=True)
    x = rng.uniform(0, 1, size=(1, side, side, 3)).astype("float32")
    out = model(x, training=False)
    assert isinstance(out, dict)
    strides = sorted(int(k.split("_")[1]) for k in out)
    assert {4, 8}.issubset(strides) and all(k == f"stride_{int(k.split('_')[1])}" for k in out)
    widths = []
    for s in strides:
        h = out[f"stride_{s}"].shape[1]
        assert abs(h - side / s) <= 4 if name == "inception_v3" else h == side // s, (s, h)
        widths.append(out[f"stride_{s}"].shape[1])
    assert widths == sorted(widths, reverse=True)
    assert not any(layer.name == HEAD for layer in model.layers)


@pytest.mark.parametrize("name, bad, expected", [
    ("resnet50", (16, 16, 3), "every dimension at least"),
    ("resnet50", (32, 32), "rank 3"),
    ("inception_v3", (74, 74, 3), "every dimension at least"),
    ("mobilenet_v2", (31, 64, 3), "every dimension at least"),
    ("vgg16", (224, 224, 3, 1), "rank 3"),
])
def test_too_small_or_wrong_rank_inputs_fail_before_building(name, bad, expected, monkeypatch):
    from zoo import registry

    meta = registry._lookup(name)
    monkeypatch.setitem(registry._REGISTRY, name, _no_build(meta))
    with pytest.raises(ValueError, match=rf"{name}: invalid input_shape=.*{expected}"):
        zoo.get(name, input_shape=bad)


def _no_build(meta):
    import dataclasses

    def builder(**kwargs):
        raise AssertionError("the builder ran before the input was checked")

    builder.__signature__ = __import__("inspect").signature(meta.builder)
    return dataclasses.replace(meta, builder=builder)


def test_minimum_inputs_build():
    assert zoo.get("inception_v3", input_shape=(75, 75, 3), num_classes=2).output.shape == (None, 2)
    assert zoo.get("resnet18", input_shape=(32, 32, 1), num_classes=2).output.shape == (None, 2)


def test_common_signature_pooling_and_top():
    for name in ("resnet18", "mobilenet_v3_small"):
        avg = zoo.get(name, input_shape=(32, 32, 3), include_top=False, pooling="avg")
        assert len(avg.output.shape) == 2
        fmap = zoo.get(name, input_shape=(32, 32, 3), include_top=False)
        assert len(fmap.output.shape) == 4
        top = zoo.get(name, input_shape=(32, 32, 3), num_classes=4, classifier_activation=None, dropout=0.3)
        assert top.get_layer(HEAD).activation is keras.activations.linear
        info = zoo.info(name)
        assert {"num_classes", "input_shape", "include_top", "pooling", "weights", "classifier_activation",
                "dropout", "features"} <= set(info["arguments"])


def test_googlenet_auxiliary_classifiers_get_gradients(rng):
    import tensorflow as tf

    model = zoo.get("googlenet", input_shape=(32, 32, 3), num_classes=3, aux_logits=True)
    assert [t.shape[-1] for t in model.outputs] == [3, 3, 3]
    x = rng.uniform(0, 1, size=(2, 32, 32, 3)).astype("float32")
    y = np.array([0, 2])
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    with tf.GradientTape() as tape:
        main, aux1, aux2 = model(x, training=True)
        loss = loss_fn(y, main) + 0.3 * (loss_fn(y, aux1) + loss_fn(y, aux2))  # the paper's weighting
    grads = dict(zip([v.path for v in model.trainable_weights], tape.gradient(loss, model.trainable_weights)))
    for layer in ("aux1_fc", "aux2_predictions", HEAD, "inception3a_1x1_conv"):
        kernel = model.get_layer(layer).weights[0].path
        assert grads[kernel] is not None and float(tf.reduce_max(tf.abs(grads[kernel]))) > 0
    assert len(zoo.get("googlenet", input_shape=(32, 32, 3), num_classes=3).outputs) == 1


def test_block_names_follow_the_convention():
    resnet = zoo.get("resnet50", input_shape=(32, 32, 3))
    blocks = block_names(resnet)
    assert blocks[0] == "conv2_block1" and blocks[-1] == "conv5_block3" and len(blocks) == 16
    assert {layer.name for layer in block_layers(resnet, "conv5_block3")} >= {"conv5_block3_3_conv", "conv5_block3_out"}
    assert block_names(zoo.get("vgg11", input_shape=(32, 32, 3))) == [f"block{i}" for i in range(1, 6)]
    assert len(block_names(zoo.get("mobilenet_v2", input_shape=(32, 32, 3)))) == 17
    with pytest.raises(ValueError, match="invalid block='conv9_block1'"):
        block_layers(resnet, "conv9_block1")


def test_preprocessing_maps_uint8_to_each_models_input_range(tmp_path):
    x = np.array([[[[0, 128, 255]]]], dtype="uint8")
    ranges = {"resnet50": "caffe", "mobilenet_v2": "[-1, 1]", "inception_v3": "[-1, 1]", "simple_cnn": "[0, 1]"}
    for name, mode in ranges.items():
        assert zoo.info(name)["input_range"] == mode
    np.testing.assert_allclose(zoo.preprocessing("simple_cnn")(x).numpy().ravel(), [0, 128 / 255, 1], atol=1e-6)
    np.testing.assert_allclose(zoo.preprocessing("mobilenet_v2")(x).numpy().ravel(), [-1, 128 / 127.5 - 1, 1], atol=1e-6)
    # caffe: RGB -> BGR, ImageNet channel means subtracted
    np.testing.assert_allclose(zoo.preprocessing("resnet50")(x).numpy().ravel(),
                               [255 - 103.939, 128 - 116.779, 0 - 123.68], atol=1e-4)
    np.testing.assert_allclose(zoo.preprocessing("torch")(x).numpy().ravel(),
                               (np.array([0, 128, 255]) / 255 - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225],
                               atol=1e-5)
    # agrees with keras.applications' own preprocess_input
    img = np.random.default_rng(0).integers(0, 256, size=(2, 8, 8, 3)).astype("uint8")
    np.testing.assert_allclose(zoo.preprocessing("vgg16")(img).numpy(),
                               keras.applications.vgg16.preprocess_input(img.astype("float32")), atol=1e-4)
    np.testing.assert_allclose(zoo.preprocessing("mobilenet")(img).numpy(),
                               keras.applications.mobilenet.preprocess_input(img.astype("float32")), atol=1e-5)
    # inside a model it saves and loads safely
    inputs = keras.Input((8, 8, 3), dtype="uint8")
    cnn = zoo.get("simple_cnn", input_shape=(8, 8, 3), num_classes=2)
    model = keras.Model(inputs, cnn(zoo.preprocessing("simple_cnn")(inputs)))
    path = str(tmp_path / "with_preprocessing.keras")
    model.save(path)
    restored = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(predict(restored, img), predict(model, img), atol=1e-6)
    with pytest.raises(zoo.UnknownModelError, match="did you mean resnet50"):
        zoo.preprocessing("resnet5")
    with pytest.raises(ValueError, match="expected RGB images with 3 channels"):
        zoo.preprocessing("caffe")(np.zeros((1, 4, 4, 1), "uint8"))


@pytest.mark.parametrize("name", ["simple_cnn", "lenet5", "vgg11_bn", "resnet18", "resnet50", "mobilenet",
                                  "mobilenet_v2", "mobilenet_v3_small", "googlenet", "inception_v3"])
def test_builders_make_tf_keras_twins_and_name_blocks(name):
    """The same builder with keras=tf_keras (for TF-MOT) gives the same architecture."""
    tf_keras = pytest.importorskip("tf_keras")
    meta = zoo.info(name)
    config = {**zoo.registry._lookup(name).config(), **(meta["test_config"] or {})}
    builder = zoo.registry._lookup(name).builder
    ours = builder(**config)
    twin = builder(**config, keras=tf_keras)
    assert twin.count_params() == ours.count_params()
    assert [layer.name for layer in twin.layers if layer.weights] == [layer.name for layer in ours.layers if layer.weights]
    twin.set_weights(ours.get_weights())
    # Layers outside blocks come only before the first block (stem) or after the last (top);
    # pools between blocks carry no weights and belong to none.
    in_block = [bool(BLOCK_RE.match(layer.name)) for layer in ours.layers]
    first, last = in_block.index(True), len(in_block) - 1 - in_block[::-1].index(True)
    between = [layer for layer, b in zip(ours.layers[first:last], in_block[first:last]) if not b]
    assert not any(layer.weights for layer in between), [layer.name for layer in between]
    x = np.random.default_rng(0).uniform(-1, 1, size=(2, *config["input_shape"])).astype("float32")
    np.testing.assert_allclose(twin(x, training=False).numpy(), predict(ours, x), atol=1e-4, rtol=1e-4)

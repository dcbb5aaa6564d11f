"""Registry-driven tests: every registered model is built, run forward and
backward, saved and loaded exactly, and its parameter count checked against
``zoo.info``. A new model gets these tests by being registered."""

import keras
import numpy as np
import pytest
from _shapes import shapes_only

import zoo
from zoo.train import compile_from_recipe

_FALLBACK_RECIPE = dict(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])


def example_batch(model, meta, config, batch=4, rng=None):
    """Random inputs that fit ``model`` and labels that fit its task.

    A model whose inputs are not plain floats registers ``example(model, batch, rng)``.
    """
    rng = rng or np.random.default_rng(0)
    if meta["example"] is not None:
        return meta["example"](model, batch, rng)[:2]
    if getattr(model, "_is_graph_network", False):
        shapes = [t.shape[1:] for t in model.inputs]
    else:  # subclassed: the configured input shape
        shapes = [config.get("input_shape", meta["defaults"]["input_shape"])]
    x = [rng.normal(size=(batch, *shape)).astype("float32") for shape in shapes]
    x = x[0] if len(x) == 1 else x
    out_shape = _predict(model, x).shape
    if meta["task"] == "classification":
        y = rng.integers(0, max(out_shape[-1], 2), size=(batch,)).astype("int32")
    else:
        y = rng.normal(size=out_shape).astype("float32")
    return x, y


def _predict(model, x):
    return keras.ops.convert_to_numpy(model(x, training=False))


@pytest.mark.parametrize("name", zoo.list_models())
def test_parameter_count_matches_info(name):
    meta = zoo.info(name)
    assert meta["params"] is not None, f"{name} registers no parameter count"
    with shapes_only():  # the default (full-size) configuration, built without initialising its variables
        assert zoo.get(name).count_params() == meta["params"]


def _distinct_test_models():
    """Every registered model, less those whose test configuration builds the very same model as an
    earlier one (same builder, same arguments: efficientnet_b0/b1, resnet101/152 ... at test size)."""
    seen, names = set(), []
    for name in zoo.list_models():
        meta = zoo.registry._lookup(name)
        args = {**meta.config(), **(meta.test_config or {})}
        args.pop("name", None)
        key = (meta.builder, repr(sorted(args.items())))
        if key not in seen:
            seen.add(key)
            names.append(name)
    return names


@pytest.mark.parametrize("name", _distinct_test_models())
def test_forward_backward_and_save_load(name, tmp_path):
    meta = zoo.info(name)
    config = meta["test_config"] or {}
    model = zoo.get(name, **config)
    x, y = example_batch(model, meta, config)
    # A model with its own train_step (VAE, GAN) may learn from other data than it is called on:
    # its example returns (x, y, train_x); a GAN is called on latent codes and trained on images.
    example = meta["example"](model, 4, np.random.default_rng(0)) if meta["example"] else ()
    train_batch = (example[2],) if len(example) > 2 else (x, y)
    own_step = type(model).train_step is not keras.Model.train_step and meta["family"] != "perceptron"

    out = _predict(model, x)
    assert out.shape[0] == len(y) and np.all(np.isfinite(out))

    # The perceptron learns by its rule, not gradients; own train_steps are checked below.
    if meta["family"] != "perceptron" and not own_step:
        import tensorflow as tf

        loss_fn = keras.losses.get((meta["recipe"] or _FALLBACK_RECIPE).get("loss"))
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        grads = tape.gradient(loss, model.trainable_weights)
        missing = [v.path for v, g in zip(model.trainable_weights, grads) if g is None]
        assert not missing, f"no gradient reaches {missing}"

    compile_from_recipe(model, meta["recipe"] or _FALLBACK_RECIPE)
    # One step, run eagerly: tracing a train function for a 300-variable model takes a minute on a CPU and
    # tells nothing more here (the traced path is tested by the recipes, zoo.train.fit and the suite).
    model.run_eagerly = True
    before = [w.copy() for w in model.get_weights()]
    trainable_before = [keras.ops.convert_to_numpy(v).copy() for v in model.trainable_weights]
    model.train_on_batch(*train_batch)
    after = model.get_weights()
    assert any(not np.array_equal(a, b) for a, b in zip(before, after)), "a training step changed no weight"
    if own_step:  # its own train_step must update every trainable weight
        frozen = [v.path for v, b in zip(model.trainable_weights, trainable_before)
                  if np.array_equal(keras.ops.convert_to_numpy(v), b)]
        assert not frozen, f"train_step updated no value of {frozen}"
    assert all(np.all(np.isfinite(w)) for w in after)

    # Exact round trips: weights file through the registry, whole model through .keras.
    expected = _predict(model, x)
    weights_path = str(tmp_path / f"{name}.weights.h5")
    model.save_weights(weights_path)
    reloaded = zoo.get(name, **config, weights=weights_path)
    np.testing.assert_array_equal(_predict(reloaded, x), expected)

    keras_path = str(tmp_path / f"{name}.keras")
    model.save(keras_path)
    restored = keras.saving.load_model(keras_path, safe_mode=True)
    np.testing.assert_array_equal(_predict(restored, x), expected)


# --------------------------------------------------------------------------- adding a family touches one file
#
# A whole family, as a family file (zoo/models/<family>.py) or a plugin module holds it: blocks and
# one builder (Keras taken lazily, so that listing models imports no TensorFlow), and thin
# registered entry points that are data. Registering it is all it takes to get the tests above.

from zoo.models._lazy import keras as lazy_keras  # noqa: E402
from zoo.models._vision import conv_bn, finish_from, image_input, relu  # noqa: E402


def _toy_cnn(input_shape=(8, 8, 1), num_classes=3, width=4, include_top=True, pooling=None, dropout=0.0,
             classifier_activation="softmax", features=False, name="toy_cnn", keras=lazy_keras):
    """One conv-BN-ReLU block, then the zoo's common head (``finish``)."""
    layers = keras.layers
    inputs = image_input(keras, input_shape)
    x = conv_bn(layers, inputs, width, 3, "block1", act=relu(layers))
    return finish_from(keras, inputs, x, {1: x}, locals())


def _register_toy_family():
    @zoo.register(family="toy", task="classification", builder=_toy_cnn, paper="a worked example",
                  params=3 * 3 * 4 + 4 * 4 + 4 * 3 + 3, min_input_shape=(4, 4, 1), input_range="[0, 1]",
                  test_config=dict(input_shape=(6, 6, 1), num_classes=2))
    def toy_cnn():
        """Toy CNN: one conv-BN-ReLU block and a classifier."""
        return dict(width=4)


@pytest.fixture
def toy_family(monkeypatch):
    from zoo import registry

    zoo.list_models()  # the built-in families first
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))  # undone after the test
    _register_toy_family()
    return "toy_cnn"


def test_a_family_registered_outside_the_zoo_passes_the_registry_checks(toy_family, tmp_path):
    assert toy_family in zoo.list_models(family="toy")
    test_parameter_count_matches_info(toy_family)
    test_forward_backward_and_save_load(toy_family, tmp_path)
    # and has the image models' interface, from finish: features, pooling, input checks, tf-keras twin
    assert sorted(zoo.get(toy_family, features=True).output) == ["stride_1"]
    assert zoo.get(toy_family, include_top=False, pooling="max").output_shape == (None, 4)
    with pytest.raises(ValueError, match=r"toy_cnn: invalid input_shape=\(2, 2, 1\)"):
        zoo.get(toy_family, input_shape=(2, 2, 1))
    tf_keras = pytest.importorskip("tf_keras")
    assert zoo.get(toy_family, keras=tf_keras).count_params() == zoo.info(toy_family)["params"]

"""Rprop against a NumPy reference, gradient ascent, fit, tf.distribute, serialization."""

import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from zoo.optimizers import Maximize, Rprop, maximize, rprop_reference


def test_rprop_matches_numpy_on_a_quadratic(rng):
    a = rng.normal(size=(5, 5))
    hessian = a @ a.T + 0.5 * np.eye(5)
    b = rng.normal(size=5)
    w0 = rng.normal(size=5)

    def grad(ws):
        return [hessian @ ws[0] - b]

    expected = rprop_reference(grad, [w0], steps=60, learning_rate=0.05)[0]
    var = keras.Variable(w0, dtype="float64")
    opt = Rprop(learning_rate=0.05)
    for _ in range(60):
        opt.apply([tf.constant(grad([var.numpy()])[0])], [var])
    np.testing.assert_allclose(var.numpy(), expected, rtol=1e-6)  # the step starts from a float32 learning rate
    optimum = np.linalg.solve(hessian, b)
    assert np.linalg.norm(var.numpy() - optimum) < 0.05 * np.linalg.norm(w0 - optimum)


def test_rprop_steps_stay_within_bounds():
    var = keras.Variable(np.zeros(3), dtype="float64")
    opt = Rprop(learning_rate=0.1, step_sizes=(0.01, 0.3))
    for _ in range(20):  # constant gradient sign: the step grows up to max_step
        opt.apply([tf.constant([1.0, 1.0, 1.0], "float64")], [var])
    np.testing.assert_allclose(opt._steps[0].numpy(), 0.3)
    for i in range(20):  # alternating sign: the step shrinks down to min_step
        opt.apply([tf.constant([(-1.0) ** i] * 3, "float64")], [var])
    np.testing.assert_allclose(opt._steps[0].numpy(), 0.01)


def _mlp(seed=1):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(1)])


def test_rprop_matches_numpy_on_a_small_mlp(rng):
    x = rng.normal(size=(64, 4)).astype("float32")
    y = (np.sin(x[:, :1]) + x[:, 1:2] ** 2).astype("float32")
    twin = _mlp()

    def grad(ws):
        twin.set_weights([w.astype("float32") for w in ws])
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean((twin(x) - y) ** 2)
        return [g.numpy() for g in tape.gradient(loss, twin.trainable_weights)]

    model = _mlp()
    expected = rprop_reference(grad, model.get_weights(), steps=25, learning_rate=0.01)
    model.compile(optimizer=Rprop(0.01), loss="mse")
    history = model.fit(x, y, batch_size=len(x), epochs=25, shuffle=False, verbose=0)
    for got, want in zip(model.get_weights(), expected):
        np.testing.assert_allclose(got, want, atol=1e-5)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]


def test_rprop_round_trips_through_keras_file(tmp_path, rng):
    x = rng.normal(size=(32, 4)).astype("float32")
    y = x[:, :1] * 2
    model = _mlp()
    model.compile(optimizer=Rprop(0.02, etas=(0.4, 1.3), step_sizes=(1e-5, 1.0)), loss="mse")
    model.fit(x, y, batch_size=32, epochs=3, verbose=0)
    path = str(tmp_path / "rprop.keras")
    model.save(path)
    restored = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(restored.optimizer, Rprop)
    assert restored.optimizer.etas == (0.4, 1.3) and restored.optimizer.step_sizes == (1e-5, 1.0)
    # Same state: one more epoch gives the same weights in both.
    model.fit(x, y, batch_size=32, epochs=1, shuffle=False, verbose=0)
    restored.fit(x, y, batch_size=32, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), restored.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6)


_DISTRIBUTED = textwrap.dedent("""
    import os, sys, json
    os.environ["KERAS_BACKEND"] = "tensorflow"
    os.environ["CUDA_VISIBLE_DEVICES"] = ""
    import numpy as np, tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    import keras
    from zoo.optimizers import Rprop, maximize, rprop_reference

    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5], [0.0]])).astype("float32")

    def mlp():
        keras.utils.set_random_seed(1)
        return keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="tanh"), keras.layers.Dense(1)])

    twin = mlp()
    def grad(ws):
        twin.set_weights([w.astype("float32") for w in ws])
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean((twin(x) - y) ** 2)
        return [g.numpy() for g in tape.gradient(loss, twin.trainable_weights)]

    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    out = {"replicas": strategy.num_replicas_in_sync}
    for key, optimizer, loss in (("rprop", lambda: Rprop(0.01), "mse"),
                                 ("ascent", lambda: maximize(keras.optimizers.SGD(0.01)), "mae")):
        with strategy.scope():
            model = mlp()
            model.compile(optimizer=optimizer(), loss=loss)
        hist = model.fit(x, y, batch_size=64, epochs=5, shuffle=False, verbose=0).history["loss"]
        out[key] = {"weights": [w.tolist() for w in model.get_weights()], "loss": hist}
    out["reference"] = [w.tolist() for w in rprop_reference(grad, twin.get_weights(), steps=5, learning_rate=0.01)]
    print("RESULT" + json.dumps(out))
""")


def test_rprop_and_ascent_under_mirrored_strategy():
    """Two replicas each see half the batch; the all-reduced update equals the NumPy reference."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.run([sys.executable, "-c", _DISTRIBUTED], capture_output=True, text=True, env=env,
                          timeout=300, cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    assert proc.returncode == 0, proc.stderr[-3000:]
    import json

    out = json.loads(proc.stdout.split("RESULT", 1)[1])
    assert out["replicas"] == 2
    for got, want in zip(out["rprop"]["weights"], out["reference"]):
        np.testing.assert_allclose(got, want, atol=1e-5)
    assert out["rprop"]["loss"][-1] < out["rprop"]["loss"][0]  # Rprop descends the loss
    assert out["ascent"]["loss"][-1] > out["ascent"]["loss"][0]  # maximize ascends it


def test_maximize_ascends_in_a_custom_loop_and_in_fit(rng):
    var = keras.Variable([0.0, 0.0])
    opt = maximize(keras.optimizers.SGD(0.1))
    for _ in range(50):  # maximise -(w - 3)^2: the gradient leads uphill to w = 3
        with tf.GradientTape() as tape:
            objective = -tf.reduce_sum((var - 3.0) ** 2)
        opt.apply(tape.gradient(objective, [var]), [var])
    np.testing.assert_allclose(var.numpy(), [3.0, 3.0], atol=1e-3)
    assert int(opt.iterations.numpy()) == 50

    x = rng.normal(size=(32, 4)).astype("float32")
    y = np.zeros((32, 1), "float32")
    model = _mlp()
    model.compile(optimizer=maximize("adam"), loss="mae")
    losses = model.fit(x, y, epochs=5, verbose=0).history["loss"]
    assert losses[-1] > losses[0]


def test_maximize_round_trips_through_keras_file(tmp_path):
    model = _mlp()
    model.compile(optimizer=maximize(keras.optimizers.Adam(0.003)), loss="mae")
    model.fit(np.ones((4, 4)), np.zeros((4, 1)), verbose=0)
    path = str(tmp_path / "ascent.keras")
    model.save(path)
    restored = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(restored.optimizer, Maximize)
    assert isinstance(restored.optimizer.inner_optimizer, keras.optimizers.Adam)
    assert restored.optimizer.learning_rate.numpy() == pytest.approx(0.003)


@pytest.mark.parametrize("kwargs, match", [
    (dict(learning_rate=0), "invalid learning_rate=0"),
    (dict(etas=(1.2, 0.5)), r"invalid etas=\(1.2, 0.5\)"),
    (dict(etas=(0.5,)), "invalid etas"),
    (dict(step_sizes=(1.0, 0.1)), r"invalid step_sizes=\(1.0, 0.1\)"),
    (dict(step_sizes=(0, 1)), "invalid step_sizes"),
])
def test_rprop_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Rprop(**kwargs)


def test_maximize_bad_arguments():
    with pytest.raises(ValueError, match="invalid optimizer='adamm'"):
        maximize("adamm")
    with pytest.raises(ValueError, match="ascending twice descends"):
        maximize(maximize("sgd"))


def test_maximize_activation_climbs_a_units_activation(tmp_path):
    import zoo
    from zoo.visualize import maximize_activation, save_image

    model = zoo.get("simple_cnn", input_shape=(8, 8, 1), num_classes=3, filters=(4, 8))
    found = maximize_activation(model, "block2_conv1", unit=3, steps=30, learning_rate=0.1)
    assert found.image.shape == (8, 8, 1) and found.image.min() >= 0 and found.image.max() <= 1
    assert found.activation > found.start + 0.1
    assert found.history[-1] >= found.history[len(found.history) // 2] - 1e-3  # ascent, not noise
    assert save_image(found.image, str(tmp_path / "unit.png")).endswith("unit.png")
    with pytest.raises(ValueError, match="invalid unit=8; layer 'block2_conv1' has units 0..7"):
        maximize_activation(model, "block2_conv1", unit=8)
    with pytest.raises(ValueError, match="invalid layer='conv9'"):
        maximize_activation(model, "conv9", unit=0)

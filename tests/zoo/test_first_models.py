"""Perceptron, MLP and logistic regression learn what they should (and the perceptron fails XOR)."""

import numpy as np
import pytest

import zoo
from zoo import data
from zoo.train import train_recipe


def test_perceptron_reaches_100_percent_on_a_separable_set():
    result = train_recipe("perceptron")
    assert result.test["accuracy"] == 1.0
    assert result.history.history["loss"][-1] == 0.0  # no mistakes left: the rule has converged


def test_perceptron_cannot_learn_xor():
    (x, y), _, (xt, yt) = data.load("xor", n_samples=400, noise=0.0)
    model = zoo.get("perceptron")
    model.compile(metrics=["accuracy"])
    history = model.fit(x, y, epochs=10, batch_size=1, verbose=0)
    assert min(history.history["loss"]) > 0.2  # a line always misclassifies a quarter or more
    assert model.evaluate(xt, yt, verbose=0, return_dict=True)["accuracy"] < 0.8


def test_multiclass_perceptron_learns_digits():
    (x, y), _, (xt, yt) = data.load("digits", flat=True)
    model = zoo.get("perceptron", input_shape=(64,), num_classes=10, learning_rate=0.1)
    model.compile(metrics=["accuracy"])
    model.fit(x, y, epochs=5, batch_size=1, verbose=0)
    assert model.evaluate(xt, yt, verbose=0, return_dict=True)["accuracy"] > 0.85


def test_mlp_learns_digits_above_95_percent():
    result = train_recipe("mlp", epochs=25)
    assert result.test["accuracy"] >= 0.95


def test_mlp_learns_xor_where_the_perceptron_cannot():
    (x, y), _, (xt, yt) = data.load("xor", n_samples=600, noise=0.0)
    model = zoo.get("mlp", input_shape=(2,), num_classes=2, hidden_units=(16,), activation="tanh", compile=True)
    model.fit(x, y, epochs=60, batch_size=16, verbose=0)
    assert model.evaluate(xt, yt, verbose=0, return_dict=True)["accuracy"] > 0.9


@pytest.mark.parametrize("activation", ["sigmoid", "relu", "leaky_relu", "tanh", "elu", "softmax"])
def test_every_hidden_activation_builds_and_trains(activation):
    (x, y), _, _ = data.load("moons", n_samples=200)
    model = zoo.get("mlp", input_shape=(2,), num_classes=2, hidden_units=(8,), activation=activation, compile=True)
    first = model.fit(x, y, epochs=1, verbose=0).history["loss"][0]
    last = model.fit(x, y, epochs=10, verbose=0).history["loss"][-1]
    assert last < first


def test_mlp_regression_with_dropout_and_batch_norm():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(512, 3)).astype("float32")
    y = (x @ np.array([1.0, -2.0, 0.5]) + 0.3).astype("float32")[:, None]
    model = zoo.get("mlp", input_shape=(3,), task="regression", hidden_units=(32,), dropout=0.1, batch_norm=True)
    model.compile("adam", "mse")
    history = model.fit(x, y, epochs=30, batch_size=32, verbose=0).history["loss"]
    assert model.output_shape == (None, 1)
    assert history[-1] < 0.1 * history[0]


def test_logistic_regression_is_one_layer_and_learns():
    model = zoo.get("logistic_regression")
    assert len(model.trainable_weights) == 2
    result = train_recipe("logistic_regression", epochs=20)
    assert result.test["accuracy"] > 0.9

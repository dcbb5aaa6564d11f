"""Gradient checking and learning-curve diagnosis, on real data (digits)."""

import csv
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from zoo import data, diagnostics


@keras.saving.register_keras_serializable(package="tests")
class BrokenSquare(keras.layers.Layer):
    """y = x * w**2 with a deliberately wrong backward pass (the factor 2 is missing)."""

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")

    def call(self, x):
        @tf.custom_gradient
        def forward(x, w):
            def backward(upstream):
                return upstream * w**2, tf.reduce_sum(upstream * x * w, axis=0)  # should be 2 * x * w

            return x * w**2, backward

        return forward(x, tf.cast(self.w, x.dtype))


def _digits_batch(n=32):
    (x, y), _, _ = data.load("digits", flat=True)
    return x[:n], y[:n]


def test_backprop_agrees_with_finite_differences_on_the_mlp():
    x, y = _digits_batch()
    model = zoo.get("mlp", hidden_units=(16, 8), activation="tanh")
    report = diagnostics.gradient_check(model, x, y, loss="sparse_categorical_crossentropy")
    assert report.dtype == "float64"
    assert set(report.errors) == {"dense_0", "dense_1", "predictions"}
    assert report.passed, str(report)
    assert max(report.errors.values()) < 1e-6


def test_gradient_check_catches_a_broken_layer():
    x, y = _digits_batch()
    inputs = keras.Input((64,))
    hidden = keras.layers.Dense(8, activation="tanh", name="hidden")(inputs)
    broken = BrokenSquare(name="broken")(hidden)
    outputs = keras.layers.Dense(10, activation="softmax", name="predictions")(broken)
    model = keras.Model(inputs, outputs)
    model.get_layer("broken").w.assign(np.full(8, 1.5, "float32"))
    report = diagnostics.gradient_check(model, x, y, loss="sparse_categorical_crossentropy")
    assert not report.passed
    assert "broken" in report.failing_layers
    assert report.errors["broken"] > 0.1  # the missing factor 2 gives a relative error of 1/3
    assert report.errors["predictions"] < 1e-6  # layers above the bug still agree


def test_gradient_check_bad_input():
    x, y = _digits_batch(4)
    model = zoo.get("logistic_regression")
    with pytest.raises(ValueError, match="invalid precision='float16'"):
        diagnostics.gradient_check(model, x, y, precision="float16")
    with pytest.raises(ValueError, match="invalid params_per_variable=0"):
        diagnostics.gradient_check(model, x, y, params_per_variable=0)


def _overfit_run(dropout, early_stopping):
    (x, y), (xv, yv), _ = data.load("digits", flat=True)
    keras.utils.set_random_seed(0)
    model = zoo.get("mlp", hidden_units=(512, 512), dropout=dropout, compile=True)
    callbacks = [keras.callbacks.EarlyStopping(patience=3, restore_best_weights=True)] if early_stopping else []
    history = model.fit(x[:60], y[:60], validation_data=(xv, yv), epochs=40, batch_size=16, verbose=0,
                        callbacks=callbacks)
    train_loss = model.evaluate(x[:60], y[:60], verbose=0, return_dict=True)["loss"]
    val_loss = model.evaluate(xv, yv, verbose=0, return_dict=True)["loss"]
    return history, train_loss, val_loss


@pytest.fixture(scope="module")
def plain_run():
    """The over-sized MLP on 60 digits without regularisation, trained once for the module."""
    return _overfit_run(dropout=0.0, early_stopping=False)


def test_oversized_mlp_on_few_digits_is_diagnosed_as_overfitting(tmp_path, plain_run):
    history, _, _ = plain_run
    diagnosis = diagnostics.learning_curves(history)
    assert diagnosis.verdict == "overfit", diagnosis.message
    assert 1 <= diagnosis.best_epoch < diagnosis.overfit_from <= 40
    assert diagnosis.recommended_stop_epoch == diagnosis.best_epoch
    val = history.history["val_loss"]
    assert min(val) == val[diagnosis.best_epoch - 1]
    png = diagnosis.plot(tmp_path / "curves.png")
    assert open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


def test_csv_log_gives_the_same_diagnosis(tmp_path):
    history = {"loss": [1.0, 0.6, 0.4, 0.3, 0.2, 0.1, 0.05], "val_loss": [1.0, 0.7, 0.6, 0.65, 0.7, 0.8, 0.9]}
    path = tmp_path / "log.csv"
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["epoch", "loss", "val_loss"])
        writer.writerows([i, a, b] for i, (a, b) in enumerate(zip(history["loss"], history["val_loss"])))
    from_csv = diagnostics.learning_curves(str(path))
    from_dict = diagnostics.learning_curves(history)
    assert from_csv.verdict == from_dict.verdict == "overfit"
    assert from_csv.best_epoch == 3 and from_csv.overfit_from == 4


def test_fit_and_underfit_verdicts():
    settled = {"loss": [1.0, 0.5, 0.3, 0.25, 0.24, 0.24], "val_loss": [1.0, 0.55, 0.35, 0.31, 0.3, 0.3]}
    assert diagnostics.learning_curves(settled).verdict == "fit"
    still_falling = {"loss": [1.0, 0.9, 0.8, 0.7, 0.6, 0.5], "val_loss": [1.0, 0.9, 0.8, 0.7, 0.6, 0.5]}
    assert diagnostics.learning_curves(still_falling).verdict == "underfit"


def test_overfit_warning_callback_warns_during_training():
    (x, y), (xv, yv), _ = data.load("digits", flat=True)
    model = zoo.get("mlp", hidden_units=(512, 512), compile=True)
    callback = diagnostics.OverfitWarning()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(x[:60], y[:60], validation_data=(xv, yv), epochs=40, batch_size=16, verbose=0,
                  callbacks=[callback])
    assert callback.diagnosis is not None and callback.diagnosis.verdict == "overfit"
    assert any("overfitting" in str(w.message) for w in caught)


def test_dropout_and_early_stopping_close_the_gap(plain_run):
    _, train_plain, val_plain = plain_run
    _, train_reg, val_reg = _overfit_run(dropout=0.5, early_stopping=True)
    assert val_reg < 0.8 * val_plain
    assert (val_reg - train_reg) < 0.8 * (val_plain - train_plain)  # measured gap: 0.40 against 0.62


def test_history_without_validation_metrics_is_a_clear_error():
    with pytest.raises(ValueError, match=r"history has no 'val_loss' \(it has loss\); train with validation_data="):
        diagnostics.learning_curves({"loss": [1.0, 0.5]})
    with pytest.raises(ValueError, match="NaN"):
        diagnostics.learning_curves({"loss": [1.0, float("nan")], "val_loss": [1.0, 1.0]})
    with pytest.raises(ValueError, match="invalid history=int"):
        diagnostics.learning_curves(3)

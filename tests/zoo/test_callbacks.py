"""Shared callbacks in model.fit and an agent-style loop; batch, stochastic and mini-batch GD."""

import os

import keras
import numpy as np
import pytest

from zoo.callbacks import Checkpoint, EarlyStopping, HistoryPlot, LRFinder, ProgressBar, find_learning_rate
from zoo.train import train_recipe


def _data(rng, n=128):
    x = rng.normal(size=(n, 4)).astype("float32")
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype("int32")
    return x, y


def _model(seed=0):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_checkpoint_writes_best_and_last_atomically_and_resumes(tmp_path, rng):
    x, y = _data(rng)
    model = _model()
    ckpt = Checkpoint(tmp_path / "ck", monitor="val_loss")
    model.fit(x, y, validation_data=(x[:32], y[:32]), epochs=4, callbacks=[ckpt], verbose=0)
    files = sorted(os.listdir(tmp_path / "ck"))
    assert files == ["best.weights.h5", "last.weights.h5", "state.json"]  # no temporary left behind
    state = Checkpoint.read_state(tmp_path / "ck")
    assert state["epoch"] == 3 and state["monitor"] == "val_loss" and state["best"] == pytest.approx(ckpt.best)

    # Resume: a fresh model gets the last weights and the epoch to continue at.
    fresh = _model(seed=5)
    assert Checkpoint.resume(fresh, tmp_path / "ck") == 4
    for a, b in zip(fresh.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    fresh.fit(x, y, validation_data=(x[:32], y[:32]), epochs=6, initial_epoch=4,
              callbacks=[Checkpoint(tmp_path / "ck")], verbose=0)
    assert Checkpoint.read_state(tmp_path / "ck")["epoch"] == 5
    assert Checkpoint.resume(_model(), tmp_path / "empty") == 0


def test_checkpoint_best_is_the_best_epoch(tmp_path, rng):
    x, y = _data(rng)
    model = _model()
    ckpt = Checkpoint(tmp_path, monitor="val_accuracy", save_model=True)
    history = model.fit(x, y, validation_data=(x[:32], y[:32]), epochs=5, callbacks=[ckpt], verbose=0)
    accs = history.history["val_accuracy"]
    assert ckpt.mode == "max" and ckpt.best == pytest.approx(max(accs)) and ckpt.best_epoch == int(np.argmax(accs))
    best = keras.saving.load_model(ckpt.path("best"), safe_mode=True)
    assert best.evaluate(x[:32], y[:32], verbose=0, return_dict=True)["accuracy"] == pytest.approx(max(accs))


def test_early_stopping_restores_best_weights_by_default(rng):
    x, y = _data(rng)
    model = _model()
    stop = EarlyStopping(patience=2)
    assert stop.restore_best_weights and stop.patience == 2
    seen = []
    spy = keras.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: seen.append(model.get_weights()))
    # Labels that disagree with the training data: validation loss rises, training stops early.
    history = model.fit(x, y, validation_data=(x[:32], 1 - y[:32]), epochs=30, callbacks=[spy, stop], verbose=0)
    val = history.history["val_loss"]
    assert len(val) < 30 and stop.best_epoch == int(np.argmin(val))
    for a, b in zip(model.get_weights(), seen[stop.best_epoch]):
        np.testing.assert_array_equal(a, b)
    assert EarlyStopping(monitor="episode_return", mode="auto").mode == "max"


def test_history_plot_writes_a_png(tmp_path, rng):
    x, y = _data(rng)
    path = tmp_path / "plots" / "curves.png"
    plot = HistoryPlot(path, every=2)
    _model().fit(x, y, validation_data=(x[:32], y[:32]), epochs=3, callbacks=[plot], verbose=0)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 2000
    assert set(plot.history) >= {"loss", "val_loss", "accuracy"} and len(plot.history["loss"]) == 3
    assert not [p for p in os.listdir(path.parent) if "tmp" in p]


def test_callbacks_work_in_an_agent_style_loop(tmp_path):
    """Agents drive callbacks through CallbackList with episode logs and no validation."""
    model = _model()
    cbs = [Checkpoint(tmp_path / "agent", monitor="episode_return"), HistoryPlot(tmp_path / "agent.png"),
           EarlyStopping(monitor="episode_return", patience=1), ProgressBar(total_epochs=4, leave=False)]
    callbacks = keras.callbacks.CallbackList(cbs, model=model, epochs=4)
    callbacks.on_train_begin()
    for epoch, ret in enumerate([10.0, 30.0, 20.0, 15.0]):
        callbacks.on_epoch_begin(epoch)
        callbacks.on_epoch_end(epoch, {"episode_return": ret, "loss": 1.0 / (epoch + 1)})
        if model.stop_training:
            break
    callbacks.on_train_end()
    assert epoch == 2 and cbs[0].best == 30.0 and cbs[0].best_epoch == 1
    assert (tmp_path / "agent.png").exists() and (tmp_path / "agent" / "best.weights.h5").exists()


def test_lr_finder_suggests_a_rate_and_leaves_the_model_unchanged(tmp_path, rng):
    x, y = _data(rng, n=256)
    model = _model()
    before = model.get_weights()
    finder = find_learning_rate(model, x, y, batch_size=16, start_lr=1e-5, end_lr=10.0, num_steps=60)
    assert 10 <= len(finder.lrs) <= 60 and np.all(np.diff(finder.lrs) > 0)
    assert 1e-4 < finder.suggestion() < 5.0
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(0.01)
    assert finder.plot(str(tmp_path / "lr.png")).endswith("lr.png")
    # Recovered per-batch losses: at tiny rates they match the model's loss before training.
    initial = model.evaluate(x, y, verbose=0, return_dict=True)["loss"]
    assert abs(finder.losses[0] - initial) < 0.3


@pytest.mark.parametrize("make, match", [
    (lambda p: Checkpoint(p, every=0), "invalid every=0"),
    (lambda p: Checkpoint(p, mode="up"), "invalid mode='up'"),
    (lambda p: Checkpoint(p, save_best=False, save_last=False), "would save nothing"),
    (lambda p: HistoryPlot(str(p / "curves.jpg")), "expected a path ending in .png"),
    (lambda p: EarlyStopping(patience=-1), "invalid patience=-1"),
    (lambda p: LRFinder(start_lr=1.0, end_lr=0.1), "expected 0 < start_lr < end_lr"),
    (lambda p: LRFinder(num_steps=2), "invalid num_steps=2"),
])
def test_bad_arguments(make, match, tmp_path):
    with pytest.raises(ValueError, match=match):
        make(tmp_path)
    with pytest.raises(ValueError, match="not compiled"):
        find_learning_rate(keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]), np.zeros((4, 2)), np.zeros(4))


class _BatchLosses(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.first = None

    def on_train_batch_end(self, batch, logs=None):
        if self.first is None:
            self.first = float(logs["loss"])


@pytest.mark.parametrize("batch_size, epochs", [("full", 25), (1, 1), (32, 3)],
                         ids=["batch", "stochastic", "mini-batch"])
def test_batch_stochastic_and_minibatch_gradient_descent_all_descend(batch_size, epochs):
    """The same problem (softmax regression on digits), three ways of batching the gradient."""
    spy = _BatchLosses()
    result = train_recipe("logistic_regression", epochs=epochs, batch_size=batch_size, callbacks=[spy])
    loss = result.history.history["loss"][-1]
    assert loss < 0.75 * spy.first, (spy.first, loss)
    assert result.test["accuracy"] > 0.6
    n = 1797 - round(1797 * 0.2) - round(1797 * 0.15)  # the training split's size, give or take one
    per_epoch = {"full": 1, 1: n, 32: n / 32}[batch_size]  # updates per epoch
    assert abs(int(result.model.optimizer.iterations.numpy()) - per_epoch * epochs) <= 2 * epochs

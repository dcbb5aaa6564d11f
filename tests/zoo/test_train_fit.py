"""zoo.train.fit on one device: model.fit parity, callbacks, resume, mixed precision, XLA, bad inputs.

The multi-device and multi-worker behaviour is in test_distribute.py (subprocesses).
"""

import collections
import re

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from zoo import cli
from zoo.train import fit

LOSS = "sparse_categorical_crossentropy"


@pytest.fixture(scope="module")
def digits():
    (x, y), (xv, yv), _ = zoo.data.load("digits", flat=True)
    return (x[:128], y[:128]), (xv[:64], yv[:64])


def build(seed=1, **kwargs):
    keras.utils.set_random_seed(seed)
    return zoo.get("mlp", input_shape=(64,), num_classes=10, hidden_units=(16,), **kwargs)


def max_diff(a, b):
    return max(float(np.abs(np.asarray(x, "float32") - np.asarray(y, "float32")).max()) for x, y in zip(a, b))


class Recorder(keras.callbacks.Callback):
    """Counts every hook and keeps the log keys each kind of hook saw."""

    def __init__(self):
        super().__init__()
        self.calls = collections.Counter()
        self.keys = {}

    def _record(self, hook, logs):
        self.calls[hook] += 1
        self.keys[hook] = sorted(logs or {})


for _hook in ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_train_batch_begin",
              "on_train_batch_end", "on_test_begin", "on_test_end", "on_test_batch_begin", "on_test_batch_end"):
    def _method(self, *args, logs=None, _hook=_hook):
        self._record(_hook, args[-1] if args and isinstance(args[-1], dict) else logs)

    setattr(Recorder, _hook, _method)


def test_matches_model_fit_on_one_device(digits):
    (x, y), (xv, yv) = digits
    train = tf.data.Dataset.from_tensor_slices((x, y)).batch(32)  # same order every epoch for both
    val = tf.data.Dataset.from_tensor_slices((xv, yv)).batch(32)

    reference = build()
    reference.compile(optimizer=keras.optimizers.SGD(0.1), loss=LOSS, metrics=["accuracy"])
    rec_keras = Recorder()
    expected = reference.fit(train, validation_data=val, epochs=3, verbose=0, callbacks=[rec_keras])

    rec_zoo = Recorder()
    history = fit(build(), train, val, epochs=3, optimizer=keras.optimizers.SGD(0.1), loss=LOSS,
                  metrics=["accuracy"], callbacks=[rec_zoo])

    assert isinstance(history, keras.callbacks.History) and history.epoch == [0, 1, 2]
    assert sorted(history.history) == sorted(expected.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    for key in expected.history:
        np.testing.assert_allclose(history.history[key], expected.history[key], rtol=1e-5, err_msg=key)
    assert max_diff(history.model.get_weights(), reference.get_weights()) < 1e-5
    # the callbacks are called as model.fit calls them, with the same log keys
    assert rec_zoo.calls == rec_keras.calls
    assert rec_zoo.keys == rec_keras.keys


def test_sample_weights_and_regularisation_match_model_fit(digits):
    (x, y), _ = digits
    w = np.linspace(0.5, 1.5, len(x)).astype("float32")
    train = tf.data.Dataset.from_tensor_slices((x, y, w)).batch(50)  # a short last batch of 28

    def model():
        keras.utils.set_random_seed(2)
        inputs = keras.Input((64,))
        h = keras.layers.Dense(8, activation="relu", kernel_regularizer=keras.regularizers.L2(1e-2))(inputs)
        return keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(h))

    reference = model()
    reference.compile(optimizer=keras.optimizers.Adam(1e-2), loss=LOSS)
    expected = reference.fit(train, epochs=2, verbose=0)
    history = fit(model, train, epochs=2, optimizer=keras.optimizers.Adam(1e-2), loss=LOSS)
    np.testing.assert_allclose(history.history["loss"], expected.history["loss"], rtol=1e-5)
    assert max_diff(history.model.get_weights(), reference.get_weights()) < 1e-5


def test_arrays_early_stopping_and_instance_weights(digits):
    (x, y), (xv, yv) = digits
    model = build()
    before = model.get_weights()
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=0, min_delta=100.0)
    history = fit(model, (x, y), validation_data=(xv, yv), epochs=10, batch_size=32, metrics="accuracy",
                  loss=LOSS, callbacks=[stop], strategy="one_device")
    assert history.epoch == [0, 1]  # stopped by EarlyStopping through model.stop_training
    # built outside the OneDeviceStrategy scope: trained as a clone, weights copied back
    assert max_diff(model.get_weights(), history.model.get_weights()) == 0.0
    assert max_diff(model.get_weights(), before) > 1e-3
    assert history.history["loss"][1] < history.history["loss"][0]
    # evaluated on this host without the strategy: model.evaluate's figures
    ours = zoo.train.evaluate_arrays(model, xv, yv, LOSS, ["accuracy"])
    model.compile(loss=LOSS, metrics=["accuracy"])
    expected = model.evaluate(xv, yv, verbose=0, return_dict=True)
    assert ours.keys() == expected.keys()
    for key in ours:
        assert ours[key] == pytest.approx(expected[key], rel=1e-5)


class Interrupt(keras.callbacks.Callback):
    def __init__(self, at):
        super().__init__()
        self.at = at

    def on_train_batch_end(self, batch, logs=None):
        if int(self.model.optimizer.iterations.numpy()) == self.at:
            raise KeyboardInterrupt


@pytest.mark.parametrize("kind", ["arrays", "dataset"])
def test_resume_after_interruption_equals_uninterrupted(digits, tmp_path, kind):
    (x, y), _ = digits

    def data():  # a restarted program seeds and builds its pipeline again; a dataset reshuffles each epoch
        keras.utils.set_random_seed(0)
        return (x, y) if kind == "arrays" else zoo.data.as_dataset(x, y, batch_size=32, seed=5)

    kwargs = dict(epochs=3, batch_size=32, optimizer="momentum", learning_rate=0.05, loss=LOSS)
    uninterrupted = fit(build, data(), **kwargs).model.get_weights()

    ckpt = tmp_path / "ckpt"
    with pytest.raises(KeyboardInterrupt):  # 4 steps per epoch: stopped at epoch 1, step 3
        fit(build, data(), checkpoint_dir=ckpt, checkpoint_every=2, callbacks=[Interrupt(7)], **kwargs)
    assert tf.train.latest_checkpoint(str(ckpt)).endswith("-4")  # steps 2, 4 (= end of epoch 0), 6
    history = fit(build, data(), checkpoint_dir=ckpt, checkpoint_every=2, **kwargs)
    assert history.epoch == [1, 2]  # resumed from epoch 1, step 2
    assert max_diff(history.model.get_weights(), uninterrupted) == 0.0
    assert int(history.model.optimizer.iterations.numpy()) == 12
    # a finished run resumes to nothing
    assert fit(build, data(), checkpoint_dir=ckpt, **kwargs).epoch == []


@pytest.mark.parametrize("precision", ["bfloat16", "float16"])
def test_mixed_precision(digits, precision):
    (x, y), _ = digits
    model = build()  # float32: cloned under the mixed policy, trained weights copied back
    history = fit(model, (x, y), epochs=3, batch_size=32, loss=LOSS, mixed_precision=precision,
                  learning_rate=1e-2, metrics=["accuracy"])
    net = history.model
    dense = net.get_layer("dense_0")
    assert dense.compute_dtype == precision and dense.variable_dtype == "float32"
    assert keras.config.dtype_policy().name == "float32"  # the global policy is restored
    if precision == "float16":
        assert isinstance(net.optimizer, keras.optimizers.LossScaleOptimizer)
    losses = history.history["loss"]
    assert all(np.isfinite(losses)) and losses[-1] < losses[0]
    assert max_diff(model.get_weights(), net.get_weights()) == 0.0


def test_jit_compile_gives_the_same_weights(digits):
    (x, y), _ = digits
    kwargs = dict(epochs=2, batch_size=32, loss=LOSS, optimizer="sgd", learning_rate=0.1)
    plain = fit(build, (x, y), **kwargs).model.get_weights()
    xla = fit(build, (x, y), jit_compile=True, **kwargs).model.get_weights()
    assert max_diff(plain, xla) < 1e-5


def test_steps_per_epoch_streams_a_repeated_dataset(digits):
    (x, y), _ = digits
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(32)  # 4 batches
    rec = Recorder()
    fit(build, ds, epochs=3, steps_per_epoch=3, loss=LOSS, callbacks=[rec])
    assert rec.calls["on_train_batch_end"] == 9
    with pytest.raises(ValueError, match="infinite train_data; pass steps_per_epoch"):
        fit(build, ds.repeat(), loss=LOSS)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(epochs=0), "invalid epochs=0; expected an integer >= 1"),
        (dict(mixed_precision="int8"), "invalid mixed_precision='int8'; expected one of"),
        (dict(optimizer="adamm"), "invalid optimizer='adamm'; expected one of"),
        (dict(loss=None), "loss=None and the model is not compiled"),
        (dict(checkpoint_every=5), "checkpoint_every=5 needs checkpoint_dir"),
        (dict(steps_per_epoch=-1), "invalid steps_per_epoch=-1"),
        (dict(jit_compile="yes"), "invalid jit_compile='yes'"),
        (dict(train_data=[1, 2, 3]), "invalid train_data of type list; expected a tf.data.Dataset"),
        (dict(train_data=(np.zeros((4, 64)), np.zeros(3))), "invalid train_data: x has 4 rows but y has 3"),
        (dict(model="mlp"), "invalid model of type str; expected a keras.Model or a zero-argument callable"),
        (dict(strategy="gpu"), "invalid strategy='gpu'; expected one of"),
        (dict(model=lambda: zoo.get("perceptron", input_shape=(64,), num_classes=10)),
         "model 'perceptron' (Perceptron) has its own train_step, which fit does not run"),
    ],
)
def test_bad_arguments_are_clear_errors(digits, kwargs, message):
    (x, y), _ = digits
    args = dict(model=build, train_data=(x, y), loss=LOSS)
    args.update(kwargs)
    with pytest.raises(ValueError, match="^" + re.escape(message)):
        fit(args.pop("model"), args.pop("train_data"), **args)


def test_cli_train_with_a_strategy(capsys, monkeypatch):
    assert cli.main(["train", "logistic_regression", "--epochs", "2", "--strategy", "one_device"]) == 0
    out = capsys.readouterr().out
    assert "[OneDeviceStrategy, 1 replica]" in out and "test accuracy=" in out
    assert float(out.split("test accuracy=")[1].split()[0].rstrip(",")) > 0.5
    monkeypatch.setenv("TF_CONFIG", '{"cluster": {"worker": ["localhost:1"]}, "task": {"type": "worker", "index": 1}}')
    assert cli.main(["train", "mlp", "--strategy", "multi_worker"]) == 2
    assert "invalid TF_CONFIG task index=1: out of range for 1 'worker' task(s)" in capsys.readouterr().err


@pytest.mark.gpu
def test_gpu_mixed_precision_and_xla(digits):
    (x, y), _ = digits
    strategy = zoo.distribute.strategy("auto")
    assert "GPU" in strategy.extended.worker_devices[0].upper()
    history = fit(build, (x, y), epochs=3, batch_size=32, loss=LOSS, strategy=strategy,
                  mixed_precision="float16", jit_compile=True, learning_rate=1e-2)
    assert all(np.isfinite(history.history["loss"]))
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert "GPU" in history.model.weights[0].value.device.upper()


def test_scheduled_learning_rate_is_constant_or_a_half_cosine_to_zero():
    from zoo.train import scheduled_learning_rate

    assert scheduled_learning_rate(0.1) == 0.1
    cosine = scheduled_learning_rate(0.1, "cosine", total_steps=100)
    values = [float(cosine(step)) for step in (0, 50, 100, 150)]
    np.testing.assert_allclose(values, [0.1, 0.05, 0.0, 0.0], atol=1e-7)
    with pytest.raises(ValueError, match=r"invalid schedule='linear'; expected one of \['constant', 'cosine', 'step'\]"):
        scheduled_learning_rate(0.1, "linear")
    with pytest.raises(ValueError, match=r"invalid total_steps=None for schedule='cosine'"):
        scheduled_learning_rate(0.1, "cosine")

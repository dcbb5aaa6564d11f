"""zoo.quantize: Keras-native int8 PTQ, QAT and pruning through TF-MOT on the tf-keras twin."""

import os

import keras
import numpy as np
import pytest

import zoo
from zoo import quantize
from zoo.inference import LiteRTModel


@pytest.fixture(scope="module")
def digits():
    return zoo.data.load("digits")


@pytest.fixture(scope="module")
def flat_digits():
    return zoo.data.load("digits", flat=True)


@pytest.fixture(scope="module")
def mlp_weights(flat_digits):
    """Weights of the default MLP trained 5 epochs on the flat digits (each test builds its own copy)."""
    keras.utils.set_random_seed(0)
    model = zoo.get("mlp", compile=True)
    model.fit(*flat_digits.train, epochs=5, verbose=0)
    return model.get_weights()


def _trained_mlp(weights):
    model = zoo.get("mlp", compile=True)
    model.set_weights(weights)
    return model


def _small_cnn():
    return zoo.get("simple_cnn", input_shape=(8, 8, 1), filters=(8, 16), convs_per_block=1)


# --------------------------------------------------------------------------- PTQ


def test_ptq_int8_quantizes_dense_layers_and_keeps_outputs(flat_digits, mlp_weights):
    model = _trained_mlp(mlp_weights)
    x = flat_digits.test[0]
    before = model.predict(x, verbose=0)
    assert quantize.ptq(model, mode="int8") is model
    assert quantize.quantized_layers(model) == ["dense_0", "dense_1", "predictions"]
    assert model.get_layer("dense_0").kernel.dtype == "int8"
    after = model.predict(x, verbose=0)
    assert np.mean(after.argmax(-1) == before.argmax(-1)) >= 0.97
    assert np.max(np.abs(after - before)) < 0.1
    with pytest.raises(ValueError, match="already quantized"):
        quantize.ptq(model)


def test_ptq_bad_inputs():
    with pytest.raises(ValueError, match="invalid mode='int2'"):
        quantize.ptq(zoo.get("mlp"), mode="int2")
    conv = zoo.get("simple_cnn", input_shape=(8, 8, 1), filters=(4,), include_top=False, pooling="avg")
    with pytest.raises(ValueError, match=r"no layer that Keras quantizes.*Conv2D.*zoo.export.litert"):
        quantize.ptq(conv)


# --------------------------------------------------------------------------- twin, QAT


def _family(name):
    return lambda: zoo.get(name, **zoo.info(name)["test_config"])


@pytest.mark.parametrize(
    "make",
    [lambda: zoo.get("mlp", batch_norm=True), _small_cnn, _family("resnet18"), _family("mobilenet_v2")],
    ids=["mlp", "simple_cnn", "resnet18", "mobilenet_v2"],
)
def test_tf_keras_twin_has_equal_outputs(make, rng):
    import tf_keras

    model = make()
    for w in model.weights:  # non-trivial batch-norm statistics too
        w.assign(rng.normal(0, 0.3, w.shape).astype("float32") + (1.0 if "variance" in w.path else 0.0))
    twin, (name, _) = quantize.tf_keras_twin(model)
    assert isinstance(twin, tf_keras.Model) and name == model.name
    x = rng.random((16, *model.input_shape[1:]), dtype="float32")
    np.testing.assert_allclose(np.asarray(twin(x, training=False)), np.asarray(model(x, training=False)), atol=1e-5)


def test_qat_fine_tunes_and_exports_int8(digits, tmp_path):
    import tensorflow as tf

    keras.utils.set_random_seed(0)
    model = _small_cnn()
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(*digits.train, epochs=2, batch_size=16, verbose=0)
    x, y = digits.train
    before = os.environ.get("TF_USE_LEGACY_KERAS")
    result = quantize.qat(model, (x[:400], y[:400]), epochs=1, batch_size=16, learning_rate=1e-4,
                          path=tmp_path / "qat.tflite", calibration_samples=100)
    assert result.max_twin_error <= 1e-5
    assert set(result.history) >= {"loss", "accuracy"}
    assert any("quant" in layer.name for layer in result.model.layers)
    runner = LiteRTModel(result.path)
    assert runner.input_dtypes == [np.dtype("int8")] and runner.output_dtypes == [np.dtype("int8")]
    x_test = digits.test[0]
    qat_pred = np.asarray(result.model(x_test, training=False)).argmax(-1)
    assert np.mean(runner.predict(x_test).argmax(-1) == qat_pred) >= 0.95
    # TF-MOT's import must not leave the process on legacy Keras
    assert os.environ.get("TF_USE_LEGACY_KERAS") == before
    assert tf.keras.version().startswith("3.")
    assert isinstance(zoo.get("mlp"), keras.Model)


def test_qat_rejects_unsupported_models(digits, tmp_path):
    with pytest.raises(ValueError, match=r"layer 'lstm_0' of type LSTM"):
        quantize.qat(zoo.get("lstm", units=4))
    with pytest.raises(ValueError, match=r"'mobilenet_v3_small' has layer '\w+' of type \w+, which TF-MOT"):
        quantize.prune(_family("mobilenet_v3_small")(), 0.5, data=digits.train)
    plain = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="not built by zoo.get"):
        quantize.qat(plain)
    with pytest.raises(ValueError, match="path= needs data="):
        quantize.qat(zoo.get("mlp"), epochs=0, path=tmp_path / "m.tflite")
    with pytest.raises(ValueError, match="invalid epochs=-1"):
        quantize.qat(zoo.get("mlp"), digits.train, epochs=-1)


# --------------------------------------------------------------------------- pruning


@pytest.mark.parametrize("schedule", ["polynomial", "constant"])
def test_prune_reaches_target_sparsity(flat_digits, mlp_weights, schedule):
    model = _trained_mlp(mlp_weights)
    dense_accuracy = model.evaluate(*flat_digits.test, verbose=0)[1]
    result = quantize.prune(model, 0.75, schedule, data=flat_digits.train, epochs=2, batch_size=32,
                            learning_rate=1e-3)
    assert isinstance(result.model, keras.Model)
    assert result.sparsity == pytest.approx(0.75, abs=0.01)
    assert all(s == pytest.approx(0.75, abs=0.02) for s in result.layer_sparsity.values())
    assert result.gzip_bytes < 0.6 * result.dense_gzip_bytes and result.compression > 1.6
    result.model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    assert result.model.evaluate(*flat_digits.test, verbose=0)[1] >= dense_accuracy - 0.05
    assert quantize.sparsity(model)[0] < 0.01  # the original model is untouched


def test_prune_bad_inputs(flat_digits):
    model = zoo.get("mlp")
    with pytest.raises(ValueError, match="invalid target_sparsity=1.5"):
        quantize.prune(model, 1.5, data=flat_digits.train)
    with pytest.raises(ValueError, match="invalid schedule='cubic'"):
        quantize.prune(model, 0.5, "cubic", data=flat_digits.train)
    with pytest.raises(ValueError, match="invalid data"):
        quantize.prune(model, 0.5, data=flat_digits.train[0])

"""Recurrent models: streaming equals the full sequence, they learn, char_lstm generates, bad inputs fail."""

import keras
import numpy as np
import pytest

import zoo
from zoo import data
from zoo.train import compile_from_recipe


@pytest.mark.parametrize("cell", ["simple_rnn", "lstm", "gru"])
def test_streaming_equals_the_whole_sequence(cell, rng):
    model = zoo.get(cell, input_shape=(None, 3), units=8, num_layers=2, num_classes=4)
    x = rng.normal(size=(2, 11, 3)).astype("float32")
    full = keras.ops.convert_to_numpy(model(x, training=False))
    stream = model.streaming(batch_size=2)
    for a, b in [(0, 1), (1, 4), (4, 5), (5, 11)]:  # single steps and chunks
        out = keras.ops.convert_to_numpy(stream(x[:, a:b], training=False))
    np.testing.assert_allclose(out, full, atol=1e-5)
    stream.reset_state()  # new sequences start from zero state
    np.testing.assert_allclose(keras.ops.convert_to_numpy(stream(x)), full, atol=1e-5)


def test_language_model_streams_step_by_step(rng):
    model = zoo.get("char_lstm", vocabulary="abcdef ", units=16, num_layers=2, embedding_dim=8)
    ids = rng.integers(0, 7, size=(1, 15)).astype("int32")
    full = keras.ops.convert_to_numpy(model(ids))
    stream = model.streaming()
    steps = [keras.ops.convert_to_numpy(stream(ids[:, i:i + 1])) for i in range(15)]
    np.testing.assert_allclose(np.concatenate(steps, axis=1), full, atol=1e-5)


def test_bidirectional_stacked_model_learns_digit_rows():
    (x, y), _, (xt, yt) = data.load("digits")  # (8, 8, 1) images read row by row
    model = zoo.get("gru", input_shape=(8, 8, 1), units=16, num_layers=2, bidirectional=True)
    compile_from_recipe(model, zoo.info("gru")["recipe"])
    history = model.fit(x, y, epochs=4, batch_size=32, verbose=0).history["loss"]
    assert history[-1] < 0.4 * history[0]
    assert model.evaluate(xt, yt, verbose=0, return_dict=True)["accuracy"] > 0.8
    with pytest.raises(ValueError, match="bidirectional=True"):
        model.streaming()


@pytest.mark.parametrize("cell", ["simple_rnn", "lstm"])
def test_regressor_learns_a_running_sum(cell, rng):
    x = rng.uniform(-1, 1, size=(512, 10, 1)).astype("float32")
    y = x.sum(axis=1)
    model = zoo.get(cell, input_shape=(10, 1), task="regression", units=16)
    model.compile(keras.optimizers.Adam(1e-2), "mse")
    history = model.fit(x, y, epochs=8, batch_size=32, verbose=0).history["loss"]
    assert history[-1] < 0.2 * history[0]


def test_char_lstm_learns_and_generates_the_pattern():
    text = "abcd efg " * 60
    model = zoo.get("char_lstm", vocabulary="abcdefg ", units=32, num_layers=1, embedding_dim=8)
    ids = model.vocabulary.encode(text)
    starts = np.arange(0, len(ids) - 21, 4)
    x = np.stack([ids[s:s + 20] for s in starts])
    y = np.stack([ids[s + 1:s + 21] for s in starts])
    compile_from_recipe(model, zoo.info("char_lstm")["recipe"], learning_rate=1e-2)
    history = model.fit(x, y, epochs=10, batch_size=32, verbose=0).history["loss"]
    assert history[-1] < 0.2 * history[0]
    assert model.generate("abcd ", length=18, top_k=1) == "abcd efg abcd efg abcd "
    sampled = model.generate("ab", length=30, temperature=1.5, seed=0)
    assert len(sampled) == 32 and set(sampled) <= set("abcdefg ")


def test_generate_bad_inputs_raise_clear_errors():
    model = zoo.get("char_lstm", vocabulary="abc", units=8, num_layers=1)
    with pytest.raises(ValueError, match=r"character\(s\) 'xz' are not in the model's vocabulary"):
        model.generate("abxz", length=5)
    with pytest.raises(ValueError, match="temperature=0"):
        model.generate("ab", length=5, temperature=0)
    with pytest.raises(ValueError, match="top_k=4"):
        model.generate("ab", length=5, top_k=4)
    with pytest.raises(ValueError, match="empty"):
        model.generate("", length=5)
    with pytest.raises(ValueError, match="task='language-model'"):
        zoo.get("lstm").generate("ab")
    with pytest.raises(ValueError, match="invalid cell='rnn'"):
        zoo.get("lstm", cell="rnn")

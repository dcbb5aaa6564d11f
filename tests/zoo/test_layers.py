"""Min and Lp pooling layers: numerics against NumPy, gradients, serialization, bad inputs."""

import itertools

import keras
import numpy as np
import pytest

from zoo.layers import pooling as P


def _windows(x, pool, strides):
    """NumPy reference: yields (output index, window) over channels-last 'valid' windows."""
    spatial = x.shape[1:-1]
    out = [(s - k) // st + 1 for s, k, st in zip(spatial, pool, strides)]
    for idx in itertools.product(*[range(o) for o in out]):
        sl = tuple(slice(i * st, i * st + k) for i, k, st in zip(idx, pool, strides))
        yield idx, x[(slice(None), *sl, slice(None))], out


def numpy_pool(x, pool, strides, fn):
    result = None
    for idx, window, out in _windows(x, pool, strides):
        if result is None:
            result = np.zeros((x.shape[0], *out, x.shape[-1]), x.dtype)
        axes = tuple(range(1, window.ndim - 1))
        result[(slice(None), *idx, slice(None))] = fn(window, axes)
    return result


def np_min(w, axes):
    return w.min(axis=axes)


def np_lp(p, normalize=False):
    def fn(w, axes):
        reduce = np.mean if normalize else np.sum
        return reduce(np.abs(w) ** p, axis=axes) ** (1 / p)
    return fn


SHAPES = {1: (2, 9, 3), 2: (2, 7, 6, 3), 3: (2, 5, 6, 4, 2)}
CLASSES = {
    1: (P.MinPooling1D, P.LpPooling1D, P.GlobalMinPooling1D, P.GlobalLpPooling1D),
    2: (P.MinPooling2D, P.LpPooling2D, P.GlobalMinPooling2D, P.GlobalLpPooling2D),
    3: (P.MinPooling3D, P.LpPooling3D, P.GlobalMinPooling3D, P.GlobalLpPooling3D),
}


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_windowed_pooling_matches_numpy(rank, rng):
    x = rng.normal(size=SHAPES[rank]).astype("float32")
    pool, strides = (3,) * rank, (2,) * rank
    mn, lp, _, _ = CLASSES[rank]
    np.testing.assert_allclose(mn(pool, strides)(x), numpy_pool(x, pool, strides, np_min), rtol=1e-6)
    for p in (1, 2, 3.5):
        got = lp(p=p, pool_size=pool, strides=strides)(x)
        np.testing.assert_allclose(got, numpy_pool(x, pool, strides, np_lp(p)), rtol=1e-5)
        got = lp(p=p, pool_size=pool, strides=strides, normalize=True)(x)
        np.testing.assert_allclose(got, numpy_pool(x, pool, strides, np_lp(p, True)), rtol=1e-5)


@pytest.mark.parametrize("rank", [1, 2, 3])
def test_global_pooling_matches_numpy(rank, rng):
    x = rng.normal(size=SHAPES[rank]).astype("float32")
    axes = tuple(range(1, rank + 1))
    _, _, gmin, glp = CLASSES[rank]
    np.testing.assert_allclose(gmin()(x), x.min(axis=axes), rtol=1e-6)
    np.testing.assert_allclose(glp(p=3)(x), np_lp(3)(x, axes), rtol=1e-5)
    kept = glp(p=2, keepdims=True, normalize=True)(x)
    np.testing.assert_allclose(kept, np_lp(2, True)(x, axes).reshape(kept.shape), rtol=1e-5)
    cf = np.moveaxis(x, -1, 1)
    np.testing.assert_allclose(gmin(data_format="channels_first")(cf), x.min(axis=axes), rtol=1e-6)


def test_lp_limits_sum_average_and_max(rng):
    x = rng.uniform(0.1, 1.0, size=(2, 8, 8, 3)).astype("float32")
    summed = P.LpPooling2D(p=1, pool_size=2)(x)
    avg = keras.layers.AveragePooling2D(2)(x)
    np.testing.assert_allclose(summed, 4 * np.asarray(avg), rtol=1e-5)
    np.testing.assert_allclose(P.LpPooling2D(p=1, pool_size=2, normalize=True)(x), avg, rtol=1e-5)
    mx = np.asarray(keras.layers.MaxPooling2D(2)(x))
    errors = [np.max(np.abs(np.asarray(P.LpPooling2D(p=p, pool_size=2, normalize=True)(x)) - mx) / mx)
              for p in (2, 8, 64)]
    assert errors[0] > errors[1] > errors[2] and errors[2] < 0.03


def test_same_padding_and_channels_first(rng):
    x = rng.normal(size=(2, 7, 5, 3)).astype("float32")
    same = P.LpPooling2D(p=2, pool_size=3, strides=2, padding="same")(x)
    assert same.shape == keras.layers.MaxPooling2D(3, 2, padding="same")(x).shape
    # 'same' pads with zeros, which add nothing to a sum: compare with explicit zero padding.
    padded = np.pad(x, [(0, 0), (1, 1), (1, 1), (0, 0)])
    np.testing.assert_allclose(same, numpy_pool(padded, (3, 3), (2, 2), np_lp(2)), rtol=1e-5)
    mins = P.MinPooling2D(3, 2, padding="same")(x)
    np.testing.assert_allclose(mins, -np.asarray(keras.layers.MaxPooling2D(3, 2, padding="same")(-x)))
    cf = P.MinPooling2D(2, data_format="channels_first")(np.moveaxis(x, -1, 1))
    np.testing.assert_allclose(np.moveaxis(np.asarray(cf), 1, -1), P.MinPooling2D(2)(x))


@pytest.mark.parametrize("layer", [
    P.LpPooling2D(p=3, pool_size=2), P.LpPooling1D(p=1.5, pool_size=3, strides=1),
    P.MinPooling2D(2), P.GlobalLpPooling2D(p=2), P.GlobalMinPooling1D(),
], ids=lambda layer: type(layer).__name__)
def test_gradients_match_finite_differences(layer, rng):
    import tensorflow as tf

    rank = layer.rank
    x = tf.constant(rng.uniform(0.2, 1.5, size=SHAPES[rank][:1] + (4,) * rank + (2,)), dtype="float64")
    layer = type(layer).from_config({**layer.get_config(), "dtype": "float64"})
    theoretical, numerical = tf.test.compute_gradient(lambda t: layer(t), [x], delta=1e-6)
    np.testing.assert_allclose(theoretical[0], numerical[0], atol=1e-5)


def test_gradient_is_finite_on_a_zero_window():
    import tensorflow as tf

    x = tf.zeros((1, 4, 4, 1))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(P.LpPooling2D(p=2, pool_size=2)(x))
    assert np.all(np.isfinite(tape.gradient(y, x)))


def test_keras_file_round_trip_and_fit(tmp_path, rng):
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(4, 3, padding="same")(inputs)
    a = P.LpPooling2D(p=3, pool_size=2, normalize=True)(x)
    b = P.MinPooling2D(2)(x)
    x = keras.layers.Concatenate()([P.GlobalLpPooling2D(p=2)(a), P.GlobalMinPooling2D()(b)])
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(x))
    assert sum(layer.count_params() for layer in model.layers if "pooling" in layer.name) == 0
    xs = rng.normal(size=(32, 8, 8, 1)).astype("float32")
    ys = (xs.mean(axis=(1, 2, 3)) > 0).astype("int32")
    model.compile("adam", "sparse_categorical_crossentropy")
    history = model.fit(xs, ys, epochs=3, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    path = str(tmp_path / "pool.keras")
    model.save(path)
    restored = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(restored.predict(xs, verbose=0), model.predict(xs, verbose=0), rtol=1e-6)
    lp = restored.get_layer(model.layers[2].name)
    assert lp.p == 3.0 and lp.normalize and lp.pool_size == (2, 2)


@pytest.mark.parametrize("p", [0.5, 0, -1, float("inf"), float("nan"), "2", True])
def test_invalid_p_is_rejected(p):
    with pytest.raises(ValueError, match=r"invalid p=.*expected a finite number >= 1"):
        P.LpPooling2D(p=p)
    with pytest.raises(ValueError, match="invalid p="):
        P.GlobalLpPooling1D(p=p)


def test_pool_larger_than_input_is_rejected():
    with pytest.raises(ValueError, match=r"pool_size=\(5, 5\) is larger than the input's spatial shape \(4, 4\)"):
        P.MinPooling2D(5)(np.zeros((1, 4, 4, 1), "float32"))
    with pytest.raises(ValueError, match="larger than the input"):
        keras.Sequential([keras.Input((3, 2)), P.LpPooling1D(p=2, pool_size=4)])
    assert P.MinPooling2D(5, padding="same")(np.zeros((1, 4, 4, 1), "float32")).shape == (1, 1, 1, 1)
    with pytest.raises(ValueError, match=r"invalid pool_size=0"):
        P.LpPooling2D(pool_size=0)
    with pytest.raises(ValueError, match=r"invalid padding='full'"):
        P.MinPooling1D(padding="full")
    with pytest.raises(ValueError, match="expected rank 4"):
        P.MinPooling2D()(np.zeros((1, 4, 4), "float32"))

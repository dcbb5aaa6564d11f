"""The convolution family: receptive fields (analytic vs measured), c3d on moving shapes, dilation."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from zoo.models.conv_family import DIRECTIONS, moving_shapes


def measured_field(model, input_shape):
    """Extent of the input that reaches the central output, from the gradient of a positive linear net."""
    x = tf.Variable(tf.ones((1, *input_shape)))
    with tf.GradientTape() as tape:
        out = model(x)
        centre = tuple(s // 2 for s in out.shape[1:-1])
        value = tf.reduce_sum(out[(0, *centre)])
    grad = np.abs(tape.gradient(value, x).numpy()[0]).sum(axis=-1)
    nonzero = np.nonzero(grad > 0)
    return tuple(int(ax.max() - ax.min() + 1) for ax in nonzero)


def _positive(model):
    for layer in model.layers:
        for w in layer.weights:
            w.assign(tf.fill(w.shape, 0.1))
    return model


def test_receptive_field_of_a_2d_stack_matches_the_gradient():
    model = _positive(keras.Sequential([
        keras.Input((64, 64, 1)),
        keras.layers.Conv2D(2, 3, padding="same"),
        keras.layers.AveragePooling2D(2),
        keras.layers.Conv2D(2, (5, 3), strides=2, padding="same"),
        keras.layers.Conv2D(2, 3, dilation_rate=2, padding="same"),
        keras.layers.DepthwiseConv2D(3, padding="same"),
        keras.layers.SeparableConv2D(2, 3, padding="same"),
    ]))
    rf = zoo.receptive_field(model)
    # 3 -> pool 2: 4 -> (5,3)/2 at jump 2: (12, 8) -> dilated 3 at jump 4: (28, 24) -> 3: (36, 32) -> 3: (44, 40)
    assert rf.size == (44, 40) and rf.stride == (4, 4)
    assert measured_field(model, (64, 64, 1)) == rf.size
    assert [name for name, _, _ in rf.layers][0] == model.layers[0].name
    assert "receptive field" in str(rf)


def test_receptive_field_of_residual_and_transposed_graphs():
    inputs = keras.Input((32, 32, 1))
    a = keras.layers.Conv2D(2, 3, padding="same")(inputs)
    b = keras.layers.Conv2D(2, 7, padding="same")(inputs)
    x = keras.layers.Add()([a, b])
    x = keras.layers.Conv2D(2, 3, strides=2, padding="same")(x)
    x = keras.layers.Conv2DTranspose(2, 4, strides=2, padding="same")(x)
    model = _positive(keras.Model(inputs, x))
    rf = zoo.receptive_field(model)
    assert rf.size == (11, 11) and rf.stride == (1.0, 1.0)  # 7 -> 3/2: 9 -> ceil(4/2) inputs: 11
    assert measured_field(model, (32, 32, 1))[0] <= rf.size[0]  # the transposed rule is the worst case
    nested = keras.Sequential([keras.Input((64, 64, 1)), keras.layers.Conv2D(1, 3, strides=2, padding="same"), model])
    assert zoo.receptive_field(nested).size == (3 + 10 * 2, 3 + 10 * 2)


def test_dilated_cnn_receptive_field_grows_exponentially():
    sizes = [zoo.receptive_field(zoo.get("dilated_cnn", dilations=tuple(2 ** i for i in range(n)))).size[0]
             for n in (1, 3, 5)]
    assert sizes == [3, 15, 63]  # 1 + 2 * (2^n - 1)
    model = _positive(zoo.get("dilated_cnn", input_shape=(128, 1), padding="same", include_top=False,
                              residual=False))
    assert measured_field(model, (128, 1)) == (63,)
    with pytest.raises(ValueError, match="no spatial layer"):
        zoo.receptive_field(zoo.get("mlp"))


def test_moving_shapes_clips_need_time():
    splits = moving_shapes(n_samples=80, frames=6, size=14, seed=1)
    (x, y), _, _ = splits
    assert x.shape[1:] == (6, 14, 14, 1) and set(np.unique(y)) <= set(range(len(DIRECTIONS)))
    i = int(np.flatnonzero(y == DIRECTIONS.index("right"))[0])
    centre = lambda frame: np.argwhere(frame[..., 0] > 0.5).mean(axis=0)  # noqa: E731
    assert centre(x[i, -1])[1] - centre(x[i, 0])[1] == pytest.approx(5, abs=0.6)
    with pytest.raises(ValueError, match="invalid size=8"):
        moving_shapes(size=8)


def test_c3d_small_learns_the_direction_of_motion():
    splits = moving_shapes(n_samples=240, frames=6, size=12, seed=0)
    model = zoo.get("c3d_small", input_shape=(6, 12, 12, 1), num_classes=4, filters=(8, 16))
    model.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(*splits.train, epochs=8, batch_size=16, verbose=0)
    acc = model.evaluate(*splits.test, verbose=0, return_dict=True)["accuracy"]
    assert acc > 0.8  # chance is 0.25; a single frame carries no direction


def test_xception_small_uses_separable_convolutions_and_features():
    model = zoo.get("xception_small", input_shape=(16, 16, 3), num_classes=3, filters=(8, 16), stem_filters=8)
    kinds = {type(layer).__name__ for layer in model.layers}
    assert "SeparableConv2D" in kinds
    feats = zoo.get("xception_small", input_shape=(16, 16, 3), filters=(8, 16), stem_filters=8, features=True)
    out = feats(np.zeros((1, 16, 16, 3), "float32"))
    assert sorted(out) == ["stride_2", "stride_4"] and out["stride_4"].shape == (1, 4, 4, 16)
    with pytest.raises(ValueError, match="invalid depth_multiplier=0"):
        zoo.get("xception_small", depth_multiplier=0)
    with pytest.raises(ValueError, match="invalid dilations=()"):
        zoo.get("dilated_cnn", dilations=())

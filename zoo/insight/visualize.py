"""Seeing what a network learned: activation maximisation by gradient ascent.

``maximize_activation(model, layer, unit)`` starts from a small random input and
climbs the mean activation of one unit (a channel of a conv layer, a neuron of
a dense layer) with ``zoo.optimizers.maximize`` (gradient ascent), as in
Erhan et al. 2009 and Simonyan et al. 2014. An L2 penalty keeps the input
small and ``clip`` keeps it in the model's input range.
"""

from __future__ import annotations

import dataclasses
import os

import keras
import numpy as np

from zoo.core.checks import check_path, fail
from zoo.core.io import atomic_path

__all__ = ["ActivationMaximization", "maximize_activation", "save_image"]


@dataclasses.dataclass
class ActivationMaximization:
    """The input found, and the unit's mean activation at the start and after each step."""

    image: np.ndarray
    start: float
    history: list

    @property
    def activation(self) -> float:
        return self.history[-1] if self.history else self.start


def _unit_model(model, layer, unit):
    if not isinstance(model, keras.Model):
        raise ValueError(f"invalid model={model!r}; expected a keras.Model")
    names = [la.name for la in model.layers]
    if isinstance(layer, str):
        if layer not in names:
            raise ValueError(f"invalid layer={layer!r}; model {model.name!r} has layers {names}")
        layer = model.get_layer(layer)
    elif isinstance(layer, int) and not isinstance(layer, bool):
        if not -len(names) <= layer < len(names):
            raise ValueError(f"invalid layer={layer!r}; model {model.name!r} has {len(names)} layers")
        layer = model.layers[layer]
    elif not isinstance(layer, keras.layers.Layer):
        raise ValueError(f"invalid layer={layer!r}; expected a layer name, index or keras.layers.Layer")
    units = layer.output.shape[-1]
    if not isinstance(unit, int) or isinstance(unit, bool) or not 0 <= unit < units:
        raise ValueError(f"invalid unit={unit!r}; layer {layer.name!r} has units 0..{units - 1}")
    return keras.Model(model.inputs, layer.output), layer


def maximize_activation(model, layer, unit, steps=100, learning_rate=0.05, l2=1e-3, clip=(0.0, 1.0),
                        input_shape=None, seed=0, optimizer="adam") -> ActivationMaximization:
    """Gradient ascent on an input to maximise the mean activation of ``unit`` in ``layer``.

    ``layer``: a name, an index or a layer of ``model``. ``clip``: the input range
    (None for no clipping). Returns an :class:`ActivationMaximization` (``image``
    without the batch axis).
    """
    import tensorflow as tf

    from zoo.training.optimizers import maximize

    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
        raise ValueError(f"invalid steps={steps!r}; expected a positive integer")
    sub, _ = _unit_model(model, layer, unit)
    shape = tuple(input_shape or model.inputs[0].shape[1:])
    if any(s is None for s in shape):
        raise ValueError(f"invalid input_shape={shape}; the model's input has unknown sizes: pass input_shape=")
    rng = np.random.default_rng(seed)
    low, high = clip if clip is not None else (-1.0, 1.0)
    start = (low + high) / 2 + 0.05 * (high - low) * rng.standard_normal((1, *shape))
    image = tf.Variable(start.astype("float32"))
    opt = maximize(keras.optimizers.get({"class_name": optimizer, "config": {"learning_rate": learning_rate}})
                   if isinstance(optimizer, str) else optimizer)

    def objective():
        act = sub(image, training=False)
        return tf.reduce_mean(act[..., unit]) - l2 * tf.reduce_mean(tf.square(image))

    initial = float(tf.reduce_mean(sub(image, training=False)[..., unit]))
    history = []
    for _ in range(steps):
        with tf.GradientTape() as tape:
            value = objective()
        opt.apply(tape.gradient(value, [image]), [image])
        if clip is not None:
            image.assign(tf.clip_by_value(image, low, high))
        history.append(float(tf.reduce_mean(sub(image, training=False)[..., unit])))
    return ActivationMaximization(image.numpy()[0], initial, history)


def save_image(image, path):
    """Save an (h, w[, c]) array as a PNG scaled to [0, 1] (atomically)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    check_path("path", path, "save_image")
    array = np.asarray(image)
    if array.dtype.kind not in "biuf":
        fail("image", image, "a numeric array of shape (h, w) or (h, w, channels)", "save_image", error=TypeError)
    if array.ndim not in (2, 3):
        fail("image", f"<array of shape {array.shape}>", "an array of shape (h, w) or (h, w, channels)", "save_image")
    image = array.astype("float32")
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    span = float(image.max() - image.min()) or 1.0
    image = (image - image.min()) / span
    with atomic_path(path, suffix=".png") as tmp:
        plt.imsave(tmp, image, cmap="gray" if image.ndim == 2 else None)
    return os.fspath(path)

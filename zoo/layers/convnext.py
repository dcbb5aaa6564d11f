"""LayerScale, the layer ConvNeXt needs that Keras lacks (Touvron et al. 2021, CaiT).

``LayerScale(init_values, projection_dim)`` multiplies its input by a learned
per-channel vector ``gamma`` (one weight of shape ``(projection_dim,)``, initialised
to ``init_values``), as keras.applications.convnext's LayerScale does, so its
published weights load into it. ConvNeXt's stochastic depth needs no layer of its
own: ``Dropout(rate, noise_shape=(None, 1, 1, 1))`` drops a sample's whole residual
branch and rescales by ``1 / (1 - rate)``, keras.applications' StochasticDepth.

:func:`layer_scale_class` gives the class for a Keras module: this one for Keras 3
(registered as ``zoo>LayerScale``), a twin for tf-keras (the TF-MOT twin's builder).
"""

from __future__ import annotations

import keras

from zoo.core.checks import check_int, check_number

__all__ = ["LayerScale", "layer_scale_class"]


def _define(k):
    """LayerScale on Keras module ``k`` (``keras`` or ``tf_keras``): only APIs both have."""

    class LayerScale(k.layers.Layer):
        """``x * gamma``: a learned scale per channel (the last axis), initialised to ``init_values``."""

        def __init__(self, init_values, projection_dim, **kwargs):
            super().__init__(**kwargs)
            self.init_values = check_number("init_values", init_values, owner="LayerScale")
            self.projection_dim = check_int("projection_dim", projection_dim, minimum=1, owner="LayerScale")

        def build(self, input_shape):
            if input_shape[-1] is not None and input_shape[-1] != self.projection_dim:
                raise ValueError(f"LayerScale: invalid input with {input_shape[-1]} channels (last axis); expected "
                                 f"projection_dim={self.projection_dim}")
            self.gamma = self.add_weight(name="gamma", shape=(self.projection_dim,), trainable=True,
                                         initializer=k.initializers.Constant(self.init_values))
            self.built = True

        def call(self, x):
            return x * self.gamma

        def compute_output_shape(self, input_shape):
            return input_shape

        def get_config(self):
            return {**super().get_config(), "init_values": self.init_values, "projection_dim": self.projection_dim}

    return k.saving.register_keras_serializable(package="zoo")(LayerScale)


LayerScale = _define(keras)
_TWINS = {keras.__name__: LayerScale}


def layer_scale_class(k=keras):
    """The LayerScale class built on Keras module ``k`` (``keras`` by default, or ``tf_keras``)."""
    if k.layers.Layer is keras.layers.Layer:
        return LayerScale
    name = getattr(k, "__name__", repr(k))
    if name not in _TWINS:
        _TWINS[name] = _define(k)
    return _TWINS[name]

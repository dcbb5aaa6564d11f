"""The forward pass of a chain-shaped Keras model in NumPy, for acting in the env loop.

One observation batch through a small MLP costs microseconds in NumPy and
milliseconds through a TensorFlow call, so rollouts act with this and the
updates run in ``tf.function``.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

__all__ = ["NumpyForward", "KerasForward", "VariableReader", "VariableWriter"]


def _np_elu(x):
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0)))


_NP_ACTIVATIONS = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0),
    "tanh": np.tanh,
    "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "elu": _np_elu,
    "leaky_relu": lambda x: np.where(x > 0, x, 0.2 * x),
}


_IN_PLACE = (np.tanh,)  # activations that take ``out=``


class VariableReader:
    """The values of ``variables`` as NumPy arrays, read in one TensorFlow call (``Variable.numpy()``
    costs one call per variable: ~0.1 ms each, a large share of a small on-policy rollout).

    Variables of one dtype come back as one flat tensor, split in NumPy (the arrays are views of
    one buffer); ``jit_compile=True`` compiles the read with XLA, whose call costs about a third of
    a graph's on a CPU (~0.15 ms against ~0.4 for 12 small variables). ``read()`` is the same read
    inside another graph (an update that returns the new weights), ``unpack`` its NumPy side.
    """

    def __init__(self, variables, jit_compile: bool = False):
        self.variables = list(variables)
        self._shapes = [tuple(v.shape) for v in self.variables]
        self._flat = len({v.dtype for v in self.variables}) == 1
        self._fn = tf.function(self.read, jit_compile=bool(jit_compile) and self._flat)

    def read(self):
        """Graph side: one flat tensor (one dtype) or a list of tensors."""
        if self._flat:
            return tf.concat([tf.reshape(v.value, [-1]) for v in self.variables], 0)
        return [tf.identity(v.value) for v in self.variables]

    def unpack(self, values) -> list:
        """``read()``'s result as one NumPy array per variable."""
        if not self._flat:
            return [t.numpy() for t in values]
        flat, out, start = values.numpy(), [], 0
        for shape in self._shapes:
            size = int(np.prod(shape))
            out.append(flat[start:start + size].reshape(shape))
            start += size
        return out

    def __call__(self) -> list:
        return self.unpack(self._fn()) if self.variables else []


class VariableWriter:
    """Assign NumPy values to ``variables`` in one TensorFlow call (``Variable.assign`` costs one call per
    variable: ~0.2 ms each, paid by the normalisers at every on-policy rollout)."""

    def __init__(self, variables):
        self.variables = list(variables)
        signature = [tf.TensorSpec(v.shape, v.dtype) for v in self.variables]
        self._fn = tf.function(self._assign, input_signature=signature).get_concrete_function()

    def _assign(self, *values):
        for variable, value in zip(self.variables, values):
            variable.assign(value)

    def __call__(self, values) -> None:
        self._fn(*(tf.constant(np.asarray(x, v.dtype)) for v, x in zip(self.variables, values)))


class NumpyForward:
    """The forward pass of a chain-shaped Keras model in NumPy, for acting in the env loop.

    One observation batch through a small MLP costs microseconds in NumPy and
    milliseconds through a TensorFlow call, so rollouts act with this and the
    updates run in ``tf.function``. ``sync()`` copies the current weights (call it
    before each rollout). A model with a layer it does not know, or whose output
    differs from Keras's on a random batch, is run by Keras instead.
    """

    def __init__(self, model: keras.Model):
        self.model = model
        self.ops = self._compile(model)
        self.params, self._keras = None, None
        if self.ops is not None:
            self.sync()
            x = np.random.default_rng(0).normal(size=(3, *model.input_shape[1:])).astype(np.float32)
            if not np.allclose(self(x), keras.ops.convert_to_numpy(model(x)), atol=1e-4, rtol=1e-3):
                self.ops = None

    @staticmethod
    def _activation(fn):
        name = getattr(fn, "__name__", None)
        return _NP_ACTIVATIONS.get(name)

    def _compile(self, model):
        ops, layers = [], list(model.layers)
        head = None
        if layers and type(layers[-1]).__name__ == "DuelingAggregation":  # agents.networks.dueling_head
            *layers, value, advantage, _ = layers
            if not all(type(d).__name__ == "Dense" and d.use_bias and getattr(d.activation, "__name__", None) == "linear"
                       for d in (value, advantage)):
                return None
            head = ("dueling", (value, advantage), None)
        for layer in layers:
            kind = type(layer).__name__
            if kind in ("InputLayer", "Dropout"):
                continue
            if kind == "Flatten":
                ops.append(("flatten", layer, None))
            elif kind == "Dense":
                act = self._activation(layer.activation)
                if act is None:
                    return None
                ops.append(("dense", layer, act))
            elif kind == "Activation":
                act = self._activation(layer.activation)
                if act is None:
                    return None
                ops.append(("act", layer, act))
            elif kind == "BatchNormalization":
                ops.append(("bn", layer, None))
            else:
                return None
        return ops + [head] if head else ops

    def variables(self) -> list:
        """The variables ``sync`` reads, in its order (empty when Keras runs the model)."""
        out = []
        for kind, layer, _ in self.ops or ():
            if kind == "dense":
                out += [layer.kernel] + ([layer.bias] if layer.use_bias else [])
            elif kind == "bn":
                out += [layer.gamma] if layer.scale else []
                out += ([layer.beta] if layer.center else []) + [layer.moving_mean, layer.moving_variance]
            elif kind == "dueling":
                out += [v for dense in layer for v in (dense.kernel, dense.bias)]
        return out

    def sync(self, values=None):
        """Copy the weights: read them, or take ``values`` (arrays in ``variables()``' order, e.g. returned
        by the compiled update itself, which saves one TensorFlow read per variable)."""
        if self.ops is None:
            return self
        values = iter([v.numpy() for v in self.variables()] if values is None else values)
        self.params = []
        for kind, layer, _ in self.ops:
            if kind == "dense":
                self.params.append((next(values), next(values) if layer.use_bias else 0.0))
            elif kind == "bn":
                gamma = next(values) if layer.scale else 1.0
                beta = next(values) if layer.center else 0.0
                mean, variance = next(values), next(values)
                scale = gamma / np.sqrt(variance + layer.epsilon)
                self.params.append((scale, beta - mean * scale))
            elif kind == "dueling":
                self.params.append(((next(values), next(values)), (next(values), next(values))))
            else:
                self.params.append(None)
        return self

    def __call__(self, x):
        x = np.asarray(x, np.float32)
        if self.ops is None:  # Keras, compiled once: an eager call costs ~2 ms, a graph call ~0.3 ms
            self._keras = self._keras or KerasForward(self.model)
            return self._keras(x)
        for (kind, _, act), p in zip(self.ops, self.params):
            if kind == "flatten":
                x = x.reshape(x.shape[0], -1)
            elif kind == "dense":  # in place after the product: the same values, fewer arrays made
                x = x @ p[0]
                x += p[1]
                x = act(x, out=x) if act in _IN_PLACE else act(x)
            elif kind == "act":
                x = act(x)
            elif kind == "dueling":  # Q = V + A - mean(A)
                (vk, vb), (ak, ab) = p
                advantage = x @ ak + ab
                x = x @ vk + vb + advantage - advantage.mean(axis=-1, keepdims=True)
            else:
                x = x * p[0] + p[1]
        return x


class KerasForward:
    """A Keras model's forward pass as a compiled ``tf.function`` returning NumPy (image policies act with it).

    The same interface as ``NumpyForward`` (``sync()``, ``__call__``); the weights are
    the model's own, so ``sync`` has nothing to copy.
    """

    def __init__(self, model: keras.Model):
        self.model = model
        self._fn = tf.function(lambda x: model(x, training=False), reduce_retracing=True)

    def variables(self):
        return []

    def sync(self, values=None):
        return self

    def __call__(self, x):
        return self._fn(tf.convert_to_tensor(x)).numpy()

"""Pooling layers Keras lacks: min pooling and Lp (power-mean) pooling, windowed and global.

- ``MinPooling1D/2D/3D`` take the minimum of each window (``-max_pool(-x)``).
- ``LpPooling1D/2D/3D`` take ``(sum |x|^p) ** (1/p)`` over each window, as
  PyTorch's ``LPPool`` does (Sermanet et al. 2012): ``p=1`` is sum pooling (the
  window's average times its size), ``p=2`` the window's L2 norm, and as ``p``
  grows it approaches max pooling of ``|x|``. ``normalize=True`` divides by the
  window size inside the root (the power mean ``(mean |x|^p) ** (1/p)``), so that
  ``p=1`` is exactly average pooling of ``|x|``.
- ``GlobalMinPooling*`` and ``GlobalLpPooling*`` reduce every spatial axis.

None has trainable weights; all are serializable (``get_config``, registered for
``.keras`` loading) and differentiable (the root's gradient is kept finite where a
window is all zeros).
"""

from __future__ import annotations

import numbers

import keras
from keras import ops

from zoo.core.checks import check_bool, fail

__all__ = [
    "MinPooling1D", "MinPooling2D", "MinPooling3D",
    "LpPooling1D", "LpPooling2D", "LpPooling3D",
    "GlobalMinPooling1D", "GlobalMinPooling2D", "GlobalMinPooling3D",
    "GlobalLpPooling1D", "GlobalLpPooling2D", "GlobalLpPooling3D",
]


def _check_p(layer, p):
    if isinstance(p, bool) or not isinstance(p, numbers.Real) or not p >= 1 or p != p or p == float("inf"):
        fail("p", p, "a finite number >= 1 (p=1 is sum/average pooling, large p approaches max pooling)", layer)
    return float(p)


def _tuple(layer, arg, value, rank, allow_none=False):
    if value is None and allow_none:
        return None
    given = value
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (int(value),) * rank
    if (
        not isinstance(value, (tuple, list))
        or len(value) != rank
        or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and v > 0 for v in value)
    ):
        fail(arg, given, f"a positive integer or {rank} of them", layer)
    return tuple(int(v) for v in value)


def _data_format(layer, value):
    value = keras.config.image_data_format() if value is None else value
    if value not in ("channels_last", "channels_first"):
        fail("data_format", value, "'channels_last' or 'channels_first'", layer)
    return value


def _lp_root(total, p):
    """``total ** (1/p)`` with a finite gradient where ``total`` is 0."""
    positive = total > 0
    safe = ops.where(positive, total, ops.ones_like(total))
    return ops.where(positive, ops.power(safe, 1.0 / p), ops.zeros_like(total))


class _Pooling(keras.layers.Layer):
    """Windowed pooling over ``rank`` spatial axes; subclasses define ``_pool``."""

    rank = None

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        name = type(self).__name__
        self.pool_size = _tuple(name, "pool_size", pool_size, self.rank)
        self.strides = _tuple(name, "strides", strides, self.rank, allow_none=True) or self.pool_size
        if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
            fail("padding", padding, "'valid' or 'same'", name)
        self.padding = padding.lower()
        self.data_format = _data_format(type(self).__name__, data_format)

    def _spatial(self, shape):
        return tuple(shape[1:-1]) if self.data_format == "channels_last" else tuple(shape[2:])

    def build(self, input_shape):
        if len(input_shape) != self.rank + 2:
            raise ValueError(
                f"{type(self).__name__}: invalid input shape {tuple(input_shape)}; expected rank "
                f"{self.rank + 2} (batch, {self.rank} spatial axes, channels)"
            )
        if self.padding == "valid":
            for size, pool in zip(self._spatial(input_shape), self.pool_size):
                if size is not None and size < pool:
                    raise ValueError(
                        f"{type(self).__name__}: pool_size={self.pool_size} is larger than the input's "
                        f"spatial shape {self._spatial(input_shape)}; expected a pool no larger than the "
                        "input (or padding='same')"
                    )
        self.built = True

    def compute_output_shape(self, input_shape):
        out = []
        for size, pool, stride in zip(self._spatial(input_shape), self.pool_size, self.strides):
            if size is None:
                out.append(None)
            elif self.padding == "valid":
                out.append((size - pool) // stride + 1)
            else:
                out.append(-(-size // stride))
        if self.data_format == "channels_last":
            return (input_shape[0], *out, input_shape[-1])
        return (input_shape[0], input_shape[1], *out)

    def _max(self, x):
        return ops.max_pool(x, self.pool_size, self.strides, self.padding, self.data_format)

    def _avg(self, x, padding=None):
        return ops.average_pool(x, self.pool_size, self.strides, padding or self.padding, self.data_format)

    def call(self, inputs):
        return self._pool(inputs)

    def get_config(self):
        return {
            **super().get_config(),
            "pool_size": self.pool_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
        }


class _MinPooling(_Pooling):
    def _pool(self, x):
        return -self._max(-x)


class _LpPooling(_Pooling):
    def __init__(self, p=2.0, pool_size=2, strides=None, padding="valid", data_format=None,
                 normalize=False, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)
        self.p = _check_p(type(self).__name__, p)
        check_bool("normalize", normalize, type(self).__name__)
        self.normalize = bool(normalize)

    def _same_pad(self, x):
        """Zero-pad like TensorFlow's 'same' so that a 'valid' pool sums the same windows."""
        pads = []
        for size, pool, stride in zip(self._spatial(ops.shape(x)), self.pool_size, self.strides):
            out = -(-size // stride)
            total = max((out - 1) * stride + pool - size, 0)
            pads.append((total // 2, total - total // 2))
        pads = [(0, 0), *pads, (0, 0)] if self.data_format == "channels_last" else [(0, 0), (0, 0), *pads]
        return ops.pad(x, pads)

    def _pool(self, x):
        powered = ops.power(ops.abs(x), self.p)
        if self.normalize:  # average_pool skips padding: the power mean over the valid cells
            total = self._avg(powered)
        else:
            if self.padding == "same":
                powered = self._same_pad(powered)
            window = 1
            for pool in self.pool_size:
                window *= pool
            total = self._avg(powered, padding="valid") * window
        return _lp_root(total, self.p)

    def get_config(self):
        return {**super().get_config(), "p": self.p, "normalize": self.normalize}


class _GlobalPooling(keras.layers.Layer):
    rank = None

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = _data_format(type(self).__name__, data_format)
        check_bool("keepdims", keepdims, type(self).__name__)
        self.keepdims = bool(keepdims)

    @property
    def _axes(self):
        start = 1 if self.data_format == "channels_last" else 2
        return tuple(range(start, start + self.rank))

    def build(self, input_shape):
        if len(input_shape) != self.rank + 2:
            raise ValueError(
                f"{type(self).__name__}: invalid input shape {tuple(input_shape)}; expected rank "
                f"{self.rank + 2} (batch, {self.rank} spatial axes, channels)"
            )
        self.built = True

    def compute_output_shape(self, input_shape):
        axes = self._axes
        if self.keepdims:
            return tuple(1 if i in axes else d for i, d in enumerate(input_shape))
        return tuple(d for i, d in enumerate(input_shape) if i not in axes)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


class _GlobalMinPooling(_GlobalPooling):
    def call(self, x):
        return ops.min(x, axis=self._axes, keepdims=self.keepdims)


class _GlobalLpPooling(_GlobalPooling):
    def __init__(self, p=2.0, data_format=None, keepdims=False, normalize=False, **kwargs):
        super().__init__(data_format, keepdims, **kwargs)
        self.p = _check_p(type(self).__name__, p)
        check_bool("normalize", normalize, type(self).__name__)
        self.normalize = bool(normalize)

    def call(self, x):
        reduce = ops.mean if self.normalize else ops.sum
        return _lp_root(reduce(ops.power(ops.abs(x), self.p), axis=self._axes, keepdims=self.keepdims), self.p)

    def get_config(self):
        return {**super().get_config(), "p": self.p, "normalize": self.normalize}


def _concrete(base, rank, name, doc):
    cls = type(name, (base,), {"rank": rank, "__doc__": doc, "__module__": __name__})
    return keras.saving.register_keras_serializable(package="zoo")(cls)


MinPooling1D = _concrete(_MinPooling, 1, "MinPooling1D", "Minimum over windows of a (batch, steps, channels) input.")
MinPooling2D = _concrete(_MinPooling, 2, "MinPooling2D", "Minimum over windows of a (batch, h, w, channels) input.")
MinPooling3D = _concrete(_MinPooling, 3, "MinPooling3D", "Minimum over windows of a (batch, d, h, w, channels) input.")
LpPooling1D = _concrete(_LpPooling, 1, "LpPooling1D", "``(sum |x|^p)^(1/p)`` over 1D windows (``normalize``: mean).")
LpPooling2D = _concrete(_LpPooling, 2, "LpPooling2D", "``(sum |x|^p)^(1/p)`` over 2D windows (``normalize``: mean).")
LpPooling3D = _concrete(_LpPooling, 3, "LpPooling3D", "``(sum |x|^p)^(1/p)`` over 3D windows (``normalize``: mean).")
GlobalMinPooling1D = _concrete(_GlobalMinPooling, 1, "GlobalMinPooling1D", "Minimum over the steps axis.")
GlobalMinPooling2D = _concrete(_GlobalMinPooling, 2, "GlobalMinPooling2D", "Minimum over both spatial axes.")
GlobalMinPooling3D = _concrete(_GlobalMinPooling, 3, "GlobalMinPooling3D", "Minimum over the three spatial axes.")
GlobalLpPooling1D = _concrete(_GlobalLpPooling, 1, "GlobalLpPooling1D", "``(sum |x|^p)^(1/p)`` over the steps axis.")
GlobalLpPooling2D = _concrete(_GlobalLpPooling, 2, "GlobalLpPooling2D", "``(sum |x|^p)^(1/p)`` over both spatial axes.")
GlobalLpPooling3D = _concrete(_GlobalLpPooling, 3, "GlobalLpPooling3D", "``(sum |x|^p)^(1/p)`` over three spatial axes.")

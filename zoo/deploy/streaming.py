"""Batch and streaming inference.

- **batch**: :func:`batch_predict` runs a model over arrays or a ``tf.data``
  pipeline, batch by batch, with a progress bar.
- **streaming**: :class:`Stream` / :func:`stream` feed inputs as they arrive:
  step by step through a stateful recurrent model (its state carries over
  between calls), or in chunks of samples for any other model, and record the
  latency of every step.
"""

from __future__ import annotations

import time

import numpy as np

from zoo.core.checks import fail

__all__ = ["batch_predict", "Stream", "StreamResult", "stream"]


def _progress(iterable, total, desc, enabled):
    if not enabled:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, unit="batch", leave=False)


def _call(model, x):
    """Outputs of ``model`` on one batch as numpy (Keras models in inference mode)."""
    import keras

    if isinstance(model, keras.Model):
        out = model(x, training=False)
    elif hasattr(model, "predict_batch"):
        out = model.predict_batch(x)
    else:
        out = model(x)
    if isinstance(out, dict):
        return {k: np.asarray(v) for k, v in out.items()}
    if isinstance(out, (list, tuple)):
        return [np.asarray(v) for v in out]
    return np.asarray(out)


def _concat(parts):
    if not parts:
        return np.zeros((0,))
    first = parts[0]
    if isinstance(first, dict):
        return {k: np.concatenate([p[k] for p in parts]) for k in first}
    if isinstance(first, list):
        return [np.concatenate([p[i] for p in parts]) for i in range(len(first))]
    return np.concatenate(parts)


def _batch_size_arg(fn, batch_size, arg="batch_size"):
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"{fn}: invalid {arg}={batch_size!r}; expected a positive integer")


def _check_model(fn, model):
    """A ``TypeError`` for a ``model`` that cannot run a batch, before any batch is read."""
    if not (hasattr(model, "predict_batch") or callable(model)):  # a keras.Model is callable
        fail("model", model, "a keras.Model, a LiteRTModel/SavedModelRunner or a callable", fn, error=TypeError)


# --------------------------------------------------------------------------- batch


def batch_predict(model, data, batch_size=32, progress=True, desc="predict"):
    """Predictions of ``model`` over ``data``, batch by batch, as one array.

    ``data``: an array (or a list of arrays for several inputs) split into
    batches of ``batch_size``, or a ``tf.data.Dataset`` of batches (elements
    ``x`` or ``(x, y)``; ``y`` is ignored). ``model``: a Keras model, a
    :class:`LiteRTModel`, a :class:`SavedModelRunner` or any callable on a batch.
    """
    import tensorflow as tf

    _check_model("batch_predict", model)
    _batch_size_arg("batch_predict", batch_size)
    if isinstance(data, tf.data.Dataset):
        n = int(data.cardinality())
        total = n if n >= 0 else None

        def batches():
            for element in data:
                if isinstance(element, tuple) and len(element) in (2, 3):
                    element = element[0]
                yield element.numpy() if hasattr(element, "numpy") else element
    else:
        arrays = data if isinstance(data, (list, tuple)) else [data]
        arrays = [np.asarray(a) for a in arrays]
        if not arrays or any(a.ndim == 0 for a in arrays) or len({len(a) for a in arrays}) != 1:
            raise ValueError(
                "batch_predict: invalid data; expected an array with a batch axis (or a list of arrays of "
                "equal length, or a tf.data.Dataset)"
            )
        n = len(arrays[0])
        total = -(-n // batch_size)

        def batches():
            for i in range(0, n, batch_size):
                chunk = [a[i:i + batch_size] for a in arrays]
                yield chunk[0] if len(chunk) == 1 else chunk

    parts = [_call(model, b) for b in _progress(batches(), total, desc, progress)]
    return _concat(parts)


# --------------------------------------------------------------------------- streaming


def _stateful_layers(model):
    layers = model._flatten_layers() if hasattr(model, "_flatten_layers") else getattr(model, "layers", [])
    return [layer for layer in layers if getattr(layer, "stateful", False)]


class StreamResult:
    """Outputs of a stream and the latency of each step, in milliseconds."""

    def __init__(self, outputs, latencies_ms):
        self.outputs = outputs
        self.latencies_ms = np.asarray(latencies_ms, dtype="float64")

    @property
    def steps(self) -> int:
        return len(self.latencies_ms)

    def stats(self) -> dict:
        lat = self.latencies_ms
        if not len(lat):
            return {"steps": 0}
        return {
            "steps": int(len(lat)),
            "mean_ms": float(lat.mean()),
            "p50_ms": float(np.percentile(lat, 50)),
            "p95_ms": float(np.percentile(lat, 95)),
            "max_ms": float(lat.max()),
        }

    def __repr__(self):
        s = self.stats()
        if not s["steps"]:
            return "StreamResult(steps=0)"
        return f"StreamResult(steps={s['steps']}, p50={s['p50_ms']:.2f} ms, p95={s['p95_ms']:.2f} ms)"


class Stream:
    """Streaming inference: ``out = s.step(x)`` per arriving input, latency recorded.

    mode: ``"stateful"`` (the model has stateful recurrent layers: every step
        is one time step of shape ``(batch, features)`` or ``(batch, 1,
        features)`` and the recurrent state carries over between steps),
        ``"chunked"`` (any model: every step is a chunk of samples, run
        independently) or ``"auto"`` (stateful when the model has stateful layers).
    """

    MODES = ("auto", "stateful", "chunked")

    def __init__(self, model, mode="auto"):
        _check_model("Stream", model)
        if mode not in self.MODES:
            raise ValueError(f"Stream: invalid mode={mode!r}; expected one of {self.MODES}")
        self.model = model
        self._stateful = _stateful_layers(model)
        if mode == "stateful" and not self._stateful:
            raise ValueError(
                f"Stream: mode='stateful' needs a model with stateful recurrent layers; "
                f"{getattr(model, 'name', type(model).__name__)!r} has none (use mode='chunked')"
            )
        self.mode = ("stateful" if self._stateful else "chunked") if mode == "auto" else mode
        self.latencies_ms: list[float] = []

    def reset(self):
        """Clear the recurrent state (a new sequence starts) and the latency record."""
        for layer in self._stateful:
            reset = getattr(layer, "reset_state", None) or getattr(layer, "reset_states", None)
            if reset is not None:
                reset()
        self.latencies_ms = []

    def step(self, x):
        x = np.asarray(x, dtype="float32")
        if self.mode == "stateful":
            if x.ndim == 2:  # (batch, features) -> one time step
                x = x[:, None, :]
            if x.ndim != 3:
                raise ValueError(
                    f"Stream.step: invalid input of shape {x.shape}; a stateful step expects (batch, features) "
                    "or (batch, time, features)"
                )
        start = time.perf_counter()
        out = _call(self.model, x)
        self.latencies_ms.append((time.perf_counter() - start) * 1e3)
        return out

    def result(self, outputs) -> StreamResult:
        return StreamResult(outputs, self.latencies_ms)


def stream(model, inputs, mode="auto", chunk_size=1, reset=True):
    """Run ``model`` over ``inputs`` as a stream and return a :class:`StreamResult`.

    Stateful models: ``inputs`` is a sequence batch ``(batch, time, features)``
    fed one time step at a time; outputs are stacked on a time axis
    ``(batch, time, ...)``. Other models: ``inputs`` is an array of samples fed
    ``chunk_size`` at a time, or any iterable of chunks (a generator reading a
    sensor, a queue); outputs are concatenated.
    """
    _batch_size_arg("stream", chunk_size, "chunk_size")
    s = Stream(model, mode=mode)
    if reset:
        s.reset()
    outs = []
    if s.mode == "stateful":
        x = np.asarray(inputs, dtype="float32")
        if x.ndim != 3:
            raise ValueError(
                f"stream: invalid inputs of shape {x.shape} for a stateful model; expected (batch, time, features)"
            )
        for t in range(x.shape[1]):
            out = s.step(x[:, t])
            outs.append(out[:, -1] if isinstance(out, np.ndarray) and out.ndim == 3 else out)
        return s.result(np.stack(outs, axis=1))
    if isinstance(inputs, np.ndarray):
        chunks = (inputs[i:i + chunk_size] for i in range(0, len(inputs), chunk_size))
    else:
        chunks = iter(inputs)
    for chunk in chunks:
        outs.append(s.step(chunk))
    return s.result(_concat(outs))

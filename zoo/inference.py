"""The four kinds of inference: batch, streaming, edge and cloud.

- **batch**: :func:`batch_predict` runs a model over arrays or a ``tf.data``
  pipeline, batch by batch, with a progress bar.
- **streaming**: :class:`Stream` / :func:`stream` feed inputs as they arrive:
  step by step through a stateful recurrent model (its state carries over
  between calls), or in chunks of samples for any other model, and record the
  latency of every step.
- **edge**: :class:`LiteRTModel` runs a ``.tflite`` file on ``ai_edge_litert``;
  it takes and returns floats and does the int8 (de)quantization with the
  file's scale and zero point.
- **cloud**: :class:`SavedModelRunner` calls the ``serving_default`` signature
  of a SavedModel written by ``zoo.export.saved_model`` (what TensorFlow
  Serving loads); ``python -m zoo serve PATH --port N`` serves any of these
  over HTTP (``zoo.serve``).

:func:`load` opens a ``.keras`` file, a SavedModel folder or a ``.tflite`` file
as a predictor with the same ``predict(x)`` interface.
"""

from __future__ import annotations

import os
import threading
import time

import numpy as np

__all__ = [
    "batch_predict",
    "Stream",
    "StreamResult",
    "stream",
    "LiteRTModel",
    "SavedModelRunner",
    "KerasRunner",
    "load",
]


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
    elif callable(model):
        out = model(x)
    else:
        raise TypeError(
            f"model must be a keras.Model, a LiteRTModel/SavedModelRunner or a callable, got {type(model).__name__}"
        )
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


def _batch_size_arg(fn, batch_size):
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"{fn}: invalid batch_size={batch_size!r}; expected a positive integer")


# --------------------------------------------------------------------------- batch


def batch_predict(model, data, batch_size=32, progress=True, desc="predict"):
    """Predictions of ``model`` over ``data``, batch by batch, as one array.

    ``data``: an array (or a list of arrays for several inputs) split into
    batches of ``batch_size``, or a ``tf.data.Dataset`` of batches (elements
    ``x`` or ``(x, y)``; ``y`` is ignored). ``model``: a Keras model, a
    :class:`LiteRTModel`, a :class:`SavedModelRunner` or any callable on a batch.
    """
    import tensorflow as tf

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
    _batch_size_arg("stream", chunk_size)
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


# --------------------------------------------------------------------------- edge


def _check_file(cls, path, what):
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{cls}: path must be a string or os.PathLike, got {type(path).__name__}")
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"{cls}: {what} {path!r} does not exist")
    return path


class _Runner:
    """What every runner shares: ``runner(x)`` is ``runner.predict_batch(x)``; ``predict`` batches."""

    def __call__(self, x):
        return self.predict_batch(x)

    def predict(self, x, batch_size=32, progress=False):
        return batch_predict(self, x, batch_size=batch_size, progress=progress)


class LiteRTModel(_Runner):
    """Run a LiteRT (``.tflite``) file with float inputs and outputs.

    Inputs of an int8/uint8 file are quantized with the file's scale and zero
    point (``q = round(x / scale) + zero_point``) and outputs dequantized
    (``(q - zero_point) * scale``); float files run as they are. A file with a
    dynamic batch axis is resized to each call's batch; a fixed one is fed in
    slices. Calls are serialized by a lock, so one runner can serve threads.
    """

    def __init__(self, path, num_threads=None):
        from ai_edge_litert.interpreter import Interpreter

        self.path = _check_file("LiteRTModel", path, "LiteRT model file")
        if num_threads is not None and (not isinstance(num_threads, int) or num_threads < 1):
            raise ValueError(f"LiteRTModel: invalid num_threads={num_threads!r}; expected None or a positive integer")
        try:
            self.interpreter = Interpreter(model_path=self.path, num_threads=num_threads)
            self.interpreter.allocate_tensors()
        except Exception as err:  # the runtime raises ValueError/RuntimeError for a bad file
            raise ValueError(f"LiteRTModel: could not load {self.path!r} as a LiteRT model: {err}") from err
        self._lock = threading.Lock()
        self._refresh()

    def _refresh(self):
        # the interpreter builds these dicts on every call: cache them (they change only on resize)
        self._inputs = self.interpreter.get_input_details()
        self._outputs = self.interpreter.get_output_details()
        self._shapes = [tuple(d["shape"]) for d in self._inputs]

    @property
    def input_details(self):
        return self._inputs

    @property
    def output_details(self):
        return self._outputs

    @property
    def input_dtypes(self):
        return [np.dtype(d["dtype"]) for d in self.input_details]

    @property
    def output_dtypes(self):
        return [np.dtype(d["dtype"]) for d in self.output_details]

    @property
    def input_shapes(self):
        """Input shapes without the batch axis (``-1``: any size)."""
        return [tuple(int(s) for s in d["shape_signature"][1:]) for d in self.input_details]

    @property
    def quantization(self) -> dict:
        """``{"inputs": [(scale, zero_point), ...], "outputs": [...]}`` (``(0.0, 0)``: float)."""
        return {
            "inputs": [tuple(d["quantization"]) for d in self.input_details],
            "outputs": [tuple(d["quantization"]) for d in self.output_details],
        }

    @staticmethod
    def _quantize(x, detail):
        dtype = np.dtype(detail["dtype"])
        if dtype.kind in "iu":
            scale, zero = detail["quantization"]
            info = np.iinfo(dtype)
            return np.clip(np.round(x / scale) + zero, info.min, info.max).astype(dtype)
        return x.astype(dtype)

    @staticmethod
    def _dequantize(q, detail):
        dtype = np.dtype(detail["dtype"])
        if dtype.kind in "iu":
            scale, zero = detail["quantization"]
            return ((q.astype("float32") - zero) * scale).astype("float32")
        return q.astype("float32")

    def _check_inputs(self, xs):
        details = self.input_details
        if len(xs) != len(details):
            raise ValueError(f"LiteRTModel: got {len(xs)} input array(s); {self.path!r} takes {len(details)}")
        for i, (x, d) in enumerate(zip(xs, details)):
            want = tuple(int(s) for s in d["shape_signature"][1:])
            got = x.shape[1:]
            if len(got) != len(want) or any(w != -1 and g != w for g, w in zip(got, want)):
                raise ValueError(
                    f"LiteRTModel: input {i} has shape {x.shape}; expected (batch, *{want}) "
                    "(-1: any size)"
                )

    def _invoke(self, xs):
        it = self.interpreter
        if any(shape != x.shape for x, shape in zip(xs, self._shapes)):
            for x, d in zip(xs, self._inputs):
                it.resize_tensor_input(d["index"], list(x.shape))
            it.allocate_tensors()
            self._refresh()
        for x, d in zip(xs, self._inputs):
            it.set_tensor(d["index"], self._quantize(x, d))
        it.invoke()
        return [self._dequantize(it.get_tensor(d["index"]), d) for d in self._outputs]

    def predict_batch(self, x):
        """Float outputs for one batch (a list of arrays for several inputs)."""
        xs = [np.asarray(a, dtype="float32") for a in (x if isinstance(x, (list, tuple)) else [x])]
        self._check_inputs(xs)
        fixed = int(self.input_details[0]["shape_signature"][0])
        with self._lock:
            if fixed == -1 or fixed == len(xs[0]):
                outs = self._invoke(xs)
            else:  # a file with a fixed batch: feed slices of that size, pad the last
                n = len(xs[0])
                parts = []
                for i in range(0, n, fixed):
                    chunk = [a[i:i + fixed] for a in xs]
                    pad = fixed - len(chunk[0])
                    if pad:
                        chunk = [np.concatenate([c, np.repeat(c[-1:], pad, axis=0)]) for c in chunk]
                    parts.append([o[: fixed - pad] for o in self._invoke(chunk)])
                outs = [np.concatenate([p[j] for p in parts]) for j in range(len(parts[0]))]
        return outs[0] if len(outs) == 1 else outs


    def __repr__(self):
        return f"LiteRTModel({self.path!r}, inputs={self.input_dtypes}, outputs={self.output_dtypes})"


# --------------------------------------------------------------------------- cloud


class SavedModelRunner(_Runner):
    """Call a SavedModel's serving signature with arrays (what TensorFlow Serving runs)."""

    def __init__(self, path, signature="serving_default"):
        import tensorflow as tf

        self.path = _check_file("SavedModelRunner", path, "SavedModel folder")
        if not os.path.isfile(os.path.join(self.path, "saved_model.pb")):
            raise ValueError(f"SavedModelRunner: {self.path!r} is not a SavedModel folder (no saved_model.pb)")
        self._loaded = tf.saved_model.load(self.path)
        if signature not in self._loaded.signatures:
            raise ValueError(
                f"SavedModelRunner: invalid signature={signature!r}; {self.path!r} has "
                f"{sorted(self._loaded.signatures)}"
            )
        self.fn = self._loaded.signatures[signature]
        _, kwargs = self.fn.structured_input_signature
        self.input_names = sorted(kwargs)
        self.input_specs = [kwargs[n] for n in self.input_names]
        self.output_names = sorted(self.fn.structured_outputs)

    def predict_batch(self, x):
        import tensorflow as tf

        xs = x if isinstance(x, (list, tuple)) else [x]
        if len(xs) != len(self.input_names):
            raise ValueError(f"SavedModelRunner: got {len(xs)} input array(s); the signature takes {self.input_names}")
        feeds = {}
        for name, spec, a in zip(self.input_names, self.input_specs, xs):
            a = np.asarray(a, dtype=spec.dtype.as_numpy_dtype)
            if not spec.shape.is_compatible_with(a.shape):
                raise ValueError(f"SavedModelRunner: input {name!r} has shape {a.shape}; expected {spec.shape}")
            feeds[name] = tf.constant(a)
        out = self.fn(**feeds)
        outs = [out[k].numpy() for k in self.output_names]
        return outs[0] if len(outs) == 1 else outs



class KerasRunner(_Runner):
    """A ``.keras`` file loaded with ``safe_mode=True``, with the runners' interface."""

    def __init__(self, path):
        import keras

        self.path = _check_file("KerasRunner", path, ".keras file")
        self.model = keras.saving.load_model(self.path, safe_mode=True)

    def predict_batch(self, x):
        return _call(self.model, x)



def load(path):
    """A predictor for ``path``: a ``.tflite`` file, a SavedModel folder or a ``.keras`` file."""
    path = _check_file("load", path, "model path")
    if os.path.isdir(path):
        return SavedModelRunner(path)
    if path.endswith(".tflite"):
        return LiteRTModel(path)
    if path.endswith(".keras"):
        return KerasRunner(path)
    raise ValueError(
        f"load: invalid path={path!r}; expected a .tflite file, a SavedModel folder or a .keras file"
    )

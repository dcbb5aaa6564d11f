"""Runtimes for exported models, all with the same ``predict(x)`` interface.

- **edge**: :class:`LiteRTModel` runs a ``.tflite`` file on ``ai_edge_litert``;
  it takes and returns floats and does the int8 (de)quantization with the
  file's scale and zero point.
- **cloud**: :class:`SavedModelRunner` calls the ``serving_default`` signature
  of a SavedModel written by ``zoo.export.saved_model`` (what TensorFlow
  Serving loads); ``python -m zoo serve PATH --port N`` serves any of these
  over HTTP (``zoo.serve``).

:func:`load` opens a ``.keras`` file, a SavedModel folder or a ``.tflite`` file
as a predictor.
"""

from __future__ import annotations

import os
import threading

import numpy as np

from zoo.core.checks import check_path
from zoo.core.quiet import silenced
from zoo.deploy.streaming import _call, batch_predict

__all__ = ["LiteRTModel", "SavedModelRunner", "KerasRunner", "load", "register_text_ops"]


def _check_file(cls, path, what):
    path = os.fspath(check_path("path", path, cls))
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
            with silenced():  # "INFO: Created TensorFlow Lite XNNPACK delegate for CPU."
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
        scale, zero = detail["quantization"]
        if dtype.kind in "iu" and scale:  # a quantized input (scale 0: a plain integer input, such as token ids)
            info = np.iinfo(dtype)
            return np.clip(np.round(x / scale) + zero, info.min, info.max).astype(dtype)
        return (np.round(x) if dtype.kind in "iu" else x).astype(dtype)

    @staticmethod
    def _dequantize(q, detail):
        dtype = np.dtype(detail["dtype"])
        scale, zero = detail["quantization"]
        if dtype.kind in "iu" and scale:
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


def register_text_ops() -> bool:
    """Import ``tensorflow_text`` when it is installed, so SavedModels with its ops (SentencePiece) load.

    Its ops are registered with TensorFlow on import; without it such a SavedModel
    fails with "Op type not registered 'SentencepieceOp'". Returns whether it is there.
    """
    try:
        import tensorflow_text  # noqa: F401
    except ImportError:
        return False
    return True


class SavedModelRunner(_Runner):
    """Call a SavedModel's serving signature with arrays (what TensorFlow Serving runs).

    String inputs (a model that starts with a tokenizer layer) take arrays of
    ``str``; tensorflow-text is imported first when installed (:func:`register_text_ops`).
    """

    def __init__(self, path, signature="serving_default"):
        import tensorflow as tf

        self.path = _check_file("SavedModelRunner", path, "SavedModel folder")
        if not os.path.isfile(os.path.join(self.path, "saved_model.pb")):
            raise ValueError(f"SavedModelRunner: {self.path!r} is not a SavedModel folder (no saved_model.pb)")
        register_text_ops()
        with silenced():  # tensorflow-text's SentencePiece op logs from C++ when its model loads
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
        self._warm = False

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
        if self._warm:
            out = self.fn(**feeds)
        else:  # the first call builds the kernels: tensorflow-text's SentencePiece logs from C++ then
            with silenced():
                out = self.fn(**feeds)
            self._warm = True
        outs = [out[k].numpy() for k in self.output_names]
        return outs[0] if len(outs) == 1 else outs



class KerasRunner(_Runner):
    """A ``.keras`` file loaded with ``safe_mode=True``, with the runners' interface."""

    def __init__(self, path):
        from zoo.models import load_model

        self.path = _check_file("KerasRunner", path, ".keras file")
        self.model = load_model(self.path)

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

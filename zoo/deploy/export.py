"""Export a model for inference: ``.keras``, SavedModel (serving) and LiteRT.

    zoo.export.keras_file(model, "m.keras")
    zoo.export.saved_model(model, "serving/m/1")        # TensorFlow Serving loads it
    zoo.export.litert(model, "m.tflite")                # float32
    zoo.export.litert(model, "m16.tflite", quantize="float16")
    zoo.export.litert(model, "m8.tflite", quantize="int8", representative_data=x_train)

LiteRT files are converted through the SavedModel route (a serving SavedModel
written with Keras 3's ``ExportArchive``, then ``TFLiteConverter.from_saved_model``),
never ``TFLiteConverter.from_keras_model``, which fails on Keras 3 models. With
``quantize="int8"`` the file is full-integer: int8 weights, activations, input
and output, calibrated on ``calibration_samples`` samples of
``representative_data``; ``zoo.inference.LiteRTModel`` runs it with float inputs.
Every write is atomic (temporary file, then rename).
"""

from __future__ import annotations

import logging
import os
import tempfile

import numpy as np

from zoo.core.checks import check_path, fail
from zoo.core.io import atomic_dir, atomic_path, atomic_write
from zoo.core.quiet import silenced

log = logging.getLogger("zoo")

__all__ = ["QUANTIZE_MODES", "keras_file", "saved_model", "litert", "input_specs", "builtin_calibration"]

#: ``quantize=`` values of :func:`litert`: float32, dynamic-range (int8 weights,
#: float activations), float16 weights, full integer.
QUANTIZE_MODES = (None, "dynamic", "float16", "int8")

#: Recommended calibration set size for full-integer quantization.
CALIBRATION_RANGE = (100, 500)


# --------------------------------------------------------------------------- helpers


def _is_keras3(model) -> bool:
    import keras

    return isinstance(model, keras.Model)


def _model_name(model) -> str:
    return getattr(model, "name", type(model).__name__)


def _check_model(model, fn):
    import keras

    ok = isinstance(model, keras.Model)
    if not ok:
        try:  # a tf-keras model (the QAT/pruning twins) is accepted too
            import tf_keras

            ok = isinstance(model, tf_keras.Model)
        except ImportError:
            pass
    if not ok:
        fail("model", model, "a keras.Model", fn, error=TypeError)


def _check_path(fn, path, suffix=None):
    path = os.fspath(check_path("path", path, fn))
    if suffix and not path.endswith(suffix):
        raise ValueError(f"{fn}: invalid path={path!r}; expected a path ending in {suffix!r}")
    parent = os.path.dirname(os.path.abspath(path))
    os.makedirs(parent, exist_ok=True)
    return path


def input_specs(model, input_shape=None, batch_size=None, fn="export"):
    """``tf.TensorSpec``s of the model's inputs, named after them, batch axis ``batch_size``.

    ``input_shape`` (without the batch axis; a list of shapes for several inputs)
    replaces the model's own, e.g. to fix the spatial size of a fully
    convolutional model.
    """
    import tensorflow as tf

    if batch_size is not None and (not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1):
        raise ValueError(f"{fn}: invalid batch_size={batch_size!r}; expected None (any) or a positive integer")
    inputs = list(model.inputs) if getattr(model, "inputs", None) else []
    if not inputs:
        raise ValueError(f"{fn}: model {_model_name(model)!r} has no defined inputs; build it on a keras.Input first")
    shapes = [tuple(t.shape[1:]) for t in inputs]
    if input_shape is not None and not isinstance(input_shape, (tuple, list)):
        fail("input_shape", input_shape, f"a shape tuple such as {shapes[0]} (without the batch axis), or None", fn,
             error=TypeError)
    if input_shape is not None:
        given = [tuple(input_shape)] if len(inputs) == 1 else [tuple(s) for s in input_shape]
        if len(given) != len(shapes) or any(len(g) != len(s) for g, s in zip(given, shapes)):
            raise ValueError(
                f"{fn}: invalid input_shape={input_shape!r}; expected {shapes[0] if len(shapes) == 1 else shapes} "
                "(without the batch axis)"
            )
        shapes = given
    specs = []
    for i, (t, shape) in enumerate(zip(inputs, shapes)):
        name = getattr(t, "name", None) or f"input_{i}"
        name = name.split(":")[0].replace("/", "_")
        specs.append(tf.TensorSpec((batch_size, *shape), tf.as_dtype(t.dtype), name=name))
    return specs


def _write_serving_savedmodel(model, directory, specs):
    """A SavedModel whose ``serving_default`` signature calls ``model`` in inference mode."""
    import tensorflow as tf

    def outputs(*args):
        out = model(args[0] if len(args) == 1 else list(args), training=False)
        if isinstance(out, dict):
            return out
        if isinstance(out, (list, tuple)):
            return {f"output_{i}": o for i, o in enumerate(out)}
        return {"outputs": out}

    if _is_keras3(model):
        from keras.export import ExportArchive

        archive = ExportArchive()
        archive.track(model)
        archive.add_endpoint("serving_default", outputs, input_signature=specs)
        archive.write_out(directory, verbose=False)
    else:  # a tf-keras model (QAT): a module holding only its variables and the serving function,
        # which skips tf-keras's slow tracing of every layer for its own SavedModel metadata
        holder = tf.Module()
        holder.weights = list(model.variables)
        holder.serve = tf.function(outputs, input_signature=specs)
        tf.saved_model.save(holder, directory, signatures={"serving_default": holder.serve.get_concrete_function()})


# --------------------------------------------------------------------------- .keras and SavedModel


def keras_file(model, path):
    """Save the whole model to a ``.keras`` file atomically; returns the path."""
    _check_model(model, "keras_file")
    path = _check_path("keras_file", path, ".keras")
    with atomic_path(path, suffix=".keras") as tmp:
        model.save(tmp)
    return path


def saved_model(model, path, input_shape=None, batch_size=None):
    """Export a SavedModel for TensorFlow Serving; returns the path.

    The ``serving_default`` signature takes the model's inputs by name (float
    tensors, batch axis ``batch_size``, any size by default) and returns
    ``{"outputs": ...}`` (``output_0``, ``output_1``, ... for several outputs).
    TensorFlow Serving expects ``path`` to be a numbered version folder, e.g.
    ``models/digits/1``. Load it back with ``tf.saved_model.load`` or
    ``zoo.inference.SavedModelRunner``.
    """
    _check_model(model, "saved_model")
    path = _check_path("saved_model", path)
    if os.path.isfile(path):
        raise ValueError(f"saved_model: invalid path={path!r}; it is a file, expected a folder")
    specs = input_specs(model, input_shape, batch_size, fn="saved_model")
    with atomic_dir(path) as tmp:
        _write_serving_savedmodel(model, tmp, specs)
    return path


# --------------------------------------------------------------------------- LiteRT


def _calibration_samples(data, specs, n, fn="litert"):
    """Up to ``n`` float32 calibration samples per input, as a list of arrays ``(k, *shape)``."""
    import tensorflow as tf

    expected = [tuple(s.shape[1:]) for s in specs]

    def matches(shape, want):
        return len(shape) == len(want) and all(w is None or s == w for s, w in zip(shape, want))

    def describe():
        return expected[0] if len(expected) == 1 else expected

    if callable(data) and not isinstance(data, tf.data.Dataset):
        data = data()
    if isinstance(data, tf.data.Dataset):
        samples = [[] for _ in specs]
        count = 0
        for element in data:
            if isinstance(element, (tuple, list)) and len(specs) == 1 and len(element) in (2, 3):
                element = element[0]  # (x, y) or (x, y, sample_weight)
            parts = [element] if len(specs) == 1 else list(element)
            parts = [np.asarray(p, dtype="float32") for p in parts]
            if matches(parts[0].shape, expected[0]):
                parts = [p[None] for p in parts]
            for i, p in enumerate(parts):
                if not matches(p.shape[1:], expected[i]):
                    raise ValueError(
                        f"{fn}: invalid representative_data: an element has shape {p.shape}; expected samples "
                        f"of shape {describe()} (or batches of them)"
                    )
                samples[i].append(p)
            count += len(parts[0])
            if count >= n:
                break
        if not count:
            raise ValueError(f"{fn}: invalid representative_data: the dataset is empty")
        arrays = [np.concatenate(s)[:n] for s in samples]
    else:
        if isinstance(data, (tuple, list)) and len(specs) == 1 and len(data) == 2 and not np.isscalar(data[0]):
            data = data[0]  # an (x, y) pair
        parts = [data] if len(specs) == 1 else list(data)
        if len(parts) != len(specs):
            raise ValueError(
                f"{fn}: invalid representative_data: {len(parts)} array(s) for a model with {len(specs)} inputs"
            )
        arrays = []
        for i, p in enumerate(parts):
            try:
                p = np.asarray(p, dtype="float32")
            except (TypeError, ValueError) as err:
                raise TypeError(
                    f"{fn}: invalid representative_data of type {type(p).__name__}; expected an array of "
                    f"shape (n, *{describe()}), a tf.data.Dataset or a callable returning one"
                ) from err
            if not matches(p.shape[1:], expected[i]):
                raise ValueError(
                    f"{fn}: invalid representative_data of shape {p.shape}; expected an array of shape "
                    f"(n, *{expected[i]}) (input {i} of the model)"
                )
            if len(p) == 0:
                raise ValueError(f"{fn}: invalid representative_data: it holds no samples")
            arrays.append(p[:n])
    k = len(arrays[0])
    if k < CALIBRATION_RANGE[0]:
        log.warning("%s: calibrating int8 ranges on only %d sample(s); %d-%d are recommended",
                    fn, k, *CALIBRATION_RANGE)
    return arrays


def builtin_calibration(name, model, samples=300):
    """Training inputs of built-in dataset ``name`` shaped for ``model`` (vectors or images)."""
    from zoo import data

    shape = tuple(model.inputs[0].shape[1:])
    if len(shape) == 1:
        splits = data.load(name, flat=True) if name == "digits" else data.load(name)
    elif len(shape) == 3 and name == "digits":
        size = shape[0] if shape[0] not in (None, 8) else None
        splits = data.load(name, image_size=size, channels=shape[2] or 1)
    else:
        raise ValueError(f"invalid calibration data {name!r} for a model with input shape {shape}")
    x = splits.train[0][:samples]
    if x.shape[1:] != shape and all(s is not None for s in shape):
        raise ValueError(f"invalid calibration data {name!r}: samples of shape {x.shape[1:]}, model takes {shape}")
    return x


def _convert(converter, quantize=None, calibration=None, name="model", batch=1):
    """TFLite flatbuffer bytes from ``converter`` (``calibration``: arrays per input, fed ``batch`` at a time)."""
    import tensorflow as tf

    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if quantize is not None:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantize == "float16":
        converter.target_spec.supported_types = [tf.float16]
    elif quantize == "int8":
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
        if calibration is not None:
            def representative_dataset():
                for j in range(0, len(calibration[0]) - batch + 1, batch):
                    yield [a[j:j + batch] for a in calibration]

            converter.representative_dataset = representative_dataset
    try:
        with silenced():  # the converter's C++ lines ("Ignored output_format", op counts); its errors are raised
            return converter.convert()
    except Exception as err:  # the converter raises ConverterError and others
        message = str(err).strip().splitlines()
        detail = " ".join(line.strip() for line in message if "error" in line.lower())[:800] or " ".join(message)[:800]
        raise ValueError(
            f"litert: model {name!r} cannot be converted with quantize={quantize!r}: {detail}"
        ) from err


def _explain_ops(err, model):
    """The converter's error, naming the TensorFlow ops LiteRT lacks and the layers (with their hint) that use them.

    A layer can carry ``litert_hint``, a sentence on what to do instead (a tokenizer
    layer: tokenise outside the model).
    """
    import re

    text = str(err.__cause__ or err)
    ops = sorted(set(re.findall(r"'tf\.(\w+)' op is neither a custom op nor a flex op", text)))
    if not ops:
        return err
    hinted = [layer for layer in model._flatten_layers() if getattr(layer, "litert_hint", None)]
    where = "".join(f" Layer {layer.name!r} ({type(layer).__name__}) uses such ops: {layer.litert_hint}"
                    for layer in hinted)
    return ValueError(f"litert: model {_model_name(model)!r} cannot be converted: LiteRT has no kernel for the "
                      f"TensorFlow ops {', '.join(ops)}.{where or ' Keep those ops out of the exported model.'} "
                      f"(converter: {text.strip().splitlines()[0][:200]})")


def litert(
    model,
    path,
    quantize=None,
    representative_data=None,
    calibration_samples=300,
    input_shape=None,
    batch_size=None,
):
    """Export ``model`` to a LiteRT (``.tflite``) file; returns the path.

    quantize: ``None`` (float32), ``"dynamic"`` (int8 weights, float
        activations), ``"float16"`` (float16 weights) or ``"int8"`` (full
        integer: int8 weights, activations, input and output; needs
        ``representative_data``).
    representative_data: calibration inputs for ``"int8"``: an array of shape
        ``(n, *input_shape)`` (or an ``(x, y)`` pair, a list of arrays for several
        inputs), a ``tf.data.Dataset`` of samples or batches (``(x, y)``
        elements are fine) or a callable returning one. The first
        ``calibration_samples`` samples are used (100-500 recommended).
    input_shape: overrides the model's input shape (without the batch axis).
    batch_size: fixes the batch axis of the file (default: any, resized at run time).
    """
    _check_model(model, "litert")
    path = _check_path("litert", path, ".tflite")
    if quantize not in QUANTIZE_MODES:
        raise ValueError(f"litert: invalid quantize={quantize!r}; expected one of {QUANTIZE_MODES}")
    if not isinstance(calibration_samples, int) or isinstance(calibration_samples, bool) or calibration_samples < 1:
        raise ValueError(f"litert: invalid calibration_samples={calibration_samples!r}; expected a positive integer")
    specs = input_specs(model, input_shape, batch_size, fn="litert")
    calibration = None
    if quantize == "int8":
        if representative_data is None:
            raise ValueError(
                "litert: quantize='int8' needs representative_data= (100-500 input samples to calibrate "
                "the activation ranges)"
            )
        calibration = _calibration_samples(representative_data, specs, calibration_samples)
    elif representative_data is not None:
        log.info("litert: representative_data is only used with quantize='int8'; ignored")

    import tensorflow as tf

    # The SavedModel route (TFLiteConverter.from_keras_model fails on Keras 3 models).
    with tempfile.TemporaryDirectory(prefix="zoo-litert-") as tmp:
        _write_serving_savedmodel(model, tmp, specs)
        converter = tf.lite.TFLiteConverter.from_saved_model(tmp, signature_keys=["serving_default"])
        try:
            payload = _convert(converter, quantize, calibration, name=_model_name(model), batch=batch_size or 1)
        except ValueError as err:
            raise _explain_ops(err, model) from err
    atomic_write(path, payload)
    return path

"""Quantization and pruning: Keras-native int8, QAT and pruning through TF-MOT.

    zoo.quantize.ptq(model, mode="int8")       # Keras 3 model.quantize, in place
    result = zoo.quantize.qat(model, (x, y), epochs=2, path="m_qat.tflite")
    result = zoo.quantize.prune(model, 0.75, "polynomial", data=(x, y), epochs=2)

Full-integer LiteRT files from a float model are written by
``zoo.export.litert(model, path, quantize="int8", representative_data=x)``.

**Which layers each path covers**

- ``ptq`` (Keras 3 ``model.quantize``): the weights of ``Dense``,
  ``EinsumDense``, ``Embedding`` and ``ReversibleEmbedding`` layers (int8
  weights with a per-channel scale, activations quantized on the fly).
  Convolutions, normalization and recurrent layers stay float: a purely
  convolutional model gets an error; use the LiteRT int8 export for those.
- ``qat`` and ``prune`` (TF-MOT 0.8.1): the layers of TF-MOT's default 8-bit
  registry (``Dense``, ``Conv2D``, ``DepthwiseConv2D``, ``Conv2DTranspose``,
  ``BatchNormalization``, ``ReLU``, ``Activation``, ``Add``, ``Concatenate``,
  pooling, ``Flatten``, ``Reshape``, ``Dropout``, ...), which covers the MLP and
  the conv families (simple CNNs, VGG, ResNet, MobileNet). A model with any other
  layer gets a ``ValueError`` naming the layer before any work starts.

TF-MOT only accepts tf-keras (Keras 2) models. ``qat``/``prune`` rebuild the
model's tf-keras twin with the same registry builder and arguments
(``zoo.get(name, keras=tf_keras, ...)``), copy the weights (outputs equal within
1e-5) and work on the twin. TF-MOT is imported lazily, only on these paths; its
import sets ``TF_USE_LEGACY_KERAS=1``, which :func:`_tfmot` undoes so that the
rest of the process keeps Keras 3 as ``tf.keras``.
"""

from __future__ import annotations

import dataclasses
import gzip
import logging
import numbers
import os

import numpy as np

log = logging.getLogger("zoo")

__all__ = [
    "PTQ_MODES",
    "PTQ_LAYERS",
    "ptq",
    "quantized_layers",
    "tf_keras_twin",
    "supported_layers",
    "qat",
    "QATResult",
    "prune",
    "PruneResult",
    "sparsity",
    "gzipped_size",
]

#: ``mode=`` values of :func:`ptq` (Keras 3 ``model.quantize`` modes that need no data).
PTQ_MODES = ("int8", "int4", "float8")
#: Layer classes Keras 3 ``model.quantize`` converts.
PTQ_LAYERS = ("Dense", "EinsumDense", "Embedding", "ReversibleEmbedding")


# --------------------------------------------------------------------------- post-training (Keras)


def quantized_layers(model) -> list[str]:
    """Names of the layers of ``model`` whose weights Keras has quantized."""
    return [
        layer.name
        for layer in model._flatten_layers(include_self=False)
        if getattr(layer, "quantization_mode", None)
    ]


def ptq(model, mode="int8", filters=None):
    """Post-training quantization of ``model``'s weights with Keras 3, in place; returns ``model``.

    Covers the weights of :data:`PTQ_LAYERS` (``mode="int8"``: int8 weights,
    per-output-channel scales); other layers stay float and are logged.
    ``filters``: a regex, list of regexes or callable choosing the layers
    (Keras's ``model.quantize(filters=...)``). Raises ``ValueError`` when no
    layer of the model can be quantized (a purely convolutional model: export
    it with ``zoo.export.litert(..., quantize="int8")`` instead).
    """
    import keras

    if not isinstance(model, keras.Model):
        raise TypeError(f"ptq: model must be a keras.Model, got {type(model).__name__}")
    if mode not in PTQ_MODES:
        raise ValueError(f"ptq: invalid mode={mode!r}; expected one of {PTQ_MODES}")
    if not model.built:
        raise ValueError(f"ptq: model {model.name!r} is not built; call it on data or build it first")
    if quantized_layers(model):
        raise ValueError(f"ptq: model {model.name!r} is already quantized ({', '.join(quantized_layers(model)[:3])})")
    leaves = [layer for layer in model._flatten_layers(include_self=False) if not list(layer._flatten_layers(include_self=False))]
    covered = [layer for layer in leaves if type(layer).__name__ in PTQ_LAYERS]
    if not covered:
        weighted = sorted({type(layer).__name__ for layer in leaves if layer.weights})
        raise ValueError(
            f"ptq: model {model.name!r} has no layer that Keras quantizes in mode {mode!r} "
            f"(covered: {', '.join(PTQ_LAYERS)}; its weighted layers are {', '.join(weighted) or 'none'}); "
            "use zoo.export.litert(model, path, quantize='int8', representative_data=...) for conv layers"
        )
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.quantize(mode, filters=filters)
    done = set(quantized_layers(model))
    left = [layer.name for layer in leaves if layer.weights and layer.name not in done]
    log.info("ptq: %s quantized %d layer(s) to %s; kept float: %s", model.name, len(done), mode,
             ", ".join(left) or "none")
    return model


# --------------------------------------------------------------------------- TF-MOT plumbing


def _tfmot():
    """Import TF-MOT without leaving the process on legacy Keras."""
    import tensorflow as tf

    getattr(tf.keras, "__name__", None)  # load tf.keras (Keras 3) before TF-MOT sets TF_USE_LEGACY_KERAS
    before = os.environ.get("TF_USE_LEGACY_KERAS")
    try:
        import tensorflow_model_optimization as tfmot
        import tf_keras
    finally:
        if before is None:
            os.environ.pop("TF_USE_LEGACY_KERAS", None)
        else:
            os.environ["TF_USE_LEGACY_KERAS"] = before
    return tfmot, tf_keras


def _build_spec(model, fn):
    spec = getattr(model, "_zoo_build", None)
    if spec is None:
        raise ValueError(
            f"{fn}: model {getattr(model, 'name', model)!r} was not built by zoo.get, so its tf-keras twin "
            "cannot be rebuilt from the family builder; build it with zoo.get(name, ...) (load weights with "
            "weights=) and pass that model"
        )
    return spec


def supported_layers() -> list[str]:
    """Layer class names the QAT/pruning path accepts (TF-MOT's default 8-bit registry and folds)."""
    _tfmot()
    from tensorflow_model_optimization.python.core.quantization.keras.default_8bit import (
        default_8bit_quantize_registry as registry,
    )

    names = {cls.__name__ for cls in registry.Default8BitQuantizeRegistry()._layer_quantize_map}
    # InputLayer needs nothing; BatchNormalization is folded into the conv before it and
    # SeparableConv2D split into depthwise + pointwise by TF-MOT's layout transforms.
    return sorted(names | {"InputLayer", "BatchNormalization", "SeparableConv2D"})


def _check_supported(model, fn, name):
    """Raise naming the first layer of ``model`` that the TF-MOT twin path cannot take."""
    import inspect

    import zoo

    accepted = supported_layers()
    for layer in model.layers:
        kind = type(layer).__name__
        if hasattr(layer, "layers") and getattr(layer, "layers", None):
            raise ValueError(
                f"{fn}: model {name!r} contains the nested model {layer.name!r} ({kind}), which TF-MOT cannot "
                "quantize or prune; supported are flat MLP and conv models"
            )
        if kind not in accepted:
            raise ValueError(
                f"{fn}: model {name!r} has layer {layer.name!r} of type {kind}, which TF-MOT's 8-bit scheme "
                f"does not support; supported: MLP and conv families built from {', '.join(accepted)}"
            )
    builder = zoo.registry._lookup(name).builder
    if "keras" not in inspect.signature(builder).parameters:
        raise ValueError(
            f"{fn}: model {name!r} cannot be rebuilt with tf-keras: its builder takes no keras= argument"
        )


def tf_keras_twin(model, fn="tf_keras_twin"):
    """The tf-keras twin of a ``zoo.get`` model: same builder, same arguments, same weights.

    Returns ``(twin, spec)`` where ``spec`` is ``(name, build arguments)``.
    """
    import zoo

    name, args = _build_spec(model, fn)
    _, tf_keras = _tfmot()
    twin = zoo.get(name, keras=tf_keras, **args)
    copy_weights(model, twin, fn)
    return twin, (name, args)


def copy_weights(src, dst, fn="copy_weights"):
    """Copy weights layer by layer between a Keras 3 model and its tf-keras twin (either way)."""
    src_layers = [layer for layer in src.layers if layer.weights]
    dst_layers = [layer for layer in dst.layers if layer.weights]
    if [layer.name for layer in src_layers] != [layer.name for layer in dst_layers]:
        raise ValueError(f"{fn}: the twin's layers differ from the model's; cannot copy weights")
    for a, b in zip(src_layers, dst_layers):
        wa = [np.asarray(w) for w in a.get_weights()]
        shapes_b = [tuple(w.shape) for w in b.get_weights()]
        if [w.shape for w in wa] != shapes_b:
            raise ValueError(
                f"{fn}: layer {a.name!r} has weights of shapes {[w.shape for w in wa]} but its twin {shapes_b}"
            )
        b.set_weights(wa)


def _fit_inputs(data, fn):
    """``(x, y)`` arrays or a ``tf.data.Dataset`` -> (fit kwargs, representative inputs or dataset)."""
    import tensorflow as tf

    if isinstance(data, tf.data.Dataset):
        return {"x": data}, data
    if isinstance(data, (tuple, list)) and len(data) == 2:
        x, y = np.asarray(data[0], dtype="float32"), np.asarray(data[1])
        if len(x) != len(y) or len(x) == 0:
            raise ValueError(f"{fn}: invalid data; x has {len(x)} samples and y {len(y)}; expected equal, non-zero")
        return {"x": x, "y": y}, x
    raise ValueError(f"{fn}: invalid data of type {type(data).__name__}; expected an (x, y) pair or a tf.data.Dataset")


def _loss_for(model, spec, loss, fn):
    if loss is not None:
        return loss
    compiled = getattr(model, "loss", None)
    if isinstance(compiled, str):
        return compiled
    import zoo

    recipe = zoo.info(spec[0]).get("recipe") or {}
    if recipe.get("loss"):
        return recipe["loss"]
    raise ValueError(f"{fn}: no loss for model {spec[0]!r}; pass loss= (a loss name such as 'mse')")


def _check_positive(fn, name, value, allow_zero=False):
    low = 0 if allow_zero else 1
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ValueError(f"{fn}: invalid {name}={value!r}; expected an integer >= {low}")


def gzipped_size(model) -> int:
    """Bytes of ``model``'s weight arrays once gzip-compressed (how sparsity pays off)."""
    raw = b"".join(np.ascontiguousarray(w).tobytes() for w in model.get_weights())
    return len(gzip.compress(raw, compresslevel=9))


# --------------------------------------------------------------------------- QAT


@dataclasses.dataclass
class QATResult:
    """What :func:`qat` returns."""

    model: object  # the tf-keras model with fake-quantization (TF-MOT)
    twin: object  # the float tf-keras twin it started from
    history: dict
    path: str | None  # the int8 LiteRT file, when ``path`` was given
    max_twin_error: float  # max |Keras 3 output - twin output| on the first batch of data


def qat(
    model,
    data=None,
    *,
    epochs=None,
    batch_size=32,
    learning_rate=1e-4,
    loss=None,
    metrics=("accuracy",),
    validation_data=None,
    path=None,
    calibration_samples=300,
    verbose=0,
):
    """Quantization-aware training of a ``zoo.get`` model through TF-MOT.

    Builds the tf-keras twin (same builder, copied weights), wraps it with
    ``tfmot.quantization.keras.quantize_model``, fine-tunes it ``epochs`` epochs
    on ``data`` (an ``(x, y)`` pair or a ``tf.data.Dataset``; default 1 epoch
    with data, none without: ``qat(model)`` only prepares the model) with ``loss`` (default: the model's compiled
    loss or its registry recipe's) and, with ``path=``, exports a full-int8
    LiteRT file. Unsupported layers raise ``ValueError`` naming the layer
    before any work starts.
    """
    if epochs is None:
        epochs = 1 if data is not None else 0
    _check_positive("qat", "epochs", epochs, allow_zero=True)
    _check_positive("qat", "batch_size", batch_size)
    if epochs and data is None:
        raise ValueError("qat: epochs > 0 needs data= (an (x, y) pair or a tf.data.Dataset)")
    if path is not None and not os.fspath(path).endswith(".tflite"):
        raise ValueError(f"qat: invalid path={path!r}; expected a path ending in '.tflite'")
    if path is not None and data is None:
        raise ValueError("qat: path= needs data= (its inputs calibrate the int8 file's input range)")
    spec = _build_spec(model, "qat")
    _check_supported(model, "qat", spec[0])
    tfmot, tf_keras = _tfmot()
    twin, _ = tf_keras_twin(model, fn="qat")
    fit_kwargs, rep = _fit_inputs(data, "qat") if data is not None else ({}, None)
    max_err = _twin_error(model, twin, rep)

    try:
        qmodel = tfmot.quantization.keras.quantize_model(twin)
    except (ValueError, RuntimeError, TypeError) as err:  # e.g. an activation TF-MOT cannot quantize
        raise ValueError(f"qat: TF-MOT cannot quantize model {spec[0]!r}: {err}") from err
    history = {}
    if epochs:
        qmodel.compile(
            optimizer=tf_keras.optimizers.Adam(learning_rate),
            loss=_loss_for(model, spec, loss, "qat"),
            metrics=list(metrics),
        )
        if "y" in fit_kwargs:
            fit_kwargs["batch_size"] = batch_size
        history = qmodel.fit(**fit_kwargs, epochs=epochs, validation_data=validation_data, verbose=verbose).history
    out = None
    if path is not None:
        from zoo import export

        out = export.litert(qmodel, path, quantize="int8", representative_data=rep,
                            calibration_samples=calibration_samples)
    return QATResult(qmodel, twin, history, out, max_err)


def _twin_error(model, twin, rep):
    import tensorflow as tf

    if rep is None:
        shape = tuple(model.inputs[0].shape[1:])
        x = np.random.default_rng(0).random((8, *shape), dtype="float32")
    elif isinstance(rep, tf.data.Dataset):
        element = next(iter(rep))
        x = np.asarray(element[0] if isinstance(element, tuple) else element)
    else:
        x = rep[:32]
    a = np.asarray(model(x, training=False))
    b = np.asarray(twin(x, training=False))
    return float(np.max(np.abs(a - b)))


# --------------------------------------------------------------------------- pruning


PRUNE_SCHEDULES = ("polynomial", "constant")


@dataclasses.dataclass
class PruneResult:
    """What :func:`prune` returns."""

    model: object  # a Keras 3 model (same builder) holding the pruned weights
    sparsity: float  # fraction of zeros over the prunable kernels
    layer_sparsity: dict  # layer name -> fraction of zeros in its kernel
    dense_gzip_bytes: int  # gzip-compressed weights before pruning
    gzip_bytes: int  # gzip-compressed weights after pruning
    history: dict

    @property
    def compression(self) -> float:
        """How many times smaller the compressed weights are after pruning."""
        return self.dense_gzip_bytes / max(self.gzip_bytes, 1)


def sparsity(model) -> tuple[float, dict]:
    """Fraction of zeros over the kernels of ``model`` (Dense/Conv), overall and per layer."""
    per_layer, zeros, total = {}, 0, 0
    for layer in model.layers:
        for attr in ("kernel", "depthwise_kernel"):
            w = getattr(layer, attr, None)
            if w is None:
                continue
            w = np.asarray(w)
            per_layer[layer.name] = float(np.mean(w == 0))
            zeros += int(np.sum(w == 0))
            total += w.size
    return (zeros / total if total else 0.0), per_layer


def prune(
    model,
    target_sparsity=0.5,
    schedule="polynomial",
    *,
    data,
    epochs=2,
    batch_size=32,
    learning_rate=1e-4,
    loss=None,
    metrics=("accuracy",),
    frequency=None,
    verbose=0,
):
    """Magnitude pruning of a ``zoo.get`` model through TF-MOT's ``prune_low_magnitude``.

    ``schedule``: ``"polynomial"`` (sparsity ramps from 0 to ``target_sparsity``
    over the fine-tuning steps), ``"constant"`` (``target_sparsity`` from the
    first step) or a ``tfmot.sparsity.keras.PruningSchedule``. Fine-tunes
    ``epochs`` epochs on ``data`` (``(x, y)`` arrays or a ``tf.data.Dataset``),
    strips the pruning wrappers and copies the weights into a fresh Keras 3
    model. The result reports the reached sparsity and the gzip-compressed size
    before and after. ``frequency``: steps between mask updates (default: a
    tenth of the steps).
    """
    if not isinstance(target_sparsity, numbers.Real) or isinstance(target_sparsity, bool) or not 0 < target_sparsity < 1:
        raise ValueError(f"prune: invalid target_sparsity={target_sparsity!r}; expected a number in (0, 1)")
    _check_positive("prune", "epochs", epochs)
    _check_positive("prune", "batch_size", batch_size)
    if frequency is not None:
        _check_positive("prune", "frequency", frequency)
    spec = _build_spec(model, "prune")
    tfmot, tf_keras = _tfmot()
    if not (schedule in PRUNE_SCHEDULES or isinstance(schedule, tfmot.sparsity.keras.PruningSchedule)):
        raise ValueError(
            f"prune: invalid schedule={schedule!r}; expected one of {PRUNE_SCHEDULES} or a "
            "tfmot.sparsity.keras.PruningSchedule"
        )
    fit_kwargs, _ = _fit_inputs(data, "prune")
    _check_supported(model, "prune", spec[0])
    twin, _ = tf_keras_twin(model, fn="prune")

    if "y" in fit_kwargs:
        steps_per_epoch = -(-len(fit_kwargs["x"]) // batch_size)
        fit_kwargs["batch_size"] = batch_size
    else:
        steps_per_epoch = int(data.cardinality())
        if steps_per_epoch < 1:
            raise ValueError("prune: the dataset must have a known, finite number of batches")
    total = steps_per_epoch * epochs
    freq = frequency or max(1, total // 10)
    end = max(freq, (total - 1) // freq * freq)  # the last mask update hits the target
    sparsity_api = tfmot.sparsity.keras
    if schedule == "polynomial":
        schedule = sparsity_api.PolynomialDecay(0.0, float(target_sparsity), begin_step=0, end_step=end, frequency=freq)
    elif schedule == "constant":
        schedule = sparsity_api.ConstantSparsity(float(target_sparsity), begin_step=0, frequency=freq)

    pruned = sparsity_api.prune_low_magnitude(twin, pruning_schedule=schedule)
    pruned.compile(
        optimizer=tf_keras.optimizers.Adam(learning_rate),
        loss=_loss_for(model, spec, loss, "prune"),
        metrics=list(metrics),
    )
    history = pruned.fit(
        **fit_kwargs, epochs=epochs, verbose=verbose, callbacks=[sparsity_api.UpdatePruningStep()]
    ).history
    stripped = sparsity_api.strip_pruning(pruned)

    import zoo

    result_model = zoo.get(spec[0], **spec[1])
    copy_weights(stripped, result_model, fn="prune")
    overall, per_layer = sparsity(result_model)
    return PruneResult(result_model, overall, per_layer, gzipped_size(model), gzipped_size(result_model), history)

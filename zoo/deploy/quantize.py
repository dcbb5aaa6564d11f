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
import logging
import os

import numpy as np

from zoo.core.checks import check_model, check_path, fail
from zoo.deploy.tfmot import (
    _build_spec,
    _check_positive,
    _check_supported,
    _fit_inputs,
    _loss_for,
    _tfmot,
    copy_weights,
    gzipped_size,
    supported_layers,
    tf_keras_twin,
)

log = logging.getLogger("zoo")

__all__ = [
    "PTQ_MODES",
    "PTQ_LAYERS",
    "ptq",
    "quantized_layers",
    "tf_keras_twin",
    "copy_weights",
    "supported_layers",
    "qat",
    "QATResult",
    "prune",
    "PRUNE_SCHEDULES",
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
    check_model("model", model, "quantized_layers")
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
        fail("model", model, "a keras.Model", "ptq", error=TypeError)
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
    check_path("path", path, "qat", allow_none=True)
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
        from zoo.deploy import export

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


from zoo.deploy.pruning import PRUNE_SCHEDULES, PruneResult, prune, sparsity  # noqa: E402  (zoo.quantize.prune)

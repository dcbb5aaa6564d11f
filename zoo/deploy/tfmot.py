"""TF-MOT plumbing shared by QAT and pruning: its import, tf-keras twins, coverage and input checks.

TF-MOT only accepts tf-keras (Keras 2) models: the twin of a ``zoo.get`` model is
rebuilt by the same registry builder with ``keras=tf_keras`` and gets the same
weights. TF-MOT is imported lazily; its import sets ``TF_USE_LEGACY_KERAS=1``,
which :func:`_tfmot` undoes so that the rest of the process keeps Keras 3.
"""

from __future__ import annotations

import gzip
import os

import numpy as np

from zoo.core.checks import check_int, check_model

__all__ = ["supported_layers", "tf_keras_twin", "copy_weights", "gzipped_size"]


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
    check_model("model", model, fn, accepted="a Keras model built by zoo.get")
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
    check_model("src", src, fn)
    check_model("dst", dst, fn)
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
    check_int(name, value, minimum=0 if allow_zero else 1, owner=fn)


def gzipped_size(model) -> int:
    """Bytes of ``model``'s weight arrays once gzip-compressed (how sparsity pays off)."""
    check_model("model", model, "gzipped_size")
    raw = b"".join(np.ascontiguousarray(w).tobytes() for w in model.get_weights())
    return len(gzip.compress(raw, compresslevel=9))

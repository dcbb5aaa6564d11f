"""Magnitude pruning through TF-MOT (``zoo.quantize.prune``): sparse weights that gzip small.

    result = zoo.quantize.prune(model, 0.75, "polynomial", data=(x, y), epochs=2)
"""

from __future__ import annotations

import dataclasses
import logging
import numbers

import numpy as np

from zoo.core.checks import check_model
from zoo.deploy.tfmot import (
    _build_spec,
    _check_positive,
    _check_supported,
    _fit_inputs,
    _loss_for,
    _tfmot,
    copy_weights,
    gzipped_size,
    tf_keras_twin,
)

log = logging.getLogger("zoo")

__all__ = ["PRUNE_SCHEDULES", "PruneResult", "sparsity", "prune"]

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
    check_model("model", model, "sparsity")
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

"""Backpropagation made visible and overfitting diagnosed.

- ``gradient_check`` compares the tape's gradients (backpropagation) with
  central finite differences, layer by layer, as CS231n teaches.
- ``learning_curves`` reads a ``History`` (or a CSV log) and says whether the
  run underfits, fits or overfits, and where to stop; ``OverfitWarning`` is the
  same logic as a callback that warns during training.
"""

from __future__ import annotations

import csv
import dataclasses
import logging
import os
import warnings

import keras
import numpy as np

from zoo.core.checks import check_int, check_model, check_number, fail
from zoo.core.io import atomic_path

__all__ = [
    "GradientCheckReport",
    "gradient_check",
    "CurveDiagnosis",
    "learning_curves",
    "OverfitWarning",
]

log = logging.getLogger("zoo")


# --------------------------------------------------------------------------- gradient check


@dataclasses.dataclass
class GradientCheckReport:
    """Per-layer maximum relative error between backprop and finite differences."""

    errors: dict  # layer name -> max relative error over the sampled parameters
    checked: dict  # layer name -> number of parameters sampled
    tolerance: float
    dtype: str

    @property
    def passed(self) -> bool:
        return all(e <= self.tolerance for e in self.errors.values())

    @property
    def failing_layers(self) -> list[str]:
        return [name for name, e in self.errors.items() if e > self.tolerance]

    def __str__(self):
        rows = [f"gradient check ({self.dtype}, tolerance {self.tolerance:g}):"]
        rows += [
            f"  {name:<24} rel. error {err:.2e}  ({self.checked[name]} params)"
            f"{'  <-- FAIL' if err > self.tolerance else ''}"
            for name, err in self.errors.items()
        ]
        return "\n".join(rows)


def _float64_twin(model):
    """A float64 copy of ``model`` (finite differences need the precision), or None."""
    def clone_layer(layer):
        config = layer.get_config()
        config["dtype"] = "float64"
        return layer.__class__.from_config(config)

    try:
        twin = keras.models.clone_model(model, clone_function=clone_layer)
        twin.set_weights([w.astype("float64") for w in model.get_weights()])
        return twin
    except Exception as err:  # subclassed models cannot be cloned layer by layer
        log.info("gradient_check: no float64 twin (%s); checking in the model's own dtype", err)
        return None


def gradient_check(model, x, y, loss="mse", eps=None, params_per_variable=6, tolerance=None, seed=0,
                   precision="float64") -> GradientCheckReport:
    """Compare backprop gradients with central finite differences on sampled parameters.

    For each trainable variable, ``params_per_variable`` entries are sampled;
    each is nudged by ±``eps`` and ``(L(w+eps) - L(w-eps)) / 2 eps`` is compared
    with the tape's gradient. The relative error ``|a - n| / max(|a| + |n|, 1e-12)``
    is reported per layer (max over its samples). The check runs on a float64
    twin of the model by default (``precision="float32"`` uses the model as is,
    with a looser default tolerance). Layers run in inference mode, so dropout
    does not make the loss random.
    """
    import tensorflow as tf

    if precision not in ("float64", "float32"):
        raise ValueError(f"invalid precision={precision!r}; expected 'float64' or 'float32'")
    if not isinstance(params_per_variable, int) or params_per_variable < 1:
        raise ValueError(f"invalid params_per_variable={params_per_variable!r}; expected a positive integer")
    check_model("model", model, "gradient_check")
    check_number("eps", eps, low=0, low_open=True, allow_none=True)
    check_number("tolerance", tolerance, low=0, low_open=True, allow_none=True)
    if not isinstance(loss, str) and not callable(loss):
        fail("loss", loss, "a loss name such as 'mse' or a callable loss(y_true, y_pred)", error=TypeError)
    if not model.trainable_weights:
        raise ValueError(f"model {model.name!r} has no trainable weights to check")
    net = _float64_twin(model) if precision == "float64" else None
    dtype = "float64" if net is not None else "float32"
    net = net or model
    eps = eps if eps is not None else (1e-6 if dtype == "float64" else 1e-3)
    tolerance = tolerance if tolerance is not None else (1e-5 if dtype == "float64" else 5e-2)
    loss_fn = keras.losses.get(loss)
    x = tf.convert_to_tensor(np.asarray(x), dtype=dtype if np.asarray(x).dtype.kind == "f" else None)
    y = tf.convert_to_tensor(np.asarray(y))

    def objective():
        return tf.reduce_mean(tf.cast(loss_fn(y, net(x, training=False)), "float64"))

    with tf.GradientTape() as tape:
        value = objective()
    grads = tape.gradient(value, net.trainable_weights)

    rng = np.random.default_rng(seed)
    errors, checked = {}, {}
    owner = {id(v): layer.name for layer in net.layers for v in layer.trainable_weights}
    for var, grad in zip(net.trainable_weights, grads):
        layer = owner.get(id(var), var.path.split("/")[0])
        analytic = np.zeros(var.shape) if grad is None else np.asarray(grad)
        original = np.asarray(var.numpy()).copy()
        flat = original.reshape(-1)
        picks = rng.choice(flat.size, size=min(params_per_variable, flat.size), replace=False)
        for index in picks:
            nudged = flat.copy()
            nudged[index] += eps
            var.assign(nudged.reshape(original.shape))
            plus = float(objective())
            nudged[index] -= 2 * eps
            var.assign(nudged.reshape(original.shape))
            minus = float(objective())
            var.assign(original)
            numeric = (plus - minus) / (2 * eps)
            a = float(analytic.reshape(-1)[index])
            rel = abs(a - numeric) / max(abs(a) + abs(numeric), 1e-12)
            errors[layer] = max(errors.get(layer, 0.0), rel)
            checked[layer] = checked.get(layer, 0) + 1
    return GradientCheckReport(errors, checked, tolerance, dtype)


# --------------------------------------------------------------------------- learning curves


@dataclasses.dataclass
class CurveDiagnosis:
    """What the loss curves say. Epochs are 1-based, as Keras prints them."""

    verdict: str  # "underfit", "fit" or "overfit"
    best_epoch: int  # lowest validation loss: the recommended early-stopping epoch
    overfit_from: int | None  # first epoch after which validation loss only rose while training loss fell
    generalization_gap: float  # val_loss - loss at the last epoch
    message: str
    history: dict = dataclasses.field(repr=False, default_factory=dict)

    @property
    def recommended_stop_epoch(self) -> int:
        return self.best_epoch

    def plot(self, path, title=None):
        """Write the loss (and accuracy, when logged) curves as a PNG, marking the best epoch."""
        return plot_history(self.history, path, title=title, best_epoch=self.best_epoch)


def _read_history(history) -> dict:
    if isinstance(history, keras.callbacks.History):
        history = history.history
    if isinstance(history, (str, os.PathLike)):
        with open(history, newline="") as f:
            rows = list(csv.DictReader(f))
        if not rows:
            raise ValueError(f"history file {os.fspath(history)!r} has no rows")
        history = {k: [float(r[k]) for r in rows] for k in rows[0] if k != "epoch"}
    if not isinstance(history, dict):
        raise ValueError(
            f"invalid history={type(history).__name__}; expected a keras History, its .history dict or a CSVLogger file"
        )
    for key, values in history.items():
        if not isinstance(values, (list, tuple, np.ndarray)):
            fail(f"history[{key!r}]", values, "a list of per-epoch values", error=TypeError)
    return {k: [float(v) for v in values] for k, values in history.items()}


def learning_curves(history, min_delta=0.02, patience=2) -> CurveDiagnosis:
    """Diagnose a run from its ``History``, ``.history`` dict or CSVLogger file.

    Overfit: the validation loss rose more than ``min_delta`` (relative) above
    its minimum and stayed up for at least ``patience`` epochs while the
    training loss kept falling. Underfit: no overfitting, and either the
    validation loss still fell by more than 5% (or ``min_delta``) over the last third
    of the run (train longer) or the training loss fell less than 30% overall
    (add capacity). Otherwise the run fits.
    """
    check_number("min_delta", min_delta, low=0)
    check_int("patience", patience, minimum=0)
    h = _read_history(history)
    for key in ("loss", "val_loss"):
        if key not in h or not h[key]:
            have = ", ".join(sorted(h)) or "nothing"
            raise ValueError(
                f"history has no {key!r} (it has {have}); train with validation_data= or validation_split="
            )
    loss, val = np.asarray(h["loss"]), np.asarray(h["val_loss"])
    if not (np.all(np.isfinite(loss)) and np.all(np.isfinite(val))):
        raise ValueError("history holds NaN or infinite losses; the run diverged")
    n = len(val)
    best = int(np.argmin(val))
    gap = float(val[-1] - loss[-1])
    rose = val[best + 1:] > val[best] * (1 + min_delta)
    overfit = (
        n - 1 - best >= patience
        and rose.size > 0
        and bool(rose[-patience:].all())
        and loss[-1] < loss[best]
    )
    if overfit:
        start = best + 1 + int(np.argmax(rose))  # 0-based epoch where the rise began
        message = (
            f"overfitting: validation loss rose from {val[best]:.4f} (epoch {best + 1}) to {val[-1]:.4f} "
            f"while training loss fell to {loss[-1]:.4f}; stop at epoch {best + 1} "
            "(EarlyStopping(restore_best_weights=True)), or add dropout, weight decay or data"
        )
        return CurveDiagnosis("overfit", best + 1, start + 1, gap, message, h)
    third = max(1, n // 3)
    recent_drop = (val[-third - 1] - val[-1]) / max(abs(val[-third - 1]), 1e-12) if n > third else 0.0
    barely_learned = loss[-1] > 0.7 * loss[0]
    still_falling = recent_drop > max(min_delta, 0.05)
    if still_falling or barely_learned:
        why = ("validation loss is still falling: train longer" if still_falling
               else "training loss fell less than 30%: add capacity or raise the learning rate")
        return CurveDiagnosis("underfit", best + 1, None, gap, f"underfitting: {why}", h)
    return CurveDiagnosis("fit", best + 1, None, gap,
                          f"fits: validation loss settled at {val[best]:.4f} (epoch {best + 1})", h)


def plot_history(history, path, title=None, best_epoch=None, max_panels=4):
    """Curves of every logged metric (training and validation together) as a PNG at ``path``.

    Written atomically; ``best_epoch`` draws a dashed line where training should stop.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    h = _read_history(history)
    metrics = [m for m in h if not m.startswith("val_") and m != "learning_rate"][:max_panels]
    if not metrics:
        raise ValueError("history has no metric to plot")
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.5 * len(metrics), 3.3), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        epochs = np.arange(1, len(h[metric]) + 1)
        ax.plot(epochs, h[metric], label=f"train {metric}")
        if f"val_{metric}" in h:
            ax.plot(epochs, h[f"val_{metric}"], label=f"validation {metric}")
        if best_epoch:
            ax.axvline(best_epoch, color="grey", linestyle="--", label=f"best epoch {best_epoch}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)


def save_figure(fig, path, dpi=80):
    """Write a matplotlib figure as a PNG atomically (temporary file, then rename) and close it."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    try:
        with atomic_path(path, suffix=".png") as tmp:
            fig.savefig(tmp, dpi=dpi)
    finally:
        plt.close(fig)
    return os.fspath(path)


class OverfitWarning(keras.callbacks.Callback):
    """Warns once, during training, when ``learning_curves`` sees overfitting begin."""

    def __init__(self, min_delta=0.02, patience=2):
        super().__init__()
        self.min_delta, self.patience = min_delta, patience
        self.diagnosis = None

    def on_train_begin(self, logs=None):
        self.seen = {}
        self.diagnosis = None

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.seen.setdefault(key, []).append(float(value))
        if self.diagnosis is not None or "val_loss" not in self.seen:
            return
        diagnosis = learning_curves(self.seen, self.min_delta, self.patience)
        if diagnosis.verdict == "overfit":
            self.diagnosis = diagnosis
            warnings.warn(f"epoch {epoch + 1}: {diagnosis.message}", stacklevel=2)
            log.warning("epoch %d: %s", epoch + 1, diagnosis.message)

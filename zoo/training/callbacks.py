"""Callbacks shared by zoo training and the agents, all ``keras.callbacks.Callback``.

They follow Keras's protocol only, so they work in ``model.fit``, in
``zoo.train.fit`` and in an agent's ``learn`` alike (agents report an "epoch"
per rollout or evaluation interval, with logs such as ``episode_return``).

- ``ProgressBar``: a tqdm bar over epochs with the latest logs.
- ``Checkpoint``: atomic ``best`` and ``last`` weights plus a small JSON state,
  so an interrupted run resumes (``Checkpoint.resume``) losing at most one epoch.
- ``EarlyStopping``: Keras's, restoring the best weights by default.
- ``HistoryPlot``: the loss/metric curves as a PNG, rewritten as training goes.
- ``LRFinder`` / ``find_learning_rate``: the learning-rate range test
  (Smith 2017): raise the rate exponentially batch by batch, record the loss,
  suggest the rate where the loss falls fastest, then put the model back.

Monitors named like a return, reward or score (``episode_return``) are
maximised under ``mode="auto"``; ``*acc*``/``auc`` too (as in Keras); others minimised.
"""

from __future__ import annotations

import json
import math
import os

import keras
import numpy as np

from zoo.core.checks import check_bool, check_int, check_model, check_number, check_str
from zoo.core.io import atomic_json, atomic_path

__all__ = ["ProgressBar", "Checkpoint", "EarlyStopping", "HistoryPlot", "LRFinder", "find_learning_rate"]

_MAXIMISED = ("acc", "auc", "return", "reward", "score", "precision", "recall", "f1")


def _resolve_mode(monitor, mode, owner):
    check_str("monitor", monitor, owner, accepted="a log key such as 'val_loss'")
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"invalid mode={mode!r}; expected 'auto', 'min' or 'max'")
    if mode == "auto":
        return "max" if any(k in monitor for k in _MAXIMISED) and "loss" not in monitor else "min"
    return mode


class ProgressBar(keras.callbacks.Callback):
    """A tqdm bar over epochs showing the latest logs (use with ``verbose=0``)."""

    leaves_weights = True  # shows logs only (an agent's learn takes the update's weights: agents.callbacks)

    def __init__(self, total_epochs: int | None = None, desc: str = "train", leave: bool = True, initial: int = 0):
        super().__init__()
        check_int("total_epochs", total_epochs, minimum=1, owner="ProgressBar", allow_none=True)
        check_int("initial", initial, minimum=0, owner="ProgressBar")  # epochs done before (a resumed run)
        self.initial = initial
        check_str("desc", desc, "ProgressBar")
        check_bool("leave", leave, "ProgressBar")
        self.total_epochs = total_epochs
        self.desc = desc
        self.leave = leave
        self.bar = None

    def on_train_begin(self, logs=None):
        from tqdm.auto import tqdm

        total = self.total_epochs or self.params.get("epochs")
        self.bar = tqdm(total=total, desc=self.desc, unit="epoch", leave=self.leave, initial=self.initial)

    def on_epoch_end(self, epoch, logs=None):
        if self.bar is not None:
            self.bar.set_postfix({k: f"{float(v):.4g}" for k, v in (logs or {}).items()}, refresh=False)
            self.bar.update(1)

    def on_train_end(self, logs=None):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class Checkpoint(keras.callbacks.Callback):
    """Atomic checkpoints of the last and the best weights, and a resumable state.

    Every ``every`` epochs it writes ``<directory>/last.weights.h5``; whenever
    ``monitor`` improves, ``best.weights.h5``; with ``save_model=True`` the whole
    model as ``last.keras`` / ``best.keras`` instead. Each file is written to a
    temporary name and renamed, so a crash never leaves a torn checkpoint.
    ``state.json`` records the epoch, the best value and which files exist;
    ``Checkpoint.resume(model, directory)`` loads the last weights and returns the
    ``initial_epoch`` to pass to ``fit``. A missing monitor (no validation data)
    only disables "best" (with one warning), never the last checkpoint.
    ``restore_best=True`` loads the best weights into the model when training ends:
    ``EarlyStopping(restore_best_weights=True)`` that survives a restart (the best value
    and weights are read back from ``directory``).
    """

    def __init__(self, directory, monitor="val_loss", mode="auto", every=1, save_best=True, save_last=True,
                 save_model=False, restore_best=False):
        super().__init__()
        if not isinstance(directory, (str, os.PathLike)):
            raise ValueError(f"Checkpoint: invalid directory={directory!r}; expected a path")
        if not isinstance(every, int) or isinstance(every, bool) or every < 1:
            raise ValueError(f"Checkpoint: invalid every={every!r}; expected a positive integer")
        for arg, value in (("save_best", save_best), ("save_last", save_last), ("save_model", save_model),
                           ("restore_best", restore_best)):
            check_bool(arg, value, "Checkpoint")
        if restore_best and not save_best:
            raise ValueError("Checkpoint: restore_best=True needs save_best=True (the weights it restores)")
        if not (save_best or save_last):
            raise ValueError("Checkpoint: save_best=False and save_last=False would save nothing")
        self.directory = os.fspath(directory)
        self.monitor = monitor
        self.mode = _resolve_mode(monitor, mode, "Checkpoint")
        self.every = every
        self.save_best, self.save_last, self.save_model = save_best, save_last, save_model
        self.restore_best = restore_best
        self.best = None
        self.best_epoch = None
        self._warned = False

    @property
    def suffix(self):
        return ".keras" if self.save_model else ".weights.h5"

    def path(self, which="last"):
        """Path of the ``"last"`` or ``"best"`` checkpoint."""
        if which not in ("last", "best"):
            raise ValueError(f"invalid which={which!r}; expected 'last' or 'best'")
        return os.path.join(self.directory, which + self.suffix)

    def on_train_begin(self, logs=None):
        os.makedirs(self.directory, exist_ok=True)
        state = self.read_state(self.directory)
        if state and state.get("monitor") == self.monitor and self.best is None:
            self.best, self.best_epoch = state.get("best"), state.get("best_epoch")

    def _write(self, which):
        with atomic_path(self.path(which), suffix=self.suffix) as tmp:
            if self.save_model:
                self.model.save(tmp)
            else:
                self.model.save_weights(tmp)

    def _improved(self, value):
        if self.best is None:
            return True
        return value < self.best if self.mode == "min" else value > self.best

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        value = logs.get(self.monitor)
        if self.save_best and value is not None and math.isfinite(float(value)) and self._improved(float(value)):
            self.best, self.best_epoch = float(value), epoch
            self._write("best")
        elif self.save_best and value is None and not self._warned:
            self._warned = True
            import warnings

            warnings.warn(f"Checkpoint: monitor {self.monitor!r} is not in the logs ({sorted(logs)}); "
                          "saving only the last checkpoint", stacklevel=2)
        if self.save_last and (epoch + 1) % self.every == 0:
            self._write("last")
        atomic_json(os.path.join(self.directory, "state.json"), {
            "epoch": epoch, "monitor": self.monitor, "mode": self.mode, "best": self.best,
            "best_epoch": self.best_epoch,
            "last": self.path("last") if self.save_last and (epoch + 1) % self.every == 0 else None,
        })

    def on_train_end(self, logs=None):
        if self.restore_best and self.best is not None and os.path.isfile(self.path("best")):
            if self.save_model:
                from zoo.models import load_model

                self.model.set_weights(load_model(self.path("best")).get_weights())
            else:
                self.model.load_weights(self.path("best"))

    @staticmethod
    def read_state(directory):
        """The ``state.json`` of ``directory`` as a dict, or None when there is none."""
        path = os.path.join(os.fspath(directory), "state.json")
        if not os.path.isfile(path):
            return None
        with open(path) as f:
            return json.load(f)

    @staticmethod
    def resume(model, directory, which="last"):
        """Load the ``which`` checkpoint of ``directory`` into ``model``; return the epoch to resume at.

        Returns 0 (start from scratch, model untouched) when there is no checkpoint yet.
        """
        from zoo.registry import load_weights

        state = Checkpoint.read_state(directory)
        if which not in ("last", "best"):
            raise ValueError(f"invalid which={which!r}; expected 'last' or 'best'")
        for suffix in (".weights.h5", ".keras"):
            path = os.path.join(os.fspath(directory), which + suffix)
            if os.path.isfile(path):
                load_weights(model, path, allow_head_mismatch=False)
                epoch = state.get("best_epoch" if which == "best" else "epoch") if state else None
                return 0 if epoch is None else int(epoch) + 1
        return 0


class EarlyStopping(keras.callbacks.EarlyStopping):
    """Keras's ``EarlyStopping`` with ``restore_best_weights=True`` and ``patience=5`` by default.

    ``mode="auto"`` also maximises returns, rewards and scores (``episode_return``).
    """

    def __init__(self, monitor="val_loss", patience=5, min_delta=0.0, mode="auto", restore_best_weights=True,
                 start_from_epoch=0, baseline=None, verbose=0):
        if not isinstance(patience, int) or isinstance(patience, bool) or patience < 0:
            raise ValueError(f"EarlyStopping: invalid patience={patience!r}; expected an integer >= 0")
        check_number("min_delta", min_delta, owner="EarlyStopping")
        check_number("baseline", baseline, owner="EarlyStopping", allow_none=True)
        check_int("start_from_epoch", start_from_epoch, minimum=0, owner="EarlyStopping")
        check_bool("restore_best_weights", restore_best_weights, "EarlyStopping")
        super().__init__(monitor=monitor, min_delta=min_delta, patience=patience, verbose=verbose,
                         mode=_resolve_mode(monitor, mode, "EarlyStopping"), baseline=baseline,
                         restore_best_weights=restore_best_weights, start_from_epoch=start_from_epoch)


class HistoryPlot(keras.callbacks.Callback):
    """Writes the loss and metric curves (training and validation) to a PNG at ``path``.

    The picture is rewritten atomically every ``every`` epochs and at the end of
    training (matplotlib, Agg backend: no display needed); ``history`` holds the logs.
    """

    leaves_weights = True  # draws logs only (agents.callbacks)

    def __init__(self, path, every=1, title=None):
        super().__init__()
        if not isinstance(path, (str, os.PathLike)) or not os.fspath(path).endswith(".png"):
            raise ValueError(f"HistoryPlot: invalid path={path!r}; expected a path ending in .png")
        if not isinstance(every, int) or isinstance(every, bool) or every < 1:
            raise ValueError(f"HistoryPlot: invalid every={every!r}; expected a positive integer")
        self.path, self.every, self.title = os.fspath(path), every, title
        self.history = {}

    def on_train_begin(self, logs=None):
        self.history = {}

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            if np.ndim(value) == 0:
                self.history.setdefault(key, []).append(float(value))
        if (epoch + 1) % self.every == 0:
            self._draw()

    def on_train_end(self, logs=None):
        if self.history:
            self._draw()

    def _draw(self):
        from zoo.insight.diagnostics import plot_history

        directory = os.path.dirname(self.path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        plot_history(self.history, self.path, title=self.title)


class LRFinder(keras.callbacks.Callback):
    """Learning-rate range test: the rate grows from ``start_lr`` to ``end_lr`` over ``num_steps`` batches.

    It records each batch's loss (recovered from Keras's running mean), stops
    when the loss exceeds ``diverge`` times its best or the steps run out, then
    restores the model's weights and learning rate. ``suggestion()`` is the rate
    where the smoothed loss falls fastest; ``plot(path)`` draws loss against rate.
    """

    def __init__(self, start_lr=1e-6, end_lr=1.0, num_steps=100, diverge=4.0, smoothing=0.05):
        super().__init__()
        if not (isinstance(start_lr, (int, float)) and isinstance(end_lr, (int, float)) and 0 < start_lr < end_lr):
            raise ValueError(f"LRFinder: invalid start_lr={start_lr!r}, end_lr={end_lr!r}; expected 0 < start_lr < end_lr")
        if not isinstance(num_steps, int) or isinstance(num_steps, bool) or num_steps < 5:
            raise ValueError(f"LRFinder: invalid num_steps={num_steps!r}; expected an integer >= 5")
        check_number("smoothing", smoothing, 0, 1, high_open=True, owner="LRFinder")
        check_number("diverge", diverge, low=0, low_open=True, owner="LRFinder")
        self.start_lr, self.end_lr, self.num_steps = float(start_lr), float(end_lr), num_steps
        self.diverge, self.smoothing = float(diverge), float(smoothing)
        self.lrs, self.losses = [], []

    def _lr_at(self, step):
        return self.start_lr * (self.end_lr / self.start_lr) ** (step / (self.num_steps - 1))

    def on_train_begin(self, logs=None):
        self.lrs, self.losses = [], []
        self._step, self._avg, self._best = 0, None, math.inf
        self._weights = self.model.get_weights()
        self._initial_lr = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        self.model.optimizer.learning_rate = self._lr_at(0)

    def on_epoch_begin(self, epoch, logs=None):
        self._seen, self._running = 0, 0.0

    def on_train_batch_end(self, batch, logs=None):
        running = float((logs or {}).get("loss", math.nan))
        self._seen += 1
        # Keras logs the epoch's running mean: undo it to get this batch's loss.
        loss = self._seen * running - (self._seen - 1) * self._running
        self._running = running
        self.lrs.append(self._lr_at(self._step))
        self._avg = loss if self._avg is None else self.smoothing * loss + (1 - self.smoothing) * self._avg
        self.losses.append(self._avg)
        self._best = min(self._best, self._avg)
        self._step += 1
        if self._step >= self.num_steps or not math.isfinite(loss) or self._avg > self.diverge * self._best:
            self.model.stop_training = True
            return
        self.model.optimizer.learning_rate = self._lr_at(self._step)

    def on_train_end(self, logs=None):
        self.model.set_weights(self._weights)
        self.model.optimizer.learning_rate = self._initial_lr

    def suggestion(self, skip_start=2, skip_end=2):
        """The rate at the steepest descent of the smoothed loss (over log rate)."""
        lrs = np.asarray(self.lrs[skip_start:len(self.lrs) - skip_end])
        losses = np.asarray(self.losses[skip_start:len(self.losses) - skip_end])
        if len(lrs) < 3:
            raise ValueError(f"LRFinder: only {len(self.lrs)} steps recorded; run more steps (num_steps, data)")
        slopes = np.gradient(losses, np.log(lrs))
        return float(lrs[int(np.argmin(slopes))])

    def plot(self, path):
        """Smoothed loss against learning rate (log scale) as a PNG, written atomically."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(5, 3.3))
        ax.plot(self.lrs, self.losses)
        ax.set_xscale("log")
        ax.set_xlabel("learning rate")
        ax.set_ylabel("loss (smoothed)")
        try:
            ax.axvline(self.suggestion(), color="grey", linestyle="--", label="suggestion")
            ax.legend(fontsize="small")
        except ValueError:
            pass
        from zoo.insight.diagnostics import save_figure

        return save_figure(fig, path)


def find_learning_rate(model, x, y=None, batch_size=32, start_lr=1e-6, end_lr=1.0, num_steps=100, **kwargs):
    """Run the range test on a compiled ``model``; return the ``LRFinder`` (model left unchanged).

    ``x``/``y`` are arrays (or ``x`` a ``tf.data.Dataset``); enough epochs run to cover ``num_steps`` batches.
    """
    check_model("model", model, "find_learning_rate")
    check_int("batch_size", batch_size, minimum=1, owner="find_learning_rate")
    if getattr(model, "optimizer", None) is None:
        raise ValueError("find_learning_rate: the model is not compiled; call model.compile(optimizer, loss) first")
    finder = LRFinder(start_lr, end_lr, num_steps, **kwargs)
    if y is not None:
        steps_per_epoch = max(1, math.ceil(len(x) / batch_size))
        fit_kwargs = dict(batch_size=batch_size)
    else:
        steps_per_epoch = int(x.cardinality()) if hasattr(x, "cardinality") else num_steps
        steps_per_epoch = steps_per_epoch if steps_per_epoch > 0 else num_steps
        fit_kwargs = {}
    epochs = math.ceil(num_steps / steps_per_epoch)
    model.fit(x, y, epochs=epochs, callbacks=[finder], verbose=0, **fit_kwargs)
    return finder

"""Which callbacks leave an agent's weights alone between the epochs of ``learn``; the list that calls them.

An on-policy update returns the weights the next rollout acts with, so that rollout need not read
them again (one TensorFlow call saved per rollout: ~0.5 ms of an A2C rollout's ~4). A callback may
change the weights between epochs, though; ``learn`` takes the returned weights only when every
callback is known not to: one with ``leaves_weights = True`` (dlzoo's own that only read or log),
or one of Keras's that only log, save or stop (EarlyStopping restores its best weights only as
training stops). With any other callback every rollout reads the weights first.
"""

from __future__ import annotations

import keras

__all__ = ["leaves_weights", "KERAS_READ_ONLY", "EpochCallbacks"]

KERAS_READ_ONLY = (
    keras.callbacks.History,
    keras.callbacks.ProgbarLogger,
    keras.callbacks.CSVLogger,
    keras.callbacks.TerminateOnNaN,
    keras.callbacks.EarlyStopping,
    keras.callbacks.ModelCheckpoint,
    keras.callbacks.TensorBoard,
)


def leaves_weights(callback) -> bool:
    """Whether ``callback`` is known not to change the weights between two epochs that both train."""
    declared = getattr(callback, "leaves_weights", None)
    if declared is not None:
        return bool(declared)
    return type(callback) in KERAS_READ_ONLY


class EpochCallbacks(keras.callbacks.CallbackList):
    """Keras's ``CallbackList`` whose epoch hooks pass ``learn``'s logs (Python numbers already) as they are.

    Keras converts every log value at every hook (``pythonify_logs``: a tensor check per value
    that goes through a slow ``typing`` protocol test), ~5% of a small on-policy run's time.
    Logs holding anything but Python numbers still go through Keras's conversion; the callbacks
    share one dict per hook, its keys sorted and its values floats, as Keras hands them.
    """

    def on_epoch_begin(self, epoch, logs=None):
        if not _plain(logs):
            return super().on_epoch_begin(epoch, logs)
        logs = {k: float(v) for k, v in sorted((logs or {}).items())}
        for callback in self.callbacks:
            callback.on_epoch_begin(epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        if not _plain(logs) or self._async_train and self._futures:
            return super().on_epoch_end(epoch, logs)
        logs = {k: float(v) for k, v in sorted((logs or {}).items())}
        for callback in self.callbacks:
            callback.on_epoch_end(epoch, logs)


def _plain(logs) -> bool:
    return logs is None or all(type(v) in (float, int) for v in logs.values())

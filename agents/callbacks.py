"""Which callbacks leave an agent's weights alone between the epochs of ``learn``.

An on-policy update returns the weights the next rollout acts with, so that rollout need not read
them again (one TensorFlow call saved per rollout: ~0.5 ms of an A2C rollout's ~4). A callback may
change the weights between epochs, though; ``learn`` takes the returned weights only when every
callback is known not to: one with ``leaves_weights = True`` (dlzoo's own that only read or log),
or one of Keras's that only log, save or stop (EarlyStopping restores its best weights only as
training stops). With any other callback every rollout reads the weights first.
"""

from __future__ import annotations

import keras

__all__ = ["leaves_weights", "KERAS_READ_ONLY"]

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

"""Callbacks shared by zoo training and the agents, all ``keras.callbacks.Callback``.

They follow Keras's protocol only, so they work in ``model.fit``, in
``zoo.train`` and in an agent's ``learn`` alike.
"""

from __future__ import annotations

import keras

__all__ = ["ProgressBar"]


class ProgressBar(keras.callbacks.Callback):
    """A tqdm bar over epochs showing the latest logs (use with ``verbose=0``)."""

    def __init__(self, total_epochs: int | None = None, desc: str = "train", leave: bool = True):
        super().__init__()
        self.total_epochs = total_epochs
        self.desc = desc
        self.leave = leave
        self.bar = None

    def on_train_begin(self, logs=None):
        from tqdm.auto import tqdm

        total = self.total_epochs or self.params.get("epochs")
        self.bar = tqdm(total=total, desc=self.desc, unit="epoch", leave=self.leave)

    def on_epoch_end(self, epoch, logs=None):
        if self.bar is not None:
            self.bar.set_postfix({k: f"{float(v):.4g}" for k, v in (logs or {}).items()}, refresh=False)
            self.bar.update(1)

    def on_train_end(self, logs=None):
        if self.bar is not None:
            self.bar.close()
            self.bar = None

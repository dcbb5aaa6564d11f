"""Fault tolerance for :func:`zoo.train.fit`: model, optimizer, epoch and step in a CheckpointManager."""

from __future__ import annotations

import os
import shutil


def is_multi_worker(strat) -> bool:
    return bool(getattr(strat.extended, "_in_multi_worker_mode", lambda: False)())


class Checkpointer:
    """Model, optimizer, epoch and step in a ``tf.train.CheckpointManager`` (the chief's is kept)."""

    def __init__(self, net, optimizer, directory, keep, strat):
        import tensorflow as tf

        from zoo.training import distribute as zdist

        self.directory = os.fspath(directory)
        self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False)
        self.checkpoint = tf.train.Checkpoint(model=net, optimizer=optimizer, epoch=self.epoch, step=self.step)
        self.chief = not is_multi_worker(strat) or zdist.is_chief()
        self.write_dir = self.directory if self.chief else os.path.join(
            self.directory, ".workers", f"worker-{zdist.worker_index()}"
        )
        self.manager = tf.train.CheckpointManager(self.checkpoint, self.write_dir, max_to_keep=keep if self.chief else 1)

    def restore(self):
        import tensorflow as tf

        latest = tf.train.latest_checkpoint(self.directory)
        if latest is None:
            return 0, 0
        self.checkpoint.restore(latest).assert_existing_objects_matched()
        return int(self.epoch.numpy()), int(self.step.numpy())

    def save(self, epoch, step):
        self.epoch.assign(epoch)
        self.step.assign(step)
        self.manager.save()

    def close(self):
        if not self.chief:
            shutil.rmtree(self.write_dir, ignore_errors=True)
            try:
                os.rmdir(os.path.dirname(self.write_dir))  # .workers, once no worker uses it
            except OSError:
                pass

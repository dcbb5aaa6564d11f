"""Run by ``test_agents_cli.py``: ``python cli_hold_script.py TRAIN_ARGS...`` is ``python -m agents train ...``
with one extra callback: once this process has written a checkpoint (``--checkpoint-dir``), it sleeps at
every epoch end, so that the test's SIGKILL lands mid-run (after the episode log has rows past the
checkpoint). The rerun is the plain ``python -m agents`` command."""

import os
import sys
import time

import keras

from agents.checkpoint import checkpoint_path
from agents.cli import main


class HoldAfterFirstCheckpoint(keras.callbacks.Callback):
    def __init__(self, directory):
        super().__init__()
        self.path = checkpoint_path(directory)

    def on_epoch_end(self, epoch, logs=None):
        if os.path.exists(self.path):
            time.sleep(120)


if __name__ == "__main__":
    argv = sys.argv[1:]
    directory = argv[argv.index("--checkpoint-dir") + 1]
    if os.path.exists(checkpoint_path(directory)):
        raise SystemExit("a checkpoint is already there: this script only makes the run that is killed")
    sys.exit(main(["train", *argv], callbacks=[HoldAfterFirstCheckpoint(directory)]))

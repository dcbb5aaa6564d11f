"""What a training run shows and leaves behind: a progress bar in env steps and an episode log.

``StepProgress`` is ``zoo.callbacks.ProgressBar`` counting env steps instead of epochs
(tqdm's rate is then steps/s) with the recent mean episode return and the last
evaluation; ``EpisodeLog`` writes every training episode to ``episodes.csv``
(``step,return,length``, as stable-baselines3's ``Monitor`` files hold) and, with
``tensorboard=True``, TensorBoard scalars. Both are Keras callbacks for ``learn``.
"""

from __future__ import annotations

import csv
import importlib.util
import math
import os
import sys

import keras

from zoo.core.checks import check_bool, check_int, check_path
from zoo.core.io import atomic_write
from zoo.training.callbacks import ProgressBar

__all__ = ["StepProgress", "EpisodeLog", "read_episodes", "EPISODES_CSV"]

EPISODES_CSV = "episodes.csv"
HEADER = ("step", "return", "length")


def _agent(model):
    agent = getattr(model, "agent", None)
    if agent is None:
        raise ValueError("this callback works in an agent's learn() (its model has no agent)")
    return agent


class StepProgress(ProgressBar):
    """A tqdm bar over ``total_timesteps`` env steps: steps, steps/s, recent mean return, last evaluation."""

    def __init__(self, total_timesteps: int, desc: str = "train", leave: bool = True):
        super().__init__(desc=desc, leave=leave)
        self.total_timesteps = check_int("total_timesteps", total_timesteps, minimum=1, owner="StepProgress")

    def on_train_begin(self, logs=None):
        from tqdm.auto import tqdm

        done = int(_agent(self.model).num_timesteps)  # a resumed run starts where its checkpoint stood
        self.bar = tqdm(total=self.total_timesteps, initial=min(done, self.total_timesteps), desc=self.desc,
                        unit="step", leave=self.leave, file=sys.stderr, dynamic_ncols=True)

    def on_epoch_end(self, epoch, logs=None):
        if self.bar is None:
            return
        logs = logs or {}
        postfix = {}
        if math.isfinite(logs.get("episode_return", math.nan)):
            postfix["return"] = f"{logs['episode_return']:.4g}"
        if "eval_return" in logs:
            postfix["eval"] = f"{logs['eval_return']:.4g}"
        self.bar.set_postfix(postfix, refresh=False)
        steps = min(int(logs.get("timesteps", self.bar.n)), self.total_timesteps)
        self.bar.update(max(0, steps - self.bar.n))


def read_episodes(path) -> list[tuple[int, float, int]]:
    """The complete ``(step, return, length)`` rows of an episode CSV (a torn last line is skipped)."""
    rows = []
    with open(path, newline="") as f:
        for record in csv.reader(f):
            if len(record) != 3 or tuple(record) == HEADER:
                continue
            try:
                rows.append((int(record[0]), float(record[1]), int(record[2])))
            except ValueError:
                continue
    return rows


class EpisodeLog(keras.callbacks.Callback):
    """Every training episode of ``learn`` as a ``step,return,length`` row of ``log_dir/episodes.csv``.

    ``step`` is the agent's ``num_timesteps`` when the episode ended. The rows are written as
    the episodes end and flushed at every epoch end, so a checkpoint never runs ahead of the
    file. When ``learn`` starts, rows after the agent's current step are dropped: a run
    resumed from its checkpoint rewrites the episodes the killed run played after it (the
    file then equals an uninterrupted run's), and a fresh run (step 0) starts a new file.
    ``tensorboard=True`` also writes ``episode/return``/``episode/length`` per episode and
    the epoch logs (``train/``: losses, ``eval_return``, ``steps_per_second``) as TensorBoard
    scalars under ``log_dir/tensorboard`` (``tf.summary``, which needs the ``tensorboard``
    package); ``None`` (the default): when that package is installed.
    """

    leaves_weights = True  # logs only (agents.callbacks)

    def __init__(self, log_dir, tensorboard: bool | None = None):
        super().__init__()
        self.log_dir = os.fspath(check_path("log_dir", log_dir, "EpisodeLog"))
        if tensorboard is None:
            tensorboard = importlib.util.find_spec("tensorboard") is not None
        self.tensorboard = check_bool("tensorboard", tensorboard, "EpisodeLog")
        if self.tensorboard and importlib.util.find_spec("tensorboard") is None:
            raise ImportError("EpisodeLog: tensorboard=True needs the tensorboard package (pip install tensorboard)")
        self.path = os.path.join(self.log_dir, EPISODES_CSV)
        self._file = self._writer = self._csv = None

    def on_train_begin(self, logs=None):
        agent = _agent(self.model)
        os.makedirs(self.log_dir, exist_ok=True)
        step = int(agent.num_timesteps)
        kept = [r for r in read_episodes(self.path) if r[0] <= step] if os.path.isfile(self.path) else []
        atomic_write(self.path, ",".join(HEADER) + "\n" + "".join(f"{s},{r!r},{n}\n" for s, r, n in kept))
        self._file = open(self.path, "a", newline="", buffering=1)  # line-buffered: whole rows reach the file
        self._csv = csv.writer(self._file, lineterminator="\n")
        if self.tensorboard:
            import tensorflow as tf

            self._writer = tf.summary.create_file_writer(os.path.join(self.log_dir, "tensorboard"))
        agent.episode_hook = self._episode

    def _episode(self, step, episode_return, length):
        self._csv.writerow((int(step), float(episode_return), int(length)))
        if self._writer is not None:
            import tensorflow as tf

            with self._writer.as_default(step=int(step)):
                tf.summary.scalar("episode/return", float(episode_return))
                tf.summary.scalar("episode/length", float(length))

    def on_epoch_end(self, epoch, logs=None):
        if self._file is not None:
            self._file.flush()
        if self._writer is not None:
            import tensorflow as tf

            logs = logs or {}
            with self._writer.as_default(step=int(logs.get("timesteps", 0))):
                for key, value in logs.items():
                    if key != "timesteps" and math.isfinite(float(value)):
                        tf.summary.scalar(f"train/{key}", float(value))
            self._writer.flush()

    def on_train_end(self, logs=None):
        agent = getattr(self.model, "agent", None)
        if agent is not None and agent.episode_hook == self._episode:
            agent.episode_hook = None
        if self._file is not None:
            self._file.close()
            self._file = self._csv = None
        if self._writer is not None:
            self._writer.close()
            self._writer = None

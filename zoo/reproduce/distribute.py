"""Reproduce entry: data-parallel training gives the one-device result.

``zoo.train.fit`` trains the same MLP on digits on one device (this process)
and mirrored over 2 logical CPU devices (a subprocess: logical devices must be
set before TensorFlow starts), with the same global batch. The figure is the
largest weight difference, which only float summation order should cause.

    python -m zoo.reproduce.distribute OUT     # the mirrored side, run by the entry
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from zoo.core.io import atomic_path
from zoo.reproduce import entry

_EPOCHS, _BATCH = 5, 64


def _train(strategy):
    import keras

    import zoo
    from zoo.training import evaluate_arrays, fit

    (x, y), (xv, yv), (xt, yt) = zoo.data.load("digits", flat=True)

    def build():
        keras.utils.set_random_seed(0)
        return zoo.get("mlp", input_shape=(64,), num_classes=10)

    history = fit(build, (x, y), validation_data=(xv, yv), epochs=_EPOCHS, batch_size=_BATCH, seed=0,
                  optimizer="adam", learning_rate=1e-3, loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], strategy=strategy)
    test = evaluate_arrays(history.model, xt, yt, "sparse_categorical_crossentropy", ["accuracy"])
    return history.model.get_weights(), history.history, test


def _save_npz(path, weights):
    import numpy as np

    with atomic_path(path, suffix=".npz") as tmp:
        np.savez(tmp, *weights)


def _load_npz(path):
    import numpy as np

    with np.load(path) as f:
        return [f[k] for k in sorted(f.files, key=lambda s: int(s.split("_")[1]))]


@entry("fit_mirrored_2cpu_vs_one_device", data="digits", metric="max weight difference", reference=1e-5,
       mode="min")
def mirrored_matches_one_device(out_dir):
    import numpy as np

    side = os.path.join(out_dir, "fit_mirrored")
    os.makedirs(side, exist_ok=True)
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "2"}
    proc = subprocess.run([sys.executable, "-m", "zoo.reproduce.distribute", side], env=env,
                          capture_output=True, text=True, timeout=600)
    if proc.returncode:
        raise RuntimeError(f"mirrored run failed: {proc.stderr[-2000:]}")
    one, history, test = _train("one_device")
    mirrored = _load_npz(os.path.join(side, "weights.npz"))
    diff = max(float(np.abs(a - b).max()) for a, b in zip(one, mirrored))
    with open(os.path.join(side, "summary.json")) as f:
        summary = json.load(f)
    table = ("| run | test accuracy |\n|---|---:|\n"
             f"| one device | {test['accuracy']:.4f} |\n| mirrored, 2 logical CPUs | {summary['test']['accuracy']:.4f} |")
    return {"value": diff, "history": history, "table": table}


def _main(out):
    from zoo.training import distribute as zdist

    zdist.split_cpu(2)
    weights, history, test = _train(zdist.strategy("mirrored"))
    _save_npz(os.path.join(out, "weights.npz"), weights)
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump({"history": history, "test": test}, f)
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1]))

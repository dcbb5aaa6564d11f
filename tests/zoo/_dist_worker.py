"""Worker program for the tf.distribute tests (run in subprocesses; not a test module).

    python tests/zoo/_dist_worker.py mirrored OUT      # 2 logical CPUs: mirrored, interrupted, resumed
    python tests/zoo/_dist_worker.py worker OUT [--checkpoint DIR] [--slow S]   # under TF_CONFIG

``train`` is also imported by the tests to compute the one-device reference.
"""

from __future__ import annotations

import os
import sys

EPOCHS, BATCH, N_TRAIN = 3, 32, 512  # 16 steps per epoch, 48 in all
CHECKPOINT_EVERY = 4


def data():
    import zoo

    (x, y), (xv, yv), _ = zoo.data.load("digits", flat=True)
    return (x[:N_TRAIN], y[:N_TRAIN]), (xv[:64], yv[:64])


def train(strategy=None, checkpoint_dir=None, callbacks=(), epochs=EPOCHS, **fit_kwargs):
    """The reference run: a small zoo MLP, SGD with momentum, seeded shuffle; returns (weights, history)."""
    import keras

    import zoo
    from zoo.train import fit

    def build():
        keras.utils.set_random_seed(1)
        return zoo.get("mlp", input_shape=(64,), num_classes=10, hidden_units=(32,))

    train_xy, val_xy = data()
    fit_kwargs.setdefault("batch_size", BATCH)
    history = fit(
        build, train_xy, validation_data=val_xy, epochs=epochs, seed=7,
        optimizer=keras.optimizers.SGD(0.05, momentum=0.9), loss="sparse_categorical_crossentropy",
        metrics=["accuracy"], callbacks=list(callbacks), strategy=strategy,
        checkpoint_dir=checkpoint_dir, checkpoint_every=CHECKPOINT_EVERY if checkpoint_dir else None,
        **fit_kwargs,
    )
    return [w for w in history.model.get_weights()], history


def _save(path, weights, history):
    import json

    import numpy as np

    tmp = path + ".tmp.npz"
    np.savez(tmp, *weights)
    os.replace(tmp, path + ".npz")
    with open(path + ".json", "w") as f:
        json.dump(history.history, f)


def main(argv):
    mode, out = argv[0], argv[1]
    os.makedirs(out, exist_ok=True)
    if mode == "mirrored":
        from zoo import distribute as zdist

        zdist.split_cpu(2)
        import keras

        s_mirrored = zdist.strategy("mirrored")
        assert s_mirrored.num_replicas_in_sync == 2, s_mirrored
        _save(os.path.join(out, "mirrored"), *train(s_mirrored))

        class Interrupt(keras.callbacks.Callback):  # stops mid-epoch 1 after checkpoint 5 (step 20)
            def on_train_batch_end(self, batch, logs=None):
                if self.model.optimizer.iterations.numpy() == 22:
                    raise KeyboardInterrupt

        ckpt = os.path.join(out, "ckpt")
        try:
            train(s_mirrored, checkpoint_dir=ckpt, callbacks=[Interrupt()])
        except KeyboardInterrupt:
            pass
        _save(os.path.join(out, "mirrored_resumed"), *train(s_mirrored, checkpoint_dir=ckpt))
        # XLA on 2 replicas (per-replica forward/backward compiled, update outside), float16 loss scaling
        _save(os.path.join(out, "mirrored_xla"), *train(s_mirrored, jit_compile=True))
        _save(os.path.join(out, "mirrored_float16"), *train(s_mirrored, mixed_precision="float16"))
        try:
            train(s_mirrored, batch_size=33)
        except ValueError as err:
            with open(os.path.join(out, "batch_error.txt"), "w") as f:
                f.write(str(err))
        return 0
    if mode == "worker":
        from zoo import distribute as zdist

        strat = zdist.strategy("auto")  # TF_CONFIG names 2 workers: MultiWorkerMirroredStrategy, first thing
        import time

        import keras

        ckpt = argv[argv.index("--checkpoint") + 1] if "--checkpoint" in argv else None
        slow = float(argv[argv.index("--slow") + 1]) if "--slow" in argv else 0.0
        index = zdist.worker_index()

        class Progress(keras.callbacks.Callback):  # lets the test kill us mid-epoch
            def on_train_batch_end(self, batch, logs=None):
                with open(os.path.join(out, f"progress{index}.txt"), "a") as f:
                    f.write(f"{int(self.model.optimizer.iterations.numpy())}\n")
                time.sleep(slow)

        print(f"worker {index}: {zdist.describe(strat)}", flush=True)
        weights, history = train(strat, checkpoint_dir=ckpt, callbacks=[Progress()])
        _save(os.path.join(out, f"worker{index}"), weights, history)
        return 0
    raise SystemExit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    sys.exit(main(sys.argv[1:]))

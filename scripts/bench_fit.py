"""Training throughput of zoo.train.fit against Keras's model.fit (ResNet-50, synthetic data).

    python scripts/bench_fit.py                    # on a GPU: 224 px, batch 128
    python scripts/bench_fit.py --quick            # tiny sizes (what a CPU gets by default)
    python scripts/bench_fit.py --configs fp32,mixed_xla --precision bfloat16

For each configuration (``fp32``: float32 on one device; ``mixed_xla``: mixed
precision and XLA) it trains zoo's ``resnet50`` with ``zoo.train.fit`` and
``keras.applications.ResNet50`` with ``model.fit`` on the same synthetic
batches, prints images/s for each and the ratio zoo/keras (> 1: zoo is
faster). Each side runs one ``fit`` call: a warm-up epoch (tracing, XLA
compilation) and ``--epochs`` timed epochs of ``--steps`` steps; the median
epoch gives images/s. The sides are not interleaved because ``zoo.train.fit``
traces its step once per call. Absolute figures only mean something on a GPU.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
from zoo.core import quiet  # noqa: E402

quiet.install()  # TensorFlow's logs stay off the console (DLZOO_VERBOSE=1 brings them back)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _epoch_timer():
    import keras

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds = []

        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):  # logs are read back to the host: the epoch is done
            self.seconds.append(time.perf_counter() - self._start)

    return EpochTimer()


def _dataset(args, num_classes):
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, size=(args.batch_size, args.image_size, args.image_size, 3)).astype("float32")
    y = rng.integers(0, num_classes, size=(args.batch_size,)).astype("int32")
    return tf.data.Dataset.from_tensors((x, y)).repeat().prefetch(tf.data.AUTOTUNE)


def run_side(side, config, args):
    """Images/s of one side (``zoo`` or ``keras``) under one configuration."""
    import keras

    import zoo
    from zoo.train import fit

    mixed = config == "mixed_xla"
    shape = (args.image_size, args.image_size, 3)
    timer = _epoch_timer()
    ds = _dataset(args, args.num_classes)
    epochs = args.epochs + 1  # + the warm-up epoch
    keras.utils.set_random_seed(0)
    if side == "zoo":
        fit(lambda: zoo.get(args.model, input_shape=shape, num_classes=args.num_classes), ds,
            epochs=epochs, steps_per_epoch=args.steps, optimizer="momentum", learning_rate=0.01,
            loss="sparse_categorical_crossentropy", callbacks=[timer], strategy=args.strategy,
            mixed_precision=args.precision if mixed else None, jit_compile=mixed)
    else:
        previous = keras.config.dtype_policy()
        keras.config.set_dtype_policy(f"mixed_{args.precision}" if mixed else "float32")
        try:
            model = keras.applications.ResNet50(weights=None, input_shape=shape, classes=args.num_classes)
        finally:
            keras.config.set_dtype_policy(previous)
        optimizer = keras.optimizers.SGD(0.01, momentum=0.9)
        if mixed and args.precision == "float16":
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", jit_compile=mixed)
        model.fit(ds, epochs=epochs, steps_per_epoch=args.steps, callbacks=[timer], shuffle=False, verbose=0)
    seconds = statistics.median(timer.seconds[1:])
    keras.backend.clear_session()
    return args.batch_size * args.steps / seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="resnet50", help="registered zoo model on the zoo side")
    parser.add_argument("--configs", default="fp32,mixed_xla", help="comma-separated: fp32, mixed_xla")
    parser.add_argument("--precision", default="float16", choices=["float16", "bfloat16"])
    parser.add_argument("--strategy", default="one_device", help="zoo side's strategy (zoo.distribute.KINDS)")
    parser.add_argument("--image-size", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--steps", type=int, help="steps per timed epoch")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs (after one warm-up epoch)")
    parser.add_argument("--num-classes", type=int, default=1000)
    parser.add_argument("--quick", action="store_true", help="tiny sizes (default without a GPU)")
    parser.add_argument("--out", help="folder for bench_fit.json")
    args = parser.parse_args(argv)

    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    quick = args.quick or not gpus
    args.image_size = args.image_size or (32 if quick else 224)
    args.batch_size = args.batch_size or (8 if quick else 128)
    args.steps = args.steps or (3 if quick else 20)
    if quick:
        args.epochs = min(args.epochs, 2)
    configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    bad = [c for c in configs if c not in ("fp32", "mixed_xla")]
    if bad:
        parser.error(f"invalid --configs entry {bad[0]!r}; expected fp32 or mixed_xla")
    device = tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU") if gpus else "CPU"
    print(f"device: {device}; {args.model} at {args.image_size}px, batch {args.batch_size}, "
          f"{args.steps} steps x {args.epochs} timed epochs", flush=True)

    from benchlib import emit

    rows = []
    for config in configs:
        zoo_ips = run_side("zoo", config, args)
        keras_ips = run_side("keras", config, args)
        label = "float32" if config == "fp32" else f"mixed_{args.precision} + XLA"
        print(f"{label}: zoo.train.fit {zoo_ips:.1f} images/s, keras model.fit {keras_ips:.1f} images/s", flush=True)
        rows.append(dict(measure=f"{args.model} training images/s, {label}", peer="keras.applications.ResNet50 model.fit",
                         ratio=zoo_ips / keras_ips, zoo_images_per_s=round(zoo_ips, 1),
                         keras_images_per_s=round(keras_ips, 1), device=device))
    emit("fit", rows)
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "bench_fit.json"), "w") as f:
            json.dump(rows, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())

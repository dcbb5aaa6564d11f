"""Benchmark: zoo ResNet-50 against keras.applications ResNet50 on the same machine.

Both models are the same architecture (checked: equal parameter counts, and the
zoo model gets the keras model's weights), so a ratio far from 1 would mean the
zoo build adds overhead. Times a compiled training step (``train_on_batch``) and
batch inference (``predict_on_batch``), the two sides alternately, and prints
median ratios zoo/keras (< 1: zoo faster).

    python scripts/bench_vision.py                       # 224x224, batch 32, 5 repeats
    python scripts/bench_vision.py --size 96 --repeats 3 # a quick run on a small CPU machine
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=224, help="input side (default 224)")
    parser.add_argument("--batch", type=int, default=32, help="inference batch size (default 32)")
    parser.add_argument("--train-batch", type=int, default=32, help="training batch size (default 32)")
    parser.add_argument("--repeats", type=int, default=5, help="timed rounds per measure (default 5)")
    args = parser.parse_args(argv)
    if args.size < 32:
        parser.error(f"invalid --size={args.size}; ResNet-50 needs at least 32")

    import keras
    import numpy as np
    from benchlib import alternate, emit, median_ratio

    import zoo
    from zoo.weights import from_keras_applications

    keras.utils.set_random_seed(0)
    shape = (args.size, args.size, 3)
    peer = keras.applications.ResNet50(weights=None, input_shape=shape, classes=10)
    ours = zoo.get("resnet50", input_shape=shape, num_classes=10)
    assert ours.count_params() == peer.count_params()
    from_keras_applications(ours, peer)
    rng = np.random.default_rng(0)
    x_inf = rng.uniform(-1, 1, size=(args.batch, *shape)).astype("float32")
    x_tr = rng.uniform(-1, 1, size=(args.train_batch, *shape)).astype("float32")
    y_tr = rng.integers(0, 10, size=(args.train_batch,))
    for model in (ours, peer):
        model.compile(optimizer=keras.optimizers.SGD(1e-3), loss="sparse_categorical_crossentropy")

    rows = []
    infer = alternate({"zoo": lambda: ours.predict_on_batch(x_inf), "keras": lambda: peer.predict_on_batch(x_inf)},
                      repeats=args.repeats)
    train = alternate({"zoo": lambda: ours.train_on_batch(x_tr, y_tr), "keras": lambda: peer.train_on_batch(x_tr, y_tr)},
                      repeats=args.repeats)
    for measure, times, _batch in ((f"inference batch {args.batch}", infer, args.batch),
                                   (f"training step batch {args.train_batch}", train, args.train_batch)):
        rows.append(dict(
            measure=f"{measure}, {args.size}x{args.size}", peer="keras.applications.ResNet50",
            ratio=median_ratio(times["zoo"], times["keras"]),
            zoo_ms=round(1000 * statistics.median(times["zoo"]), 1),
            keras_ms=round(1000 * statistics.median(times["keras"]), 1),
            repeats=args.repeats,
        ))
    emit("vision_resnet50", rows)
    return rows


if __name__ == "__main__":
    main()

"""Benchmark: zoo image models against their keras.applications twins on the same machine.

Three parts, each timing both sides alternately in one run and printing median
ratios zoo/keras (< 1: zoo faster):

- ``resnet50``: a compiled training step (``train_on_batch``) and batch inference
  (``predict_on_batch``) of ResNet-50, the zoo model holding the keras model's weights;
- ``load``: building ResNet-50 and EfficientNet-B0 and loading ImageNet-format weights
  (a file in keras.applications' published layout and name, written here from random
  weights): ``zoo.get(name, weights="imagenet")`` (offline, from the Keras cache, with
  its hash check) against ``keras.applications.X(weights=path)``;
- ``families``: inference latency of one model per family added in round 2 (Xception,
  ResNetV2, InceptionResNetV2, DenseNet, NASNet, EfficientNet, EfficientNetV2, ConvNeXt)
  against its keras.applications twin.

    python scripts/bench_vision.py                              # everything, 224x224
    python scripts/bench_vision.py --only families --size 96 --repeats 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
from zoo.core import quiet  # noqa: E402

quiet.install()  # TensorFlow's logs stay off the console (DLZOO_VERBOSE=1 brings them back)

PARTS = ("resnet50", "load", "families")
LOAD_MODELS = ("resnet50", "efficientnet_b0")
FAMILY_MODELS = ("xception", "resnet50_v2", "inception_resnet_v2", "densenet121", "nasnet_mobile", "efficientnet_b0",
                 "efficientnet_v2_b0", "convnext_tiny")


def _row(measure, peer, times, repeats, **extra):
    return dict(measure=measure, peer=peer, ratio=_median_ratio(times["zoo"], times["keras"]),
                zoo_ms=round(1000 * statistics.median(times["zoo"]), 1),
                keras_ms=round(1000 * statistics.median(times["keras"]), 1), repeats=repeats, **extra)


def _median_ratio(ours, peer):
    from benchlib import median_ratio

    return median_ratio(ours, peer)


def _keras_app(name, **kwargs):
    import keras

    import zoo

    app = zoo.info(name)["keras_app"]
    if app.startswith("MobileNetV3"):
        kwargs.setdefault("include_preprocessing", False)
    return getattr(keras.applications, app)(**kwargs)


def bench_resnet50(args):
    import keras
    import numpy as np
    from benchlib import alternate

    import zoo
    from zoo.weights import from_keras_applications

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
    infer = alternate({"zoo": lambda: ours.predict_on_batch(x_inf), "keras": lambda: peer.predict_on_batch(x_inf)},
                      repeats=args.repeats)
    train = alternate({"zoo": lambda: ours.train_on_batch(x_tr, y_tr), "keras": lambda: peer.train_on_batch(x_tr, y_tr)},
                      repeats=args.repeats)
    size = f"{args.size}x{args.size}"
    return [_row(f"inference batch {args.batch}, {size}", "keras.applications.ResNet50", infer, args.repeats),
            _row(f"training step batch {args.train_batch}, {size}", "keras.applications.ResNet50", train, args.repeats)]


def bench_load(args):
    """Build + load ImageNet-format weights: zoo.get(name, weights="imagenet") vs keras.applications(weights=path)."""
    import warnings

    import h5py
    import keras
    from benchlib import alternate
    from keras.src.legacy.saving import legacy_h5_format

    import zoo

    rows = []
    home = tempfile.mkdtemp(prefix="dlzoo-bench-")
    os.environ["KERAS_HOME"], os.environ["DLZOO_OFFLINE"] = home, "1"
    os.makedirs(os.path.join(home, "models"))
    for name in LOAD_MODELS:
        tag = zoo.registry._lookup(name).pretrained["imagenet"]
        path = os.path.join(home, "models", tag.top.name)
        with h5py.File(path, "w") as f:  # random weights in the published layout, under the published name
            legacy_h5_format.save_weights_to_hdf5_group(f, _keras_app(name, weights=None))
        keras.backend.clear_session()

        def ours(name=name):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the hash of this test file is not the published one
                zoo.get(name, weights="imagenet")

        times = alternate({"zoo": ours, "keras": lambda name=name, path=path: _keras_app(name, weights=path)},
                          repeats=args.repeats)
        rows.append(_row(f"{name}: build and load ImageNet weights (224x224, with the top)",
                         f"keras.applications.{zoo.info(name)['keras_app']}(weights=path)", times, args.repeats))
    return rows


def bench_families(args):
    import keras
    import numpy as np
    from benchlib import alternate

    import zoo
    from zoo.weights import from_keras_applications

    rows = []
    rng = np.random.default_rng(0)
    for name in FAMILY_MODELS:
        minimum = zoo.info(name)["min_input_shape"][0]
        side = max(args.size, minimum)
        shape = (side, side, 3)
        peer = _keras_app(name, weights=None, input_shape=shape, classes=10)
        ours = from_keras_applications(zoo.get(name, input_shape=shape, num_classes=10), peer)
        x = rng.uniform(0, 1, size=(args.batch, *shape)).astype("float32")
        times = alternate({"zoo": lambda ours=ours, x=x: ours.predict_on_batch(x),
                           "keras": lambda peer=peer, x=x: peer.predict_on_batch(x)}, repeats=args.repeats)
        rows.append(_row(f"{name}: inference batch {args.batch}, {side}x{side}",
                         f"keras.applications.{zoo.info(name)['keras_app']}", times, args.repeats))
        keras.backend.clear_session()
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default=",".join(PARTS), help=f"comma-separated parts of {', '.join(PARTS)}")
    parser.add_argument("--size", type=int, default=224, help="input side (default 224)")
    parser.add_argument("--batch", type=int, default=32, help="inference batch size (default 32)")
    parser.add_argument("--train-batch", type=int, default=32, help="training batch size (default 32)")
    parser.add_argument("--repeats", type=int, default=5, help="timed rounds per measure (default 5)")
    args = parser.parse_args(argv)
    parts = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        parser.error(f"invalid --only={args.only!r}; expected parts among {', '.join(PARTS)}")
    if args.size < 32:
        parser.error(f"invalid --size={args.size}; expected at least 32")

    import keras
    from benchlib import emit

    keras.utils.set_random_seed(0)
    rows = []
    for part in parts:
        part_rows = {"resnet50": bench_resnet50, "load": bench_load, "families": bench_families}[part](args)
        emit(f"vision_{part}", part_rows)
        rows += part_rows
    return rows


if __name__ == "__main__":
    main()

"""Image-folder input pipeline: zoo.data.load(folder) against keras.utils.image_dataset_from_directory.

It writes its own folder of images (``--images`` random smooth JPEG and PNG files of
``--size`` pixels in 10 class subfolders, in a temporary directory: it runs offline), then:

- ``pipeline``: images/s of one pass over ``zoo.data.load(folder).dataset("train", batch_size=...)``
  (``cache=False``: every pass decodes again) and of ``image_dataset_from_directory`` used plainly
  on the same folder (same size, batch and shuffling), timed alternately; median ratio zoo / keras
  (> 1: zoo faster). The cached zoo pipeline (``cache=True``, passes after the first) is printed too;
- ``steps``: the training-step rate (images/s of ``train_on_batch`` on fixed batches) of
  ``zoo.get("simple_cnn")`` and ``zoo.get("resnet18")`` at that size, and whether the uncached
  zoo pipeline delivers at least twice that ("the pipeline is never the bottleneck").

    python scripts/bench_data.py                                    # 2,000 images at 96x96, batch 32
    python scripts/bench_data.py --images 600 --size 64 --repeats 3 # a quick run
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
from zoo.core import quiet  # noqa: E402

quiet.install()  # TensorFlow's logs stay off the console (DLZOO_VERBOSE=1 brings them back)

PARTS = ("pipeline", "steps")
MODELS = ("simple_cnn", "resnet18")


def write_folder(root, n_images, size, classes=10, seed=0):
    """``n_images`` smooth random images (upsampled 8x8 noise plus grain), JPEG and PNG alternately."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    for i in range(n_images):
        folder = os.path.join(root, f"class_{i % classes:02d}")
        os.makedirs(folder, exist_ok=True)
        coarse = Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).resize((size, size), Image.BILINEAR)
        pixels = np.clip(np.asarray(coarse, np.int16) + rng.integers(-12, 13, (size, size, 3)), 0, 255).astype(np.uint8)
        ext = "jpg" if i % 2 else "png"
        Image.fromarray(pixels).save(os.path.join(folder, f"{i:05d}.{ext}"), "JPEG" if ext == "jpg" else "PNG")
    return root


def _one_pass(ds):
    """Iterate ``ds`` once; the number of images seen."""
    n = 0
    for x, _ in ds:
        n += int(x.shape[0])
    return n


def bench_pipeline(args, folder):
    import keras
    from benchlib import alternate, median_ratio

    import zoo

    size = (args.size, args.size)
    splits = zoo.data.load(folder, image_size=args.size, val_fraction=0.01, test_fraction=0.01, cache=False)
    ours = splits.dataset("train", batch_size=args.batch, shuffle=True, seed=0)
    peer = keras.utils.image_dataset_from_directory(folder, image_size=size, batch_size=args.batch, shuffle=True,
                                                     seed=0, verbose=False)
    counts = {"zoo": _one_pass(ours), "keras": _one_pass(peer)}
    times = alternate({"zoo": lambda: _one_pass(ours), "keras": lambda: _one_pass(peer)}, repeats=args.repeats)
    rates = {k: [counts[k] / t for t in times[k]] for k in times}
    cached = zoo.data.load(folder, image_size=args.size, val_fraction=0.01, test_fraction=0.01, cache=True)
    cached_ds = cached.dataset("train", batch_size=args.batch, shuffle=True, seed=0)
    _one_pass(cached_ds)  # fills the cache
    cached_rate = statistics.median(counts["zoo"] / t for t in alternate({"c": lambda: _one_pass(cached_ds)},
                                                                         repeats=args.repeats, warmup=0)["c"])
    zoo_rate, keras_rate = statistics.median(rates["zoo"]), statistics.median(rates["keras"])
    row = dict(measure=f"images/s of one pass, {args.size}x{args.size}, batch {args.batch}",
               peer="keras.utils.image_dataset_from_directory",
               ratio=median_ratio(rates["zoo"], rates["keras"]), zoo_images_s=round(zoo_rate),
               keras_images_s=round(keras_rate), zoo_cached_images_s=round(cached_rate), images=counts["zoo"],
               repeats=args.repeats)
    return [row], zoo_rate


def bench_steps(args, pipeline_rate):
    import keras
    import numpy as np

    import zoo

    rows = []
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (args.batch, args.size, args.size, 3)).astype("float32")
    y = rng.integers(0, 10, args.batch)
    for name in MODELS:
        model = zoo.get(name, input_shape=(args.size, args.size, 3), num_classes=10)
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
        for _ in range(2):  # tracing
            model.train_on_batch(x, y)
        seconds = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            for _ in range(args.steps):
                model.train_on_batch(x, y)
            seconds.append(time.perf_counter() - start)
        step_rate = args.batch * args.steps / statistics.median(seconds)
        row = dict(measure=f"{name} training step, {args.size}x{args.size}, batch {args.batch}",
                   peer=f"{name} train_on_batch images/s", ratio=pipeline_rate / step_rate,
                   step_images_s=round(step_rate, 1), pipeline_images_s=round(pipeline_rate),
                   never_the_bottleneck=pipeline_rate >= 2 * step_rate)
        rows.append(row)
        keras.backend.clear_session()
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", default=",".join(PARTS), help=f"comma-separated parts of {', '.join(PARTS)}")
    parser.add_argument("--folder", default=None, help="an existing folder of images to use instead")
    for flag, default, what in (("images", 2000, "images written"), ("size", 96, "image side in pixels"),
                                ("batch", 32, "batch size"), ("repeats", 5, "timed passes per side"),
                                ("steps", 10, "training steps per timed round")):
        parser.add_argument(f"--{flag}", type=int, default=default, help=f"{what} (default {default})")
    args = parser.parse_args(argv)
    parts = [p.strip() for p in args.only.split(",") if p.strip()]
    if any(p not in PARTS for p in parts):
        parser.error(f"invalid --only={args.only!r}; expected parts among {', '.join(PARTS)}")
    if args.size < 32 or args.images < 20:
        parser.error("expected --size of at least 32 (resnet18's minimum) and --images of at least 20")

    import keras
    from benchlib import emit

    keras.utils.set_random_seed(0)
    with tempfile.TemporaryDirectory(prefix="dlzoo-bench-data-") as tmp:
        folder = args.folder or write_folder(tmp, args.images, args.size)
        rows, rate = bench_pipeline(args, folder)
        if "pipeline" in parts:
            emit("data_pipeline", rows)
        if "steps" in parts:
            step_rows = bench_steps(args, rate)
            emit("data_steps", step_rows)
            rows += step_rows
            for row in step_rows:
                verdict = "yes" if row["never_the_bottleneck"] else "NO"
                print(f"{row['measure']}: {row['step_images_s']} images/s; pipeline {row['pipeline_images_s']} "
                      f"images/s = {row['ratio']:.1f}x; pipeline >= 2x the step: {verdict}")
    return rows


if __name__ == "__main__":
    main()

"""Benchmark full-int8 LiteRT against the float Keras model: size, accuracy, batch-1 latency.

    python scripts/bench_quantize.py [--models digits_cnn,mobilenet_v2,resnet50] [--repeats 30]

For each model: float32 and full-int8 LiteRT files (``zoo.export.litert``), the
int8/float file-size ratio, test accuracy where the model is trained (the CNN
on digits; MobileNetV2 and ResNet-50 at 224x224 are untrained, for size and
latency only) and the batch-1 latency ratio Keras float / LiteRT int8. Latency:
the Keras model is called as a compiled ``tf.function`` (its fastest path),
LiteRT through ``zoo.inference.LiteRTModel`` with as many threads as cores;
both are timed alternately on the same input, after a warm-up, and the median
of the per-pair ratios is reported (machines are shared and noisy). Writes
``results.json`` and ``report.md`` to ``--out``.

Goals (issue 8): >= 3x faster, <= 0.27x size, <= 1 point accuracy drop.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

MODELS = ("digits_cnn", "mobilenet_v2", "resnet50")


def build(name, out_dir, calibration):
    """(keras model, calibration images, (x_test, y_test) or None)."""
    import zoo

    if name == "digits_cnn":  # the recipe of the int8_litert_* reproduce entries
        import keras

        keras.utils.set_random_seed(0)
        splits = zoo.data.load("digits")
        model = zoo.get("simple_cnn", input_shape=(8, 8, 1), filters=(32, 64), compile=True)
        model.fit(*splits.train, epochs=8, batch_size=16, verbose=0)
        return model, splits.train[0][:calibration], splits.test
    model = zoo.get(name, input_shape=(224, 224, 3), num_classes=1000)
    rng = np.random.default_rng(0)
    images = rng.random((calibration, 224, 224, 3), dtype="float32")
    return model, images, None


def time_pairs(keras_fn, litert, x, repeats):
    """Alternating batch-1 timings; returns (median keras s, median litert s, median ratio)."""
    for _ in range(3):  # warm-up: tracing, allocation, caches
        keras_fn(x)
        litert(x)
    k_times, l_times = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        np.asarray(keras_fn(x))
        k_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        litert(x)
        l_times.append(time.perf_counter() - t)
    k, lt = np.array(k_times), np.array(l_times)
    return float(np.median(k)), float(np.median(lt)), float(np.median(k / lt))


def bench(name, out_dir, repeats, calibration):
    import tensorflow as tf

    from zoo import export
    from zoo.inference import LiteRTModel

    start = time.perf_counter()
    model, calib, test = build(name, out_dir, calibration)
    float_path = export.litert(model, os.path.join(out_dir, f"{name}.tflite"))
    int8_path = export.litert(model, os.path.join(out_dir, f"{name}_int8.tflite"), quantize="int8",
                              representative_data=calib, calibration_samples=calibration)
    threads = os.cpu_count()
    int8 = LiteRTModel(int8_path, num_threads=threads)
    row = {
        "model": name,
        "params": int(model.count_params()),
        "float_mb": os.path.getsize(float_path) / 2**20,
        "int8_mb": os.path.getsize(int8_path) / 2**20,
    }
    row["size_ratio"] = row["int8_mb"] / row["float_mb"]
    if test is not None:
        x_test, y_test = test
        float_pred = model.predict(x_test, verbose=0).argmax(-1)
        int8_pred = int8.predict(x_test).argmax(-1)
        row["float_accuracy"] = float(np.mean(float_pred == y_test))
        row["int8_accuracy"] = float(np.mean(int8_pred == y_test))
        row["accuracy_drop_points"] = 100 * (row["float_accuracy"] - row["int8_accuracy"])
        row["top1_agreement"] = float(np.mean(int8_pred == float_pred))
    keras_fn = tf.function(lambda x: model(x, training=False))
    x1 = calib[:1]
    k, lt, ratio = time_pairs(keras_fn, int8, x1, repeats)
    row.update(keras_ms=1e3 * k, litert_int8_ms=1e3 * lt, speedup=ratio)
    lf = LiteRTModel(float_path, num_threads=threads)
    _, lf_t, _ = time_pairs(keras_fn, lf, x1, max(5, repeats // 3))
    row["litert_float_ms"] = 1e3 * lf_t
    row["seconds"] = time.perf_counter() - start
    return row


def table(rows):
    head = ["model", "params", "float MB", "int8 MB", "size ratio", "float acc", "int8 acc", "drop (pts)",
            "Keras ms", "LiteRT f32 ms", "LiteRT int8 ms", "speedup"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        def acc(k, f="{:.4f}", r=r):
            return f.format(r[k]) if k in r else "-"
        lines.append("| " + " | ".join([
            r["model"], f"{r['params']:,}", f"{r['float_mb']:.2f}", f"{r['int8_mb']:.2f}", f"{r['size_ratio']:.3f}",
            acc("float_accuracy"), acc("int8_accuracy"), acc("accuracy_drop_points", "{:.2f}"),
            f"{r['keras_ms']:.2f}", f"{r['litert_float_ms']:.2f}", f"{r['litert_int8_ms']:.2f}", f"{r['speedup']:.2f}x",
        ]) + " |")
    return "\n".join(lines)


def _atomic_write(path, text):
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default=",".join(MODELS), help=f"comma-separated, from {MODELS}")
    parser.add_argument("--repeats", type=int, default=30, help="alternating timed pairs per model")
    parser.add_argument("--calibration", type=int, default=200, help="int8 calibration samples")
    parser.add_argument("--out", default=os.path.join("runs", "bench_quantize"))
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.models.split(",") if n.strip()]
    bad = [n for n in names if n not in MODELS]
    if bad:
        parser.error(f"invalid --models entry {bad[0]!r}; expected names from {MODELS}")
    os.makedirs(args.out, exist_ok=True)

    import platform

    import tensorflow as tf

    rows = []
    for name in names:
        print(f"[{name}] ...", flush=True)
        rows.append(bench(name, args.out, args.repeats, args.calibration))
        print(table(rows[-1:]), flush=True)
    env = f"{platform.machine()}, {os.cpu_count()} CPU cores, TensorFlow {tf.__version__}"
    report = "\n".join([
        "# bench_quantize: full-int8 LiteRT vs float Keras", "",
        f"batch 1, {args.repeats} alternating pairs, median of per-pair ratios; {env}", "",
        table(rows), "",
        "Goals: speedup >= 3x, size ratio <= 0.27, accuracy drop <= 1 point.", "",
    ])
    print()
    print(report)
    from benchlib import emit

    emit("quantize", [dict(measure=f"{r['model']} batch-1 latency (LiteRT int8)", peer="Keras float",
                           ratio=1 / r["speedup"], size_ratio=round(r["size_ratio"], 3)) for r in rows])
    _atomic_write(os.path.join(args.out, "results.json"), json.dumps({"environment": env, "rows": rows}, indent=2))
    _atomic_write(os.path.join(args.out, "report.md"), report)
    return 0


if __name__ == "__main__":
    sys.exit(main())

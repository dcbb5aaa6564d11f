"""Reproduce entries for quantization: full-int8 LiteRT export of a small CNN trained on digits.

Both entries share one run (trained once per output folder): a ``simple_cnn``
trained on the 8x8 digits, exported to float32 and full-int8 LiteRT files
(calibrated on 300 training images) and evaluated on the test split.
"""

from __future__ import annotations

import os

from zoo.reproduce import entry

_RUNS: dict = {}


def int8_digits_run(out_dir, epochs=8, seed=0) -> dict:
    """Train, export float and int8, evaluate; returns accuracies, file sizes and paths."""
    key = (os.path.abspath(out_dir), epochs, seed)
    if key in _RUNS:
        return _RUNS[key]
    import keras
    import numpy as np

    import zoo
    from zoo.deploy import export
    from zoo.deploy.runtimes import LiteRTModel

    keras.utils.set_random_seed(seed)
    splits = zoo.data.load("digits", seed=seed)
    model = zoo.get("simple_cnn", input_shape=(8, 8, 1), filters=(32, 64), compile=True)
    model.fit(*splits.train, epochs=epochs, batch_size=16, verbose=0)
    folder = os.path.join(out_dir, "quantize")
    float_path = export.litert(model, os.path.join(folder, "simple_cnn_digits.tflite"))
    int8_path = export.litert(model, os.path.join(folder, "simple_cnn_digits_int8.tflite"), quantize="int8",
                              representative_data=splits.train, calibration_samples=300)
    x_test, y_test = splits.test
    keras_pred = model.predict(x_test, verbose=0).argmax(-1)
    int8_pred = LiteRTModel(int8_path).predict(x_test).argmax(-1)
    run = {
        "float_accuracy": float(np.mean(keras_pred == y_test)),
        "int8_accuracy": float(np.mean(int8_pred == y_test)),
        "top1_agreement": float(np.mean(int8_pred == keras_pred)),
        "float_bytes": os.path.getsize(float_path),
        "int8_bytes": os.path.getsize(int8_path),
        "files": [float_path, int8_path],
    }
    run["accuracy_drop"] = run["float_accuracy"] - run["int8_accuracy"]
    run["size_ratio"] = run["int8_bytes"] / run["float_bytes"]
    _RUNS[key] = run
    return run


@entry("int8_litert_accuracy_drop", data="digits", metric="accuracy drop (float - int8)", reference=0.01, mode="min")
def int8_accuracy_drop(out_dir):
    run = int8_digits_run(out_dir)
    table = "\n".join([
        "| simple_cnn on digits | file size (bytes) | test accuracy |",
        "|---|---:|---:|",
        f"| float32 (LiteRT file; Keras accuracy) | {run['float_bytes']:,} | {run['float_accuracy']:.4f} |",
        f"| full-int8 LiteRT | {run['int8_bytes']:,} | {run['int8_accuracy']:.4f} |",
        f"| int8 / float | {run['size_ratio']:.3f} | top-1 agreement {run['top1_agreement']:.4f} |",
    ])
    return {"value": run["accuracy_drop"], "table": table,
            **{k: v for k, v in run.items() if k != "accuracy_drop"}}


@entry("int8_litert_size_ratio", data="digits", metric="int8 / float file size", reference=0.3, mode="min")
def int8_size_ratio(out_dir):
    run = int8_digits_run(out_dir)
    return {"value": run["size_ratio"], **{k: v for k, v in run.items() if k != "size_ratio"}}


@entry("qat_int8_litert_accuracy", data="digits", metric="test accuracy of the QAT int8 file", reference=0.95,
       suites=("full",))
def qat_int8_accuracy(out_dir):
    """QAT (TF-MOT) fine-tuning of the trained CNN for 2 epochs, exported to full-int8 LiteRT."""
    import keras
    import numpy as np

    import zoo
    from zoo.deploy import quantize
    from zoo.deploy.runtimes import LiteRTModel

    keras.utils.set_random_seed(0)
    splits = zoo.data.load("digits")
    model = zoo.get("simple_cnn", input_shape=(8, 8, 1), filters=(32, 64), compile=True)
    model.fit(*splits.train, epochs=8, batch_size=16, verbose=0)
    result = quantize.qat(model, splits.train, epochs=2, batch_size=16, learning_rate=1e-4,
                          path=os.path.join(out_dir, "quantize", "simple_cnn_digits_qat.tflite"))
    x_test, y_test = splits.test
    accuracy = float(np.mean(LiteRTModel(result.path).predict(x_test).argmax(-1) == y_test))
    return {"value": accuracy, "max_twin_error": result.max_twin_error, "history": result.history,
            "float_accuracy": float(np.mean(model.predict(x_test, verbose=0).argmax(-1) == y_test))}

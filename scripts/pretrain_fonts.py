"""Pretrain a backbone on the built-in fonts data set: the weights of the ``simple_cnn.fonts`` tag.

    python scripts/pretrain_fonts.py                       # what the shipped file was made with
    python scripts/pretrain_fonts.py --out /tmp/my.h5 --epochs 4 --samples-per-class 200   # a quick try

Renders ``zoo.data.load("fonts")`` at 8x8 (scikit-learn's digits' size and making), trains
``simple_cnn`` on its 62 classes with Adam and cosine decay, and reports the fonts test
accuracy and the zero-shot accuracy on all 1,797 scikit-learn digits (the ten digit outputs,
no digit label seen). Writes the weights in keras.applications' HDF5 layout and prints
the file's SHA-256 and the tag's ``training`` record for ``zoo/models/cnn.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from zoo.core import quiet  # noqa: E402

quiet.install()  # TensorFlow's logs stay off the console (DLZOO_VERBOSE=1 brings them back)

DEFAULT_OUT = os.path.join(ROOT, "zoo", "weights", "files", "simple_cnn_fonts8.h5")
MODEL = dict(input_shape=(8, 8, 1), num_classes=62, filters=(32, 64, 128))


def zero_shot_digits(model) -> float:
    """Accuracy on scikit-learn's 1,797 digits of the argmax over the model's ten digit outputs."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.images / 16.0).astype("float32")[..., None]
    return float((model.predict(x, verbose=0, batch_size=512)[:, :10].argmax(1) == digits.target).mean())


def pretrain(samples_per_class, epochs, batch_size, learning_rate, seed, label_smoothing):
    import keras

    import zoo
    from zoo.core.recipe import scheduled_learning_rate
    from zoo.training.callbacks import ProgressBar

    keras.utils.set_random_seed(seed)
    splits = zoo.data.load("fonts", image_size=8, samples_per_class=samples_per_class, seed=seed, progress=True)
    model = zoo.get("simple_cnn", **MODEL)
    steps = epochs * -(-splits.sizes()["train"] // batch_size)
    # label smoothing keeps look-alike classes (O/0, l/1/I) from pushing the features apart at any price
    loss = keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing)
    model.compile(keras.optimizers.Adam(scheduled_learning_rate(learning_rate, "cosine", steps)), loss,
                  metrics=["accuracy"])

    def data(split, shuffle):
        ds = splits.dataset(split, batch_size=batch_size, shuffle=shuffle, seed=seed)
        return ds.map(lambda x, y: (x, keras.ops.one_hot(y, 62)))

    start = time.perf_counter()
    model.fit(data("train", True), validation_data=data("val", False), epochs=epochs, verbose=0,
              callbacks=[ProgressBar(desc="pretraining simple_cnn on fonts")])
    seconds = time.perf_counter() - start
    test = float(model.evaluate(data("test", False), verbose=0, return_dict=True)["accuracy"])
    return model, splits, test, seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples-per-class", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=2e-3)
    parser.add_argument("--label-smoothing", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=DEFAULT_OUT)
    args = parser.parse_args(argv)

    import zoo
    from zoo.weights.pretrained import file_hash, write_h5_weights

    model, splits, test, seconds = pretrain(args.samples_per_class, args.epochs, args.batch_size,
                                            args.learning_rate, args.seed, args.label_smoothing)
    zero_shot = zero_shot_digits(model)
    write_h5_weights(model, args.out)
    command = "python scripts/pretrain_fonts.py" + "".join(
        f" --{k.replace('_', '-')} {v}" for k, v in vars(args).items() if k != "out" and v != parser.get_default(k))
    record = {
        "command": command,
        "data": f"zoo.data.load('fonts', image_size=8, samples_per_class={args.samples_per_class}, seed={args.seed}): "
                f"{splits.sizes()['train']} training images of 62 characters in {len(zoo.data.fonts.font_faces())} faces",
        "seed": args.seed,
        "epochs": args.epochs,
        "fonts_test_accuracy": round(test, 4),
        "digits_zero_shot_accuracy": round(zero_shot, 4),
        "seconds": round(seconds),
        "sha256": file_hash(args.out, "sha256"),
    }
    print(f"fonts test accuracy {test:.4f}; zero-shot on scikit-learn's digits {zero_shot:.4f}; "
          f"trained in {seconds:.0f}s")
    print(f"wrote {args.out} ({os.path.getsize(args.out) / 1e6:.2f} MB)")
    print(json.dumps(record, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

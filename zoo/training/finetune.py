"""Fine-tuning on your images: the recipe ``python -m zoo finetune`` runs, as one function.

``finetune(model, data)`` takes a backbone (a registered name, ``name.tag``, a ``.keras``
file or a Keras model) and any ``zoo.data.load`` source (a folder of images, a ``.npz``
or CSV file, ``"digits"`` ...) or :class:`~zoo.data.Splits`, and runs the Keras
transfer-learning guide's recipe through :func:`zoo.transfer.fine_tune`:

1. the head swapped for one of the data's classes, the backbone frozen: only the head trains;
2. the top ``unfreeze`` blocks unfrozen too, at a tenth of the learning rate.

BatchNormalization stays frozen, so it runs in inference mode with its pretrained
statistics. Each stage runs up to ``epochs`` epochs and stops early when the validation
loss has not improved for ``patience`` epochs, keeping its best weights.

The data is loaded at the backbone's input size and channels, values in [0, 1] (the
``zoo.data`` convention). A backbone that expects another range (``zoo.info(name)
["input_range"]``: ImageNet weights want caffe, ``[-1, 1]``, torch or ``[0, 255]``) gets an
``ImagePreprocessing(mode, input_range="[0, 1]")`` layer in front, so the fine-tuned model
takes [0, 1] images as ``zoo.data`` gives them. The model ends in a ``ClassNames`` layer
(an identity holding the label names), so a saved ``.keras`` file says what its outputs
mean: :func:`predict_images` and ``python -m zoo predict`` print them.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import time

import keras
import numpy as np

from zoo.core.checks import check_bool, check_int, check_number, check_path, fail
from zoo.core.io import atomic_json, atomic_write
from zoo.core.seeding import seed_everything
from zoo.training.callbacks import EarlyStopping, ProgressBar
from zoo.training.transfer import blocks, check_kwargs, fine_tune

__all__ = ["FinetuneResult", "finetune", "prepend", "labelled", "write_report", "default_out_dir",
           "read_images", "predict_images"]

#: Input ranges that need no preprocessing layer in front of [0, 1] images.
_NO_PREPROCESSING = (None, "[0, 1]", "any real")


@dataclasses.dataclass
class FinetuneResult:
    """What :func:`finetune` returns: the model (takes [0, 1] images, names its classes) and its figures."""

    model: keras.Model
    class_names: list
    histories: list  # one History.history dict per stage
    stages: list  # per stage: trainable, learning_rate, epochs, epochs_run, best_epoch, best_val_loss
    test: dict  # Keras's test loss and accuracy
    confusion: np.ndarray  # test counts, [true class, predicted class]
    per_class: list  # per class: name, examples, correct, accuracy (on the test split)
    info: dict  # model, weights, data, sizes, input shape, input range, preprocessing, seconds
    paths: dict = dataclasses.field(default_factory=dict)  # what was written: model, report, curves, confusion

    @property
    def test_accuracy(self) -> float:
        """Correct test predictions over test examples (the confusion matrix's trace over its sum)."""
        return float(np.trace(self.confusion) / max(int(self.confusion.sum()), 1))


@dataclasses.dataclass
class _Backbone:
    label: str  # for names and the report
    build: object  # (input_shape, num_classes) -> keras.Model
    channels: int | None
    size: int | None  # the input size the data is loaded at, unless image_size= says otherwise
    input_range: str | None
    weights: str | None


def _backbone(model, weights, input_range) -> _Backbone:
    """What ``model`` names: how to build it, the input it wants, its input range."""
    import zoo
    from zoo import registry

    if isinstance(model, keras.Model):
        return _from_keras(model, model.name, weights, input_range)
    if not isinstance(model, (str, os.PathLike)):
        fail("model", model, "a registered model name (zoo.list_models()), NAME.TAG, a .keras file or a keras.Model")
    text = os.fspath(model)
    if text.endswith(".keras"):
        if not os.path.isfile(text):
            raise FileNotFoundError(f"model file {text!r} does not exist; expected a .keras file or a registered "
                                    "model name (zoo.list_models())")
        from zoo.models import load_model

        return _from_keras(load_model(text), os.path.basename(text)[:-len(".keras")], weights, input_range)
    meta = zoo.info(text)  # an unknown name: UnknownModelError with close matches
    tag = registry._split_tag(text)[1] or (weights if weights in meta["pretrained"] else None)
    trained_with = meta["pretrained"][tag].get("config", {}) if tag else {}  # the project's own tags' shapes
    shape = tuple(trained_with.get("input_shape") or meta["defaults"].get("input_shape") or (None, None, 3))
    size = meta["pretrained"][tag]["input_size"] if tag else shape[0]

    def build(input_shape, num_classes):
        head = dict(include_top=False, pooling="avg") if tag else dict(num_classes=num_classes)  # a 1000-class top
        return zoo.get(text, input_shape=tuple(input_shape), weights=weights, **head)

    return _Backbone(text, build, shape[-1], size, input_range or meta["input_range"], tag or weights)


def _from_keras(model, label, weights, input_range) -> _Backbone:
    from zoo.data.preprocessing import class_names_layer

    if weights is not None:
        fail("weights", weights, "None with a .keras file or a Keras model (its weights are inside)")
    shape = tuple(model.input_shape) if not isinstance(model.input_shape, list) else None
    if shape is None or len(shape) != 4:
        fail("model", label, "an image model with one input of shape (batch, height, width, channels)")
    if isinstance(model.layers[-1], class_names_layer()):  # fine-tuned before: fine-tune its classifier again
        model = keras.Model(model.inputs, model.layers[-1].input, name=model.name)

    def build(input_shape, num_classes):
        if any(a is not None and a != b for a, b in zip(shape[1:], input_shape)):
            fail("data", f"<images of shape {tuple(input_shape)}>", f"images of the model's input shape {shape[1:]} "
                 "(pass image_size= to load them at that size)")
        return model

    return _Backbone(label, build, shape[-1], shape[1], input_range or "[0, 1]", None)


def prepend(model, layer):
    """``model`` with ``layer`` in front of its input: a flat copy holding ``model``'s weights.

    The layers are cloned (each keeps one call, so ``layer.input`` and head swaps work on
    the copy) and the weights copied; Normalization layers are finalised as Keras's loaders do.
    """
    inputs = keras.Input(shape=model.input_shape[1:], name="input")
    first = layer(inputs)

    def call(op, *args, **kwargs):
        args = keras.tree.map_structure(lambda t: first if t is inputs else t, args)
        return op(*args, **kwargs)

    copy = keras.models.clone_model(model, input_tensors=inputs, call_function=call)
    for old in model.layers:
        if old.weights and not isinstance(old, keras.layers.InputLayer):
            new = copy.get_layer(old.name)
            new.set_weights(old.get_weights())
            if isinstance(new, keras.layers.Normalization):
                new.finalize_state()
    return copy


def labelled(model, class_names, name=None):
    """``model`` followed by a ``ClassNames`` layer holding ``class_names`` (same weights, not compiled)."""
    from zoo.data.preprocessing import class_names_layer

    out = class_names_layer()(list(class_names), name="class_names")(model.outputs[0])
    return keras.Model(model.inputs, out, name=name or model.name)


class _StageProgress(ProgressBar):
    """A progress bar per ``fit`` call, named after its stage."""

    def __init__(self, label, names):
        super().__init__(desc=label)
        self.label, self.names, self.calls = label, names, 0

    def on_train_begin(self, logs=None):
        self.calls += 1
        self.desc = f"{self.label} stage {self.calls} ({self.names[self.calls - 1]})"
        super().on_train_begin(logs)


def _stage_row(stage, history, trainable):
    val = history.get("val_loss", [])
    best = int(np.argmin(val)) if val else len(history["loss"]) - 1
    return dict(trainable=trainable, learning_rate=stage["learning_rate"], epochs=stage["epochs"],
                epochs_run=len(history["loss"]), best_epoch=best + 1,
                best_val_loss=float(val[best]) if val else None,
                best_val_accuracy=float(history["val_accuracy"][best]) if "val_accuracy" in history else None)


def finetune(model, data, *, weights=None, image_size=None, epochs=10, labels_per_class=None, batch_size=32,
             learning_rate=1e-3, unfreeze=2, patience=3, augment=None, input_range=None, data_kwargs=None,
             seed=0, out=None, save=None, progress=False, verbose=0) -> FinetuneResult:
    """Fine-tune ``model`` on ``data`` in two stages; return the model and its test figures.

    ``model``: a registered name (``zoo.list_models()``), ``name.tag``, a ``.keras`` file or a
    Keras model; ``weights``: a pretrained tag (``"imagenet"``) or a local weights file of a
    named model. ``data``: a ``zoo.data.load`` source, loaded at ``image_size`` (default: the
    backbone's input size) with the backbone's channels and ``data_kwargs``, or Splits.
    ``labels_per_class``: keep that many training labels per class. ``epochs``: the most
    epochs of each stage; ``patience``: early stopping on the validation loss. ``unfreeze``:
    the top blocks of stage 2 (0: stage 1 only; a backbone without blocks unfreezes all).
    ``input_range``: what the backbone expects, when not its registered one (a Keras model
    or file: ``"[0, 1]"``). ``out``: write the report there; ``save``: the ``.keras`` path
    (default ``out/<model>_finetuned.keras`` when ``out`` is given).
    """
    from zoo import data as zdata
    from zoo.data.preprocessing import MODES, layer_class

    for arg, value, least in (("epochs", epochs, 1), ("batch_size", batch_size, 1), ("patience", patience, 0),
                              ("unfreeze", unfreeze, 0)):
        check_int(arg, value, minimum=least, owner="finetune")
    check_int("labels_per_class", labels_per_class, minimum=1, allow_none=True, owner="finetune")
    check_int("image_size", image_size, minimum=1, allow_none=True, owner="finetune")
    check_number("learning_rate", learning_rate, low=0, low_open=True, owner="finetune")
    check_int("seed", seed, minimum=0, owner="finetune")
    check_bool("progress", progress, owner="finetune")
    check_kwargs("data_kwargs", data_kwargs, owner="finetune")
    if not isinstance(data, zdata.Splits):
        check_path("data", data, "finetune", accepted="a zoo.data.load source (a data set name or a path) or "
                                                      "zoo.data.Splits")
    for arg, value in (("out", out), ("save", save)):
        check_path(arg, value, "finetune", allow_none=True)
    if save is not None and not os.fspath(save).endswith(".keras"):
        fail("save", save, "a path ending in .keras", owner="finetune")
    start = time.perf_counter()
    spec = _backbone(model, weights, input_range)
    if spec.input_range not in _NO_PREPROCESSING and spec.input_range not in MODES:
        fail("input_range", spec.input_range, f"an image input range, one of {MODES}", owner="finetune")
    if isinstance(data, zdata.Splits):
        splits, source = data, data.name
    else:
        splits, source = zdata.load(data, image_size=image_size or spec.size, channels=spec.channels, seed=seed,
                                    **(data_kwargs or {})), os.fspath(data)
    if labels_per_class is not None:
        splits = splits.with_labels_per_class(labels_per_class, seed=seed)

    seed_everything(seed)  # Python, NumPy, TensorFlow, Keras; op determinism
    net = spec.build(splits.input_shape, splits.num_classes)
    preprocessing = spec.input_range not in _NO_PREPROCESSING
    if preprocessing:
        net = prepend(net, layer_class()(spec.input_range, input_range="[0, 1]", name="preprocessing"))
    found = len(blocks(net))
    top = (min(unfreeze, found) if found else "all") if unfreeze else None
    stages = [dict(unfreeze=0, epochs=epochs, learning_rate=learning_rate)]
    names = ["head"]
    if top is not None:
        stages.append(dict(unfreeze=top, epochs=epochs, learning_rate=learning_rate / 10))
        names.append(f"head + top {top} block(s)" if top != "all" else "all layers")
    callbacks = [EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)]
    if progress:
        callbacks.append(_StageProgress(spec.label, names))
    result = fine_tune(net, splits, num_classes=splits.num_classes, stages=stages, batch_size=batch_size,
                       callbacks=callbacks, augment=augment, seed=seed, verbose=verbose)

    truth, predicted = [], []
    for xb, yb in splits.dataset("test", batch_size=batch_size, shuffle=False):
        predicted.append(np.argmax(result.model.predict_on_batch(xb), axis=-1))
        truth.append(np.asarray(yb))
    from sklearn.metrics import confusion_matrix

    k = splits.num_classes
    confusion = confusion_matrix(np.concatenate(truth), np.concatenate(predicted), labels=list(range(k)))
    class_names = [str(n) for n in splits.class_names]
    per_class = [dict(name=class_names[c], examples=int(confusion[c].sum()), correct=int(confusion[c, c]),
                      accuracy=float(confusion[c, c] / confusion[c].sum()) if confusion[c].sum() else None)
                 for c in range(k)]
    label = os.path.basename(spec.label.rstrip("/")).replace(".", "_")
    final = labelled(result.model, class_names, name=f"{label}_finetuned")
    histories = [{key: [float(v) for v in values] for key, values in h.history.items()} for h in result.histories]
    info = dict(model=spec.label, weights=spec.weights, data=source, sizes=splits.sizes(), num_classes=k,
                labels_per_class=labels_per_class, input_shape=list(splits.input_shape), batch_size=batch_size,
                input_range=spec.input_range, preprocessing=spec.input_range if preprocessing else None, seed=seed,
                seconds=time.perf_counter() - start)
    out_result = FinetuneResult(final, class_names, histories,
                                [_stage_row(s, h, n) for s, h, n in zip(stages, histories, names)],
                                {key: float(v) for key, v in result.test.items()}, confusion, per_class, info)
    if save is None and out is not None:
        save = os.path.join(os.fspath(out), f"{label}_finetuned.keras")
    if save is not None:
        from zoo.deploy.export import keras_file

        out_result.paths["model"] = keras_file(final, os.fspath(save))
    if out is not None:
        write_report(out_result, out)
    return out_result


def default_out_dir(model, kind: str = "finetune") -> str:
    """``runs/<kind>_<model>_<date>_<time>``: where ``python -m zoo finetune`` (``train``) reports by default."""
    label = os.path.basename(os.fspath(model).rstrip("/")).replace(".keras", "").replace(".", "_")
    return os.path.join("runs", f"{kind}_{label}_{datetime.datetime.now().strftime('%Y-%m-%d_%H%M%S')}")


def _merged(histories) -> dict:
    """The stages' histories one after the other (the metrics every stage logged)."""
    keys = [key for key in histories[0] if all(key in h for h in histories)]
    return {key: [v for h in histories for v in h[key]] for key in keys}


def _plot_confusion(confusion, names, path, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    from zoo.insight.diagnostics import save_figure

    side = float(np.clip(2.5 + 0.45 * len(names), 4, 16))
    fig, ax = plt.subplots(figsize=(side, side))
    ConfusionMatrixDisplay(confusion, display_labels=names).plot(
        ax=ax, colorbar=False, include_values=len(names) <= 30, xticks_rotation="vertical" if len(names) > 6 else
        "horizontal", values_format="d")
    ax.set_title(title)
    return save_figure(fig, path)


def write_report(result: FinetuneResult, out) -> dict:
    """Write ``report.md``, ``report.json``, ``learning_curves.png`` and ``confusion_matrix.png`` into ``out``."""
    from zoo.insight.diagnostics import plot_history

    out = os.fspath(out)
    os.makedirs(out, exist_ok=True)
    info, runs = result.info, [s["epochs_run"] for s in result.stages]
    spans = "; ".join(f"stage {i + 1}: epochs {sum(runs[:i]) + 1}-{sum(runs[:i + 1])}" for i in range(len(runs)))
    best = sum(runs[:-1]) + result.stages[-1]["best_epoch"]  # the epoch whose weights the model keeps
    paths = dict(result.paths)
    paths["curves"] = plot_history(_merged(result.histories), os.path.join(out, "learning_curves.png"),
                                   title=f"{info['model']} ({spans})", best_epoch=best)
    n = int(result.confusion.sum())
    paths["confusion"] = _plot_confusion(result.confusion, result.class_names, os.path.join(out, "confusion_matrix.png"),
                                         f"test: {int(np.trace(result.confusion))}/{n} correct")
    paths["json"] = os.path.join(out, "report.json")
    paths["report"] = os.path.join(out, "report.md")
    result.paths.update(paths)
    atomic_json(paths["json"], dict(info=info, class_names=result.class_names, stages=result.stages,
                                    test=dict(result.test, accuracy_counted=result.test_accuracy, examples=n),
                                    per_class=result.per_class, confusion=result.confusion.tolist(),
                                    histories=result.histories, paths=paths), indent=1)
    atomic_write(paths["report"], _markdown(result, paths, n))
    return paths


def _markdown(result, paths, n) -> str:
    info = result.info
    sizes = ", ".join(f"{s} {c}" for s, c in info["sizes"].items())
    model_file = paths.get("model")
    lines = [
        f"# Fine-tuning {info['model']} on {info['data']}", "",
        "| | |", "|---|---|",
        f"| model | `{info['model']}` (weights: {info['weights'] or 'as built'}) |",
        f"| data | `{info['data']}`: {info['num_classes']} classes; {sizes} |",
        f"| labels per class | {info['labels_per_class'] or 'all'} |",
        f"| input | {'x'.join(map(str, info['input_shape']))}, values in [0, 1]; "
        + (f"`ImagePreprocessing({info['preprocessing']!r})` in front" if info["preprocessing"] else "no preprocessing")
        + " |",
        f"| **test accuracy** | **{result.test_accuracy:.4f}** ({int(np.trace(result.confusion))}/{n}) |",
        f"| test loss | {result.test['loss']:.4f} |",
        f"| saved model | {f'`{model_file}`' if model_file else 'not saved'} |",
        f"| time | {info['seconds']:.1f} s |", "",
        "## Stages", "",
        "| stage | trains | learning rate | epochs run (most) | best epoch | val loss | val accuracy |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for i, s in enumerate(result.stages, 1):
        acc = "-" if s["best_val_accuracy"] is None else f"{s['best_val_accuracy']:.4f}"
        loss = "-" if s["best_val_loss"] is None else f"{s['best_val_loss']:.4f}"
        lines.append(f"| {i} | {s['trainable']} | {s['learning_rate']:g} | {s['epochs_run']} ({s['epochs']}) | "
                     f"{s['best_epoch']} | {loss} | {acc} |")
    lines += ["", "## Per-class accuracy (test)", "", "| class | examples | correct | accuracy |", "|---|---:|---:|---:|"]
    for row in result.per_class:
        acc = "-" if row["accuracy"] is None else f"{row['accuracy']:.4f}"
        lines.append(f"| {row['name']} | {row['examples']} | {row['correct']} | {acc} |")
    lines += ["", "## Learning curves", "", f"![learning curves]({os.path.basename(paths['curves'])})", "",
              "## Confusion matrix (rows: true class, columns: predicted)", "",
              f"![confusion matrix]({os.path.basename(paths['confusion'])})", ""]
    return "\n".join(lines)


# --------------------------------------------------------------------------- predicting


def read_images(paths, image_size=None, channels=3) -> list:
    """Each image file (PNG, JPEG, BMP, GIF) as float32 (h, w, channels) in [0, 1], resized to ``image_size``.

    Decoded and resized as ``zoo.data`` folders are (``tf.io.decode_image``, bilinear), so a
    model sees at prediction what it saw in training. A missing file is a ``FileNotFoundError``,
    a file that does not decode a ``ValueError``, both naming it, before any is read.
    """
    import tensorflow as tf

    from zoo.data.images import image_pipeline

    for path in paths:
        if not os.path.isfile(path):
            raise FileNotFoundError(f"image file {os.fspath(path)!r} does not exist")
    size = None if image_size is None else tuple(image_size)
    images = []
    for path in paths:
        try:
            image, _ = next(iter(image_pipeline([os.fspath(path)], [0], size, channels)))
        except (tf.errors.InvalidArgumentError, tf.errors.UnknownError) as err:
            raise ValueError(f"could not read image file {os.fspath(path)!r}: {err.message.splitlines()[0]}; "
                             "expected a PNG, JPEG, BMP or GIF image") from None
        images.append(image.numpy())
    return images


def predict_images(model, paths, top=3) -> list:
    """The ``top`` classes of each image file under ``model``: per image ``[(class name, probability), ...]``.

    Images are read at the model's input size and channels, values in [0, 1]; class names
    come from the model's ``ClassNames`` layer (``"0"``, ``"1"``, ... without one).
    """
    from zoo.data.preprocessing import class_names

    check_int("top", top, minimum=1, owner="predict")
    shape = model.input_shape
    if isinstance(shape, list) or len(shape) != 4 or shape[-1] not in (1, 3):
        fail("model", model.name, "an image model with one input of shape (batch, height, width, 1 or 3)",
             owner="predict")
    images = read_images(paths, None if None in shape[1:3] else shape[1:3], shape[-1])
    names = class_names(model)
    out = []
    for image in images:
        probs = np.asarray(model.predict_on_batch(image[None]))[0]
        labels = names or [str(i) for i in range(len(probs))]
        order = np.argsort(-probs, kind="stable")[:top]
        out.append([(labels[i], float(probs[i])) for i in order])
    return out
